"""The published record of a vote and its verification.

The record holds everything needed to recount: the vote's rules and
questions, every counted ballot (its anonymous token, its receipt, its sealed
form and its contents), the vote's private key (revealed at the close, so
anyone can re-open the sealed ballots), the result, and the installation's
signature over all of it. ``verify`` needs nothing but the record.
"""

from __future__ import annotations

from ballot import sealing
from ballot.votes.tally import tally

FORMAT = "ballot-record/1"


def build(vote_info: dict, questions: list, rules: dict, public_key: bytes, private_key: bytes,
          ballots: list[dict], result: dict) -> dict:
    """``ballots``: dicts with token, receipt, ciphertext (bytes) and contents."""
    return {
        "format": FORMAT,
        "vote": vote_info,
        "questions": questions,
        "rules": rules,
        "public_key": sealing.b64(public_key),
        "private_key": sealing.b64(private_key),
        "ballots": sorted(
            (
                {"token": b["token"], "receipt": b["receipt"], "sealed": sealing.b64(b["ciphertext"]),
                 "contents": b["contents"]}
                for b in ballots
            ),
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
    if record.get("format") != FORMAT:
        return [f"unknown record format {record.get('format')!r}"]
    if trusted_signer_pem and trusted_signer_pem.strip() != signer.strip():
        problems.append("the record is not signed by the key you trust")
    if not sealing.verify_signature(record, signature, signer):
        problems.append("the signature does not match the record: it was altered")
    vote_id = record["vote"]["id"]
    private_key = sealing.unb64(record["private_key"])
    receipts = set()
    for ballot in record["ballots"]:
        sealed = sealing.unb64(ballot["sealed"])
        if sealing.receipt_for(ballot["token"], sealed) != ballot["receipt"]:
            problems.append(f"ballot {ballot['receipt']}: the receipt does not match its sealed ballot")
        if ballot["receipt"] in receipts:
            problems.append(f"ballot {ballot['receipt']}: listed twice")
        receipts.add(ballot["receipt"])
        try:
            opened = sealing.unseal(sealed, private_key, vote_id)
        except Exception as exc:  # InvalidInput from sealing, but a hostile file may break anything
            problems.append(f"ballot {ballot['receipt']}: {exc}")
            continue
        if opened != ballot["contents"]:
            problems.append(f"ballot {ballot['receipt']}: its contents differ from its sealed form")
    recount = tally(record["rules"], record["questions"], [b["contents"] for b in record["ballots"]],
                    record["result"]["electorate"])
    if recount != record["result"]:
        problems.append("the recounted result differs from the published result")
    return problems
