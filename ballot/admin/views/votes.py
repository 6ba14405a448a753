"""Votes in the console: create, schedule, open, extend, remind, resend, close, cancel, publish."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from ballot import unit_of_work
from ballot.admin.dashboard import csv_text
from ballot.admin.forms import (
    VOTE_FORM_LABELS,
    VOTE_FORMS,
    ActionForm,
    AddVoterForm,
    CancelForm,
    ConfirmForm,
    OpeningForm,
    ReminderForm,
    ResendForm,
    TrusteeAnswerForm,
    VoteTrusteesForm,
    WhenForm,
    edit_form,
    utc,
    vote_forms_under,
)
from ballot.admin.views import act, bp, csv_response, form_problem, login_required
from ballot.eligibility import services as eligibility
from ballot.errors import BallotError, InvalidInput
from ballot.timestamps import utcnow
from ballot.trustees import services as trustee_registry
from ballot.votes import charts, custody, exports, lifecycle, links, queries
from ballot.votes import rules as vote_rules
from ballot.votes.models import CLOSED, COUNTING, DRAFT, OPEN, PUBLISHED
from ballot.votes.tasks import CLOSE_TASK, OPEN_TASK
from ballot.worker import failure_of


@bp.route("/votes")
@login_required
def vote_list():
    all_votes = queries.list_votes()
    return render_template("admin/votes.html", votes=all_votes, periods=eligibility.list_periods(),
                           vote_kinds=VOTE_FORM_LABELS, turnouts=queries.turnouts(all_votes))


@bp.route("/periods/<int:year>/votes/new/<form_name>", methods=["GET", "POST"])
@login_required
def new_vote(year: int, form_name: str):
    p = eligibility.get_period(year)
    if form_name not in VOTE_FORMS:
        abort(404)
    policy = eligibility.policy_of(p)
    if form_name not in vote_forms_under(policy):
        vote_rules.get_kind(form_name, policy)  # refused, saying why (e.g. no Sponsor Members)
    form = VOTE_FORMS[form_name](policy)
    problems: list[str] = []
    if form.is_submitted() and _every_problem(form, p, problems):
        try:
            with unit_of_work.attempt():
                vote = lifecycle.create_vote(p, **form.create_arguments())
        except BallotError as exc:
            problems.append(str(exc))
        else:
            flash("The draft is saved. Check its electorate and rules, then open it.", "notice")
            return redirect(url_for("admin.vote", vote_id=vote.id), 303)
    status = 400 if form.is_submitted() else 200
    scope = policy.fellow_electorate if form_name == "fellow" else "all"
    electorate = len(eligibility.electorate(p, utcnow().date(), scope=scope))
    return render_template("admin/vote_form.html", form=form, period=p, problems=problems, form_name=form_name,
                           electorate=electorate), status


@bp.route("/votes/<int:vote_id>/edit", methods=["GET", "POST"])
@login_required
def edit_vote(vote_id: int):
    """A draft's form, filled in; saving checks every rule again. Once open, a vote cannot change."""
    v = queries.get_vote(vote_id)
    if v.status != DRAFT:
        flash(f"This vote is {v.status}; only a draft can be edited.", "problem")
        return redirect(_back(vote_id), 303)
    p = queries.period_of(v)
    form = edit_form(v, eligibility.policy_of(p))
    problems: list[str] = []
    if form.is_submitted() and _every_problem(form, p, problems, keep_titles=[q["title"] for q in v.questions]):
        try:
            with unit_of_work.attempt():
                changed = lifecycle.edit_draft(v, **form.create_arguments())
        except BallotError as exc:
            problems.append(str(exc))
        else:
            flash(f"The draft is saved: changed {', '.join(changed)}." if changed else "Nothing was changed.",
                  "notice")
            return redirect(_back(vote_id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/vote_form.html", form=form, period=p, problems=problems, vote=v,
                           electorate=queries.electorate_preview(v), form_name=v.kind), status


# Where a problem with a vote's rules is shown: next to the first field its words name, else above the form.
RULE_FIELDS = (
    ("quorum", "quorum"), ("instant runoff", "seats"), ("seats", "seats"), ("elects directors", "method"),
    ("method", "method"), ("max-approvals", "max_approvals"), ("candidate order", "candidate_order"),
    ("'regular' or 'special'", "election"), ("continuing", "continuing"), ("board has", "board_size"),
    ("board's size", "board_size"), ("affiliation", "affiliations"), ("group", "group_members"),
    ("managing", "managing_years"), ("denominator", "denominator"), ("abstentions", "denominator"),
    ("threshold", "threshold"), ("passes", "threshold"), ("needs at least", "threshold"), ("is less", "threshold"),
    ("candidate", "candidates"),
)


def _every_problem(form, period, problems: list[str], keep_titles=()) -> bool:
    """Check the form's fields and then the vote's own rules on what it holds, every problem at once:
    each next to its field, or in ``problems`` when no field is to blame. True when there is none."""
    form.validate()
    try:
        arguments = dict(form.create_arguments())
    except BallotError as exc:  # a line of affiliations, directors or statements that cannot be read
        _put(form, "statements" if "statements" in str(exc) else "affiliations", str(exc), problems)
        return False
    arguments.pop("closes_at", None)
    arguments.pop("description", None)
    kind = arguments.pop("kind", None) or form.kind_name
    title = arguments.pop("title")
    title = None if form.title.errors else title
    questions, candidates = arguments.pop("questions", None), arguments.pop("candidates", None)
    question_field = next(field for field in ("candidates", "nominees", "questions") if field in form)
    if getattr(form, question_field).errors:
        questions = candidates = None
    for part, message in lifecycle.vote_problems(period, kind, title=title, questions=questions,
                                                 candidates=candidates, keep_titles=keep_titles, **arguments):
        if part == "rules":
            to_blame = next((field for words, field in RULE_FIELDS if words in message.lower() and field in form),
                            None)
        else:
            to_blame = {"title": "title", "quorum": "quorum", "questions": question_field,
                        "statements": "statements"}[part]
        _put(form, to_blame, message, problems)
    return not form.errors and not problems


def _put(form, name: str | None, message: str, problems: list[str]) -> None:
    field = form._fields.get(name) if name else None
    if field is None:
        problems.append(message)
    elif not field.errors:
        field.errors = [message]


@bp.route("/votes/<int:vote_id>")
@login_required
def vote(vote_id: int):
    return _vote_page(queries.get_vote(vote_id))


def _vote_page(v, status: int = 200, **refused_forms):
    """The vote's page; a form that was refused is shown again as sent, each problem by its field."""
    electorate = queries.electorate_preview(v)
    trustees = custody.trustees_of(v)
    page = {
        "vote": v, "kind": vote_rules.KINDS[v.kind], "rules": vote_rules.describe(v.rules, electorate),
        "electorate": electorate, "action": ActionForm(), "reminders": queries.reminders_of(v),
        "worker_failure": failure_of(OPEN_TASK if v.status == DRAFT else CLOSE_TASK, v.id),
        "trustees": trustees,
        "additions": queries.additions_of(v) if v.status != DRAFT else [],
    }
    page["protection"] = custody.describe_protection(v)
    if v.status == DRAFT:
        choices = trustee_registry.list_trustees(enabled_only=True)
        chosen = [row.fingerprint for row in trustees]
        page["trustees_form"] = VoteTrusteesForm(choices, threshold=v.trustee_threshold)
        page["registered_trustees"] = choices
        page["chosen"] = set(chosen)
        page["single_trustee_allowed"] = trustee_registry.single_trustee_allowed()
        if v.trustee_threshold:
            page["trustee_warning"] = custody.losing_trustees_warning(v.trustee_threshold, len(trustees))
        page["schedule_form"] = WhenForm(closes_at=v.closes_at.replace(tzinfo=None))
        page["opening_form"] = OpeningForm(opens_at=v.opens_at.replace(tzinfo=None) if v.opens_at else None)
        page["reminder_form"] = ReminderForm()
    if v.status == OPEN:
        by_day = queries.turnout_by_day(v)
        participants = sum(count for _, count in by_day)
        query = request.args.get("email", "")
        page.update(
            by_day=by_day, participants=participants,
            turnout_chart=charts.bar_chart("Ballots cast per day", [(f"{d:%d %b}", n) for d, n in by_day]),
            extend_form=WhenForm(), reminder_form=ReminderForm(), cancel_form=CancelForm(),
            query=query, resend_form=ResendForm(), add_voter_form=AddVoterForm(),
        )
        if query:
            page["found"] = queries.find_in_electorate(v, query)
    if v.status == DRAFT:
        page["cancel_form"] = CancelForm()
    if v.status == COUNTING:
        page.update(answer_form=TrusteeAnswerForm(), collection_key=custody.collection_fingerprint(v),
                    answered=sum(1 for row in trustees if row.answered_at))
    if v.status in (CLOSED, PUBLISHED) and v.result:
        page["charts"] = [charts.result_chart(q) for q in v.result["questions"]]
    page.update(refused_forms)
    return render_template("admin/vote.html", **page), status


def _back(vote_id: int) -> str:
    return url_for("admin.vote", vote_id=vote_id)


@bp.route("/votes/<int:vote_id>/schedule", methods=["POST"])
@login_required
def schedule_vote(vote_id: int):
    v = queries.get_vote(vote_id)
    form = WhenForm()
    if not form.validate_on_submit() or form.closes_at.data is None:
        return _vote_page(v, 400, schedule_form=form) if v.status == DRAFT else form_problem(form, _back(vote_id))
    closes_at = utc(form.closes_at.data)
    return act(lambda: lifecycle.schedule_close(v, closes_at), back=_back(vote_id),
               done=f"The vote will close at {closes_at:%Y-%m-%d %H:%M} UTC.")


@bp.route("/votes/<int:vote_id>/schedule-opening", methods=["POST"])
@login_required
def schedule_opening(vote_id: int):
    v = queries.get_vote(vote_id)
    if request.form.get("clear"):
        if not ActionForm().validate_on_submit():
            abort(400)
        return act(lambda: lifecycle.schedule_opening(v, None), back=_back(vote_id),
                   done="The vote has no scheduled opening.")
    form = OpeningForm()
    if not form.validate_on_submit():
        return _vote_page(v, 400, opening_form=form) if v.status == DRAFT else form_problem(form, _back(vote_id))
    opens_at = utc(form.opens_at.data)
    return act(lambda: lifecycle.schedule_opening(v, opens_at), back=_back(vote_id),
               done=f"The vote will open at {opens_at:%Y-%m-%d %H:%M} UTC.")


@bp.route("/votes/<int:vote_id>/open", methods=["POST"])
@login_required
def open_vote(vote_id: int):
    v = queries.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: lifecycle.open_vote(v), back=_back(vote_id),
               done="The vote is open: {outcome} ballot links are queued.")


@bp.route("/votes/<int:vote_id>/extend", methods=["POST"])
@login_required
def extend_vote(vote_id: int):
    v = queries.get_vote(vote_id)
    form = WhenForm()
    if not form.validate_on_submit() or form.closes_at.data is None:
        return _vote_page(v, 400, extend_form=form) if v.status == OPEN else form_problem(form, _back(vote_id))
    closes_at = utc(form.closes_at.data)
    return act(lambda: lifecycle.extend_vote(v, closes_at), back=_back(vote_id),
               done=f"The vote now closes at {closes_at:%Y-%m-%d %H:%M} UTC; "
                    "fresh links are queued to the {outcome} who have not voted.")


@bp.route("/votes/<int:vote_id>/close", methods=["GET", "POST"])
@login_required
def close_vote(vote_id: int):
    """Closing asks first: the confirmation page says what it does (missed votes, forfeitures, early)."""
    v = queries.get_vote(vote_id)
    if request.method == "GET":
        if v.status != OPEN:
            flash(f"This vote is {v.status}; only an open vote can be closed.", "problem")
            return redirect(_back(vote_id), 303)
        now = utcnow()
        found = queries.consequences(v, now)
        return render_template("admin/confirm.html", vote=v, action="close", lines=found.closing_lines(now),
                               form=ConfirmForm(confirm="yes"), early=found.early)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if not form.confirmed:
        return redirect(url_for("admin.close_vote", vote_id=vote_id), 303)

    def said(summary: dict) -> str:
        if summary["status"] == COUNTING:
            return (f"Casting has stopped and missed votes are recorded. The vote waits for "
                    f"{summary['trustees_needed']} of its {summary['trustees']} trustees' answers: give each their "
                    "request below.")
        return "The vote is closed and counted. Check the result, then publish it."

    return act(lambda: lifecycle.close_vote(v), back=_back(vote_id), done=said)


@bp.route("/votes/<int:vote_id>/cancel", methods=["POST"])
@login_required
def cancel_vote(vote_id: int):
    """The reason first, then a confirmation page saying what cancelling does, then the cancellation."""
    v = queries.get_vote(vote_id)
    form = CancelForm()
    if not form.validate_on_submit() or form.reason.data is None:
        if "csrf_token" in form.errors:
            abort(400)
        flash("Say why the vote is cancelled: voters will see the reason.", "problem")
        return redirect(_back(vote_id), 303)
    reason = form.reason.data
    if not form.confirmed:
        if v.status not in (DRAFT, OPEN):
            flash(f"This vote is {v.status}; only a draft or open vote can be cancelled.", "problem")
            return redirect(_back(vote_id), 303)
        form.confirm.data = "yes"
        return render_template("admin/confirm.html", vote=v, action="cancel", form=form,
                               lines=queries.consequences(v).cancelling_lines(), early=False)
    return act(lambda: lifecycle.cancel_vote(v, reason), back=_back(vote_id),
               done="The vote is cancelled: it counts for nobody.")


@bp.route("/votes/<int:vote_id>/publish", methods=["POST"])
@login_required
def publish_vote(vote_id: int):
    v = queries.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: lifecycle.publish(v), back=_back(vote_id),
               done="The result and the signed record are published.")


@bp.route("/votes/<int:vote_id>/remind", methods=["POST"])
@login_required
def remind(vote_id: int):
    v = queries.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: links.send_reminder(v), back=_back(vote_id),
               done="Reminders are queued to the {outcome} voting rights that have not voted.")


@bp.route("/votes/<int:vote_id>/reminders", methods=["POST"])
@login_required
def schedule_reminder(vote_id: int):
    v = queries.get_vote(vote_id)
    form = ReminderForm()
    if not form.validate_on_submit() or form.scheduled_at.data is None:
        if v.status not in (DRAFT, OPEN):
            return form_problem(form, _back(vote_id))
        return _vote_page(v, 400, reminder_form=form)
    at = utc(form.scheduled_at.data)
    return act(lambda: links.schedule_reminder(v, at), back=_back(vote_id),
               done=f"A reminder will go at {at:%Y-%m-%d %H:%M} UTC to those who have not voted by then.")


@bp.route("/votes/<int:vote_id>/reminders/<int:reminder_id>/cancel", methods=["POST"])
@login_required
def cancel_reminder(vote_id: int, reminder_id: int):
    v = queries.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: links.cancel_reminder(v, reminder_id), back=_back(vote_id),
               done="The reminder will not be sent.")


@bp.route("/votes/<int:vote_id>/resend", methods=["POST"])
@login_required
def resend(vote_id: int):
    v = queries.get_vote(vote_id)
    form = ResendForm()
    if not form.validate_on_submit() or form.right_id.data is None or not form.right_id.data.isdigit():
        abort(400)
    right_id = int(form.right_id.data)
    return act(lambda: links.resend_link(v, right_id), back=_back(vote_id),
               done="The ballot link is queued again to {outcome}.")


@bp.route("/votes/<int:vote_id>/add-voter", methods=["POST"])
@login_required
def add_voter(vote_id: int):
    v = queries.get_vote(vote_id)
    form = AddVoterForm()
    if not form.validate_on_submit() or form.member.data is None or form.reason.data is None:
        return _vote_page(v, 400, add_voter_form=form) if v.status == OPEN else form_problem(form, _back(vote_id))
    member, reason = form.member.data, form.reason.data
    return act(lambda: lifecycle.add_voter(v, member, reason), back=_back(vote_id),
               done=f"{member} is added to the electorate ({{outcome}} voting right(s)); their ballot link is queued.")


@bp.route("/votes/<int:vote_id>/participation.csv")
@login_required
def participation_csv(vote_id: int):
    return _participation(queries.get_vote(vote_id))


@bp.route("/participation/last-board.csv")
@login_required
def last_board_participation():
    v = queries.last_board_election()
    if v is None:
        raise InvalidInput("no Board election has closed yet")
    return _participation(v)


def _participation(v):
    rows = exports.export_participants(v)
    text = csv_text(
        ["name", "email", "capacity", "sponsor", "voted_on"],
        ([p.name, p.email, p.capacity, p.sponsor, p.voted_on.isoformat()] for p in rows),
    )
    return csv_response(text, f"vote-{v.id}-participation.csv")
