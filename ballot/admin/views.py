"""The administrators' console under /admin: thin views over the same services as the commands.

Each action adds its audit event, then calls the service, whose commit writes
both; a refused action is rolled back (no audit event) and explained in a
flash message or a 4xx page, never a 500.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ballot.admin import charts, services
from ballot.admin.forms import (
    VOTE_FORMS,
    ActionForm,
    CancelForm,
    CodeForm,
    LoginForm,
    OpeningForm,
    OpenPeriodForm,
    OptInForm,
    ReminderForm,
    ResendForm,
    RosterConfirmForm,
    RosterUploadForm,
    WhenForm,
    utc,
)
from ballot.audit import vote_subject
from ballot.eligibility import services as eligibility
from ballot.errors import BallotError, InvalidInput
from ballot.extensions import db, limiter
from ballot.policy import load_policy
from ballot.roster import services as roster
from ballot.roster.services import RosterRefused
from ballot.timestamps import utcnow
from ballot.votes import rules as vote_rules
from ballot.votes import services as votes
from ballot.votes.models import CLOSED, DRAFT, OPEN, PUBLISHED

bp = Blueprint("admin", __name__, url_prefix="/admin")

SIGN_IN_FAILED = "The email address or password is not right, or the account is disabled."
CODE_FAILED = "That code was not accepted. Codes work once: wait for the next one and try again."
CODE_STEP_SECONDS = 300  # the password step is good for this long


def login_limit() -> str:
    return current_app.config["BALLOT_ADMIN_LOGIN_RATE_LIMIT"]


def login_required(view):
    """Every console page: a session made by password and code, of an enabled account, not too old."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        admin = services.active_administrator(session.get("admin_id"))
        since = session.get("admin_since")
        lifetime = current_app.permanent_session_lifetime.total_seconds()
        if admin is None or not isinstance(since, (int, float)) or time.time() - since > lifetime:
            session.pop("admin_id", None)
            session.pop("admin_since", None)
            target = request.path if request.method == "GET" else None
            return redirect(url_for("admin.login", next=target))
        g.admin = admin
        return view(*args, **kwargs)

    return wrapper


@bp.context_processor
def console_context() -> dict:
    return {"console_admin": services.active_administrator(session.get("admin_id"))}


@bp.errorhandler(BallotError)
def ballot_error(exc: BallotError):
    db.session.rollback()
    status = exc.status if 400 <= exc.status < 500 else 400
    return render_template("admin/error.html", message=str(exc), status=status), status


def act(action: str, subject: str, do, *, back: str, done: str | None = None, **detail):
    """Audit, do, commit (the service does), then flash and go back; a refusal is flashed instead."""
    services.audit(g.admin.email, action, subject, **detail)
    try:
        outcome = do()
    except BallotError as exc:
        db.session.rollback()
        flash(str(exc), "problem")
        return redirect(back, 303)
    if done:
        flash(done.format(outcome=outcome), "notice")
    return redirect(back, 303)


def _fresh_session() -> None:
    """An empty session, and no CSRF token cached for this request from the old one."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _safe_next(target: str | None) -> str:
    """Only a console path of this site: never an open redirect."""
    if target and target.startswith("/admin/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.dashboard")


# Signing in --------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        admin = services.check_password(form.email.data, form.password.data)
        if admin is None:
            # The email tried, never the password.
            services.audit(services.normal_email(form.email.data), "sign-in.refused", step="password")
            db.session.commit()
            flash(SIGN_IN_FAILED, "problem")
            return render_template("admin/login.html", form=form), 401
        target = request.args.get("next")
        _fresh_session()  # nothing from before the sign-in carries over
        session["pending_admin_id"] = admin.id
        session["pending_since"] = time.time()
        session["next"] = _safe_next(target)
        return redirect(url_for("admin.login_code"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login_code():
    admin = services.active_administrator(session.get("pending_admin_id"))
    since = session.get("pending_since")
    if admin is None or not isinstance(since, (int, float)) or time.time() - since > CODE_STEP_SECONDS:
        _fresh_session()
        flash("Sign in with your email address and password first.", "problem")
        return redirect(url_for("admin.login"), 303)
    form = CodeForm()
    if form.validate_on_submit():
        services.audit(admin.email, "sign-in")
        if services.check_code(admin, form.code.data):  # commits the audit event with the accepted code
            target = session.get("next")
            _fresh_session()
            session.permanent = True
            session["admin_id"] = admin.id
            session["admin_since"] = time.time()
            return redirect(_safe_next(target), 303)
        db.session.rollback()
        services.audit(admin.email, "sign-in.refused", step="code")
        db.session.commit()
        flash(CODE_FAILED, "problem")
        return render_template("admin/login_code.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("admin/login_code.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.audit(g.admin.email, "sign-out")
    db.session.commit()
    _fresh_session()
    flash("You are signed out.", "notice")
    return redirect(url_for("admin.login"), 303)


# The dashboard and the audit log ---------------------------------------------------------

@bp.route("/")
@login_required
def dashboard():
    return render_template("admin/dashboard.html", board=services.dashboard(), open_form=OpenPeriodForm())


@bp.route("/audit")
@login_required
def audit():
    page = request.args.get("page", 1, type=int)
    events, pages = services.audit_page(page)
    return render_template("admin/audit.html", events=events, page=min(max(page, 1), pages), pages=pages)


# Periods, opt-in and the roster ----------------------------------------------------------

@bp.route("/periods", methods=["POST"])
@login_required
def open_period():
    form = OpenPeriodForm()
    if not form.validate_on_submit():
        flash("Give a year between 2000 and 2200 and choose the rules.", "problem")
        return redirect(url_for("admin.dashboard"), 303)
    year = form.year.data
    services.audit(g.admin.email, "period.open", str(year), policy=form.policy.data)
    try:
        eligibility.open_period(year, load_policy(form.policy.data))
    except BallotError as exc:
        db.session.rollback()
        flash(str(exc), "problem")
        return redirect(url_for("admin.dashboard"), 303)
    flash(f"The {year} period is open. Import its roster next.", "notice")
    return redirect(url_for("admin.period", year=year), 303)


@bp.route("/periods/<int:year>")
@login_required
def period(year: int):
    p = eligibility.get_period(year)
    return render_template(
        "admin/period.html", period=p, policy=eligibility.policy_of(p), counts=eligibility.enrolment_counts(p),
        history=roster.import_history(p), votes=votes.list_votes(p), upload_form=RosterUploadForm(),
        opt_in_form=OptInForm(), action=ActionForm(), vote_kinds=VOTE_KINDS,
    )


@bp.route("/periods/<int:year>/opt-in", methods=["POST"])
@login_required
def send_opt_in(year: int):
    p = eligibility.get_period(year)
    form = OptInForm()
    if not form.validate_on_submit():
        abort(400)
    return act("period.send-opt-in", str(year), lambda: eligibility.send_opt_in(p, resend=form.resend.data),
               back=url_for("admin.period", year=year), done="Queued {outcome} opt-in messages.",
               resend=bool(form.resend.data))


@bp.route("/periods/<int:year>/close-enrolment", methods=["POST"])
@login_required
def close_enrolment(year: int):
    p = eligibility.get_period(year)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act("period.close-enrolment", str(year), lambda: eligibility.close_enrolment(p),
               back=url_for("admin.period", year=year), done="Enrolment is closed: later opt-ins are refused.")


@bp.route("/periods/<int:year>/enrolled.csv")
@login_required
def enrolled_csv(year: int):
    p = eligibility.get_period(year)
    rows = eligibility.enrolled(p)
    services.audit(g.admin.email, "period.export-enrolled", str(year), rights=len(rows))
    db.session.commit()
    text = services.csv_text(
        ["member_key", "name", "email", "capacity", "sponsor", "confirmed_at", "source", "forfeited"],
        ([r.member_key, r.name, r.email, r.capacity, r.sponsor, r.confirmed_at.isoformat(), r.source,
          "yes" if r.forfeited else "no"] for r in rows),
    )
    return _csv(text, f"enrolled-{year}.csv")


@bp.route("/periods/<int:year>/roster", methods=["POST"])
@login_required
def upload_roster(year: int):
    p = eligibility.get_period(year)
    form = RosterUploadForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "problem")
        return redirect(url_for("admin.period", year=year), 303)
    data, filename = form.roster.data.read(), form.roster.data.filename or "roster"
    services.audit(g.admin.email, "roster.upload", str(year), filename=filename[:255], bytes=len(data))
    try:
        upload, _ = services.stage_roster_upload(p, data, filename, g.admin.email)
    except RosterRefused as exc:
        db.session.rollback()
        return render_template("admin/roster_refused.html", period=p, filename=filename, problems=exc.problems), 400
    except BallotError as exc:
        db.session.rollback()
        flash(str(exc), "problem")
        return redirect(url_for("admin.period", year=year), 303)
    return redirect(url_for("admin.roster_preview", year=year, upload_id=upload.id), 303)


@bp.route("/periods/<int:year>/roster/<int:upload_id>")
@login_required
def roster_preview(year: int, upload_id: int):
    p = eligibility.get_period(year)
    upload = services.roster_upload(p, upload_id)
    report = services.preview_roster_upload(p, upload)
    form = RosterConfirmForm(upload_id=upload.id, sha256=upload.sha256)
    return render_template("admin/roster_preview.html", period=p, upload=upload, report=report, form=form,
                           discard=ActionForm(), shown=100)


@bp.route("/periods/<int:year>/roster/<int:upload_id>/confirm", methods=["POST"])
@login_required
def roster_confirm(year: int, upload_id: int):
    p = eligibility.get_period(year)
    form = RosterConfirmForm()
    if not form.validate_on_submit() or form.upload_id.data != str(upload_id):
        abort(400)
    upload = services.roster_upload(p, upload_id)
    services.audit(g.admin.email, "roster.import", str(year), filename=upload.filename, sha256=upload.sha256)
    try:
        report = services.confirm_roster_upload(p, upload, form.sha256.data)
    except BallotError as exc:
        db.session.rollback()
        flash(str(exc), "problem")
        return redirect(url_for("admin.period", year=year), 303)
    flash(f"Imported {report.members} members: {len(report.added)} added, {len(report.changed)} changed, "
          f"{len(report.removed)} removed; {report.rights_added} new voting rights.", "notice")
    return redirect(url_for("admin.period", year=year), 303)


@bp.route("/periods/<int:year>/roster/<int:upload_id>/discard", methods=["POST"])
@login_required
def roster_discard(year: int, upload_id: int):
    p = eligibility.get_period(year)
    if not ActionForm().validate_on_submit():
        abort(400)
    upload = services.roster_upload(p, upload_id)
    return act("roster.discard", str(year), lambda: services.discard_roster_upload(upload),
               back=url_for("admin.period", year=year), done="The upload was discarded; nothing was imported.",
               filename=upload.filename)


# Votes ----------------------------------------------------------------------------------

VOTE_KINDS = {
    "board": "Board election", "charter": "Working-group charter", "sponsor-admission": "Sponsor admission",
    "fellow": "Fellow nominations", "other": "Other matter",
}


@bp.route("/votes")
@login_required
def vote_list():
    return render_template("admin/votes.html", votes=votes.list_votes(), periods=eligibility.list_periods(),
                           vote_kinds=VOTE_KINDS)


@bp.route("/periods/<int:year>/votes/new/<form_name>", methods=["GET", "POST"])
@login_required
def new_vote(year: int, form_name: str):
    p = eligibility.get_period(year)
    if form_name not in VOTE_FORMS:
        abort(404)
    form = VOTE_FORMS[form_name](eligibility.policy_of(p))
    problem = None
    if form.validate_on_submit():
        try:
            arguments = form.create_arguments()
            services.audit(g.admin.email, "vote.create", arguments["title"], period=year, kind=arguments["kind"])
            vote = votes.create_vote(p, **arguments)
        except BallotError as exc:
            db.session.rollback()
            problem = str(exc)
        else:
            flash("The draft is saved. Check its electorate and rules, then open it.", "notice")
            return redirect(url_for("admin.vote", vote_id=vote.id), 303)
    status = 400 if form.is_submitted() else 200
    electorate = len(eligibility.electorate(p, utcnow().date(), fellows_only=form_name == "fellow"))
    return render_template("admin/vote_form.html", form=form, period=p, problem=problem, form_name=form_name,
                           electorate=electorate), status


@bp.route("/votes/<int:vote_id>")
@login_required
def vote(vote_id: int):
    v = votes.get_vote(vote_id)
    electorate = votes.electorate_preview(v)
    page = {
        "vote": v, "kind": vote_rules.KINDS[v.kind], "rules": vote_rules.describe(v.rules, electorate),
        "electorate": electorate, "action": ActionForm(), "reminders": votes.reminders_of(v),
    }
    if v.status == DRAFT:
        page["schedule_form"] = WhenForm(closes_at=v.closes_at.replace(tzinfo=None))
        page["opening_form"] = OpeningForm(opens_at=v.opens_at.replace(tzinfo=None) if v.opens_at else None)
        page["reminder_form"] = ReminderForm()
    if v.status == OPEN:
        by_day = votes.turnout_by_day(v)
        participants = sum(count for _, count in by_day)
        page.update(
            by_day=by_day, participants=participants,
            turnout_chart=charts.bar_chart("Ballots cast per day", [(f"{d:%d %b}", n) for d, n in by_day]),
            extend_form=WhenForm(), reminder_form=ReminderForm(), cancel_form=CancelForm(),
            query=request.args.get("email", ""), resend_form=ResendForm(),
        )
        if page["query"]:
            page["found"] = votes.find_in_electorate(v, page["query"])
    if v.status == DRAFT:
        page["cancel_form"] = CancelForm()
    if v.status in (CLOSED, PUBLISHED) and v.result:
        page["charts"] = [charts.result_chart(q) for q in v.result["questions"]]
    return render_template("admin/vote.html", **page)


@bp.route("/votes/<int:vote_id>/schedule", methods=["POST"])
@login_required
def schedule_vote(vote_id: int):
    v = votes.get_vote(vote_id)
    form = WhenForm()
    back = url_for("admin.vote", vote_id=vote_id)
    if not form.validate_on_submit():
        return _form_problem(form, back)
    closes_at = utc(form.closes_at.data)
    return act("vote.schedule", vote_subject(v), lambda: votes.schedule_close(v, closes_at), back=back,
               done=f"The vote will close at {closes_at:%Y-%m-%d %H:%M} UTC.", closes_at=closes_at.isoformat())


@bp.route("/votes/<int:vote_id>/schedule-opening", methods=["POST"])
@login_required
def schedule_opening(vote_id: int):
    v = votes.get_vote(vote_id)
    back = url_for("admin.vote", vote_id=vote_id)
    if request.form.get("clear"):
        if not ActionForm().validate_on_submit():
            abort(400)
        return act("vote.schedule-opening", vote_subject(v), lambda: votes.schedule_opening(v, None), back=back,
                   done="The vote has no scheduled opening.", opens_at=None)
    form = OpeningForm()
    if not form.validate_on_submit():
        return _form_problem(form, back)
    opens_at = utc(form.opens_at.data)
    return act("vote.schedule-opening", vote_subject(v), lambda: votes.schedule_opening(v, opens_at), back=back,
               done=f"The vote will open at {opens_at:%Y-%m-%d %H:%M} UTC.", opens_at=opens_at.isoformat())


@bp.route("/votes/<int:vote_id>/open", methods=["POST"])
@login_required
def open_vote(vote_id: int):
    v = votes.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act("vote.open", vote_subject(v), lambda: votes.open_vote(v), back=url_for("admin.vote", vote_id=vote_id),
               done="The vote is open: {outcome} ballot links are queued.")


@bp.route("/votes/<int:vote_id>/extend", methods=["POST"])
@login_required
def extend_vote(vote_id: int):
    v = votes.get_vote(vote_id)
    form = WhenForm()
    back = url_for("admin.vote", vote_id=vote_id)
    if not form.validate_on_submit():
        return _form_problem(form, back)
    closes_at = utc(form.closes_at.data)
    return act("vote.extend", vote_subject(v), lambda: votes.extend_vote(v, closes_at), back=back,
               done=f"The vote now closes at {closes_at:%Y-%m-%d %H:%M} UTC; "
                    "fresh links are queued to the {outcome} who have not voted.",
               closes_at=closes_at.isoformat(), was=v.closes_at.isoformat())


@bp.route("/votes/<int:vote_id>/close", methods=["POST"])
@login_required
def close_vote(vote_id: int):
    v = votes.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act("vote.close", vote_subject(v), lambda: votes.close_vote(v), back=url_for("admin.vote", vote_id=vote_id),
               done="The vote is closed and counted. Check the result, then publish it.")


@bp.route("/votes/<int:vote_id>/cancel", methods=["POST"])
@login_required
def cancel_vote(vote_id: int):
    v = votes.get_vote(vote_id)
    form = CancelForm()
    back = url_for("admin.vote", vote_id=vote_id)
    if not form.validate_on_submit():
        flash("Say why the vote is cancelled: voters will see the reason.", "problem")
        return redirect(back, 303)
    return act("vote.cancel", vote_subject(v), lambda: votes.cancel_vote(v, form.reason.data), back=back,
               done="The vote is cancelled: it counts for nobody.", reason=form.reason.data)


@bp.route("/votes/<int:vote_id>/publish", methods=["POST"])
@login_required
def publish_vote(vote_id: int):
    v = votes.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act("vote.publish", vote_subject(v), lambda: votes.publish(v), back=url_for("admin.vote", vote_id=vote_id),
               done="The result and the signed record are published.")


@bp.route("/votes/<int:vote_id>/remind", methods=["POST"])
@login_required
def remind(vote_id: int):
    v = votes.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act("vote.remind", vote_subject(v), lambda: votes.send_reminder(v),
               back=url_for("admin.vote", vote_id=vote_id),
               done="Reminders are queued to the {outcome} voting rights that have not voted.")


@bp.route("/votes/<int:vote_id>/reminders", methods=["POST"])
@login_required
def schedule_reminder(vote_id: int):
    v = votes.get_vote(vote_id)
    form = ReminderForm()
    back = url_for("admin.vote", vote_id=vote_id)
    if not form.validate_on_submit():
        return _form_problem(form, back)
    at = utc(form.scheduled_at.data)
    return act("vote.schedule-reminder", vote_subject(v), lambda: votes.schedule_reminder(v, at), back=back,
               done=f"A reminder will go at {at:%Y-%m-%d %H:%M} UTC to those who have not voted by then.",
               at=at.isoformat())


@bp.route("/votes/<int:vote_id>/reminders/<int:reminder_id>/cancel", methods=["POST"])
@login_required
def cancel_reminder(vote_id: int, reminder_id: int):
    v = votes.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act("vote.cancel-reminder", vote_subject(v), lambda: votes.cancel_reminder(v, reminder_id),
               back=url_for("admin.vote", vote_id=vote_id), done="The reminder will not be sent.", reminder=reminder_id)


@bp.route("/votes/<int:vote_id>/resend", methods=["POST"])
@login_required
def resend(vote_id: int):
    v = votes.get_vote(vote_id)
    form = ResendForm()
    if not form.validate_on_submit() or not form.right_id.data.isdigit():
        abort(400)
    right_id = int(form.right_id.data)
    return act("vote.resend-link", vote_subject(v), lambda: votes.resend_link(v, right_id),
               back=url_for("admin.vote", vote_id=vote_id), done="The ballot link is queued again to {outcome}.",
               right=right_id)


@bp.route("/votes/<int:vote_id>/participation.csv")
@login_required
def participation_csv(vote_id: int):
    return _participation(votes.get_vote(vote_id))


@bp.route("/participation/last-board.csv")
@login_required
def last_board_participation():
    v = votes.last_board_election()
    if v is None:
        raise InvalidInput("no Board election has closed yet")
    return _participation(v)


def _participation(v):
    rows = votes.participants(v)
    services.audit(g.admin.email, "vote.export-participation", vote_subject(v), voters=len(rows))
    db.session.commit()
    text = services.csv_text(
        ["name", "email", "capacity", "sponsor", "voted_on"],
        ([p.name, p.email, p.capacity, p.sponsor, p.voted_on.isoformat()] for p in rows),
    )
    return _csv(text, f"vote-{v.id}-participation.csv")


def _form_problem(form, back: str):
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if name in form._fields else name
        for error in errors:
            flash(f"{label}: {error}", "problem")
    return redirect(back, 303)


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"})

