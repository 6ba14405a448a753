"""The failures a user can see, one type each, with the HTTP status they map to.

Services raise these with a plain message; views turn them into a 4xx page and
commands into a non-zero exit. Anything else is a bug.
"""


class BallotError(Exception):
    """Base: ``str(exc)`` is the message shown to the user."""

    status = 400


class PolicyInvalid(BallotError):
    status = 500


class NotFound(BallotError):
    status = 404


class Conflict(BallotError):
    """The request is well formed but the state does not allow it (vote closed, already voted)."""

    status = 409


class VoteClosed(Conflict):
    """A ballot for a vote that is closed or cancelled."""


class AlreadyVoted(Conflict):
    """A second ballot for a voting right that has cast one."""


class InvalidInput(BallotError):
    status = 400


class TokenInvalid(BallotError):
    """A link that was altered, is for something else, or was never issued."""

    status = 400


class TokenExpired(BallotError):
    status = 410
