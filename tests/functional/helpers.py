"""Shared steps for functional tests: drive the real commands and pages."""

from __future__ import annotations

import http.client
import json
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from click.testing import CliRunner

from ballot.cli import main

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt"><strong[^>]*>([A-Z2-7-]+)</strong>')


def run(runner, *args: str) -> dict | list:
    """Invoke a `ballot` command with --json; fail the test on a non-zero exit."""
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output or "".join(traceback.format_exception(result.exception))
    return json.loads(result.output)


def path_of(link: str) -> str:
    return re.sub(r"^https://vote\.test", "", link)


def csrf_token(page_html: str) -> str:
    match = CSRF.search(page_html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def cast(client, link: str, answers: dict[str, str | list[str]]):
    """Open the ballot, review, cast; returns the final response (the receipt, after the redirect)."""
    path = path_of(link)
    page = client.get(path)
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_token(page.text), **answers}
    review = client.post(path, data={**data, "step": "review"})
    assert review.status_code == 200, review.text
    assert "Review your ballot" in review.text
    return client.post(path, data={**data, "step": "cast"}, follow_redirects=True)


def receipt_of(response) -> str:
    match = RECEIPT.search(response.text)
    assert match, response.text
    return match.group(1)


class HttpBrowser:
    """One browser over real HTTP to 127.0.0.1: its own cookies (session, CSRF), Host: vote.test.

    Like a browser, it follows a redirect after a form (303) with a GET: a cast lands on its receipt.
    """

    def __init__(self, port: int, timeout: float = 15):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Host": "vote.test", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value
            location = response.headers.get("Location")
        finally:
            conn.close()
        if response.status == 303 and location:
            return self.request("GET", urlsplit(location).path)
        return response.status, text


# Trustees, on their own machines -----------------------------------------------------------

TRUSTEE_PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class Machine:
    """A trustee's own machine: their key files and passphrase, nothing of the service."""

    name: str
    key: Path
    public: Path
    passphrase: Path
    fingerprint: str


def trustee_machine(home: Path, name: str) -> Machine:
    """`ballot trustee keygen` in ``home``, with the passphrase from a file; the trustee's machine."""
    home.mkdir()
    passphrase = home / "passphrase.txt"
    passphrase.write_text(f"{TRUSTEE_PASSPHRASE} of {name}\n")
    key = home / f"{name.lower()}.key"
    result = CliRunner().invoke(main, ["trustee", "keygen", str(key), "--passphrase-file", str(passphrase)])
    assert result.exit_code == 0, result.output
    return Machine(name, key, key.with_suffix(".pub"), passphrase, result.stdout.split("Fingerprint: ")[1].strip())


def answer(machine: Machine, request: Path, signer: Path) -> Path:
    """`ballot trustee answer` on the trustee's machine, checking the installation's signature."""
    out = request.with_name(request.name.replace("request", "answer"))
    result = CliRunner().invoke(main, ["trustee", "answer", str(request), "--key", str(machine.key),
                                       "--passphrase-file", str(machine.passphrase), "--signer", str(signer),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out
