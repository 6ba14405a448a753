"""The published record of a vote and its verification.

The record holds everything needed to recount: the vote's rules and
questions, every counted ballot (its anonymous token, its receipt and its
contents), the result, how the vote's key was protected while it was open,
and the installation's signature over all of it. ``verify`` needs nothing but
the record (and, to be sure who signed it, the installation's published
public key).

Formats: ``ballot-record/3`` states the protection: ``{"model": "sealing-key"}``,
or ``{"model": "trustees", "threshold": k, "trustees": [fingerprints, in the
order of their shares], "took_part": [fingerprints of those whose answers
opened it]}``, each with a ``statement``: the same in plain words
(``protection_statement``), which ``verify`` checks word for word, so that a
reader who trusts the sentence trusts the data. Its wording is part of the
format: a new wording needs a new format. ``ballot-record/2``, from before
trustees, has no protection (its votes were all protected by the sealing key)
and still verifies.
"""

from __future__ import annotations

import re

from ballot import sealing
from ballot.votes.tally import tally

FORMAT = "ballot-record/3"
FORMATS = ("ballot-record/2", FORMAT)  # what ``verify`` reads
_FINGERPRINT = re.compile(r"[0-9A-F]{4}( [0-9A-F]{4}){15}")


def protection_statement(protection: dict) -> str:
    """How a counted vote's key was protected, in plain words, as its record states it."""
    if protection.get("model") != "trustees":
        return ("No trustees: until the close the ballots were sealed with a key kept under this installation's "
                "own secret key; whoever ran the service held that secret and could have opened them before the "
                "close.")
    threshold, count, took_part = protection["threshold"], len(protection["trustees"]), len(protection["took_part"])
    alone = ("one trustee alone could have opened them" if threshold == 1
             else "nobody who ran the service could open them alone, nor fewer of the trustees")
    return (f"Trustees: the ballots were sealed with a key that only {threshold} of the vote's {count} trustees "
            f"together could unlock after the close; {alone}. {took_part} of them took part in opening them.")


def build(vote_info: dict, questions: list, rules: dict, ballots: list[dict], result: dict,
          protection: dict) -> dict:
    """``ballots``: dicts with token, receipt and contents; listed in receipt order.

    ``protection``: how the vote's key was protected (``votes.custody.protection_of``); the record adds its
    statement in plain words.
    """
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
        "protection": {**protection, "statement": protection_statement(protection)},
    }


def ballot_entry(token_json: str, receipt: str, contents_json: str) -> str:
    """A counted ballot as the record lists it, ``{"contents", "receipt", "token"}`` in canonical JSON, from its
    token and contents already in canonical JSON (``build_json`` puts the entries together). A receipt is
    base32 letters and dashes: in JSON, the same within quotes."""
    return f'{{"contents":{contents_json},"receipt":"{receipt}","token":{token_json}}}'


def build_json(vote_info: dict, questions: list, rules: dict, entries: list[str], result: dict,
               protection: dict) -> str:
    """The record as ``sealing.canonical_json(build(...))`` makes it, from each ballot's entry already in
    canonical JSON (``ballot_entry``, made where the ballot was opened), in receipt order.

    A canonical object is its keys in order, each with its value in canonical JSON, so the record is made
    the same way with the ballots' list written out of the entries.
    """
    record = build(vote_info, questions, rules, [], result, protection)
    return "{" + ",".join(
        sealing.canonical_text(key) + ":"
        + ("[" + ",".join(entries) + "]" if key == "ballots" else sealing.canonical_text(record[key]))
        for key in sorted(record)
    ) + "}"


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
    if record.get("format") not in FORMATS:
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
    if record["format"] == FORMAT:
        problems += protection_problems(record.get("protection"))
    return problems


def protection_problems(protection) -> list[str]:
    """What is inconsistent in a record's statement of how the vote's key was protected."""
    if not isinstance(protection, dict) or protection.get("model") not in ("sealing-key", "trustees"):
        return [f"the record's protection is neither the sealing key nor trustees: {protection!r}"]
    if protection["model"] == "sealing-key":
        if set(protection) != {"model", "statement"}:
            return ["the record's protection by the sealing key is stated with other fields than its statement"]
        return _statement_problems(protection)
    if set(protection) != {"model", "threshold", "trustees", "took_part", "statement"}:
        return ["the record's trustees are incomplete: their threshold, fingerprints, who took part and the "
                "statement are expected"]
    threshold, trustees, took_part = protection["threshold"], protection["trustees"], protection["took_part"]
    if not (isinstance(trustees, list) and isinstance(took_part, list) and type(threshold) is int):
        return ["the record's trustees are malformed"]
    problems = [f"{f!r} is not a key's fingerprint" for f in trustees + took_part
                if not (isinstance(f, str) and _FINGERPRINT.fullmatch(f))]
    if problems:
        return problems
    if len(set(trustees)) != len(trustees):
        problems.append("a trustee is listed twice")
    if len(set(took_part)) != len(took_part):
        problems.append("a trustee is listed twice among those who took part")
    if set(took_part) - set(trustees):
        problems.append("someone who is not one of the vote's trustees took part")
    if not 1 <= threshold <= len(trustees):
        problems.append(f"{threshold} of {len(trustees)} trustees cannot be needed")
    elif not threshold <= len(took_part) <= len(trustees):
        problems.append(f"{len(took_part)} trustees took part, but {threshold} were needed to open the ballots")
    return problems or _statement_problems(protection)


def _statement_problems(protection: dict) -> list[str]:
    expected = protection_statement(protection)
    if protection["statement"] != expected:
        return [f"the record's statement of how the ballots were protected does not match its data: it should "
                f"read {expected!r}"]
    return []
