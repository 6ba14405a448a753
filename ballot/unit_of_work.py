"""One transaction per entry point, opened and ended here and nowhere else.

A web request, a command, and each item the worker handles is one unit of
work: everything it changes commits together when it succeeds, or vanishes
together when it fails. Services only add and flush; they write their own
audit entry at the moment they act, naming the actor this module knows, so an
action and its audit entry commit or vanish together by construction.

- Commands and worker items: ``with unit_of_work(actor): ...``.
- Web requests: ``init_app`` opens a unit per request. It commits after the
  view has returned, unless an error handler abandoned it (``abandon``); a
  commit that fails turns the response into a plain 500 page, so no page ever
  acknowledges what was not stored.
- Inside a unit, ``attempt()`` wraps one action in a savepoint: a refused
  action (a ``BallotError``) rolls back alone, and what the unit did before
  (say, auditing the refusal itself) is kept.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from flask import Flask, Response, g, render_template

from ballot.errors import BallotError
from ballot.extensions import db

log = logging.getLogger(__name__)

VISITOR = "visitor"  # a web request nobody signed in to: a voter following a link, a reader of results
_actor: ContextVar[str | None] = ContextVar("ballot_actor", default=None)


def actor() -> str:
    """Who the current unit of work acts for: an administrator's email, ``cli:<user>``, ``worker``..."""
    name = _actor.get()
    if name is None:
        raise RuntimeError("no unit of work is open: every change goes through one")
    return name


def act_as(name: str) -> None:
    """Name who the current web request acts for, once the console has signed them in."""
    _actor.set(name)


@contextlib.contextmanager
def unit_of_work(name: str) -> Iterator[None]:
    """Run a command or a worker item as one transaction on behalf of ``name``."""
    token = _actor.set(name)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def attempt() -> Iterator[None]:
    """One action inside the unit of work: if it is refused, only its own changes roll back."""
    savepoint = db.session.begin_nested()
    try:
        yield
    except BallotError:
        savepoint.rollback()
        raise
    except BaseException:
        # Anything else fails the whole unit; the savepoint goes with it.
        raise
    else:
        savepoint.commit()


def abandon() -> None:
    """Roll the current web request's changes back: an error handler is answering instead."""
    db.session.rollback()
    g.unit_of_work_abandoned = True


def init_app(app: Flask) -> None:
    """A unit of work per request: begun when the request starts, ended after the view."""

    @app.before_request
    def begin() -> None:
        g.unit_of_work_token = _actor.set(VISITOR)

    @app.after_request
    def end(response: Response) -> Response:
        if g.pop("unit_of_work_abandoned", False):
            return response
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("a request's changes could not be committed")
            message = "Something went wrong on our side. Nothing was recorded; please try again later."
            return Response(render_template("error.html", message=message, status=500), 500)
        return response

    @app.teardown_request
    def finish(exc: BaseException | None) -> None:
        # An exception no handler answered: nothing of the request is kept.
        if exc is not None:
            db.session.rollback()
        token = g.pop("unit_of_work_token", None)
        if token is not None:
            _actor.reset(token)
