"""The audit log, newest first, narrowed by action, actor, vote and days."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request

from ballot.admin.views import bp, login_required
from ballot.audit import AuditFilter, audit_choices, audit_page
from ballot.votes import queries as votes


@bp.route("/audit")
@login_required
def audit():
    page = request.args.get("page", 1, type=int)
    problems: dict[str, str] = {}
    vote_text = request.args.get("vote", "").strip()
    vote_id = int(vote_text) if vote_text.isdigit() and 0 < int(vote_text) < 2**31 else None
    if vote_text and vote_id is None:
        problems["vote"] = f"“{vote_text}” is not a vote's number."
    days = {}
    for name in ("since", "until"):
        text = request.args.get(name, "").strip()
        try:
            days[name] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            days[name] = None
            problems[name] = f"“{text}” is not a day as YYYY-MM-DD."
    only = AuditFilter(action=request.args.get("action", "").strip(), actor=request.args.get("actor", "").strip(),
                       vote_id=vote_id, since=days["since"], until=days["until"])
    events, pages, total = audit_page(page, only=only)
    actions, actors = audit_choices()
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("admin/audit.html", events=events, page=min(max(page, 1), pages), pages=pages,
                           total=total, actions=actions, actors=actors, votes=votes.list_votes(), only=only,
                           problems=problems, filters=filters, args=request.args), 400 if problems else 200
