"""Charts as standalone SVG (no plotting library): a step line over time with labelled axes
(dates in UTC, values with their unit) and an optional dashed threshold. The geometry is
computed here; templates/chart.svg writes the markup."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Sequence

from somstack.report.templating import render

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 78, 18, 34, 48


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _number(value: float) -> str:
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.4g}B"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.4g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.4g}k"
    return f"{value:,.4g}"


def _date(ts: float, span: float) -> str:
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%H:%M") if span < 2 * 86_400 else moment.strftime("%d %b")


def step_chart(points: Sequence[tuple[int, float | None]], title: str, unit: str, x_from: int, x_to: int,
               threshold: float | None = None, threshold_label: str = "") -> str:
    """``points`` (unix time, value; None leaves a gap) as a step line from ``x_from`` to ``x_to``
    (templates/chart.svg draws it: the title, the unit and the labels are escaped there)."""
    values = [v for _, v in points if v is not None]
    if threshold is not None:
        values.append(threshold)
    low = min([0.0, *values])
    high = max(values) if values else 1.0
    ticks = nice_ticks(low, high * 1.05 if high > 0 else 1.0)
    y_low, y_high = ticks[0], ticks[-1]
    x_to = max(x_to, x_from + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (min(max(t, x_from), x_to) - x_from) / (x_to - x_from) * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - (v - y_low) / ((y_high - y_low) or 1) * plot_h

    span = x_to - x_from
    x_ticks = []
    for i in range(5):
        t = x_from + span * i / 4
        x_ticks.append({"x": f"{x(t):.1f}", "label": _date(t, span), "anchor": "start" if i == 0 else "end" if i == 4 else "middle"})
    path: list[str] = []
    previous: tuple[float, float] | None = None
    for t, v in sorted(points, key=lambda p: p[0]):
        if v is None:
            previous = None
            continue
        px, py = x(t), y(v)
        path.append(f"M{px:.1f},{py:.1f}" if previous is None else f"H{px:.1f}V{py:.1f}")
        previous = (px, py)
    return render(
        "chart.svg", width=WIDTH, height=HEIGHT, left=LEFT, right=WIDTH - RIGHT, top=TOP, bottom=TOP + plot_h,
        title=title, unit=unit,
        y_ticks=[{"y": f"{y(tick):.1f}", "label_y": f"{y(tick) + 4:.1f}", "label": _number(tick)} for tick in ticks],
        x_ticks=x_ticks,
        middle_x=f"{LEFT + plot_w / 2:.1f}", middle_y=f"{TOP + plot_h / 2:.1f}",
        first_day=datetime.fromtimestamp(x_from, tz=timezone.utc).strftime("%Y-%m-%d"),
        last_day=datetime.fromtimestamp(x_to, tz=timezone.utc).strftime("%Y-%m-%d"),
        threshold=None if threshold is None else {"y": f"{y(threshold):.1f}", "label_y": f"{y(threshold) - 5:.1f}", "label": threshold_label},
        path=" ".join(path),
        dots=[(f"{x(t):.1f}", f"{y(v):.1f}") for t, v in points if v is not None],
    )
