"""Voters' pages for votes: the ballot with its review step, the receipt, the results, their standing,
and links sent again."""

import hashlib

from flask import Blueprint, Response, current_app, json, render_template, request

from ballot.eligibility.services import right_from_token, standing_link
from ballot.errors import BallotError, Conflict, InvalidInput
from ballot.extensions import limiter
from ballot.tokens import STANDING
from ballot.votes import casting, custody, links, queries
from ballot.votes import rules as vote_rules
from ballot.votes import standing as right_standing
from ballot.votes.models import PUBLISHED

bp = Blueprint("votes", __name__)


@bp.route("/")
def index():
    votes = [v for v in queries.list_votes() if v.status == PUBLISHED]
    return render_template("votes/index.html", votes=votes)


def _asked_address() -> str:
    # Rate-limit by the address asked for, without keeping the address itself in the limiter's store.
    address = request.form.get("email", "").strip().lower()
    return "link-again:" + hashlib.sha256(address.encode()).hexdigest()


@bp.route("/link-again", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BALLOT_LINK_AGAIN_RATE_LIMIT"], methods=["POST"],
               error_message="Too many requests for links from your network. Please wait an hour and try again.")
@limiter.limit(lambda: current_app.config["BALLOT_LINK_AGAIN_ADDRESS_RATE_LIMIT"], methods=["POST"],
               key_func=_asked_address,
               error_message="Links for this address were asked for several times already. Please check your "
                             "inbox and spam folder, or wait an hour and try again.")
def link_again():
    """Send me my links again: the answer, and the work done for it, are the same whether or not the
    address is known; the worker looks it up and sends the links."""
    address = request.form.get("email", "").strip()
    if request.method == "GET":
        return render_template("votes/link_again.html", address="", problem=None, sent=False)
    try:
        links.ask_for_links_again(address)
    except InvalidInput as exc:
        return render_template("votes/link_again.html", address=address, problem=str(exc), sent=False), 400
    return render_template("votes/link_again.html", address=address, problem=None, sent=True)


@bp.route("/votes/<int:vote_id>/ballot/<token>", methods=["GET", "POST"])
@limiter.exempt  # a signed link that casts once: nothing to guess, nothing to repeat (docs/DOMAIN.md)
def ballot(vote_id: int, token: str):
    form = {key: request.form.getlist(key) for key in request.form}
    step = request.form.get("step")
    if request.method == "POST" and step == "cast":
        try:
            cast = casting.cast_ballot(vote_id, token, form)
        except InvalidInput:
            pass  # the ballot page below names the problems
        else:
            return render_template("votes/receipt.html", receipt=cast.receipt,
                                   standing_link=standing_link(cast.right_id, cast.period_year))
    access = casting.access_from_link(vote_id, token)
    vote = access.vote
    page = {"vote": vote, "capacity": access.capacity, "rules": vote_rules.describe(vote.rules, vote.electorate_size),
            "standing_link": standing_link(access.right_id, access.period_year),
            "orders": {q["id"]: vote_rules.ballot_order(len(q["choices"]), vote.rules.get("candidate_order", "fixed"),
                                                        token) for q in vote.questions},
            "affiliations": vote.rules.get("affiliations") or {},
            "protection": custody.describe_protection(vote)}
    if access.already_voted:
        if request.method == "POST":
            raise Conflict(casting.ALREADY_CAST)
        return render_template("votes/already_voted.html", **page)
    casting.check_open(vote)
    if request.method == "GET":
        return render_template("votes/ballot.html", form={}, problems=[], **page)
    if step == "edit":
        return render_template("votes/ballot.html", form=form, problems=[], **page)
    try:
        answers = casting.check_ballot(vote, form)
    except BallotError as exc:
        return render_template("votes/ballot.html", form=form, problems=[str(exc)], **page), 400
    return render_template("votes/review.html", form=form, answers=answers, **page)


@bp.route("/standing/<token>")
def standing(token: str):
    """A voting right's own standing: enrolled, votes missed, privileges, and this period's votes."""
    right = right_from_token(STANDING, token)
    return render_template("votes/standing.html", right=right, standing=right_standing.standing(right))


@bp.route("/votes/<int:vote_id>/results", methods=["GET", "POST"])
def results(vote_id: int):
    # A receipt is looked up by POST: in a URL it would reach access logs and browser history.
    vote = queries.get_vote(vote_id)
    document = queries.published_record(vote)
    receipt = request.form.get("receipt", "").strip().upper() if request.method == "POST" else ""
    found = next((b for b in document["record"]["ballots"] if b["receipt"] == receipt), None) if receipt else None
    record = document["record"]
    return render_template(
        "votes/results.html", vote=vote, result=vote.result, record=record,
        rules=vote_rules.describe(vote.rules, vote.electorate_size), receipt=receipt, found=found,
        protection=custody.describe_protection(vote),
        trustees=record.get("protection", {}).get("trustees", []),
        took_part=record.get("protection", {}).get("took_part", []),
    )


@bp.route("/signing-key.pem")
def signing_key():
    """The installation's public key, to check published records against (`ballot verify --signer`)."""
    return Response(queries.signing_public_key(), mimetype="application/x-pem-file")


@bp.route("/votes/<int:vote_id>/results.json")
def results_json(vote_id: int):
    vote = queries.get_vote(vote_id)
    queries.published_record(vote)
    return {"vote": {"id": vote.id, "kind": vote.kind, "title": vote.title}, "rules": vote.rules, "result": vote.result}


@bp.route("/votes/<int:vote_id>/ballots.blt")
def ballots_blt(vote_id: int):
    vote = queries.get_vote(vote_id)
    text = queries.ballots_blt(vote)
    return Response(text, mimetype="text/plain",
                    headers={"Content-Disposition": f"attachment; filename=vote-{vote_id}.blt"})


@bp.route("/votes/<int:vote_id>/record.json")
def record_json(vote_id: int):
    document = queries.published_record(queries.get_vote(vote_id))
    return Response(json.dumps(document, indent=1, sort_keys=True), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=vote-{vote_id}-record.json"})
