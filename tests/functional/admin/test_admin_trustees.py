"""Trustees in the console: the registry, a draft's trustees with the plain warning, and a close that waits for them."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from sqlalchemy import select

from ballot.audit.models import AuditEvent
from ballot.extensions import db
from ballot.sealing import unb64
from ballot.trustees.keys import fingerprint
from ballot.votes import queries
from tests.functional.admin.console import YEAR, follow, post, submit_vote_form, vote_id_of
from tests.functional.factories import enrolled_fellows, links
from tests.functional.helpers import answer, cast, csrf_token


def upload(console, path: str, field: str, content: bytes, filename: str, page: str, **fields):
    token = csrf_token(console.get(page).text)
    return console.post(path, content_type="multipart/form-data",
                        data={"csrf_token": token, field: (io.BytesIO(content), filename), **fields})


def register(console, machine):
    return upload(console, "/admin/trustees", "public_key", machine.public.read_bytes(), machine.public.name,
                  "/admin/trustees", name=machine.name)


def text_of(page) -> str:
    return html.unescape(page.text)


@pytest.fixture
def year(app, runner, tmp_path):
    """The period under the seed, with four Fellows, every one enrolled."""
    enrolled_fellows(runner, tmp_path, 4)
    return YEAR


def test_trustees_are_registered_and_disabled_in_the_console_with_their_fingerprints(console, machines):
    page = console.get("/admin/trustees")
    assert page.status_code == 200 and "No trustees are registered" in text_of(page)
    for machine in machines:
        page = follow(console, register(console, machine))
        assert f"Registered {machine.name}, whose key's fingerprint is {machine.fingerprint}" in text_of(page)
    for machine in machines:
        assert f'<code class="fingerprint">{machine.fingerprint}</code>' in text_of(page)

    again = register(console, machines[0])
    assert again.status_code == 400 and f"this key is registered already, for Ada ({machines[0].fingerprint})" in (
        text_of(again))
    wrong = upload(console, "/admin/trustees", "public_key", b"not a key", "eve.pub", "/admin/trustees", name="Eve")
    assert wrong.status_code == 400 and "this is not a public key file (PEM)" in wrong.text
    missing = post(console, "/admin/trustees", {"name": "Eve"}, page="/admin/trustees")
    assert missing.status_code == 400 and "Choose the trustee" in text_of(missing)

    page = follow(console, post(console, "/admin/trustees/disable", {"fingerprint": machines[2].fingerprint},
                                page="/admin/trustees"))
    assert "Cy is disabled: no new vote can name them." in text_of(page)
    page = follow(console, post(console, "/admin/trustees/disable", {"fingerprint": machines[2].fingerprint},
                                page="/admin/trustees"))
    assert "is disabled already" in text_of(page)
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("trustee.%")))]
    assert actions == ["trustee.add"] * 3 + ["trustee.disable"]


def test_a_vote_with_trustees_from_the_draft_to_the_count_in_the_console(year, console, runner, inbox, tmp_path,
                                                                          machines):
    for machine in machines:
        register(console, machine)
    page = submit_vote_form(console, "charter", questions="Charter the Packaging WG?")
    vote_id = vote_id_of(page)
    assert "No trustees: the installation's sealing key will protect this vote's key." in text_of(page)
    for machine in machines:
        assert machine.fingerprint in text_of(page)  # offered, each with its fingerprint

    # Choosing them needs the confirmation; the draft then says plainly what losing trustees means.
    everyone = {"trustees": [m.fingerprint for m in machines], "threshold": "2"}
    page = follow(console, post(console, f"/admin/votes/{vote_id}/trustees", everyone))
    assert "Confirm that enough trustees will be reachable after the close." in text_of(page)
    page = follow(console, post(console, f"/admin/votes/{vote_id}/trustees", {**everyone, "threshold": "1",
                                                                                 "confirm": "y"}))
    assert "one trustee alone could open the ballots early" in text_of(page)
    page = follow(console, post(console, f"/admin/votes/{vote_id}/trustees", {**everyone, "confirm": "y"}))
    assert "The vote will be held by 2 of these 3 trustees." in text_of(page)
    assert "It will be held by <strong>2 of 3</strong> trustees" in text_of(page)
    assert ("After the close, 2 of these 3 trustees must each run a command on their own machine, with their key "
            "and passphrase, before the ballots can be opened and counted: up to 1 of them may lose their key or be "
            "unreachable. If fewer than 2 can answer, the ballots can never be opened, by anyone, and the vote must "
            "be run again.") in text_of(page)

    page = follow(console, post(console, f"/admin/votes/{vote_id}/open"))
    assert "The vote is open: 4 ballot links are queued." in text_of(page)
    assert "It is held by <strong>2 of 3</strong> trustees" in text_of(page)
    for link, choice in zip(links(runner, inbox, vote_id).values(), ["yes", "yes", "no"], strict=False):
        assert cast(console, link, {"q1": choice}).status_code == 200

    asked = console.get(f"/admin/votes/{vote_id}/close")  # asked first (issue 10, item 9), saying it waits
    assert "The ballots are counted once 2 of the vote&#39;s trustees have answered" in asked.text
    assert "Yes, close it now" in asked.text and "close and count" not in asked.text
    page = follow(console, post(console, f"/admin/votes/{vote_id}/close", {"confirm": "yes"}))
    assert ("Casting has stopped and missed votes are recorded. The vote waits for 2 of its 3 trustees' "
            "answers") in text_of(page)
    collection_key = re.search(r'Collection key of this close: <code class="fingerprint">([0-9A-F ]+)</code>',
                               page.text).group(1)
    assert "<strong>0 of the 2</strong> answers needed are in" in text_of(page)
    assert "Close and count now" not in text_of(page) and "Result" not in text_of(page)
    # The dashboard lists it as waiting for its trustees.
    assert f"{queries.get_vote(vote_id).title}</a>, closed" in console.get("/admin/").text

    # Each trustee downloads their request, answers it on their own machine, and the answer is uploaded.
    signer = tmp_path / "installation.pem"
    signer.write_text(console.get("/signing-key.pem").text)

    def request_of(position: int):
        response = console.get(f"/admin/votes/{vote_id}/trustees/{position}/request.json")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=request-vote-{vote_id}-trustee-{position}.json")
        path = tmp_path / f"request-{position}.json"
        path.write_bytes(response.data)
        return path

    request = request_of(1)
    assert fingerprint(unb64(json.loads(request.read_text())["collection_key"])) == collection_key
    first = answer(machines[0], request, signer)
    page = follow(console, upload(console, f"/admin/votes/{vote_id}/trustee-answers", "answer", first.read_bytes(),
                                  first.name, f"/admin/votes/{vote_id}"))
    assert f"The answer of trustee {machines[0].fingerprint} is accepted: 1 of the 2 needed." in text_of(page)
    assert "<strong>1 of the 2</strong> answers needed are in" in text_of(page)
    assert page.text.count("answered ") == 1 and page.text.count(">waiting<") == 2
    assert machines[0].passphrase.read_text().strip() not in text_of(page)
    assert json.loads(first.read_text())["sealed_share"] not in page.text  # who answered, never what

    # A repeated or wrong answer is refused with the reason and changes nothing.
    page = follow(console, upload(console, f"/admin/votes/{vote_id}/trustee-answers", "answer", first.read_bytes(),
                                  first.name, f"/admin/votes/{vote_id}"))
    assert f"share #1 (trustee {machines[0].fingerprint}) was received already" in text_of(page)
    page = follow(console, upload(console, f"/admin/votes/{vote_id}/trustee-answers", "answer", b"{}",
                                  "answer.json", f"/admin/votes/{vote_id}"))
    assert "this is not a trustee answer file" in text_of(page)
    assert "<strong>1 of the 2</strong> answers needed are in" in text_of(page)

    third = answer(machines[2], request_of(3), signer)
    page = follow(console, upload(console, f"/admin/votes/{vote_id}/trustee-answers", "answer", third.read_bytes(),
                                  third.name, f"/admin/votes/{vote_id}"))
    assert "with 2 answers the ballots are opened and counted" in text_of(page)
    assert "Result" in text_of(page) and "Publish the result" in text_of(page)
    assert page.text.count("did not take part") == 1
    assert console.get(f"/admin/votes/{vote_id}/trustees/1/request.json").status_code == 409
    page = follow(console, post(console, f"/admin/votes/{vote_id}/publish"))
    assert "The result and the signed record are published." in text_of(page)
    results = html.unescape(console.get(f"/votes/{vote_id}/results").text)
    assert "only 2 of the vote's 3 trustees together could unlock after the close" in results
    assert "2 of them took part in opening them." in results
