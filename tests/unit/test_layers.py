"""The package's areas depend on each other one way only: no import cycles between them.

roster < eligibility < trustees < votes < admin, and the outbox below all of them: an
area may import a lower one, never a higher one, not even from inside a
function. Other modules (policy, sealing, the unit of work, the audit log,
the worker, the counting engine...) are shared by all and import no area
above what they need; an import through them counts as the area's own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ballot import ROOT

PACKAGE = ROOT / "ballot"
AREAS = ("outbox", "roster", "eligibility", "trustees", "votes", "admin")  # lowest first
# The wiring above every area: the app factory (the only place that knows every part), the command line, the demo.
WIRING = {"ballot", "ballot.commands", "ballot.cli", "ballot.demo"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ballot module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("ballot")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ballot"):
            if node.module != "ballot":  # `from ballot import sealing` is an import of ballot.sealing
                found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def module_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name and m not in WIRING}
            for name, path in modules.items() if name not in WIRING}


def area_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in AREAS else None


def areas_reached(graph: dict[str, set[str]], start: str) -> set[str]:
    """The areas a module depends on, directly or through shared modules (not through another area)."""
    reached, seen, todo = set(), {start}, list(graph[start])
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        area = area_of(module)
        if area is not None and area != area_of(start):
            reached.add(area)
            continue
        todo.extend(graph[module])
    return reached


def test_each_area_imports_only_lower_areas():
    graph = module_graph()
    rank = {area: n for n, area in enumerate(AREAS)}
    upward = []
    for module in sorted(graph):
        home = area_of(module)
        for area in areas_reached(graph, module):
            if home is not None and rank[area] > rank[home]:
                upward.append(f"{module} ({home}) reaches {area}")
            if home is None and area == "admin":
                upward.append(f"{module} (shared) reaches the console")
    assert upward == []


def test_the_area_graph_has_no_cycle():
    graph = module_graph()
    depends: dict[str, set[str]] = {area: set() for area in AREAS}
    for module in graph:
        if area_of(module):
            depends[area_of(module)] |= areas_reached(graph, module)

    def cycle_from(area: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for other in depends[area]:
            if other in path:
                return (*path, other)
            found = cycle_from(other, (*path, other))
            if found:
                return found
        return None

    assert [cycle_from(area, (area,)) for area in AREAS] == [None] * len(AREAS)


def test_the_check_sees_imports_inside_functions(tmp_path):
    path = tmp_path / "example.py"
    path.write_text("def f():\n    from ballot.votes.models import Vote\n    import ballot.admin.views\n"
                    "from ballot import sealing\n")
    assert imports_of(path) == {"ballot.votes.models", "ballot.votes.models.Vote", "ballot.admin.views",
                                "ballot.sealing"}
