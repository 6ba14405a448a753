"""Voters' pages for votes: the ballot with its review step, the receipt, the results, their standing,
and links sent again."""

import datetime as dt
import hashlib
import math
from fractions import Fraction

from flask import Blueprint, Response, current_app, json, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from ballot import sealing, unit_of_work
from ballot.eligibility.services import right_from_token, standing_link
from ballot.errors import AlreadyVoted, InvalidInput, NotFound, TokenExpired, TokenInvalid, VoteClosed
from ballot.extensions import db, limiter, unlimited
from ballot.timestamps import utcnow
from ballot.tokens import RECEIPT_KEPT, STANDING, token_service
from ballot.votes import casting, charts, custody, links, queries
from ballot.votes import rules as vote_rules
from ballot.votes import standing as right_standing
from ballot.votes.models import CLOSED, COUNTING, OPEN, PUBLISHED, Vote

bp = Blueprint("votes", __name__)


@bp.route("/")
def index():
    """The open votes (title and closing time), those being counted, and the published results."""
    now = utcnow()
    votes = queries.list_votes()
    return render_template(
        "votes/index.html",
        open_votes=sorted((v for v in votes if v.status == OPEN and v.closes_at > now), key=lambda v: v.closes_at),
        counting=[v for v in votes if v.status in (COUNTING, CLOSED) or (v.status == OPEN and v.closes_at <= now)],
        votes=sorted((v for v in votes if v.status == PUBLISHED), key=lambda v: v.closed_at or now, reverse=True),
    )


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


# After a cast the browser is sent back to the ballot link (POST-redirect-GET), which shows the receipt
# again on reload and Back. The receipt is kept only in the voter's own browser: a signed cookie sent to
# that link alone, dropped when the browser closes and read for an hour at most. The service stores no
# receipt in clear before the close, and never one beside anything that identifies a voter.
RECEIPT_COOKIE = "ballot_receipt"
RECEIPT_KEPT_FOR = dt.timedelta(hours=1)


def _keep_receipt(response: BaseResponse, vote_id: int, link: str, receipt: str, now: dt.datetime) -> None:
    value = token_service(current_app.config, RECEIPT_KEPT).dumps({"v": vote_id, "t": receipt},
                                                                   now + RECEIPT_KEPT_FOR)
    response.set_cookie(RECEIPT_COOKIE, value, path=link,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")


def _kept_receipt(vote_id: int) -> str | None:
    """The receipt this browser was shown after casting with this link, while it is kept."""
    value = request.cookies.get(RECEIPT_COOKIE)
    if not value:
        return None
    try:
        data = token_service(current_app.config, RECEIPT_KEPT).loads(value)
    except (TokenInvalid, TokenExpired):
        return None
    receipt = data.get("t")
    return receipt if data.get("v") == vote_id and isinstance(receipt, str) else None


def _ballot_page(vote_id: int, token: str) -> tuple[casting.BallotAccess, dict]:
    access = casting.access_from_link(vote_id, token)
    vote = access.vote
    return access, {
        "vote": vote, "capacity": access.capacity, "rules": vote_rules.describe(vote.rules, vote.electorate_size),
        "standing_link": standing_link(access.right_id, access.period_year),
        "orders": {q["id"]: vote_rules.ballot_order(len(q["choices"]), vote.rules.get("candidate_order", "fixed"),
                                                    token) for q in vote.questions},
        "affiliations": vote.rules.get("affiliations") or {},
        "protection": custody.describe_protection(vote),
    }


def _voted_page(page: dict, vote_id: int, status: int = 200):
    """The receipt, if this browser still keeps it; otherwise that the right has voted."""
    receipt = _kept_receipt(vote_id)
    if receipt:
        return render_template("votes/receipt.html", receipt=receipt, kept_for=RECEIPT_KEPT_FOR,
                               again=status != 200, **page), status
    return render_template("votes/already_voted.html", again=status != 200, **page), status


@bp.errorhandler(AlreadyVoted)
def already_voted(exc: AlreadyVoted):
    """A second cast with a link (Back, then Cast again; two tabs): the first one's receipt or a plain answer."""
    unit_of_work.abandon()
    args = request.view_args or {}
    _, page = _ballot_page(args["vote_id"], args["token"])
    return _voted_page(page, args["vote_id"], 409)


@bp.route("/votes/<int:vote_id>/ballot/<token>", methods=["GET", "POST"])
@unlimited  # a signed link that casts once: nothing to guess, nothing to repeat (docs/DOMAIN.md)
def ballot(vote_id: int, token: str):
    try:
        return _ballot(vote_id, token)
    except (TokenExpired, VoteClosed) as exc:
        # A genuine link to a vote that has ended (links expire when voting does): where to go now.
        # A link that expired before its vote did (the vote was extended) is answered as any other.
        unit_of_work.abandon()
        vote = db.session.get(Vote, vote_id) if 0 < vote_id < 2**31 else None
        if vote is None or (vote.status == OPEN and vote.closes_at > utcnow()):
            raise
        return render_template("votes/closed.html", vote=vote, message=str(exc)), exc.status


def _ballot(vote_id: int, token: str):
    form = {key: request.form.getlist(key) for key in request.form}
    step = request.form.get("step")
    if request.method == "POST" and step == "cast":
        now = utcnow()
        try:
            cast = casting.cast_ballot(vote_id, token, form, now)
        except InvalidInput:
            pass  # the ballot page below names the problems
        else:
            link = request.script_root + request.path  # this ballot link, as url_for would build it again
            response = redirect(link, 303)
            _keep_receipt(response, vote_id, link, cast.receipt, now)
            return response
    access, page = _ballot_page(vote_id, token)
    if access.already_voted:
        if step == "cast":
            raise AlreadyVoted(casting.ALREADY_CAST)
        # The ballot link after casting, reloaded or gone Back to (a review page sent again, without
        # JavaScript, whose browser keeps no copy of it: pages are no-store, for a shared computer's sake).
        return _voted_page(page, vote_id)
    casting.check_open(access.vote)
    if request.method == "GET":
        return render_template("votes/ballot.html", form={}, problems=[], **page)
    if step == "edit":
        return render_template("votes/ballot.html", form=form, problems=[], **page)
    try:
        answers = casting.check_ballot(access.vote, form)
    except casting.BallotInvalid as exc:
        return render_template("votes/ballot.html", form=form, problems=exc.problems, **page), 400
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
    typed = request.form.get("receipt", "")[:200] if request.method == "POST" else ""
    receipt = sealing.normal_receipt(typed)
    found = next((b for b in document["record"]["ballots"] if b["receipt"] == receipt), None) if receipt else None
    result = vote.result  # (the record's copy has its keys sorted: in favour is no longer first)
    if result is None:  # never, once published
        raise NotFound("the results of this vote are not published")
    record = document["record"]
    return render_template(
        "votes/results.html", vote=vote, result=result, record=record,
        rules=vote_rules.describe(vote.rules, vote.electorate_size), receipt=receipt, found=found,
        charts=[charts.result_chart(q, most_first=True) for q in result["questions"]],
        quorum_needed=math.ceil(Fraction(result["quorum"]) * result["quorum_base"]),
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
