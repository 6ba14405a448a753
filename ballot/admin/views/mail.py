"""The outbox as the console shows it: counts, and messages a stopped worker left half-sent, to release."""

from __future__ import annotations

from flask import abort, render_template, url_for

from ballot.admin.forms import ActionForm
from ballot.admin.views import act, bp, login_required
from ballot.outbox import services as outbox


@bp.route("/mail")
@login_required
def mail():
    return render_template("admin/mail.html", counts=outbox.outbox_counts(), stuck=outbox.stuck(),
                           domain=outbox.recipient_domain, stuck_after=int(outbox.STUCK_AFTER.total_seconds() // 60))


@bp.route("/mail/<int:message_id>/release", methods=["POST"])
@login_required
def release_message(message_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: outbox.release([message_id]), back=url_for("admin.mail"),
               done=f"Released message {message_id}: the worker sends it again.")


@bp.route("/mail/release-stuck", methods=["POST"])
@login_required
def release_stuck():
    if not ActionForm().validate_on_submit():
        abort(400)

    def release_all() -> str:
        released = outbox.release(None)
        return (f"Released {len(released)} messages ({', '.join(map(str, released))}): the worker sends them again."
                if released else "No message was left half-sent.")

    return act(release_all, back=url_for("admin.mail"), done="{outcome}")
