"""What administrators take away about a vote: audited, since it names people."""

from __future__ import annotations

from ballot.audit import audit, vote_subject
from ballot.votes.models import Vote
from ballot.votes.queries import Participant, participants


def export_participants(vote: Vote) -> list[Participant]:
    """Who voted in a closed vote and on which day, for the bylaws' waiver; the export is audited."""
    rows = participants(vote)
    audit("vote.export-participation", vote_subject(vote), voters=len(rows))
    return rows
