"""The kinds of vote are the README's list: each is made by `ballot vote create`, and no other kind is."""

from __future__ import annotations

import re

from ballot import ROOT
from tests.functional.factories import YEAR, closes, invoke, run, setup


def readme_kinds() -> list[str]:
    """README: "Kinds of vote: `board`, `charter`, ... (a policy leaves out those needing a class it lacks)"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = readme[readme.index("Kinds of vote:"):readme.index("(a policy leaves out")]
    return re.findall(r"`([a-z-]+)`", sentence)


def test_each_kind_the_readme_lists_is_made_and_no_other(app, runner, tmp_path):
    kinds = readme_kinds()
    assert len(kinds) > 10, kinds
    setup(runner, tmp_path, [("ada", "supporting"), ("fay", "fellow")], policy="seed", opted_in={"ada", "fay"})
    for kind in kinds:
        ballot = ["--seats", "1", "--candidate", "A. Person"] if kind == "board" else ["--question", "Adopt it?"]
        made = run(runner, "vote", "create", "--period", str(YEAR), "--kind", kind, "--title", f"A {kind} vote",
                   "--closes-at", closes(), *ballot)
        assert made["kind"] == kind
    assert [vote["kind"] for vote in run(runner, "vote", "list")] == kinds

    refused = invoke(runner, "vote", "create", "--period", str(YEAR), "--kind", "referendum", "--title", "T",
                     "--closes-at", closes(), "--question", "Q?")
    assert refused.exit_code == 2 and "'referendum' is not one of" in refused.output
    offered = re.findall(r"'([a-z-]+)'", refused.output.split("is not one of", 1)[1])
    assert sorted(offered) == sorted(kinds)
