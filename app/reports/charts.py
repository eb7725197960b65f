"""What the dashboards draw: charts built from the figures, each with the same numbers as a table
(the chart is drawn by the vendored Apache ECharts from `data`; the table is what a screen reader,
a printer and a browser without JavaScript read). Pure: no database, words through `_`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from app.core.figures import Figure, Ranked
from app.core.i18n import lazy
from app.reports.services import Figures, total

Gettext = Callable[[str], str]
Number = int | float

# The counts drawn together as the points chart, in this order.
POINTS = ("points_issued", "points_spent", "points_expired")
# The counts a street compares its communities by.
STREET_COMPARED = ("points_issued", "points_spent", "volunteer_hours", "active_residents")


@dataclass
class Chart:
    """One chart: `labels` along one axis, one value per label in each series."""

    key: str
    title: str
    kind: Literal["bar", "hbar", "pie", "line"]
    labels: list[str]
    series: list[tuple[str, list[Number]]]
    unit: str = ""
    note: str = ""
    label_header: str = ""
    extra: list[list[str]] = field(default_factory=list)  # further table columns per label
    extra_headers: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.labels or all(not v for _name, values in self.series for v in values)

    @property
    def data(self) -> str:
        """The chart's numbers for reports.js (a data attribute; never run as code)."""
        return json.dumps(
            {
                "kind": self.kind,
                "labels": self.labels,
                "series": [{"name": name, "values": values} for name, values in self.series],
                "unit": self.unit,
            },
            ensure_ascii=False,
        )

    @property
    def rows(self) -> list[tuple[str, list[Number], list[str]]]:
        """The table: each label with its value in every series (and any further columns)."""
        return [
            (
                label,
                [values[i] for _name, values in self.series],
                self.extra[i] if i < len(self.extra) else [],
            )
            for i, label in enumerate(self.labels)
        ]


def number(value: Any) -> str:
    """A figure as people read it: thousands grouped, hours with one decimal."""
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _by_name(shown: Sequence[Figure]) -> dict[str, Figure]:
    return {f.name: f for f in shown}


def community_charts(
    row: Figures, shown: Sequence[Figure], _: Gettext, until: date | None = None
) -> list[Chart]:
    """One community's charts: its points, then each breakdown and ranking figure."""
    known = _by_name(shown)
    charts = []
    points = [known[name] for name in POINTS if name in known]
    if points:
        charts.append(
            Chart(
                "points",
                _(lazy("Points")),
                "bar",
                [_(f.label) for f in points],
                [(_(lazy("Points")), [row.count(f.name) for f in points])],
                label_header=_(lazy("Figure")),
            )
        )
    for fig in shown:
        if fig.kind == "breakdown":
            values = row.breakdown(fig.name)
            charts.append(
                Chart(
                    fig.name,
                    _(fig.label),
                    "bar",
                    [_(label) for label in fig.keys.values()],
                    [(_(fig.unit) if fig.unit else _(fig.label), [values.get(k, 0) for k in fig.keys])],
                    unit=_(fig.unit) if fig.unit else "",
                    note=_(fig.note) if fig.note else "",
                    label_header=_(lazy("Kind")),
                )
            )
        elif fig.kind == "ranking":
            charts.append(ranking_chart(fig, list(row.values.get(fig.name, [])), _))
        elif fig.kind == "series":
            charts.append(series_chart(fig, row.values.get(fig.name, {}), _, until))
    return charts


def series_chart(
    fig: Figure, values: dict[str, dict[str, Number]], _: Gettext, until: date | None = None
) -> Chart:
    """A figure over time: one line per key, a bucket's first day along the axis, up to `until`
    (today): the days of the period still to come are not drawn as days of nothing (this half
    month's line fell to 0 on the morning of its first day)."""
    buckets = [b for b in values if until is None or b <= until.isoformat()]
    return Chart(
        fig.name,
        _(fig.label),
        "line",
        buckets,
        [(_(label), [values[b].get(key, 0) for b in buckets]) for key, label in fig.keys.items()],
        unit=_(fig.unit) if fig.unit else "",
        note=_(fig.note) if fig.note else "",
        label_header=_(lazy("From")),
    )


def ranking_chart(fig: Figure, ranked: list[Ranked], _: Gettext) -> Chart:
    parts = list(fig.keys)
    return Chart(
        fig.name,
        _(fig.label),
        "hbar",
        [r.name for r in ranked],
        [(_(lazy("Progress (%)")), [r.percent for r in ranked])],
        unit="%",
        note=_(fig.note) if fig.note else "",
        label_header=_(lazy("Partner unit")),
        extra=[[_progress_text(r.parts.get(p)) for p in parts] for r in ranked],
        extra_headers=[_(fig.keys[p]) for p in parts],
    )


def _progress_text(part: tuple[int, int] | None) -> str:
    if part is None:
        return ""
    done, promised = part
    return f"{done:,} / {promised:,}" if promised else f"{done:,}"


def street_charts(
    rows: Sequence[Figures], shown: Sequence[Figure], _: Gettext, until: date | None = None
) -> list[Chart]:
    """A street's charts: its communities side by side on the figures a street compares."""
    known = _by_name(shown)
    names = [r.community.name for r in rows]
    charts = []
    points = [known[name] for name in POINTS if name in known]
    if points:
        charts.append(
            Chart(
                "points",
                _(lazy("Points by community")),
                "bar",
                names,
                [(_(f.label), [r.count(f.name) for r in rows]) for f in points],
                unit=_(lazy("points")),
                label_header=_(lazy("Community")),
            )
        )
    for over_time in (f for f in shown if f.kind == "series"):
        charts.append(series_chart(over_time, total_of(rows, over_time), _, until))
    for name in STREET_COMPARED[2:]:
        fig = known.get(name)
        if fig is None:
            continue
        charts.append(
            Chart(
                name,
                _(fig.label),
                "bar",
                names,
                [(_(fig.label), [r.count(name) for r in rows])],
                unit=_(fig.unit) if fig.unit else "",
                note=_(fig.note) if fig.note else "",
                label_header=_(lazy("Community")),
            )
        )
    return charts


def total_of(rows: Sequence[Figures], fig: Figure) -> Any:
    return total(list(rows))[fig.name]
