"""The console's forms (Flask-WTF: every POST carries its CSRF token)."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from ballot.counting.methods import METHODS
from ballot.policy import POLICY_DIR, Policy
from ballot.votes import rules as vote_rules

WHEN_HELP = "UTC, as YYYY-MM-DD HH:MM"


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """A date and time typed in the console is UTC (the forms say so)."""
    return value.replace(tzinfo=dt.UTC) if value is not None else None


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField("Code from your authenticator app", validators=[DataRequired(), Length(max=12)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class OpenPeriodForm(FlaskForm):
    year = IntegerField("Year", validators=[InputRequired(), NumberRange(2000, 2200)],
                        default=lambda: dt.datetime.now(dt.UTC).year)
    policy = SelectField("Rules (policy preset)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted(path.stem for path in POLICY_DIR.glob("*.toml"))
        default = current_app.config["BALLOT_POLICY"]
        self.policy.choices = [SelectChoice(name, name + (" (default)" if name == default else "")) for name in names]
        if self.policy.data is None:
            self.policy.data = default


class OptInForm(FlaskForm):
    resend = BooleanField("Also send again to those already asked who have not enrolled")


class RosterUploadForm(FlaskForm):
    roster = FileField("Roster file (CSV or JSON)", validators=[FileRequired("Choose a roster file.")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = current_app.config["BALLOT_ROSTER_MAX_BYTES"]
        self.roster.validators = [*self.roster.validators, FileSize(limit, message=f"The file is larger than {limit // 2**20} MiB.")]


class RosterConfirmForm(FlaskForm):
    upload_id = HiddenField(validators=[DataRequired()])
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class WhenForm(FlaskForm):
    """A closing time: to schedule a draft's close, or to extend an open vote."""

    closes_at = DateTimeLocalField("Closes at", validators=[InputRequired()], description=WHEN_HELP)


class OpeningForm(FlaskForm):
    """When the worker opens a draft."""

    opens_at = DateTimeLocalField("Opens at", validators=[InputRequired()], description=WHEN_HELP)


class ReminderForm(FlaskForm):
    scheduled_at = DateTimeLocalField("Send at", validators=[InputRequired()], description=WHEN_HELP)


class CancelForm(FlaskForm):
    reason = TextAreaField("Why is the vote cancelled? (shown to voters)", validators=[DataRequired(), Length(max=2000)])


class ResendForm(FlaskForm):
    right_id = HiddenField(validators=[DataRequired()])


# Trustees -----------------------------------------------------------------------------

TRUSTEE_FILE_LIMIT = 64 * 1024  # a .pub or answer file is well under a kilobyte


class TrusteeForm(FlaskForm):
    """Register a trustee by the public key file they made with `ballot trustee keygen`."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    public_key = FileField("Their public key file (NAME.pub)", validators=[
        FileRequired("Choose the trustee's .pub file."),
        FileSize(TRUSTEE_FILE_LIMIT, message="This is far too large for a public key file."),
    ])


class FingerprintForm(FlaskForm):
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=200)])


class VoteTrusteesForm(FlaskForm):
    """A draft's trustees (checkboxes, in the registry's order), k, and the administrator's confirmation."""

    trustees = SelectMultipleField("Trustees")
    threshold = IntegerField("How many of them must answer after the close",
                             validators=[InputRequired(), NumberRange(min=1)])
    confirm = BooleanField(
        "I have checked with the trustees: enough of them will be reachable, with their key and passphrase, "
        "after the close",
        validators=[DataRequired("Confirm that enough trustees will be reachable after the close.")],
    )

    def __init__(self, registered, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trustees.choices = [SelectChoice(t.fingerprint, t.name) for t in registered]


class TrusteeAnswerForm(FlaskForm):
    answer = FileField("A trustee's answer file", validators=[
        FileRequired("Choose the answer file the trustee sent."),
        FileSize(TRUSTEE_FILE_LIMIT, message="This is far too large for a trustee's answer."),
    ])


# One form per kind of vote -------------------------------------------------------------

class VoteForm(FlaskForm):
    """What every kind of vote has."""

    title = StringField("Title", validators=[DataRequired(), Length(max=255)])
    description = TextAreaField("Description (optional)", validators=[Length(max=5000)])
    closes_at = DateTimeLocalField("Closes at", validators=[InputRequired()], description=WHEN_HELP)
    quorum = StringField("Quorum (optional: a share of the electorate such as 1/3; empty for the policy's)",
                         validators=[Optional(), Length(max=20)])

    template = "admin/vote_form.html"

    def __init__(self, policy: Policy, *args, **kwargs):
        self.policy = policy
        super().__init__(*args, **kwargs)

    def ordered_fields(self) -> list:
        """What the vote is about first, then when it closes and its quorum."""
        last = ("closes_at", "quorum")
        fields = [f for f in self if f.name != "csrf_token"]
        return [f for f in fields if f.name not in last] + [getattr(self, name) for name in last]

    def create_arguments(self) -> dict:
        """The arguments of ``votes.lifecycle.create_vote`` besides the period."""
        return {
            "title": self.title.data, "closes_at": utc(self.closes_at.data), "description": self.description.data or "",
            "quorum": self.quorum.data or None, **self.options(),
        }

    def options(self) -> dict:
        """The arguments particular to the kind of vote; each kind's form adds its own."""
        return {}


class BoardVoteForm(VoteForm):
    kind_name = "board"
    heading = vote_rules.kind_label("board")
    candidates = TextAreaField("Candidates (one per line)", validators=[DataRequired()])
    seats = IntegerField("Seats to fill", validators=[InputRequired(), NumberRange(min=1)])
    method = SelectField("Election method")
    max_approvals = IntegerField("Approval voting: most candidates one ballot may approve (optional)",
                                 validators=[Optional(), NumberRange(min=1)])
    affiliations = TextAreaField("Approval voting: affiliations for the cap (optional; one “Name = Organisation” per line)")
    sitting = TextAreaField("Approval voting: directors staying on (optional; one “Organisation = number” per line)")

    def __init__(self, policy: Policy, *args, **kwargs):
        super().__init__(policy, *args, **kwargs)
        self.method.choices = [SelectChoice(name, f"{label}{' (the policy’s)' if name == policy.board_method else ''}")
                               for name, label in METHODS.items()]
        if self.method.data is None:
            self.method.data = policy.board_method

    def options(self) -> dict:
        return {
            "kind": "board", "candidates": lines(self.candidates.data), "seats": self.seats.data,
            "method": self.method.data, "max_approvals": self.max_approvals.data,
            "affiliations": vote_rules.parse_assignments(lines(self.affiliations.data), "affiliations"),
            "sitting": vote_rules.parse_assignments(lines(self.sitting.data), "directors staying on", int),
        }


class MatterVoteForm(VoteForm):
    """Working-group charters and Sponsor admissions: yes > no, nothing to set."""

    questions = TextAreaField("Questions (one per line; each is answered yes, no or abstain)", validators=[DataRequired()])

    def __init__(self, policy: Policy, kind_name: str, *args, **kwargs):
        self.kind_name = kind_name
        self.heading = vote_rules.kind_label(kind_name)
        super().__init__(policy, *args, **kwargs)

    def options(self) -> dict:
        return {"kind": self.kind_name, "questions": lines(self.questions.data)}


DENOMINATORS = [
    SelectChoice("participating", "everyone who cast a ballot (abstentions count against)"),
    SelectChoice("yes-no", "yes and no answers only (abstentions do not count)"),
]


class FellowVoteForm(VoteForm):
    kind_name = "fellow"
    heading = vote_rules.kind_label("fellow")
    nominees = TextAreaField("Nominees (one per line; each is answered agree, disagree or abstain)", validators=[DataRequired()])
    threshold = SelectField("Passes with at least")
    denominator = SelectField("of", choices=DENOMINATORS)
    managing_years = IntegerField("Also let Managing Members of at least this many years vote (optional)",
                                  validators=[Optional(), NumberRange(min=1)])

    def __init__(self, policy: Policy, *args, **kwargs):
        super().__init__(policy, *args, **kwargs)
        self.threshold.choices = [SelectChoice(str(t)) for t in policy.fellow_allowed_thresholds]
        if self.threshold.data is None:
            self.threshold.data = str(policy.fellow_threshold)
        if self.denominator.data is None:
            self.denominator.data = policy.denominator

    def options(self) -> dict:
        return {
            "kind": "fellow", "questions": lines(self.nominees.data), "threshold": self.threshold.data,
            "denominator": self.denominator.data, "managing_years": self.managing_years.data,
        }


class OtherVoteForm(VoteForm):
    """Policy ratification, governance, Sponsor benefits, recertification, any other matter."""

    kind_name = "other"
    heading = "Another matter put to the members"  # one form for every kind whose threshold can be set
    kind = SelectField("Kind of matter")
    questions = TextAreaField("Questions (one per line; each is answered yes, no or abstain)", validators=[DataRequired()])
    threshold = StringField("Threshold (optional: such as 2/3; empty means yes > no)", validators=[Optional(), Length(max=20)])
    denominator = SelectField("A set threshold is a share of", choices=[SelectChoice("", "the policy’s choice"), *DENOMINATORS])

    def __init__(self, policy: Policy, *args, **kwargs):
        super().__init__(policy, *args, **kwargs)
        self.kind.choices = [SelectChoice(k.name, k.label) for k in vote_rules.KINDS.values() if k.threshold_settable]

    def options(self) -> dict:
        return {
            "kind": self.kind.data, "questions": lines(self.questions.data),
            "threshold": self.threshold.data or None, "denominator": self.denominator.data or None,
        }


# The console's forms for new votes, by name, with the name of what each creates.
VOTE_FORMS = {
    "board": lambda policy: BoardVoteForm(policy),
    "charter": lambda policy: MatterVoteForm(policy, "charter"),
    "sponsor-admission": lambda policy: MatterVoteForm(policy, "sponsor-admission"),
    "fellow": lambda policy: FellowVoteForm(policy),
    "other": lambda policy: OtherVoteForm(policy),
}

VOTE_FORM_LABELS = {
    "board": vote_rules.kind_label("board"), "charter": vote_rules.kind_label("charter"),
    "sponsor-admission": vote_rules.kind_label("sponsor-admission"), "fellow": vote_rules.kind_label("fellow"),
    "other": OtherVoteForm.heading,
}
