"""The analyst's cases: alerts gathered into a case, an append-only audit trail of who did what
and when (store.Store.append_audit: hash-chained), and the suspicious-transaction report for the
financial intelligence unit (JSON, and a readable HTML page).

A case holds addresses and hashes, never a person: `identify` asks the digital som's registry
for the identity hashes of the case's wallets, records who asked, when and why, and returns the
hashes only; resolving a hash to a person stays with the KYC officer, off chain
(docs/privacy.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

from somstack.core.errors import InputError
from somstack.monitor.alerts import iso
from somstack.monitor.store import Store, StoreError

OUTCOMES = ("reported", "blocked", "false_positive", "no_action")


class CaseError(StoreError):
    """A case operation is refused (unknown case or alert, a closed case, an alert already in a case)."""


def _case(store: Store, case_id: str) -> dict[str, Any]:
    row = store.db.execute("SELECT id, status, opened_by, opened_at, closed_at FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise CaseError(f"no case {case_id} in {store.path.name}")
    alerts = [r[0] for r in store.db.execute("SELECT alert_id FROM case_alerts WHERE case_id = ? ORDER BY alert_id", (case_id,))]
    return {"id": row[0], "status": row[1], "opened_by": row[2], "opened_at": row[3], "closed_at": row[4], "alerts": alerts}


def _who(who: str) -> str:
    who = (who or "").strip()
    if not who:
        raise InputError("--who: name the analyst (an operator id, not a customer)")
    return who


def open_case(store: Store, alert_ids: Sequence[str], who: str, note: str = "") -> dict[str, Any]:
    who = _who(who)
    if not alert_ids:
        raise InputError("name at least one alert id")
    known = {a["id"]: a for a in store.alerts()}
    for alert_id in alert_ids:
        if alert_id not in known:
            raise CaseError(f"no alert {alert_id} in {store.path.name} (see `somstack monitor alerts`)")
        if known[alert_id]["case_id"]:
            raise CaseError(f"alert {alert_id} is already in case {known[alert_id]['case_id']}")
    with store.tx() as db:
        number = int(db.execute("SELECT count(*) FROM cases").fetchone()[0]) + 1
        case_id = f"C-{number:05d}"
        now = int(time.time())
        db.execute("INSERT INTO cases VALUES (?, 'open', ?, ?, NULL)", (case_id, who, now))
        for alert_id in alert_ids:
            db.execute("INSERT INTO case_alerts VALUES (?, ?)", (case_id, alert_id))
            db.execute("UPDATE alerts SET case_id = ?, status = CASE WHEN status = 'open' THEN 'in_case' ELSE status END WHERE id = ?",
                       (case_id, alert_id))
        store.append_audit(db, case_id, who, "open", {"alerts": list(alert_ids), "note": note}, now)
    return _case(store, case_id)


def note(store: Store, case_id: str, who: str, text: str) -> dict[str, Any]:
    who = _who(who)
    case = _case(store, case_id)
    if case["status"] != "open":
        raise CaseError(f"case {case_id} is {case['status']}: notes go on open cases")
    if not text.strip():
        raise InputError("the note is empty")
    with store.tx() as db:
        return store.append_audit(db, case_id, who, "note", {"text": text})


def close(store: Store, case_id: str, who: str, outcome: str, text: str = "") -> dict[str, Any]:
    who = _who(who)
    case = _case(store, case_id)
    if case["status"] != "open":
        raise CaseError(f"case {case_id} is already {case['status']}")
    if outcome not in OUTCOMES:
        raise InputError(f"--outcome must be one of {', '.join(OUTCOMES)}")
    with store.tx() as db:
        now = int(time.time())
        db.execute("UPDATE cases SET status = 'closed', closed_at = ? WHERE id = ?", (now, case_id))
        db.execute("UPDATE alerts SET status = 'closed' WHERE case_id = ? AND status = 'in_case'", (case_id,))
        return store.append_audit(db, case_id, who, "close", {"outcome": outcome, "text": text}, now)


def subjects(store: Store, case_id: str) -> list[str]:
    """The subject address of each of the case's alerts (the first address), in order, once each."""
    case = _case(store, case_id)
    out: list[str] = []
    for alert_id in case["alerts"]:
        subject = store.alert(alert_id)["record"]["addresses"][0]
        if subject not in out:
            out.append(subject)
    return out


def record(store: Store, case_id: str, who: str, action: str, detail: dict[str, Any]) -> dict[str, Any]:
    who = _who(who)
    _case(store, case_id)
    with store.tx() as db:
        return store.append_audit(db, case_id, who, action, detail)


# --- the report for the financial intelligence unit ---


def build_report(store: Store, case_id: str) -> dict[str, Any]:
    case = _case(store, case_id)
    alerts = [store.alert(a)["record"] for a in case["alerts"]]
    hashes = sorted({h for a in alerts for h in a["tx_hashes"]})
    transactions = []
    if hashes:
        marks = ",".join("?" * len(hashes))
        rows = store.db.execute(f"""SELECT block_number, ts, tx_hash, log_index, token, src, dst, amount,
                                          (SELECT r.ref FROM events r WHERE r.tx_hash = e.tx_hash AND r.name = 'TransferReference'
                                             AND r.log_index > e.log_index ORDER BY r.log_index LIMIT 1)
                                   FROM events e WHERE e.name = 'Transfer' AND e.tx_hash IN ({marks})
                                   ORDER BY block_number, log_index""", hashes).fetchall()
        transactions = [{"block": r[0], "time": iso(r[1]), "tx_hash": r[2], "log_index": r[3], "token": r[4], "from": r[5], "to": r[6],
                         "amount": r[7], "reference": r[8] or ""} for r in rows]
    audit = store.audit(case_id)
    return {
        "report": "suspicious transaction report",
        "case": case_id,
        "status": case["status"],
        "opened_by": case["opened_by"],
        "opened_at": iso(case["opened_at"]),
        "closed_at": iso(case["closed_at"]) if case["closed_at"] else None,
        "chain_id": store.get("chain_id"),
        "generated": iso(time.time()),
        "subjects": subjects(store, case_id),
        "alerts": alerts,
        "transactions": transactions,
        "notes": [{"at": iso(e["at"]), "who": e["who"], "text": e["detail"].get("text") or e["detail"].get("note", "")}
                  for e in audit if e["action"] in ("note", "open") and (e["detail"].get("text") or e["detail"].get("note"))],
        "audit": [{"at": iso(e["at"]), "who": e["who"], "action": e["action"], "detail": e["detail"], "hash": e["hash"]} for e in audit],
        "audit_chain_intact": store.verify_audit(),
        "privacy": "Addresses and hashes only. The holder of a wallet is known to the KYC officer, off chain.",
    }


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Suspicious transaction report {{ r.case }}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem;max-width:72rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}code{font-size:12px;word-break:break-all}
.sev-critical{color:#a00;font-weight:600}.sev-high{color:#c50}</style></head>
<body>
<h1>Suspicious transaction report: case {{ r.case }}</h1>
<p>Status: {{ r.status }}. Opened by {{ r.opened_by }} at {{ r.opened_at }}{% if r.closed_at %}, closed at {{ r.closed_at }}{% endif %}.
Chain {{ r.chain_id }}. Generated {{ r.generated }}.</p>
<p>{{ r.privacy }}</p>
<h2>Subjects</h2>
<ul>{% for s in r.subjects %}<li><code>{{ s }}</code></li>{% endfor %}</ul>
<h2>Evidence: alerts</h2>
<table><tr><th>alert</th><th>rule</th><th>severity</th><th>score</th><th>USD</th><th>first / last seen</th><th>explanation</th></tr>
{% for a in r.alerts %}<tr><td><code>{{ a.id }}</code></td><td>{{ a.rule }}</td><td class="sev-{{ a.severity }}">{{ a.severity }}</td>
<td>{{ a.score }}</td><td>{{ "{:,.2f}".format(a.amount_usd) }}</td><td>{{ a.first_seen }}<br>{{ a.last_seen }}</td><td>{{ a.explanation }}</td></tr>
{% endfor %}</table>
<h2>Transactions</h2>
<table><tr><th>time</th><th>block</th><th>token</th><th>from</th><th>to</th><th>amount</th><th>reference</th><th>transaction</th></tr>
{% for t in r.transactions %}<tr><td>{{ t.time }}</td><td>{{ t.block }}</td><td>{{ t.token }}</td><td><code>{{ t["from"] }}</code></td>
<td><code>{{ t.to }}</code></td><td>{{ t.amount }}</td><td><code>{{ t.reference }}</code></td><td><code>{{ t.tx_hash }}</code></td></tr>
{% else %}<tr><td colspan="8">The transactions are named in the alerts (the store holds no events for them).</td></tr>{% endfor %}</table>
<h2>Analyst's notes</h2>
<ul>{% for n in r.notes %}<li>{{ n.at }}, {{ n.who }}: {{ n.text }}</li>{% else %}<li>none</li>{% endfor %}</ul>
<h2>Audit trail</h2>
<p>Append-only, hash-chained: {{ "intact" if r.audit_chain_intact else "BROKEN" }}.</p>
<table><tr><th>time</th><th>who</th><th>action</th><th>detail</th><th>hash</th></tr>
{% for e in r.audit %}<tr><td>{{ e.at }}</td><td>{{ e.who }}</td><td>{{ e.action }}</td><td><code>{{ e.detail | tojson }}</code></td><td><code>{{ e.hash[:16] }}</code></td></tr>
{% endfor %}</table>
</body></html>
"""


def render_html(report: dict[str, Any]) -> str:
    from jinja2 import Environment

    env = Environment(autoescape=True)
    return env.from_string(_HTML).render(r=report)


def write_report(store: Store, case_id: str, out: Path, who: str) -> tuple[Path, Path]:
    """Writes OUT's .json and .html siblings; records the report in the audit trail."""
    report = build_report(store, case_id)
    base = out.with_suffix("") if out.suffix.lower() in (".json", ".html", ".htm") else out
    json_path, html_path = base.with_name(base.name + ".json"), base.with_name(base.name + ".html")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    record(store, case_id, who, "report", {"files": [json_path.name, html_path.name], "alerts": len(report["alerts"]),
                                            "transactions": len(report["transactions"])})
    return json_path, html_path
