"""Charts as standalone SVG, drawn here (no plotting library): a step line over time with
labelled axes (dates in UTC, values with their unit) and an optional dashed threshold."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from typing import Sequence

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
    """``points`` (unix time, value; None leaves a gap) as a step line from ``x_from`` to ``x_to``."""
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
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="600" fill="#1a2433">{escape(title)}</text>',
    ]
    for tick in ticks:
        ty = y(tick)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e3e8ef"/>')
        out.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#4a5568">{_number(tick)}</text>')
    for i in range(5):
        t = x_from + span * i / 4
        tx = x(t)
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 5}" stroke="#4a5568"/>')
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(f'<text x="{tx:.1f}" y="{TOP + plot_h + 18}" text-anchor="{anchor}" fill="#4a5568">{_date(t, span)}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#4a5568"/>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#4a5568"/>')
    first_day = datetime.fromtimestamp(x_from, tz=timezone.utc).strftime("%Y-%m-%d")
    last_day = datetime.fromtimestamp(x_to, tz=timezone.utc).strftime("%Y-%m-%d")
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" fill="#1a2433">'
               f'time (UTC), {first_day} to {last_day}</text>')
    out.append(f'<text transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" fill="#1a2433">'
               f'{escape(unit)}</text>')
    if threshold is not None:
        ty = y(threshold)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#c53030" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{WIDTH - RIGHT - 4}" y="{ty - 5:.1f}" text-anchor="end" fill="#c53030">{escape(threshold_label)}</text>')
    path: list[str] = []
    previous: tuple[float, float] | None = None
    for t, v in sorted(points, key=lambda p: p[0]):
        if v is None:
            previous = None
            continue
        px, py = x(t), y(v)
        if previous is None:
            path.append(f"M{px:.1f},{py:.1f}")
        else:
            path.append(f"H{px:.1f}V{py:.1f}")
        previous = (px, py)
    if path:
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="#2b6cb0" stroke-width="2"/>')
        for t, v in points:
            if v is not None:
                out.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5" fill="#2b6cb0"/>')
    else:
        out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" fill="#4a5568">no data</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
