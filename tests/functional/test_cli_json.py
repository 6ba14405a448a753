"""Every command the README says takes --json takes it (issue 10, item 16), and `vote open` says how
the links go out; `vote export`, `demo` and `secrets` answer in JSON too."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner

from ballot.cli import main
from tests.functional.factories import YEAR, closes, invoke, run, setup

# The README's exceptions: the long-running worker, the database migrations (Flask-Migrate's), Flask's and
# Flask-Limiter's own commands, and the trustees' offline commands, which write files.
WITHOUT_JSON = {"worker", "db", "run", "shell", "routes", "limiter", "trustee"}


def leaves(group: click.Group, path=()):
    for name, command in group.commands.items():
        if name in WITHOUT_JSON and not path:
            continue
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
            if command.invoke_without_command:
                yield (*path, name), command
        else:
            yield (*path, name), command


def test_every_command_takes_json(app):
    commands = dict(leaves(app.cli)) | dict(leaves(main))
    commands = {" ".join(path): command for path, command in commands.items()}
    assert {"vote close", "vote edit", "period at-risk", "vote export", "demo", "secrets"} <= set(commands)
    lacking = sorted(name for name, command in commands.items()
                     if "--json" not in {opt for p in command.params for opt in getattr(p, "opts", [])})
    assert lacking == []


def test_vote_open_says_how_the_links_go_out(app, runner, tmp_path):
    setup(runner, tmp_path, [("ada", "supporting")], policy="seed", opted_in=["ada"])
    vote_id = run(runner, "vote", "create", "--period", str(YEAR), "--kind", "charter", "--title", "C",
                  "--question", "Q?", "--closes-at", closes())["id"]
    opened = invoke(runner, "vote", "open", str(vote_id))
    assert opened.exit_code == 0
    assert ("1 ballot links are queued in the outbox, one to each voting right by email: `ballot worker` sends "
            "them in its next round, or `ballot mail send` now.") in opened.output


def test_secrets_and_export_in_json(app, runner, tmp_path):
    printed = CliRunner().invoke(main, ["secrets", "--json"])
    assert printed.exit_code == 0 and set(json.loads(printed.output)) >= {"SECRET_KEY", "BALLOT_SIGNING_KEY"}
    both = CliRunner().invoke(main, ["secrets", "--json", "--write", str(tmp_path / "x.py")])
    assert both.exit_code == 1 and "error" in json.loads(both.output) and not (tmp_path / "x.py").exists()
    missing = invoke(runner, "vote", "export", "99", "-o", str(tmp_path / "r.json"), "--json")
    assert missing.exit_code == 1 and json.loads(missing.output) == {"error": "there is no vote 99"}
