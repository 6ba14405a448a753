"""Trustees in the console: the registry, a draft's trustees, and a closed vote's requests and answers."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for

from ballot import unit_of_work
from ballot.admin.forms import (
    ActionForm,
    FingerprintForm,
    TrusteeAnswerForm,
    TrusteeForm,
    VoteTrusteesForm,
)
from ballot.admin.views import act, bp, form_problem, login_required
from ballot.errors import BallotError, NotFound
from ballot.trustees import services as registry
from ballot.votes import custody, lifecycle, queries


@bp.route("/trustees", methods=["GET", "POST"])
@login_required
def trustees():
    form = TrusteeForm()
    status = 200
    if form.validate_on_submit() and form.name.data is not None:
        try:
            with unit_of_work.attempt():
                trustee = registry.register_trustee(form.name.data, form.public_key.data.read())
        except BallotError as exc:
            flash(str(exc), "problem")
            status = 400
        else:
            flash(f"Registered {trustee.name}, whose key's fingerprint is {trustee.fingerprint}. Compare it with "
                  "the one their `ballot trustee keygen` printed, by voice or in person.", "notice")
            return redirect(url_for("admin.trustees"), 303)
    elif form.is_submitted():
        status = 400
    return render_template("admin/trustees.html", form=form, trustees=registry.list_trustees(),
                           disable_form=FingerprintForm()), status


@bp.route("/trustees/disable", methods=["POST"])
@login_required
def disable_trustee():
    form = FingerprintForm()
    if not form.validate_on_submit() or form.fingerprint.data is None:
        abort(400)
    fingerprint = form.fingerprint.data
    back = url_for("admin.trustees")

    def disable():
        trustee = registry.get_trustee(fingerprint)
        registry.disable_trustee(trustee)
        return trustee.name

    return act(disable, back=back, done="{outcome} is disabled: no new vote can name them.")


def _back(vote_id: int) -> str:
    return url_for("admin.vote", vote_id=vote_id, _anchor="trustees-h")


@bp.route("/votes/<int:vote_id>/trustees", methods=["POST"])
@login_required
def vote_trustees(vote_id: int):
    v = queries.get_vote(vote_id)
    form = VoteTrusteesForm(registry.list_trustees(enabled_only=True))
    if not form.validate_on_submit():
        return form_problem(form, _back(vote_id))
    if not form.trustees.data:
        flash("Tick the vote's trustees.", "problem")
        return redirect(_back(vote_id), 303)
    return act(lambda: custody.set_trustees(v, form.trustees.data, form.threshold.data), back=_back(vote_id),
               done=f"The vote will be held by {form.threshold.data} of these {len(form.trustees.data)} trustees.")


@bp.route("/votes/<int:vote_id>/trustees/none", methods=["POST"])
@login_required
def vote_without_trustees(vote_id: int):
    v = queries.get_vote(vote_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: custody.set_trustees(v, [], None), back=_back(vote_id),
               done="The vote has no trustees: the installation's sealing key will protect it.")


@bp.route("/votes/<int:vote_id>/trustees/<int:position>/request.json")
@login_required
def trustee_request(vote_id: int, position: int):
    v = queries.get_vote(vote_id)
    row = next((r for r in custody.trustees_of(v) if r.position == position), None)
    if row is None:
        raise NotFound(f"vote {vote_id} has no trustee #{position}")
    request = custody.close_request(v, row.fingerprint)
    return Response(request.to_json(), mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=request-vote-{vote_id}-trustee-{position}.json"})


@bp.route("/votes/<int:vote_id>/trustee-answers", methods=["POST"])
@login_required
def trustee_answer(vote_id: int):
    v = queries.get_vote(vote_id)
    form = TrusteeAnswerForm()
    if not form.validate_on_submit():
        return form_problem(form, _back(vote_id))
    answer = form.answer.data.read()

    def said(summary: dict) -> str:
        if summary["status"] == "closed":
            return (f"The answer of trustee {summary['trustee']} is accepted: with {summary['answered']} answers "
                    "the ballots are opened and counted, and the vote's key material is destroyed. Check the "
                    "result, then publish it.")
        return (f"The answer of trustee {summary['trustee']} is accepted: {summary['answered']} of the "
                f"{summary['trustees_needed']} needed.")

    return act(lambda: lifecycle.receive_trustee_answer(v, answer), back=_back(vote_id), done=said)
