"""Voters' pages for a vote: the ballot with its review step, the receipt, the results."""

from flask import Blueprint, Response, current_app, json, render_template, request

from ballot.eligibility.services import standing_link
from ballot.eligibility.models import VotingRight
from ballot.errors import BallotError, Conflict
from ballot.extensions import db, limiter
from ballot.votes import rules as vote_rules
from ballot.votes import services
from ballot.votes.models import PUBLISHED

bp = Blueprint("votes", __name__)


@bp.route("/")
def index():
    votes = [v for v in services.list_votes() if v.status == PUBLISHED]
    return render_template("votes/index.html", votes=votes)


@bp.route("/votes/<int:vote_id>/ballot/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BALLOT_CAST_RATE_LIMIT"], methods=["POST"])
def ballot(vote_id: int, token: str):
    access = services.access_from_link(vote_id, token)
    vote = access.vote
    right = db.session.get(VotingRight, access.right_id)
    page = {"vote": vote, "right": right, "rules": vote_rules.describe(vote.rules, vote.electorate_size),
            "standing_link": standing_link(right)}
    if access.already_voted:
        if request.method == "POST":
            raise Conflict("A ballot has already been cast with this link. Each voting right casts one ballot.")
        return render_template("votes/already_voted.html", **page)
    services.check_open(vote)
    if request.method == "GET":
        return render_template("votes/ballot.html", form={}, problems=[], **page)
    form = {key: request.form.getlist(key) for key in request.form}
    step = request.form.get("step")
    if step == "edit":
        return render_template("votes/ballot.html", form=form, problems=[], **page)
    try:
        answers = services.check_ballot(vote, form)
    except BallotError as exc:
        return render_template("votes/ballot.html", form=form, problems=[str(exc)], **page), 400
    if step == "cast":
        receipt = services.cast(access, answers)
        return render_template("votes/receipt.html", receipt=receipt, answers=answers, **page)
    return render_template("votes/review.html", form=form, answers=answers, **page)


@bp.route("/votes/<int:vote_id>/results")
def results(vote_id: int):
    vote = services.get_vote(vote_id)
    document = services.published_record(vote)
    receipt = request.args.get("receipt", "").strip().upper()
    found = None
    if receipt:
        found = any(b["receipt"] == receipt for b in document["record"]["ballots"])
    return render_template(
        "votes/results.html", vote=vote, result=vote.result, record=document["record"],
        rules=vote_rules.describe(vote.rules, vote.electorate_size), receipt=receipt, found=found,
    )


@bp.route("/votes/<int:vote_id>/results.json")
def results_json(vote_id: int):
    vote = services.get_vote(vote_id)
    services.published_record(vote)
    return {"vote": {"id": vote.id, "kind": vote.kind, "title": vote.title}, "rules": vote.rules, "result": vote.result}


@bp.route("/votes/<int:vote_id>/ballots.blt")
def ballots_blt(vote_id: int):
    vote = services.get_vote(vote_id)
    text = services.ballots_blt(vote)
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": f"attachment; filename=vote-{vote_id}.blt"})


@bp.route("/votes/<int:vote_id>/record.json")
def record_json(vote_id: int):
    document = services.published_record(services.get_vote(vote_id))
    return Response(json.dumps(document, indent=1, sort_keys=True), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=vote-{vote_id}-record.json"})
