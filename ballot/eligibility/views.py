"""Voters' pages for the eligibility period: opt in (the standing page is with the votes)."""

from flask import Blueprint, render_template, request

from ballot.eligibility import services
from ballot.extensions import unlimited
from ballot.tokens import OPT_IN

bp = Blueprint("eligibility", __name__)


@bp.route("/opt-in/<token>", methods=["GET", "POST"])
@unlimited  # a signed link that enrols once: nothing to guess, nothing to repeat (docs/DOMAIN.md)
def opt_in(token: str):
    # GET only shows the question: mail scanners follow links, and must not enrol anybody.
    right = services.right_from_token(OPT_IN, token)
    if request.method == "POST":
        newly = services.confirm_opt_in(right)
        standing = services.standing(right)
        return render_template(
            "eligibility/enrolled.html", right=right, newly=newly,
            standing=standing, standing_link=services.standing_link(right.id, standing.year),
        )
    return render_template("eligibility/opt_in.html", right=right, standing=services.standing(right))
