"""Opening a vote's sealed ballots at its count, on every core.

Each sealed ballot is one HPKE decryption, the bulk of a close's work, and
each opens on its own: the ballots are handed, a chunk at a time, to worker
processes forked for this count (``BALLOT_OPENING_PROCESSES``, 0: one per
core), which return each ballot's receipt, its entry in the record and its
contents. The chunks come in as the caller reads them, and no more than two
per process are ever waiting (eight at the start, while the caller does its
other work: ``meanwhile``), so memory stays bounded however many ballots
there are.

The vote's private key reaches the workers only through the fork, for the
duration of the count: they are shut down before ``open_ballots`` returns,
and each exits at once if the process that started it dies (a close killed
mid-way leaves no process behind holding the key, nor a copy of the
database connection keeping the transaction alive). A ballot that does not
open raises in the caller, which rolls the whole close back.

Nothing about the order the ballots are opened in is kept: the record lists
them in receipt order.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ballot import sealing
from ballot.votes import record as vote_record

Entry = tuple[str, str, str]  # receipt, the ballot's entry in the record, its contents (canonical JSON)


@dataclass
class Opened:
    """The opened ballots of a vote."""

    entries: list[tuple[str, str]] = field(default_factory=list)  # (receipt, entry in the record)
    contents: list[dict] = field(default_factory=list)  # for the tally; equal contents share one dict
    _distinct: dict[str, dict] = field(default_factory=dict)

    def add(self, opened: list[Entry]) -> None:
        for receipt, entry, contents in opened:
            self.entries.append((receipt, entry))
            shared = self._distinct.get(contents)
            if shared is None:
                shared = self._distinct[contents] = json.loads(contents)
            self.contents.append(shared)

    def record_entries(self) -> list[str]:
        """Each ballot's entry in the record, in receipt order."""
        self.entries.sort(key=lambda pair: pair[0])
        return [entry for _, entry in self.entries]


def open_chunk(ciphertexts: list[bytes], private_key: X25519PrivateKey, vote_id: int) -> list[Entry]:
    """Open sealed ballots: for each, its receipt, its entry in the record and its contents as canonical JSON.

    The plaintext is the canonical JSON of ``{"answers": ..., "token": "..."}``, keys in order, so the
    token comes last, and its key is the last ``,"token":`` (within a string a quote is escaped; a question
    called "token" comes inside the answers, before it). The contents are the text before that key and a
    closing brace, the token's canonical JSON the text after it, less the closing brace: both cut, not
    read into dicts and written out again, for 100,000 ballots at a close.
    """
    opened = []
    for ciphertext in ciphertexts:
        sealed_json = sealing.unseal_json(ciphertext, private_key, vote_id)
        cut = sealed_json.rindex(_TOKEN_KEY)
        contents = sealed_json[:cut].decode() + "}"
        token_json = sealed_json[cut + len(_TOKEN_KEY):-1].decode()
        # Canonical JSON escapes a string's characters only with a backslash: without one it is its text.
        token = json.loads(token_json) if "\\" in token_json else token_json[1:-1]
        receipt = sealing.receipt_for(token)
        opened.append((receipt, vote_record.ballot_entry(token_json, receipt, contents), contents))
    return opened


_TOKEN_KEY = b',"token":'  # in a sealed ballot's canonical JSON, what comes before its token


def open_ballots(vote_id: int, private_key: X25519PrivateKey, chunks: Iterable[list[bytes]],
                 processes: int, meanwhile: Callable[[], None] | None = None) -> Opened:
    """Open every sealed ballot of ``chunks`` (lists of ciphertexts, as read) with the vote's key.

    ``meanwhile``, if given, is run once in this process while the workers open the first chunks
    (``MEANWHILE_CHUNKS`` each handed to them beforehand): the caller's other work in the same transaction,
    on cores that would otherwise wait for it.
    """
    opened = Opened()
    if processes <= 1:
        if meanwhile is not None:
            meanwhile()
        for chunk in chunks:
            opened.add(open_chunk(chunk, private_key, vote_id))
        return opened
    raw_key = bytearray(private_key.private_bytes_raw())
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=_take_key, initargs=(raw_key, vote_id, os.getpid()))
    waiting: deque[Future[list[Entry]]] = deque()
    # What this process holds stays out of the workers' garbage collections, which would otherwise touch,
    # and so copy, every page of it (the gc module's advice for processes that fork).
    gc.freeze()
    try:
        for chunk in chunks:
            waiting.append(pool.submit(_open_chunk, chunk))
            if meanwhile is not None:
                if len(waiting) >= MEANWHILE_CHUNKS * processes:
                    meanwhile()
                    meanwhile = None
            elif len(waiting) >= 2 * processes:
                opened.add(waiting.popleft().result())
        if meanwhile is not None:  # fewer chunks than that
            meanwhile()
        while waiting:
            opened.add(waiting.popleft().result())
    finally:
        gc.unfreeze()
        pool.shutdown(wait=True, cancel_futures=True)
        raw_key[:] = bytes(len(raw_key))  # overwritten in place (the workers' copies went with them)
    return opened


# Chunks handed to each worker before ``meanwhile`` runs: enough to keep it busy for about a second,
# which covers the ledger and missed votes of a close of 100,000 (some 8 MB of yes/no ballots waiting).
MEANWHILE_CHUNKS = 8


def processes_for(configured: int) -> int:
    """The processes to open ballots in: as configured, or one per core this process may run on."""
    if configured > 0:
        return configured
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# In each worker process ------------------------------------------------------------------------------------

_key: X25519PrivateKey | None = None
_vote_id = 0


def _take_key(raw_key: bytearray, vote_id: int, parent: int) -> None:
    """A worker's start: the vote's key (inherited through the fork), and an end with its parent's."""
    global _key, _vote_id
    _key, _vote_id = X25519PrivateKey.from_private_bytes(bytes(raw_key)), vote_id
    raw_key[:] = bytes(len(raw_key))
    # The parent decides when to stop: an interrupt at the terminal reaches the whole process group, and
    # handlers inherited from the parent (the worker's, gunicorn's) are not this process's to run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.1)
    os._exit(1)  # the parent died mid-close: nothing here is wanted any more


def _open_chunk(ciphertexts: list[bytes]) -> list[Entry]:
    assert _key is not None, "the worker took the vote's key when it started"
    return open_chunk(ciphertexts, _key, _vote_id)
