"""Voters' pages for votes: the ballot with its review step, the receipt, the results, their standing,
and links sent again."""

import datetime as dt
import functools
import hashlib
import math
from fractions import Fraction

from flask import Blueprint, Response, current_app, json, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ballot import sealing, unit_of_work
from ballot.eligibility.services import right_from_token, standing_link
from ballot.errors import AlreadyVoted, InvalidInput, NotFound, TokenExpired, TokenInvalid, VoteClosed
from ballot.extensions import db, limiter, unlimited
from ballot.timestamps import utcnow
from ballot.tokens import CHOICES_KEPT, RECEIPT_KEPT, STANDING, token_service
from ballot.votes import casting, charts, custody, links, queries
from ballot.votes import rules as vote_rules
from ballot.votes import standing as right_standing
from ballot.votes.models import CLOSED, COUNTING, OPEN, PUBLISHED, Vote
from ballot.votes.tally import ballot_fields

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


# Every page of the cast reached by reload or Back is a GET (POST-redirect-GET): the ballot, the review,
# the receipt. What they show between requests is kept only in the voter's own browser, in signed cookies
# sent to that ballot link alone and dropped when the browser closes; never in a URL (access logs keep
# URLs) and never by the service (docs/DOMAIN.md, "Ballots, secrecy and the record").
#
# The choices, from the review to the cast: read for an hour at most, cleared by the cast. The cast itself
# takes the choices that the review page's form sends.
CHOICES_COOKIE = "ballot_choices"
CHOICES_KEPT_FOR = dt.timedelta(hours=1)
# Browsers keep at most 4096 bytes of a cookie's name and value. Choices that would not fit (dozens of
# approved candidates with long names) are not kept: the review page is then the answer to the form, as
# before, and reload or Back ask to send the form again.
CHOICES_MOST_BYTES = 3500
# The receipt, after the cast: read for an hour at most. The service stores no receipt in clear before the
# close, and never one beside anything that identifies a voter.
RECEIPT_COOKIE = "ballot_receipt"
RECEIPT_KEPT_FOR = dt.timedelta(hours=1)


def _kept_for_link(vote_id: int, token: str) -> dict:
    """How a cookie kept for a ballot link is sent: to that link alone, over HTTPS, never to scripts, and
    SameSite=Lax. (Chromium withholds a Strict cookie from reload and Back of a page first opened from
    another site, the voter's mail; other sites cannot reach the link anyway: its path is a secret.)"""
    return {"path": _link_path(vote_id, token), "secure": current_app.config["SESSION_COOKIE_SECURE"],
            "httponly": True, "samesite": "Lax"}


class KeptChoicesAltered(InvalidInput):
    """A choices cookie that this service did not sign as it is, or signed for another vote."""


def _link_path(vote_id: int, token: str) -> str:
    if request.endpoint == "votes.ballot":  # this request's own path: the busiest page need not build it again
        return request.script_root + request.path
    return url_for("votes.ballot", vote_id=vote_id, token=token)


def _keep_receipt(response: BaseResponse, vote_id: int, token: str, receipt: str, now: dt.datetime) -> None:
    value = token_service(current_app.config, RECEIPT_KEPT).dumps({"v": vote_id, "t": receipt},
                                                                   now + RECEIPT_KEPT_FOR)
    response.set_cookie(RECEIPT_COOKIE, value, **_kept_for_link(vote_id, token))


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


def _signed_choices(vote_id: int, form: dict, now: dt.datetime) -> str:
    return token_service(current_app.config, CHOICES_KEPT).dumps({"v": vote_id, "f": form}, now + CHOICES_KEPT_FOR)


def _keep_choices(response: BaseResponse, vote_id: int, token: str, value: str) -> None:
    response.set_cookie(CHOICES_COOKIE, value, **_kept_for_link(vote_id, token))


def _forget_choices(response: BaseResponse, vote_id: int, token: str) -> None:
    """Forget the choices this browser keeps for the link; a browser that keeps none is told nothing (a
    cast from a ballot page, as a script casts, answers with the receipt's cookie alone)."""
    if CHOICES_COOKIE in request.cookies:
        response.delete_cookie(CHOICES_COOKIE, **_kept_for_link(vote_id, token))


def _kept_choices(vote_id: int) -> tuple[dict | None, bool]:
    """The choices this browser keeps for this link, if any, and whether it kept some past their hour."""
    value = request.cookies.get(CHOICES_COOKIE)
    if not value:
        return None, False
    try:
        data = token_service(current_app.config, CHOICES_KEPT).loads(value)
    except TokenExpired:
        return None, True
    except TokenInvalid:
        raise KeptChoicesAltered(CHOICES_ALTERED) from None
    if data.get("v") != vote_id:
        raise KeptChoicesAltered(CHOICES_ALTERED)
    return data["f"], False


CHOICES_ALTERED = ("The choices this browser kept for your ballot were altered, so they were not used, and they "
                   "are forgotten now. Nothing was recorded. Reload this page to fill in your ballot again.")


@bp.errorhandler(KeptChoicesAltered)
def kept_choices_altered(exc: KeptChoicesAltered):
    """A plain 400 page that also drops the altered cookie, so that a reload starts the ballot afresh."""
    unit_of_work.abandon()
    args = request.view_args or {}
    response = make_response(render_template("error.html", message=str(exc), status=400), 400)
    _forget_choices(response, args["vote_id"], args["token"])
    return response


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
        "ballot_link": _link_path(vote_id, token),
    }


def _voted_page(page: dict, vote_id: int, token: str, status: int = 200) -> BaseResponse:
    """The receipt, if this browser still keeps it; otherwise that the right has voted. Choices this browser
    kept for the link (a ballot cast in another tab or browser) are forgotten."""
    receipt = _kept_receipt(vote_id)
    if receipt:
        body = render_template("votes/receipt.html", receipt=receipt, kept_for=RECEIPT_KEPT_FOR,
                               again=status != 200, **page)
    else:
        body = render_template("votes/already_voted.html", again=status != 200, **page)
    response = make_response(body, status)
    _forget_choices(response, vote_id, token)
    return response


@bp.errorhandler(AlreadyVoted)
def already_voted(exc: AlreadyVoted):
    """A second cast with a link (a review page left open in another tab, then Cast): the first one's
    receipt or a plain answer."""
    unit_of_work.abandon()
    args = request.view_args or {}
    _, page = _ballot_page(args["vote_id"], args["token"])
    return _voted_page(page, args["vote_id"], args["token"], 409)


def _ended_votes_lead_on(view):
    """A genuine link to a vote that has ended (links expire when voting does): where to go now.
    A link that expired before its vote did (the vote was extended) is answered as any other."""

    @functools.wraps(view)
    def answer(vote_id: int, token: str):
        try:
            return view(vote_id, token)
        except (TokenExpired, VoteClosed) as exc:
            unit_of_work.abandon()
            vote = db.session.get(Vote, vote_id) if 0 < vote_id < 2**31 else None
            if vote is None or (vote.status == OPEN and vote.closes_at > utcnow()):
                raise
            return render_template("votes/closed.html", vote=vote, message=str(exc)), exc.status

    return answer


@bp.route("/votes/<int:vote_id>/ballot/<token>", methods=["GET", "POST"])
@unlimited  # a signed link that casts once: nothing to guess, nothing to repeat (docs/DOMAIN.md)
@_ended_votes_lead_on
def ballot(vote_id: int, token: str):
    """The ballot (GET), with the choices this browser keeps for it and what is wrong with them; after the
    cast, the receipt. A POST reviews the choices or casts them."""
    form = {key: request.form.getlist(key) for key in request.form}
    step = request.form.get("step")
    now = utcnow()
    if request.method == "POST" and step == "cast":
        try:
            cast = casting.cast_ballot(vote_id, token, form, now)
        except InvalidInput:
            pass  # refused: kept and shown on the ballot page, as a review would
        else:
            response = redirect(_link_path(vote_id, token), 303)
            _keep_receipt(response, vote_id, token, cast.receipt, now)
            _forget_choices(response, vote_id, token)
            return response
    access, page = _ballot_page(vote_id, token)
    if access.already_voted:
        if step == "cast":
            raise AlreadyVoted(casting.ALREADY_CAST)
        if request.method == "POST":  # a ballot page left open in another tab
            return redirect(_link_path(vote_id, token), 303)
        return _voted_page(page, vote_id, token)
    casting.check_open(access.vote, now)
    if request.method == "GET":
        kept, forgotten = _kept_choices(vote_id)
        problems = _problems(access.vote, kept) if kept is not None else []
        response = make_response(render_template("votes/ballot.html", form=kept or {}, problems=problems,
                                                 forgotten=forgotten, **page), 400 if problems else 200)
        if forgotten:
            _forget_choices(response, vote_id, token)
        return response
    return _keep_and_review(access.vote, token, ballot_fields(access.vote.questions, form), page, now)


def _problems(vote: casting.BallotPaper, form: dict) -> list:
    try:
        casting.check_ballot(vote, form)
    except casting.BallotInvalid as exc:
        return exc.problems
    return []


def _keep_and_review(vote: casting.BallotPaper, token: str, form: dict, page: dict, now: dt.datetime):
    """Keep the choices in the browser and send it to the review page, or back to the ballot page naming
    every problem (a refused ballot answers 400 there). Choices too large for a cookie are not kept: the
    review or the refusal is then this POST's answer."""
    try:
        answers = casting.check_ballot(vote, form)
    except casting.BallotInvalid as exc:
        answers, problems = None, exc.problems
    else:
        problems = []
    value = _signed_choices(vote.id, form, now)
    if len(CHOICES_COOKIE) + 1 + len(value) > CHOICES_MOST_BYTES:
        if problems:
            return render_template("votes/ballot.html", form=form, problems=problems, forgotten=False, **page), 400
        return render_template("votes/review.html", form=form, answers=answers, kept=False, **page)
    target = url_for("votes.review", vote_id=vote.id, token=token) if answers is not None else page["ballot_link"]
    response = redirect(target, 303)
    _keep_choices(response, vote.id, token, value)
    return response


@bp.route("/votes/<int:vote_id>/ballot/<token>/review")
@unlimited  # as the ballot link
@_ended_votes_lead_on
def review(vote_id: int, token: str):
    """The review of the choices this browser keeps for the link; after the cast, the receipt."""
    access, page = _ballot_page(vote_id, token)
    if access.already_voted:
        return _voted_page(page, vote_id, token)
    casting.check_open(access.vote)
    kept, _ = _kept_choices(vote_id)
    if kept is None:  # none kept, or kept past their hour (the ballot page says so)
        return redirect(page["ballot_link"], 303)
    try:
        answers = casting.check_ballot(access.vote, kept)
    except casting.BallotInvalid:  # the ballot page names the problems
        return redirect(page["ballot_link"], 303)
    return render_template("votes/review.html", form=kept, answers=answers, kept=True, **page)


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
