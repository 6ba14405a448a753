"""The audit log, newest first."""

from __future__ import annotations

from flask import render_template, request

from ballot.admin.views import bp, login_required
from ballot.audit import audit_page


@bp.route("/audit")
@login_required
def audit():
    page = request.args.get("page", 1, type=int)
    events, pages = audit_page(page)
    return render_template("admin/audit.html", events=events, page=min(max(page, 1), pages), pages=pages)
