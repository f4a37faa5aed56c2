"""The static site of a report: index.html, style.css, the SVG charts and report.json.

The page is rendered from the report dict alone, so every number on it is the ``text`` that
report.json holds; each figure carries ``data-figure`` (its id in report.json ``figures``)
and ``data-raw``, and links to its block (and transaction) on the explorer. Nothing is loaded
from the network: the CSS and the charts are files next to the page.
"""

from __future__ import annotations

import json
from decimal import Decimal
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from somstack.core.format import units, utc
from somstack.core.manifest import write_text_atomically
from somstack.ops.reserve import UINT256_MAX
from somstack.report.svg import step_chart


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


class Page:
    def __init__(self, report: dict[str, Any]):
        self.r = report
        self.explorer = report["explorer"]

    # --- links ---

    def block(self, number: int | None) -> str:
        if number is None:
            return "-"
        if not self.explorer:  # a dev chain: no explorer to link to
            return f"#{number:,}"
        return f'<a href="{_e(self.explorer)}/block/{number}">#{number:,}</a>'

    def tx(self, tx: str | None, label: str = "tx") -> str:
        if not tx:
            return ""
        if not self.explorer:
            return f'<span class="tx" title="{_e(tx)}">{_e(label)} {_e(tx[:10])}…</span>'
        return f'<a class="tx" href="{_e(self.explorer)}/tx/{_e(tx)}" title="{_e(tx)}">{_e(label)} {_e(tx[:10])}…</a>'

    def address(self, address: str | None) -> str:
        if not address:
            return "-"
        if not self.explorer:
            return f'<span class="addr" title="{_e(address)}">{_e(address[:8])}…{_e(address[-4:])}</span>'
        return f'<a class="addr" href="{_e(self.explorer)}/address/{_e(address)}" title="{_e(address)}">{_e(address[:8])}…{_e(address[-4:])}</a>'

    def source(self, block: int | None, tx: str | None) -> str:
        parts = [f"block {self.block(block)}"] if block is not None else []
        if tx:
            parts.append(self.tx(tx))
        return f'<span class="src">{" · ".join(parts)}</span>' if parts else ""

    def fig(self, fid: str, unit: bool = True, src: bool = True) -> str:
        f = self.r["figures"][fid]
        raw = "" if f["raw"] is None else str(f["raw"])
        shown = f'<span class="fig" data-figure="{_e(fid)}" data-raw="{_e(raw)}">{_e(f["text"])}</span>'
        if unit and f["unit"] and f["text"] not in ("-", "refused", "n/a"):
            shown += f' <span class="unit">{_e(f["unit"])}</span>'
        if src:
            shown += " " + self.source(f["block"], f["tx"])
        return shown

    @staticmethod
    def table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), empty: str = "none") -> str:  # type: ignore[assignment]
        if not rows:
            return f'<p class="empty">{_e(empty)}</p>'
        head = "".join(f'<th{" class=num" if i in numeric else ""}>{_e(h)}</th>' for i, h in enumerate(headers))
        body = "".join(
            "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""} data-label="{_e(headers[i])}">{c}</td>' for i, c in enumerate(row)) + "</tr>"
            for row in rows
        )
        return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'

    # --- sections ---

    def render(self) -> str:
        r = self.r
        title = f"SomStack transparency report: {r['network']} (chain {r['chainId']})"
        sections = [self.summary(), self.supply(), self.reserve(), self.redemption(), self.compliance(), self.governance(), self.about()]
        return (
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n"
            '<link rel="stylesheet" href="style.css">\n</head>\n<body>\n'
            f'<header><h1>SomStack transparency report</h1><p class="meta">Network <b>{_e(r["network"])}</b> (chain id {r["chainId"]}), '
            f'built at block <span data-figure-block="{r["block"]}">{self.block(r["block"])}</span>, {_e(r["time"])} (chain time). '
            + (f'Every figure is read from the chain and links to its block and transaction on <a href="{_e(self.explorer)}">{_e(self.explorer)}</a>. '
               if self.explorer else "Every figure is read from the chain (a development chain: no explorer; --explorer URL adds links). ")
            + '<a href="report.json">report.json</a> holds every figure.</p></header>\n<main>\n'
            + "\n".join(sections)
            + "\n</main>\n</body>\n</html>\n"
        )

    def summary(self) -> str:
        cards = []
        for key, token in self.r["tokens"].items():
            label = "KGST in circulation" if key == "kgst" else "Digital som in circulation"
            cards.append((label, self.fig(token["supply"])))
        res = self.r["reserve"]
        cards.append(("Reserve value", self.fig(res["total"])))
        cards.append(("Coverage of KGST", self.fig(res["coverage"]) + f'<br><small>minimum {self.fig(res["minCoverage"], src=False)}</small>'))
        body = "".join(f'<div class="card"><h3>{_e(label)}</h3><p>{value}</p></div>' for label, value in cards)
        return f'<section id="summary"><h2>Summary</h2><div class="cards">{body}</div></section>'

    def supply(self) -> str:
        r = self.r
        parts = ['<section id="supply"><h2>Supply</h2>',
                 f'<p>Minted and burned over the last {r["days"]} days, from the tokens\' Transfer events from and to the zero address.</p>']
        for key, token in r["tokens"].items():
            check = "matches" if token["reconciled"] else "DOES NOT match"
            parts.append(f'<h3>{_e(token["symbol"])} ({self.address(token["address"])})</h3>')
            parts.append(f'<figure><img src="supply-{key}.svg" alt="{_e(token["symbol"])} supply over {r["days"]} days" width="640" height="280"></figure>')
            parts.append(f'<p>Supply {self.fig(token["supply"])}; minted in the window {self.fig(token["minted"], src=False)}, '
                         f'burned {self.fig(token["burned"], src=False)}. The sum of all mints and burns since deployment '
                         f'({token["mints"]:,} mints, {token["burns"]:,} burns) {check} totalSupply.</p>')
            rows = [[_e(p["text"]), _e(_signed(p.get("change"), token["decimals"])), self.block(p["block"]), self.tx(p["tx"])]
                    for p in reversed(token["series"][1:-1])][:50]
            parts.append(f'<details><summary>Supply changes in the window ({len(token["series"]) - 2})</summary>'
                         + self.table(["supply after", "change", "block", "transaction"], rows, {0, 1}) + "</details>")
        parts.append("</section>")
        return "\n".join(parts)

    def reserve(self) -> str:
        res = self.r["reserve"]
        rows = []
        for a in res["assets"]:
            age = f'{a["priceAge"]:,} s' if a["priceAge"] is not None else "-"
            if not a["priceOk"]:
                age += ' <span class="warn">unusable: counted as zero</span>'
            rows.append([_e(a["symbol"]) + "<br>" + self.address(a["address"]), self.fig(a["balance"], unit=False, src=False),
                         self.fig(a["price"], unit=False, src=False), age, self.fig(a["haircut"], src=False),
                         self.fig(a["value"], unit=False, src=False), self.fig(a["counted"], unit=False, src=False)])
        parts = ['<section id="reserve"><h2>Reserve</h2>',
                 f'<p>ReserveVault {self.address(res["vault"])}, valued on chain at block {self.block(self.r["block"])} '
                 f'(prices from the vault\'s feeds, after haircuts and share caps).</p>',
                 self.table(["asset", "balance", "price USD", "price age", "haircut", "value som", "counted som"], rows, {1, 2, 3, 4, 5, 6}),
                 f'<p>Attested off-chain reserve {self.fig(res["attested"])}'
                 + (f', as of {_e(_when(res["attestedAsOf"]))} (age {res["attestedAge"]:,} s, max {res["attestationMaxAge"]:,} s), '
                    f'report hash <code>{_e(res["reportHash"])}</code>' if res["attestedAsOf"] else " (none posted)") + "</p>",
                 f'<p>Reserve value {self.fig(res["total"])}; som rate {self.fig(res["rate"], src=False)}; '
                 f'coverage {self.fig(res["coverage"])} (minimum {self.fig(res["minCoverage"], src=False)}).'
                 + (f' <span class="warn">Valuation refused: {_e(res["refusal"])}</span>' if res["refusal"] else "") + "</p>",
                 '<h3>Coverage over time</h3>',
                 f'<figure><img src="coverage.svg" alt="KGST coverage ratio over {self.r["days"]} days" width="640" height="280"></figure>']
        crow = [[_e(p["text"]), self.block(p["block"]), self.tx(p["tx"])] for p in reversed(res["coverageSeries"])][:50]
        parts.append(f'<details><summary>Coverage at each change ({len(res["coverageSeries"])})</summary>'
                     + self.table(["coverage", "block", "transaction"], crow, {0}) + "</details>")
        parts.append("<h3>Stress test: BNB price falls</h3>")
        srows = [[f'-{s["drop"]}%', self.fig(s["coverage"], src=False),
                  '<span class="warn">below minimum</span>' if s["belowMinimum"] else "ok"] for s in res["stress"]]
        parts.append(self.table(["BNB price", "coverage after", ""], srows, {1}, "no BNB in the reserve"))
        arows = [[_e(a["amount"]), _e(a["asOfText"]), f'{a["age"]:,} s', f'<code>{_e(a["reportHash"][:18])}…</code>',
                  _e(a["uri"]), self.block(a["block"]) + " " + self.tx(a["tx"])] for a in res["attestations"][:20]]
        parts.append("<h3>Attestations</h3>")
        parts.append(self.table(["som", "as of", "age", "report hash", "report", "source"], arows, {0, 2}, "no attestation posted"))
        parts.append("</section>")
        return "\n".join(parts)

    def redemption(self) -> str:
        q = self.r.get("redemption")
        if q is None:
            return ""
        rows = [[_e(b["timeText"]), str(b["requestId"]), self.address(b["holder"]), _e(b["amount"]), _e(b["deadlineText"]),
                 f'{b["overdue"]:,} s', self.block(b["block"]) + " " + self.tx(b["tx"])] for b in q["breaches"][:200]]
        paused = ' <span class="warn">New requests are paused.</span>' if q["paused"] else ""
        return ('<section id="redemption"><h2>Redemption queue</h2>'
                f'<p>Holders redeem KGST for som through the queue {self.address(q["queue"])}: a request holds its KGST in escrow '
                f'(still counted in the supply) until the desk pays it (the escrow is burned) or refuses it (the escrow goes back). '
                f'The service level is {q["serviceLevel"] / 3600:g} hours; past it, the holder may cancel and take the escrow back, '
                f'which counts as a breach for good.{paused}</p>'
                '<div class="cards">'
                f'<div class="card"><h3>Pending</h3><p>{self.fig(q["pendingCount"])}<br>{self.fig(q["pendingAmount"], src=False)}</p></div>'
                f'<div class="card"><h3>Oldest pending</h3><p>{self.fig(q["oldestAge"])}</p></div>'
                f'<div class="card"><h3>Paid in the last {self.r["days"]} days</h3><p>within the deadline {self.fig(q["paidWithin"], src=False)}'
                f'<br>after it {self.fig(q["paidAfter"], src=False)}</p></div>'
                f'<div class="card"><h3>Median time to pay</h3><p>{self.fig(q["medianToPay"], src=False)}</p></div>'
                f'<div class="card"><h3>Breaches since deployment</h3><p>{self.fig(q["breachCount"])}</p></div>'
                '</div>'
                f'<p>{q["requests"]:,} requests since deployment; {q["rejected"]:,} refused, {q["seized"]:,} seized under a court order.</p>'
                "<h3>Breaches</h3>"
                + self.table(["cancelled (UTC)", "request", "holder", "KGST", "deadline (UTC)", "overdue", "source"], rows, {1, 3, 5}, "no breach")
                + "</section>")

    def compliance(self) -> str:
        c = self.r["compliance"]
        rows = [[_e(a["timeText"]), _e(a["token"].upper()), _e(a["kind"]), self.address(a.get("account")),
                 (f'<code title="{_e(a["ref"])}">{_e(a["ref"][:18])}…</code>' + (f' {_e(a["reasonText"])}' if a.get("reasonText") else ""))
                 if a.get("ref") else "-", _e(a.get("amount", "")),
                 self.block(a["block"]) + " " + self.tx(a["tx"])] for a in c["actions"][:200]]
        prow = []
        for p in c["pauses"]:
            end = (f'{_e(p["to"]["timeText"])} {self.tx(p["to"]["tx"])}' if p["to"] else '<span class="warn">still paused</span>')
            prow.append([_e(p["token"].upper()), _e(p["what"]), f'{_e(p["from"]["timeText"])} {self.tx(p["from"]["tx"])}', end, f'{p["seconds"]:,} s'])
        return ('<section id="compliance"><h2>Compliance actions</h2>'
                f'<p>{c["blocks"]:,} blocks and {c["seizures"]:,} executed seizures since deployment. References are the hashes of the sanctions record or court case.</p>'
                + self.table(["time (UTC)", "token", "action", "account", "reference", "amount", "source"], rows, {5}, "no compliance action")
                + "<h3>Paused periods</h3>"
                + self.table(["token", "paused", "from", "until", "length"], prow, {4}, "never paused")
                + "</section>")

    def governance(self) -> str:
        g = self.r["governance"]
        rows = []
        for role in g["roles"]:
            members = "<br>".join(self.address(m["address"]) + (f' (delay {m["delay"]:,} s)' if m["delay"] else "") for m in role["members"]) or "-"
            rows.append([str(role["id"]), _e(role["name"]), members, f'{role["grantDelay"]:,} s', _e(", ".join(role["functions"]) or "-")])
        pending = [[_e(p["targetName"]), _e(p["function"]), self.address(p["caller"]), _e(p["executableAtText"]), _e(p["status"]),
                    self.block(p["block"]) + " " + self.tx(p["tx"])] for p in g["pending"]]
        upgrades = [[_e(u["contract"]), self.address(u["implementation"]), _e(u["timeText"]), self.block(u["block"]) + " " + self.tx(u["tx"])]
                    for u in g["upgrades"]]
        warn = ""
        if g["deployerRoles"]:
            warn = f'<p class="warn">The deployer still holds {_e(", ".join(g["deployerRoles"]))}.</p>'
        return ('<section id="governance"><h2>Governance</h2>'
                f'<p>AccessManager {self.address(g["manager"])}; roles as of block {self.block(g["matrixBlock"])}.</p>{warn}'
                + self.table(["id", "role", "members", "grant delay", "functions"], rows, {0, 3})
                + "<h3>Pending delayed operations</h3>"
                + self.table(["target", "function", "scheduled by", "executable from (UTC)", "status", "source"], pending, set(), "none pending")
                + "<h3>Upgrades</h3>"
                + self.table(["proxy", "implementation", "time (UTC)", "source"], upgrades, set(), "no upgrade")
                + "</section>")

    def about(self) -> str:
        r, cache = self.r, self.r["cache"]
        return ('<section id="about"><h2>How this page was made</h2>'
                f'<p>Built by <code>somstack report</code> from the deployment manifest and the chain at block {self.block(r["block"])} '
                f'(hash <code>{_e(r["blockHash"])}</code>), with no private key. Events since the deployment block {r["deploymentBlock"]:,} '
                f'were read in block ranges: {cache["getLogs"]:,} log queries over {cache["blocksScanned"]:,} new blocks, '
                f'{cache["blocksFromCache"]:,} blocks from the cache. Build time {r["buildSeconds"]} s.</p></section>')


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
    files["index.html"] = Page(report).render()
    written = []
    for name, text in files.items():
        path = out_dir / name
        write_text_atomically(path, text, mode=0o644)
        written.append(path)
    return written
