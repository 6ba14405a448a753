"""Periods, the opt-in campaign, enrolment, and roster uploads (preview, then confirm)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for

from ballot import unit_of_work
from ballot.admin import uploads
from ballot.admin.dashboard import csv_text
from ballot.admin.dashboard import dashboard as dashboard_of
from ballot.admin.forms import (
    ActionForm,
    OpenPeriodForm,
    OptInForm,
    RosterConfirmForm,
    RosterUploadForm,
    vote_forms_under,
)
from ballot.admin.views import act, bp, csv_response, login_required
from ballot.eligibility import rules as eligibility_rules
from ballot.eligibility import services as eligibility
from ballot.errors import BallotError
from ballot.policy import load_policy
from ballot.request_size import accepts_up_to
from ballot.roster import services as roster
from ballot.roster.services import RosterRefused
from ballot.votes import queries as votes
from ballot.votes import waiver


@bp.route("/periods", methods=["POST"])
@login_required
def open_period():
    form = OpenPeriodForm()
    if not form.validate_on_submit() or form.year.data is None:
        # The dashboard again, as sent, each problem by its field.
        return render_template("admin/dashboard.html", board=dashboard_of(), open_form=form), 400
    year = form.year.data
    try:
        with unit_of_work.attempt():
            eligibility.open_period(year, load_policy(form.policy.data))
    except BallotError as exc:
        flash(str(exc), "problem")
        return redirect(url_for("admin.dashboard"), 303)
    flash(f"The {year} period is open. Import its roster next.", "notice")
    return redirect(url_for("admin.period", year=year), 303)


@bp.route("/periods/<int:year>")
@login_required
def period(year: int):
    p = eligibility.get_period(year)
    policy = eligibility.policy_of(p)
    waiver_plan = waiver.plan(p) if policy.affirmation_waiver and p.enrolment_closed_at is None else None
    return render_template(
        "admin/period.html", period=p, policy=policy, counts=eligibility.enrolment_counts(p), waiver=waiver_plan,
        history=roster.import_history(p.id), votes=votes.list_votes(p), upload_form=RosterUploadForm(),
        opt_in_form=OptInForm(), action=ActionForm(), vote_kinds=vote_forms_under(eligibility.policy_of(p)),
    )


@bp.route("/periods/<int:year>/opt-in", methods=["POST"])
@login_required
def send_opt_in(year: int):
    p = eligibility.get_period(year)
    form = OptInForm()
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: eligibility.send_opt_in(p, resend=form.resend.data),
               back=url_for("admin.period", year=year), done="Queued {outcome} opt-in messages.")


@bp.route("/periods/<int:year>/affirmation-waiver", methods=["POST"])
@login_required
def affirmation_waiver(year: int):
    p = eligibility.get_period(year)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: len(waiver.apply(p).right_ids), back=url_for("admin.period", year=year),
               done="Enrolled {outcome} voting rights by the affirmation waiver.")


@bp.route("/periods/<int:year>/close-enrolment", methods=["POST"])
@login_required
def close_enrolment(year: int):
    p = eligibility.get_period(year)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: eligibility.close_enrolment(p), back=url_for("admin.period", year=year),
               done="Enrolment is closed: later opt-ins are refused.")


@bp.route("/periods/<int:year>/at-risk")
@login_required
def at_risk(year: int):
    """Who has missed votes, who is near the limit, who forfeited: participation, never ballots."""
    p = eligibility.get_period(year)
    policy = eligibility.policy_of(p)
    rows = eligibility.at_risk(p)
    counts = {standing: sum(1 for r in rows if r.standing == standing)
              for standing in (eligibility.FORFEITED, eligibility.NEAR, eligibility.MISSED, eligibility.EXEMPT)}
    return render_template("admin/at_risk.html", period=p, policy=policy, rows=rows, counts=counts,
                           words=eligibility.STANDING_WORDS, until=eligibility_rules.forfeiture_until(policy),
                           forfeited=eligibility.FORFEITED, near=eligibility.NEAR)


@bp.route("/periods/<int:year>/enrolled.csv")
@login_required
def enrolled_csv(year: int):
    rows = eligibility.export_voting_members(eligibility.get_period(year))
    text = csv_text(
        ["member_key", "name", "email", "capacity", "sponsor", "how", "forfeited"],
        ([r.member_key, r.name, r.email, r.capacity, r.sponsor, r.how, "yes" if r.forfeited else "no"]
         for r in rows),
    )
    return csv_response(text, f"enrolled-{year}.csv")


@bp.route("/periods/<int:year>/roster", methods=["POST"])
@login_required
@accepts_up_to("BALLOT_ROSTER_MAX_BYTES")
def upload_roster(year: int):
    p = eligibility.get_period(year)
    form = RosterUploadForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "problem")
        return redirect(url_for("admin.period", year=year), 303)
    data, filename = form.roster.data.read(), form.roster.data.filename or "roster"
    try:
        with unit_of_work.attempt():
            upload, _ = uploads.stage_roster_upload(p, data, filename, g.admin.email)
    except RosterRefused as exc:
        return render_template("admin/roster_refused.html", period=p, filename=filename, problems=exc.problems), 400
    except BallotError as exc:
        flash(str(exc), "problem")
        return redirect(url_for("admin.period", year=year), 303)
    return redirect(url_for("admin.roster_preview", year=year, upload_id=upload.id), 303)


@bp.route("/periods/<int:year>/roster/<int:upload_id>")
@login_required
def roster_preview(year: int, upload_id: int):
    p = eligibility.get_period(year)
    upload = uploads.roster_upload(p, upload_id)
    report = uploads.preview_roster_upload(p, upload)
    form = RosterConfirmForm(upload_id=upload.id, sha256=upload.sha256)
    return render_template("admin/roster_preview.html", period=p, upload=upload, report=report, form=form,
                           discard=ActionForm(), shown=100)


@bp.route("/periods/<int:year>/roster/<int:upload_id>/confirm", methods=["POST"])
@login_required
def roster_confirm(year: int, upload_id: int):
    p = eligibility.get_period(year)
    form = RosterConfirmForm()
    if not form.validate_on_submit() or form.upload_id.data != str(upload_id) or form.sha256.data is None:
        abort(400)
    upload = uploads.roster_upload(p, upload_id)
    try:
        with unit_of_work.attempt():
            report = uploads.confirm_roster_upload(p, upload, form.sha256.data)
    except BallotError as exc:
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
    upload = uploads.roster_upload(p, upload_id)
    return act(lambda: uploads.discard_roster_upload(upload), back=url_for("admin.period", year=year),
               done="The upload was discarded; nothing was imported.")
