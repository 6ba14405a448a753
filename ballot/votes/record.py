"""The published record of a vote and its verification.

The record holds everything needed to recount: the vote's rules and
questions, every counted ballot (its anonymous token, its receipt and its
contents), the result, and the installation's signature over all of it.
``verify`` needs nothing but the record (and, to be sure who signed it, the
installation's published public key).
"""

from __future__ import annotations

from ballot import sealing
from ballot.votes.tally import tally

FORMAT = "ballot-record/2"


def build(vote_info: dict, questions: list, rules: dict, ballots: list[dict], result: dict) -> dict:
    """``ballots``: dicts with token, receipt and contents; listed in receipt order."""
    return {
        "format": FORMAT,
        "vote": vote_info,
        "questions": questions,
        "rules": rules,
        "ballots": sorted(
            ({"token": b["token"], "receipt": b["receipt"], "contents": b["contents"]} for b in ballots),
            key=lambda b: b["receipt"],
        ),
        "result": result,
    }


def signed(record: dict, signing_key_pem: str) -> dict:
    return {
        "record": record,
        "signature": sealing.sign(record, signing_key_pem),
        "signer": sealing.public_key_pem(signing_key_pem),
    }


def verify(document: dict, trusted_signer_pem: str | None = None) -> list[str]:
    """Check a signed record; returns the problems found (none: it verifies)."""
    problems = []
    try:
        record, signature, signer = document["record"], document["signature"], document["signer"]
    except (KeyError, TypeError):
        return ["not a signed ballot record (record, signature and signer expected)"]
    if not (isinstance(record, dict) and isinstance(signature, str) and isinstance(signer, str)):
        return ["not a signed ballot record (record, signature and signer expected)"]
    if record.get("format") != FORMAT:
        return [f"unknown record format {record.get('format')!r}"]
    if trusted_signer_pem and trusted_signer_pem.strip() != signer.strip():
        problems.append("the record is not signed by the key you trust")
    if not sealing.verify_signature(record, signature, signer):
        problems.append("the signature does not match the record: it was altered")
    receipts = set()
    for ballot in record["ballots"]:
        token = ballot["token"]
        if not isinstance(token, str) or sealing.receipt_for(token) != ballot["receipt"]:
            problems.append(f"ballot {ballot['receipt']}: the receipt does not match its token")
        if ballot["receipt"] in receipts:
            problems.append(f"ballot {ballot['receipt']}: listed twice")
        receipts.add(ballot["receipt"])
    recount = tally(record["rules"], record["questions"], [b["contents"] for b in record["ballots"]],
                    record["result"]["electorate"], record["result"].get("quorum_base"),
                    record["result"].get("added_after_opening", 0))
    if recount != record["result"]:
        problems.append("the recounted result differs from the published result")
    return problems
