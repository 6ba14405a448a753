"""The console's forms (Flask-WTF: every POST carries its CSRF token)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import overload

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # newer than the WTForms stubs
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import TextInput

from ballot.counting.methods import METHODS
from ballot.policy import POLICY_DIR, Policy
from ballot.votes import rules as vote_rules

WHEN_HELP = "In UTC, as YYYY-MM-DD HH:MM, e.g. 2026-12-01 18:00"
WHEN_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


class UTCDateTimeField(Field):
    """A date and time in UTC, typed as the forms say (YYYY-MM-DD HH:MM) and shown the same way.

    A plain text input, not the browser's date picker, which shows local time in the browser's own
    format. Accepts a "T" for the space, seconds, and a trailing "Z", "UTC" or "+00:00"; ``data`` is
    the time without a zone, which ``utc`` reads as UTC.
    """

    widget = TextInput()
    data: dt.datetime | None

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", WHEN_HELP)
        kwargs.setdefault("render_kw", {"placeholder": "YYYY-MM-DD HH:MM", "autocomplete": "off",
                                        "spellcheck": "false"})
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%Y-%m-%d %H:%M") if isinstance(self.data, dt.datetime) else ""

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip().upper()
        for suffix in ("+00:00", "UTC", "Z"):
            text = text.removesuffix(suffix).strip()
        for fmt in WHEN_FORMATS:
            try:
                self.data = dt.datetime.strptime(text, fmt)
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(f"{valuelist[0].strip()!r} is not a date and time as YYYY-MM-DD HH:MM (UTC), "
                         "e.g. 2026-12-01 18:00")


@overload
def utc(value: dt.datetime) -> dt.datetime: ...
@overload
def utc(value: None) -> None: ...
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
    # Its size is limited with the request's (BALLOT_ROSTER_MAX_BYTES, ballot.request_size).
    roster = FileField("Roster file (CSV or JSON)", validators=[FileRequired("Choose a roster file.")])


class RosterConfirmForm(FlaskForm):
    upload_id = HiddenField(validators=[DataRequired()])
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class WhenForm(FlaskForm):
    """A closing time: to schedule a draft's close, or to extend an open vote."""

    closes_at = UTCDateTimeField("Closes at", validators=[InputRequired()])


class OpeningForm(FlaskForm):
    """When the worker opens a draft."""

    opens_at = UTCDateTimeField("Opens at", validators=[InputRequired()])


class ReminderForm(FlaskForm):
    scheduled_at = UTCDateTimeField("Send at", validators=[InputRequired()])


class ConfirmForm(FlaskForm):
    """The second step of an action that cannot be undone: sent only from its confirmation page."""

    confirm = HiddenField()

    @property
    def confirmed(self) -> bool:
        return self.confirm.data == "yes"


class CancelForm(ConfirmForm):
    reason = TextAreaField(
        "Why is the vote cancelled? (shown to voters)", validators=[DataRequired(), Length(max=2000)],
        id="cancel_reason",  # the open vote's page has another form's "reason" too
    )


class ResendForm(FlaskForm):
    right_id = HiddenField(validators=[DataRequired()])


class AddVoterForm(FlaskForm):
    """A member missed from an open vote's electorate, added with the reason."""

    member = StringField("Member id or email address", validators=[DataRequired(), Length(max=320)])
    reason = StringField("Why they are added (kept in the audit log)", validators=[DataRequired(), Length(max=500)],
                         id="add_voter_reason")


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
    closes_at = UTCDateTimeField("Closes at", validators=[InputRequired()])
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
    election = SelectField("Election", default="regular", choices=[
        SelectChoice("regular", "a regular election"), SelectChoice("special", "a special election")])
    method = SelectField("Election method")
    candidate_order = SelectField("How each ballot lists the candidates", choices=[
        SelectChoice("random", "in a random order on each ballot"),
        SelectChoice("rotation", "rotated: each ballot starts with another candidate"),
        SelectChoice("fixed", "in the order given above"),
    ])
    max_approvals = IntegerField("Approval voting: most candidates one ballot may approve (optional)",
                                 validators=[Optional(), NumberRange(min=1)])
    affiliations = TextAreaField(
        "Each candidate's affiliations (one “Name = Organisation; Other organisation” per line; "
        "employer, officer, director, consultant, 1% owner: section 5.14)"
    )
    statements = TextAreaField("Statements (optional: one “Name = https://…” per line, a link to each one’s "
                               "statement, shown on the ballot and the results)")
    board_size = IntegerField("Directors on the whole Board, the seats filled now and those staying on",
                              validators=[Optional(), NumberRange(min=1)])
    continuing = TextAreaField("Directors staying on: one line each, their affiliations separated by “;”, "
                               "or “-” for none")

    def __init__(self, policy: Policy, *args, **kwargs):
        super().__init__(policy, *args, **kwargs)
        self.method.choices = [
            SelectChoice(name, METHODS[name] + (" (the policy’s)" if name == policy.board_method else ""))
            for name in policy.board_methods
        ]
        if self.method.data is None:
            self.method.data = policy.board_method
        if self.candidate_order.data is None:
            self.candidate_order.data = policy.candidate_order
        if policy.affiliation_cap is None:  # the cap does not apply: nothing to enter for it
            del self.affiliations, self.board_size, self.continuing

    def options(self) -> dict:
        capped = self.policy.affiliation_cap is not None
        return {
            "kind": "board", "candidates": lines(self.candidates.data), "seats": self.seats.data,
            "method": self.method.data, "max_approvals": self.max_approvals.data, "election": self.election.data,
            "candidate_order": self.candidate_order.data,
            "statements": vote_rules.parse_statements(lines(self.statements.data)),
            "affiliations": vote_rules.parse_affiliations(lines(self.affiliations.data)) if capped else None,
            "board_size": self.board_size.data if capped else None,
            "continuing": vote_rules.parse_continuing(lines(self.continuing.data)) if capped else None,
        }


class MatterVoteForm(VoteForm):
    """Working-group charters and Sponsor admissions: yes > no, nothing to set."""

    questions = TextAreaField(
        "Questions (one per line; each is answered yes, no or abstain)", validators=[DataRequired()]
    )

    def __init__(self, policy: Policy, kind_name: str, *args, **kwargs):
        self.kind_name = kind_name
        self.heading = vote_rules.kind_label(kind_name)
        super().__init__(policy, *args, **kwargs)

    def options(self) -> dict:
        return {"kind": self.kind_name, "questions": lines(self.questions.data)}


DENOMINATORS = [
    SelectChoice("participating", "everyone who cast a ballot (abstentions count against)"),
    SelectChoice("yes-no", "yes and no answers only (abstentions do not count)"),
    SelectChoice("electorate", "everyone entitled to vote in it (the whole electorate)"),
]


class FellowVoteForm(VoteForm):
    kind_name = "fellow"
    heading = vote_rules.kind_label("fellow")
    nominees = TextAreaField(
        "Nominees (one per line; each is answered agree, disagree or abstain)", validators=[DataRequired()]
    )
    electorate = SelectField("Who approves them", choices=[
        SelectChoice("voting-members", "the voting members"),
        SelectChoice("fellows", "the Fellows"),
        SelectChoice("group", "a chartered Working Group or the Board (named below)"),
    ])
    group_name = StringField("The group's name (for a vote by a group)", validators=[Optional(), Length(max=200)])
    group_members = TextAreaField("The group's members (one member id or email address per line)")
    statements = TextAreaField("Statements (optional: one “Name = https://…” per line, a link to each one’s "
                               "statement, shown on the ballot and the results)")
    threshold = SelectField("Passes with at least")
    denominator = SelectField("of", choices=DENOMINATORS)
    managing_years = IntegerField("Also let Managing Members of at least this many years vote (optional)",
                                  validators=[Optional(), NumberRange(min=1)])

    def __init__(self, policy: Policy, *args, **kwargs):
        super().__init__(policy, *args, **kwargs)
        if policy.nominees_must_be_members:
            self.nominees.label.text = ("Nominees (one per line: their member id or email address; only members "
                                        "can be nominated)")
        self.threshold.choices = [SelectChoice(str(t)) for t in policy.fellow_allowed_thresholds]
        if self.threshold.data is None:
            self.threshold.data = str(policy.fellow_threshold)
        if self.denominator.data is None:
            self.denominator.data = policy.fellow_denominator
        if self.electorate.data is None:
            self.electorate.data = policy.fellow_electorate
        if "managing" not in policy.enabled_classes:
            del self.managing_years

    def options(self) -> dict:
        group = None
        if self.electorate.data == "group":
            group = {"name": self.group_name.data or "", "members": lines(self.group_members.data)}
        return {
            "kind": "fellow", "questions": lines(self.nominees.data), "threshold": self.threshold.data,
            "statements": vote_rules.parse_statements(lines(self.statements.data)),
            "denominator": self.denominator.data, "electorate": self.electorate.data, "group": group,
            "managing_years": self.managing_years.data if "managing_years" in self else None,
        }


class OtherVoteForm(VoteForm):
    """Policy ratification, governance, recertification, the bylaws' acts, any other matter."""

    kind_name = "other"
    heading = "Another matter put to the members"  # one form for every kind whose threshold can be set
    kind = SelectField("Kind of matter")
    questions = TextAreaField(
        "Questions (one per line; each is answered yes, no or abstain)", validators=[DataRequired()]
    )
    threshold = StringField(
        "What passes (optional: such as “more than 1/2” or “at least 2/3”; empty for the kind's own rule)",
        validators=[Optional(), Length(max=40)]
    )
    denominator = SelectField(
        "A set threshold is a share of", choices=[SelectChoice("", "the kind's or the policy’s choice"), *DENOMINATORS]
    )

    def __init__(self, policy: Policy, *args, **kwargs):
        super().__init__(policy, *args, **kwargs)
        self.kind.choices = [SelectChoice(k.name, k.label) for k in vote_rules.kinds_under(policy)
                             if k.threshold_settable]

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

def edit_form(vote, policy: Policy) -> VoteForm:
    """The form of a draft's kind, filled in with what the draft has (what was posted, on a POST)."""
    rules, questions = vote.rules, vote.questions
    data: dict = {"title": vote.title, "description": vote.description,
                  "closes_at": vote.closes_at.replace(tzinfo=None),
                  "quorum": "" if Fraction(rules["quorum"]) == policy.quorum else rules["quorum"]}
    requirement = (("more than " if rules.get("strict") else "at least ") + rules["threshold"]
                   if "threshold" in rules else "")
    if vote.kind == "board":
        data.update(candidates="\n".join(questions[0]["choices"]), seats=rules["seats"], election=rules["election"],
                    method=rules["method"], candidate_order=rules["candidate_order"],
                    max_approvals=rules.get("max_approvals"), board_size=rules.get("board_size"),
                    affiliations="\n".join(f"{name} = {'; '.join(orgs)}"
                                           for name, orgs in rules.get("affiliations", {}).items()),
                    continuing="\n".join("; ".join(orgs) or "-" for orgs in rules.get("continuing", [])))
        data["statements"] = "\n".join(f"{name} = {url}" for name, url in (rules.get("statements") or {}).items())
        form: VoteForm = BoardVoteForm(policy, data=data)
    elif vote.kind in ("charter", "sponsor-admission"):
        data["questions"] = "\n".join(q["title"] for q in questions)
        form = MatterVoteForm(policy, vote.kind, data=data)
    elif vote.kind == "fellow":
        group = rules.get("group") or {}
        data.update(nominees="\n".join(q["title"] for q in questions), electorate=rules["electorate"],
                    group_name=group.get("name", ""), group_members="\n".join(group.get("members", [])),
                    threshold=rules["threshold"], denominator=rules["denominator"],
                    managing_years=rules.get("managing_years"))
        data["statements"] = "\n".join(f"{name} = {url}" for name, url in (rules.get("statements") or {}).items())
        form = FellowVoteForm(policy, data=data)
    else:
        data.update(kind=vote.kind, questions="\n".join(q["title"] for q in questions), threshold=requirement,
                    denominator=rules["denominator"])
        form = OtherVoteForm(policy, data=data)
        form.kind.choices = [SelectChoice(vote.kind, vote_rules.kind_label(vote.kind))]  # a draft keeps its kind
    return form


VOTE_FORM_LABELS = {
    "board": vote_rules.kind_label("board"), "charter": vote_rules.kind_label("charter"),
    "sponsor-admission": vote_rules.kind_label("sponsor-admission"), "fellow": vote_rules.kind_label("fellow"),
    "other": OtherVoteForm.heading,
}


def vote_forms_under(policy: Policy) -> dict[str, str]:
    """The console's forms for new votes an organisation under ``policy`` has (no Sponsor admission
    without Sponsor Members), with what each creates."""
    kinds = {k.name for k in vote_rules.kinds_under(policy)}
    return {name: label for name, label in VOTE_FORM_LABELS.items() if name == "other" or name in kinds}
