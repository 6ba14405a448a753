"""`ballot demo`, what `make run` loads: a period, a roster, an open vote, links that work."""

import re

from tests.functional.helpers import path_of


def test_the_demo_loads_once_and_prints_working_links(app, runner, client, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo" in first.output and "Console: https://vote.test/admin/login" in first.output
    ballots = re.findall(r"ballot of [^:]+: (https://vote\.test/\S+)", first.output)
    opt_ins = re.findall(r"opt-in of [^:]+: (https://vote\.test/\S+)", first.output)
    assert len(ballots) == 3 and len(opt_ins) == 1
    assert "Fellow nominations (demo)" in client.get(path_of(ballots[0])).text
    assert "Do you want to vote" in client.get(path_of(opt_ins[0])).text
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "Loaded the demo" not in again.output
    assert re.findall(r"ballot of [^:]+: (https://vote\.test/\S+)", again.output) == ballots
