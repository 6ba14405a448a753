"""The administrators' console under /admin: thin views over the same services as the commands.

One blueprint, its views in a module per area: signing in, periods and the
roster, votes, the outbox, the audit log. Each request is one unit of work on behalf of
the signed-in administrator; an action goes through ``act``, which runs it in
a savepoint: a refused action rolls back alone (its audit entry with it) and
is explained in a flash message or a 4xx page, never a 500.
"""

from __future__ import annotations

import functools
import time

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for

from ballot import unit_of_work
from ballot.admin import accounts
from ballot.errors import BallotError

bp = Blueprint("admin", __name__, url_prefix="/admin")


def signed_in_administrator():
    """The administrator this session was signed in for, while the session is good: made by password
    and code, not too old, of an enabled account, and not ended since (``accounts.end_sessions``)."""
    admin = accounts.session_administrator(session.get("admin_id"), session.get("admin_generation"))
    since = session.get("admin_since")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if admin is None or not isinstance(since, (int, float)) or time.time() - since > lifetime:
        return None
    return admin


def login_required(view):
    """Every console page: a good session (``signed_in_administrator``), or the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        admin = signed_in_administrator()
        if admin is None:
            for key in ("admin_id", "admin_since", "admin_generation"):
                session.pop(key, None)
            target = request.path if request.method == "GET" else None
            return redirect(url_for("admin.login", next=target))
        g.admin = admin
        unit_of_work.act_as(admin.email)
        return view(*args, **kwargs)

    return wrapper


@bp.context_processor
def console_context() -> dict:
    return {"console_admin": signed_in_administrator()}


@bp.errorhandler(BallotError)
def ballot_error(exc: BallotError):
    unit_of_work.abandon()
    status = exc.status if 400 <= exc.status < 500 else 400
    return render_template("admin/error.html", message=str(exc), status=status), status


def act(do, *, back: str, done=None):
    """Do an action in a savepoint, then flash and go back; a refusal is flashed instead.

    ``done``: the message, formatted with the outcome, or a function of the outcome that says it.
    """
    try:
        with unit_of_work.attempt():
            outcome = do()
    except BallotError as exc:
        flash(str(exc), "problem")
        return redirect(back, 303)
    if done:
        flash(done(outcome) if callable(done) else done.format(outcome=outcome), "notice")
    return redirect(back, 303)


def form_problem(form, back: str):
    """Flash each of a form's errors, named by the field's label, and go back."""
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if name in form._fields else name
        for error in errors:
            flash(f"{label}: {error}", "problem")
    return redirect(back, 303)


def csv_response(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={filename}"})


# The views register themselves on ``bp``.
from ballot.admin.views import audit_log, mail, periods, sign_in, trustees, votes  # noqa: E402, F401
