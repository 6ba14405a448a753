"""Signing in (password, then a second-factor code) and out, and the dashboard."""

from __future__ import annotations

import re
import time

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from ballot.admin import accounts
from ballot.admin.dashboard import dashboard as dashboard_of
from ballot.admin.forms import CodeForm, LoginForm, OpenPeriodForm
from ballot.admin.views import bp, login_required
from ballot.extensions import limiter

SIGN_IN_FAILED = "The email address or password is not right, or the account is disabled."
CODE_FAILED = "That code was not accepted. Codes work once: wait for the next one and try again."
CODE_STEP_SECONDS = 300  # the password step is good for this long


def login_limit() -> str:
    return current_app.config["BALLOT_ADMIN_LOGIN_RATE_LIMIT"]


def _fresh_session() -> None:
    """An empty session, and no CSRF token cached for this request from the old one."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


# A console path as the console's own pages have them: segments of letters, digits, "-" and "_", the last
# perhaps with an extension ("enrolled.csv"). Nothing else: no host, no query, no "..", no control character.
_SEGMENT = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)?"
CONSOLE_PATH = re.compile(rf"/admin/(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a clean console path of this site, or else the dashboard.

    Never an open redirect, and never a value that cannot be put in a header.
    """
    if isinstance(target, str) and CONSOLE_PATH.fullmatch(target):
        return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit() and form.email.data is not None and form.password.data is not None:
        admin = accounts.check_password(form.email.data, form.password.data)
        if admin is None:
            flash(SIGN_IN_FAILED, "problem")
            return render_template("admin/login.html", form=form), 401
        target = request.args.get("next")
        _fresh_session()  # nothing from before the sign-in carries over
        session["pending_admin_id"] = admin.id
        session["pending_generation"] = admin.session_generation
        session["pending_since"] = time.time()
        session["next"] = _safe_next(target)
        return redirect(url_for("admin.login_code"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login_code():
    admin = accounts.session_administrator(session.get("pending_admin_id"), session.get("pending_generation"))
    since = session.get("pending_since")
    if admin is None or not isinstance(since, (int, float)) or time.time() - since > CODE_STEP_SECONDS:
        _fresh_session()
        flash("Sign in with your email address and password first.", "problem")
        return redirect(url_for("admin.login"), 303)
    form = CodeForm()
    if form.validate_on_submit() and form.code.data is not None:
        if accounts.check_code(admin, form.code.data):
            target = session.get("next")
            _fresh_session()
            session.permanent = True
            session["admin_id"] = admin.id
            session["admin_generation"] = admin.session_generation
            session["admin_since"] = time.time()
            return redirect(_safe_next(target), 303)
        flash(CODE_FAILED, "problem")
        return render_template("admin/login_code.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("admin/login_code.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    accounts.sign_out(g.admin)
    _fresh_session()
    flash("You are signed out.", "notice")
    return redirect(url_for("admin.login"), 303)


@bp.route("/")
@login_required
def dashboard():
    return render_template("admin/dashboard.html", board=dashboard_of(), open_form=OpenPeriodForm())
