"""Opening the sealed ballots at a count: in worker processes or not, the same record, byte for byte."""

from __future__ import annotations

import multiprocessing
import os
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ballot import sealing
from ballot.errors import InvalidInput
from ballot.votes import opening
from ballot.votes import record as vote_record

VOTE_ID = 7
CANDIDATES = ["Zoë Ångström", "Łukasz \"Luke\" Nowak", "Ada <ada@example.org>", "陈伟"]


def sealed_ballots(count: int) -> tuple[X25519PrivateKey, list[bytes], list[dict]]:
    key = X25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    rng = random.Random(count)
    ballots = [{"token": os.urandom(30).hex(), "answers": {"board": rng.sample(CANDIDATES, rng.randrange(1, 4))}}
               for _ in range(count)]
    return key, [sealing.seal(b, public, VOTE_ID, 600) for b in ballots], ballots


def record_as_before(ballots: list[dict]) -> str:
    """The record as the count made it before the ballots were opened in worker processes."""
    entries = [{"token": b["token"], "receipt": sealing.receipt_for(b["token"]), "contents": {"answers": b["answers"]}}
               for b in ballots]
    return sealing.canonical_json(vote_record.build(INFO, [], {"ballot": "approval"}, entries, RESULT,
                                                    PROTECTION)).decode()


INFO = {"id": VOTE_ID, "title": "Board 2026 — «élection»"}
RESULT = {"participants": 3, "questions": [{"id": "board", "elected": ["陈伟"]}]}
PROTECTION = {"model": "sealing-key"}


# Answers as a vote's questions make them, and some no vote makes: a question called "token", choices with
# quotes, commas, backslashes and ',"token":' in them, text beyond ASCII.
_TEXT = st.text(alphabet=st.sampled_from('ab"\\,:{}[] tokenÅ陈\n'), max_size=12) | st.just(',"token":"x"}')
_ANSWER = st.none() | _TEXT | st.lists(_TEXT, max_size=4) | st.integers()
_ANSWERS = st.dictionaries(_TEXT | st.sampled_from(["token", "answers", "q1"]), _ANSWER, max_size=5)


@given(answers=_ANSWERS, token=_TEXT)
def test_the_contents_cut_from_an_opened_ballot_are_its_answers_in_canonical_json(answers, token):
    key = X25519PrivateKey.generate()
    sealed = sealing.seal({"answers": answers, "token": token}, key.public_key(), VOTE_ID, 0)
    [(receipt, entry, contents)] = opening.open_chunk([sealed], key, VOTE_ID)
    assert contents == sealing.canonical_text({"answers": answers})
    assert receipt == sealing.receipt_for(token)
    assert entry == sealing.canonical_text({"contents": {"answers": answers}, "receipt": receipt, "token": token})


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_the_record_is_the_same_however_many_processes_open_the_ballots(processes):
    key, sealed, ballots = sealed_ballots(250)
    chunks = [sealed[n:n + 40] for n in range(0, len(sealed), 40)]
    opened = opening.open_ballots(VOTE_ID, key, chunks, processes)
    made = vote_record.build_json(INFO, [], {"ballot": "approval"}, opened.record_entries(), RESULT, PROTECTION)
    assert made == record_as_before(ballots)
    assert sorted(map(sealing.canonical_json, opened.contents)) == sorted(
        sealing.canonical_json({"answers": b["answers"]}) for b in ballots)


def test_equal_contents_share_one_value_for_the_tally():
    key, sealed, ballots = sealed_ballots(60)
    opened = opening.open_ballots(VOTE_ID, key, [sealed], 1)
    assert len({id(c) for c in opened.contents}) == len({sealing.canonical_json(b["answers"]) for b in ballots})


@pytest.mark.parametrize("processes", [1, 2])
def test_a_ballot_that_does_not_open_stops_the_count(processes):
    key, sealed, _ = sealed_ballots(30)
    other, foreign, _ = sealed_ballots(1)
    with pytest.raises(InvalidInput, match="does not open"):
        opening.open_ballots(VOTE_ID, key, [sealed[:10], foreign, sealed[10:]], processes)


def test_no_worker_process_is_left_after_a_count():
    key, sealed, _ = sealed_ballots(20)
    opening.open_ballots(VOTE_ID, key, [sealed[:10], sealed[10:]], 2)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(("processes", "chunks", "drawn_before"), [(1, 25, 0), (2, 25, 16), (2, 5, 5)])
def test_the_callers_other_work_runs_once_while_the_first_chunks_are_opened(processes, chunks, drawn_before):
    """``meanwhile`` runs once: with worker processes, after MEANWHILE_CHUNKS chunks each were handed to
    them (or every chunk, if there are fewer), while they open them; in one process, first."""
    key, sealed, ballots = sealed_ballots(10 * chunks)
    drawn, ran_after = [0], []

    def read():
        for n in range(0, len(sealed), 10):
            drawn[0] += 1
            yield sealed[n:n + 10]

    opened = opening.open_ballots(VOTE_ID, key, read(), processes, lambda: ran_after.append(drawn[0]))
    assert opening.MEANWHILE_CHUNKS == 8 and ran_after == [drawn_before]
    made = vote_record.build_json(INFO, [], {"ballot": "approval"}, opened.record_entries(), RESULT, PROTECTION)
    assert made == record_as_before(ballots)
