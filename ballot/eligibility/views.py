"""Voters' pages for the eligibility period: opt in (the standing page is with the votes)."""

from flask import Blueprint, redirect, render_template, request

from ballot.eligibility import services
from ballot.extensions import unlimited
from ballot.tokens import OPT_IN

bp = Blueprint("eligibility", __name__)


@bp.route("/opt-in/<token>", methods=["GET", "POST"])
@unlimited  # a signed link that enrols once: nothing to guess, nothing to repeat (docs/DOMAIN.md)
def opt_in(token: str):
    """The question (GET), or, once enrolled, that the member is; the POST from the page enrols and sends the
    browser back to the link (POST-redirect-GET: reload and Back show a page, never a form sent again)."""
    # A GET enrols nobody: mail scanners follow links.
    right = services.right_from_token(OPT_IN, token)
    if request.method == "POST":
        services.confirm_opt_in(right)
        return redirect(request.path, 303)
    standing = services.standing(right)
    if standing.enrolled:
        return render_template("eligibility/enrolled.html", right=right, standing=standing,
                               standing_link=services.standing_link(right.id, standing.year))
    return render_template("eligibility/opt_in.html", right=right, standing=standing)
