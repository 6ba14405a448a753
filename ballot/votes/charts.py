"""Bar charts of a result or of turnout, as plain geometry for an inline SVG.

The `chart` macro in templates/admin/_macros.html draws them, in the console and on the results page.

Drawn by the server: no script, no chart service. Each bar has its label
above it, so long candidate names fit on a phone; the page shows the same
numbers in a table beside the chart.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass

WIDTH = 400  # the SVG's viewBox width; it scales to the page
BAR_MAX = 330  # the longest bar, leaving room for its number
ROW = 44  # label line and bar
BAR_HEIGHT = 16

_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int  # top of the label line
    width: float
    highlight: bool

    @property
    def label_y(self) -> int:
        return self.y + 15

    @property
    def bar_y(self) -> int:
        return self.y + 21

    @property
    def value_x(self) -> float:
        return self.width + 6

    @property
    def value_y(self) -> int:
        return self.bar_y + BAR_HEIGHT - 3


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    bars: list[Bar]
    width: int
    height: int
    bar_height: int

    @property
    def highlighted(self) -> bool:
        return any(bar.highlight for bar in self.bars)


def bar_chart(title: str, values: list[tuple[str, int]], highlight: Collection[str] = frozenset()) -> Chart:
    """A horizontal bar chart of ``values`` (label, count), bars scaled to the largest."""
    top = max((value for _, value in values), default=0)
    bars = [
        Bar(label, value, i * ROW, BAR_MAX * value / top if top else 0, label in highlight)
        for i, (label, value) in enumerate(values)
    ]
    return Chart(f"chart-{next(_ids)}", title, bars, WIDTH, max(ROW * len(bars), ROW), BAR_HEIGHT)


def result_chart(question: dict, most_first: bool = False) -> Chart:
    """A question's counts: approvals or first preferences per candidate (``most_first``: sorted so),
    or answers per choice."""
    values = [(str(k), int(v)) for k, v in (question.get("counts") or {}).items()]
    candidates = "elected" in question
    if candidates and most_first:
        values.sort(key=lambda item: -item[1])  # stable: ties keep the ballot's order
    what = question.get("counts_are", "ballots")
    title = f"{question['title']}: {what} per {'candidate' if candidates else 'answer'}"
    return bar_chart(title, values, set(question.get("elected") or ()))
