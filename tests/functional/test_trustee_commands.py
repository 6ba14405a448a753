"""A trustee's commands on the trustee's own machine: no database, no configuration, no BALLOT_* variable.

The service's side (protecting a vote's key, requests, opening answers) is
played with the pure functions, as the service will call them.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ballot import sealing
from ballot.cli import main
from ballot.trustees import collection, keys, shares

ROOT = Path(__file__).resolve().parents[2]
SEALING_KEY = os.urandom(32)
VOTE_ID = 12
TITLE = "Board election 2026"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def machine(tmp_path, monkeypatch) -> Path:
    """A trustee's machine: an empty working directory and no service configuration at all."""
    for name in list(os.environ):
        if name.startswith("BALLOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "passphrase.txt").write_text(PASSPHRASE + "\n")
    return tmp_path


def ballot_process(machine: Path, *args: str) -> subprocess.CompletedProcess:
    """The real console script in its own process, as a trustee runs it."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BALLOT_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's package, not an installed one
    return subprocess.run(
        [sys.executable, "-m", "ballot.cli", "trustee", *args],
        check=False, cwd=machine, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def ballot(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["trustee", *args], input=input)


@pytest.fixture
def keygen(machine):
    """``ballot trustee keygen ada.key`` with the passphrase from a file; the fingerprint printed."""
    result = ballot("keygen", "ada.key", "--passphrase-file", "passphrase.txt")
    assert result.exit_code == 0, result.output
    return result.stdout.split("Fingerprint: ")[1].strip()


def open_vote(*trustee_public_keys: bytes, threshold: int = 2) -> tuple[bytes, shares.ProtectedVoteKey]:
    """The service at the opening: the vote's raw private key and what it keeps of it."""
    _public, wrapped = sealing.new_vote_keys(SEALING_KEY, VOTE_ID)
    vote_key = sealing.unwrap_vote_key(SEALING_KEY, VOTE_ID, wrapped)
    return vote_key, shares.protect_vote_key(vote_key, VOTE_ID, list(trustee_public_keys), threshold)


def test_a_trustee_makes_a_key_and_answers_a_close_request_in_a_bare_process(machine):
    made = ballot_process(machine, "keygen", "ada.key", "--passphrase-file", "passphrase.txt")
    assert made.returncode == 0, made.stderr
    fingerprint = made.stdout.split("Fingerprint: ")[1].strip()
    assert stat.S_IMODE((machine / "ada.key").stat().st_mode) == 0o600
    ada_public = keys.load_trustee_public_key((machine / "ada.pub").read_bytes())
    assert keys.fingerprint(ada_public) == fingerprint

    bea = X25519PrivateKey.generate()  # another trustee, answering on their own machine
    vote_key, protected = open_vote(ada_public, keys.raw_public_key(bea))
    collection_key = collection.new_collection_key(SEALING_KEY, VOTE_ID)
    ada_share, bea_share = protected.trustee_shares
    request = collection.close_request(VOTE_ID, TITLE, ada_share, collection_key.public_key)
    (machine / "request.json").write_text(request.to_json())

    answered = ballot_process(
        machine, "answer", "request.json", "--key", "ada.key", "--passphrase-file", "passphrase.txt",
        "-o", "answer.json",
    )
    assert answered.returncode == 0, answered.stderr
    assert f"Vote {VOTE_ID}: {TITLE}" in answered.stdout
    assert f"You are trustee #1, key {fingerprint}." in answered.stdout
    assert keys.fingerprint(collection_key.public_key) in answered.stdout

    # The service opens the answer, checks it, and with a second trustee's share recovers the vote's key.
    private = collection.unwrap_collection_key(SEALING_KEY, VOTE_ID, collection_key.wrapped_private_key)
    answer = collection.read_answer((machine / "answer.json").read_text())
    received = [collection.open_answer(answer, private, VOTE_ID, protected.trustee_shares)]
    bea_request = collection.close_request(VOTE_ID, TITLE, bea_share, collection_key.public_key)
    bea_answer = collection.answer_request(collection.read_request(bea_request.to_json()), bea)
    received.append(collection.open_answer(bea_answer, private, VOTE_ID, protected.trustee_shares, {1}))
    assert shares.recover_vote_key(protected.wrapped_vote_key, VOTE_ID, received) == vote_key


def test_a_wrong_passphrase_exits_1_with_a_plain_message(machine):
    made = ballot("keygen", "ada.key", input=f"{PASSPHRASE}\n{PASSPHRASE}\n")  # typed at the prompt, twice
    assert made.exit_code == 0, made.output
    ada = keys.load_trustee_public_key((machine / "ada.pub").read_bytes())
    _vote_key, protected = open_vote(ada, threshold=1)
    collection_key = collection.new_collection_key(SEALING_KEY, VOTE_ID)
    request = collection.close_request(VOTE_ID, TITLE, protected.trustee_shares[0], collection_key.public_key)
    (machine / "request.json").write_text(request.to_json())
    (machine / "wrong.txt").write_text("not the passphrase at all\n")

    result = ballot("answer", "request.json", "--key", "ada.key", "--passphrase-file", "wrong.txt")
    assert result.exit_code == 1
    assert result.stderr == "error: the passphrase does not open this key file\n"
    typed = ballot("answer", "request.json", "--key", "ada.key", input="wrong passphrase typed\n")
    assert typed.exit_code == 1 and "error: the passphrase does not open this key file" in typed.stderr
    assert not list(machine.glob("answer*"))

    process = ballot_process(machine, "answer", "request.json", "--key", "ada.key", "--passphrase-file", "wrong.txt")
    assert process.returncode == 1
    assert process.stderr == "error: the passphrase does not open this key file\n"


def test_keygen_never_overwrites_a_key(machine, keygen):
    before = {name: (machine / name).read_bytes() for name in ("ada.key", "ada.pub")}
    result = ballot("keygen", "ada.key", "--passphrase-file", "passphrase.txt")
    assert result.exit_code == 1
    assert result.stderr == "error: ada.key exists already; it was kept (choose another name)\n"
    assert {name: (machine / name).read_bytes() for name in before} == before
    (machine / "bea.pub").write_text("someone's key")
    result = ballot("keygen", "bea.key", "--passphrase-file", "passphrase.txt")
    assert result.exit_code == 1 and "bea.pub exists already" in result.stderr
    assert not (machine / "bea.key").exists()


def test_keygen_refuses_a_short_passphrase(machine):
    (machine / "short.txt").write_text("too short\n")
    result = ballot("keygen", "ada.key", "--passphrase-file", "short.txt")
    assert result.exit_code == 1
    assert "the passphrase must be at least 12 characters long" in result.stderr
    assert not (machine / "ada.key").exists()


def test_a_request_for_another_trustee_or_a_damaged_one_is_refused_plainly(machine, keygen):
    bea = X25519PrivateKey.generate()
    _vote_key, protected = open_vote(keys.raw_public_key(bea), threshold=1)
    collection_key = collection.new_collection_key(SEALING_KEY, VOTE_ID)
    request = collection.close_request(VOTE_ID, TITLE, protected.trustee_shares[0], collection_key.public_key)
    (machine / "bea-request.json").write_text(request.to_json())
    result = ballot("answer", "bea-request.json", "--key", "ada.key", "--passphrase-file", "passphrase.txt")
    assert result.exit_code == 1
    assert f"error: this request is for the trustee whose key is {request.fingerprint}; your key is {keygen}" in (
        result.stderr
    )

    (machine / "damaged.json").write_text(request.to_json()[:-20])
    result = ballot("answer", "damaged.json", "--key", "ada.key", "--passphrase-file", "passphrase.txt")
    assert result.exit_code == 1 and result.stderr == "error: this is not a trustee request file: it is not JSON\n"
    assert "Traceback" not in result.output


def test_a_signed_request_is_checked_with_signer_and_an_answer_is_never_overwritten(machine, keygen):
    ada = keys.load_trustee_public_key((machine / "ada.pub").read_bytes())
    _vote_key, protected = open_vote(ada, threshold=1)
    collection_key = collection.new_collection_key(SEALING_KEY, VOTE_ID)
    signing_key = sealing.new_signing_key_pem()
    (machine / "installation.pem").write_text(sealing.public_key_pem(signing_key))
    ada_share = protected.trustee_shares[0]
    signed = collection.close_request(VOTE_ID, TITLE, ada_share, collection_key.public_key, signing_key)
    unsigned = collection.close_request(VOTE_ID, TITLE, ada_share, collection_key.public_key)
    (machine / "signed.json").write_text(signed.to_json())
    (machine / "unsigned.json").write_text(unsigned.to_json())
    common = ["--key", "ada.key", "--passphrase-file", "passphrase.txt", "--signer", "installation.pem"]

    refused = ballot("answer", "unsigned.json", *common)
    assert refused.exit_code == 1
    assert "not signed by the installation key you gave: do not answer it" in refused.stderr
    answered = ballot("answer", "signed.json", *common)
    assert answered.exit_code == 0, answered.output
    written = machine / f"answer-vote-{VOTE_ID}-trustee-1.json"
    assert json.loads(written.read_text())["request_id"] == signed.request_id
    before = written.read_bytes()
    again = ballot("answer", "signed.json", *common)
    assert again.exit_code == 1 and f"{written.name} exists already; it was kept" in again.stderr
    assert written.read_bytes() == before


# --- From a clean install -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package installed as a trustee installs it: into a fresh virtual environment, from a copy of its
    sources (no checkout, no instance folder, no configuration). Its dependencies are this environment's, found
    after the fresh environment's own packages, so the ``ballot`` imported there is the installed one."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "ballot", source / "ballot", ignore=shutil.ignore_patterns("__pycache__"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=600)
    python = venv / "bin" / "python"
    # Built as `make` builds it (setuptools from the package index pip is configured with), then installed.
    built = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(source)], check=False,
                           capture_output=True, text=True, timeout=600, cwd=base)
    assert built.returncode == 0, built.stderr
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    shutil.rmtree(source)  # nothing of the sources is left to lean on
    return venv


def test_a_trustees_commands_work_from_a_clean_install_with_no_database_and_no_configuration(installed, tmp_path):
    home = tmp_path / "home"  # the trustee's home: empty, and the working directory
    home.mkdir()
    (home / "passphrase.txt").write_text(PASSPHRASE + "\n")
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}

    def at_home(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(installed / "bin" / "ballot"), *args], check=False, cwd=home, env=env,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import ballot; print(ballot.__file__)"],
                           check=True, cwd=home, env=env, capture_output=True, text=True, timeout=60).stdout
    assert Path(where.strip()).is_relative_to(installed), "the installed package, not this checkout"

    made = at_home("trustee", "keygen", "ada.key", "--passphrase-file", "passphrase.txt")
    assert made.returncode == 0, made.stderr
    fingerprint = made.stdout.split("Fingerprint: ")[1].strip()
    ada_public = keys.load_trustee_public_key((home / "ada.pub").read_bytes())
    assert keys.fingerprint(ada_public) == fingerprint

    # The service's side, as it runs at the opening and the close: a 2-of-2 vote; a signed request for Ada.
    bea = X25519PrivateKey.generate()
    vote_key, protected = open_vote(ada_public, keys.raw_public_key(bea))
    collection_key = collection.new_collection_key(SEALING_KEY, VOTE_ID)
    signing_key = sealing.new_signing_key_pem()
    (home / "installation.pem").write_text(sealing.public_key_pem(signing_key))
    request = collection.close_request(VOTE_ID, TITLE, protected.trustee_shares[0], collection_key.public_key,
                                       signing_key)
    (home / "request.json").write_text(request.to_json())

    answered = at_home("trustee", "answer", "request.json", "--key", "ada.key", "--passphrase-file",
                       "passphrase.txt", "--signer", "installation.pem")
    assert answered.returncode == 0, answered.stderr
    assert f"You are trustee #1, key {fingerprint}." in answered.stdout
    wrong = at_home("trustee", "answer", "request.json", "--key", "ada.pub", "--passphrase-file", "passphrase.txt",
                    "-o", "again.json")
    assert wrong.returncode == 1 and wrong.stderr.startswith("error: ") and "Traceback" not in wrong.stderr

    # Nothing but the trustee's own files: no database, no configuration, no instance folder, anywhere.
    answer_name = f"answer-vote-{VOTE_ID}-trustee-1.json"
    assert sorted(p.name for p in home.iterdir()) == sorted(
        ["passphrase.txt", "ada.key", "ada.pub", "installation.pem", "request.json", answer_name])
    assert not [p for p in installed.rglob("*") if p.suffix in (".db", ".sqlite", ".sqlite3") or p.name == "var"]

    # The answer is good: with Bea's, the service recovers the vote's key.
    private = collection.unwrap_collection_key(SEALING_KEY, VOTE_ID, collection_key.wrapped_private_key)
    received = [collection.open_answer(collection.read_answer((home / answer_name).read_text()), private, VOTE_ID,
                                       protected.trustee_shares)]
    bea_answer = collection.answer_request(collection.read_request(
        collection.close_request(VOTE_ID, TITLE, protected.trustee_shares[1], collection_key.public_key).to_json()),
        bea)
    received.append(collection.open_answer(bea_answer, private, VOTE_ID, protected.trustee_shares, {1}))
    assert shares.recover_vote_key(protected.wrapped_vote_key, VOTE_ID, received) == vote_key
