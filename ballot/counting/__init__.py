"""Counting the Board election: pure functions from ballots to a full report.

Every method takes plain values (candidate names, ballots, seats) and returns a
frozen result dataclass whose ``as_dict()`` is JSON-safe. Nothing here touches
the database, the request or the clock; the same inputs always give the same
report, so anyone holding the published ballots can recount.

- :mod:`ballot.counting.approval`: approval voting for N seats.
- :mod:`ballot.counting.stv`: Meek STV and Scottish STV.
- :mod:`ballot.counting.irv`: instant runoff for one seat.
- :mod:`ballot.counting.schulze`: the Schulze (Condorcet) method, and seats from its ranking.
- :mod:`ballot.counting.board`: the Board being elected, its continuing directors and the
  affiliation cap (PSF bylaws 5.14, 5.15, 5.5), which every method applies.
- :mod:`ballot.counting.blt`: the BLT ballot format, in and out.
- :mod:`ballot.counting.ballots`: the ranked ballot shared by the ranked methods, and the stored form.
- :mod:`ballot.counting.ties`: the public, reproducible drawing of lots.
"""
