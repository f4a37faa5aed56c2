"""The static site of a report: index.html, style.css, the SVG charts and report.json.

The page is rendered from the report dict alone by templates/index.html (Jinja2, autoescaped:
symbols, names, references and attestation URIs come from the chain), so every number on it
is the ``text`` that report.json holds; each figure carries ``data-figure`` (its id in
report.json ``figures``) and ``data-raw``, and links to its block (and transaction) on the
explorer. Nothing is loaded from the network: the CSS and the charts are files next to the page.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from somstack.core.format import units, utc
from somstack.core.manifest import write_text_atomically
from somstack.ops.reserve import UINT256_MAX
from somstack.report.svg import step_chart
from somstack.report.templating import render


def render_page(report: dict[str, Any]) -> str:
    """index.html of ``report`` (templates/index.html: every value escaped there)."""
    return render("index.html", r=report, res=report["reserve"], figures=report["figures"], explorer=report["explorer"],
                  signed=_signed, when=_when)


def _signed(change: int | None, decimals: int) -> str:
    if change is None:
        return ""
    return ("+" if change > 0 else "-") + units(abs(change), decimals)


def _when(ts: int) -> str:
    return utc(ts)


def _float(raw: int | None, decimals: int) -> float | None:
    if raw is None:
        return None
    return float(Decimal(raw).scaleb(-decimals))


def charts(report: dict[str, Any]) -> dict[str, str]:
    """File name -> SVG of every chart of the report."""
    window = report["window"]
    found = {}
    for key, token in report["tokens"].items():
        points = [(p["t"], _float(p["raw"], token["decimals"])) for p in token["series"]]
        found[f"supply-{key}.svg"] = step_chart(points, f"{token['symbol']} supply, last {report['days']} days",
                                                token["symbol"], window["from"], window["to"])
    res = report["reserve"]
    points = [(p["t"], None if p["raw"] is None or p["raw"] == UINT256_MAX else p["raw"] / 100) for p in res["coverageSeries"]]
    minimum = report["figures"][res["minCoverage"]]["raw"] / 100
    found["coverage.svg"] = step_chart(points, f"KGST coverage ratio, last {report['days']} days", "coverage (%)",
                                       window["from"], window["to"], threshold=minimum, threshold_label=f"minimum {minimum:g}%")
    return found


def write_site(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Writes style.css, the charts, report.json and, last, index.html into ``out_dir`` (each
    file atomically), so the page never links to a file not yet written; returns the paths.
    A value report.json cannot hold (bytes) raises rather than being written as its repr."""
    files = {"style.css": resources.files(__package__).joinpath("style.css").read_text()}
    files.update(charts(report))
    files["report.json"] = json.dumps(report, indent=2, sort_keys=True) + "\n"
    files["index.html"] = render_page(report)
    written = []
    for name, text in files.items():
        path = out_dir / name
        write_text_atomically(path, text, mode=0o644)
        written.append(path)
    return written
