"""Every rule of the monitor as DuckDB SQL over one table of transfers.

The engine loads the transfers into a table ``tx`` (one row an event, ordered by ``seq``: time,
block, log index) and the blocked or listed addresses into ``listed``; each rule is a few set
queries over it (window functions for the 24 h / 1 h / 72 h windows, ASOF joins for "what had
arrived before this transfer", self-joins over the large transfers for cycles), so a million
transfers are scanned in seconds and nothing runs per row in Python. Only the alerts (a few per
ten thousand transfers) are built in Python.

Conventions shared by the rules (docs/monitor.md gives each rule's exact definition):
- The zero address is never a counterparty: a mint (from zero) or a burn (to zero) is not a
  payment; ``pay`` holds the transfers between two real addresses. Mints still count as clean
  money arriving in the taint attribution.
- Amounts are compared in som (a USD threshold is converted at the rule set's rate); alerts
  give USD.
- A windowed rule's alert is an *episode*: its flagged transfers of one subject, joined while
  they follow each other within the rule's window. Its id is the rule, the subject and the
  episode's first transfer, so the same data gives the same ids and a growing episode keeps
  its id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import duckdb

from somstack.monitor.alerts import Alert, alert_id, checksum, iso, unique
from somstack.monitor.settings import RuleSet
from somstack.monitor.transfers import ZERO, duckdb_source

DAY = 86400


def connect(threads: int | None = None, memory_limit: str | None = "1500MB") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


def _usd(rules: RuleSet, som: float) -> float:
    return round(rules.usd(som), 2)


def _money(value: float) -> str:
    return f"{value:,.2f} USD"


class Engine:
    """The rules over one set of transfers. ``load_csv``/``load_query`` fill ``tx``;
    ``set_listed`` the blocked or listed addresses; ``run`` returns the alerts."""

    def __init__(self, rules: RuleSet, con: duckdb.DuckDBPyConnection | None = None):
        self.rules = rules
        self.con = con or connect()
        self.con.execute("CREATE OR REPLACE TEMP TABLE listed (addr VARCHAR PRIMARY KEY)")

    # --- Data ---

    def load_csv(self, path: Path) -> int:
        """Loads a transfers file already validated by :func:`transfers.check`."""
        return self.load_query(f"SELECT * FROM {duckdb_source(path)}")

    def load_query(self, query: str, params: list[Any] | None = None) -> int:
        """Loads the transfers that ``query`` returns (columns block_number, timestamp, tx_hash,
        log_index, token, from, to, amount (text or number), reference)."""
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE tx AS
            SELECT row_number() OVER (ORDER BY "timestamp", block_number, log_index, lower(tx_hash)) AS seq,
                   block_number, "timestamp" AS ts, lower(tx_hash) AS tx_hash, log_index, token,
                   lower("from") AS src, lower("to") AS dst, CAST(amount AS DOUBLE) AS amount,
                   coalesce(reference, '') AS reference
            FROM ({query}) q""",
            params or [],
        )
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW pay AS SELECT * FROM tx WHERE src <> '{ZERO}' AND dst <> '{ZERO}'")
        return int(self.con.execute("SELECT count(*) FROM tx").fetchone()[0])

    def set_listed(self, addresses: Iterable[str]) -> int:
        rows = sorted({a.lower() for a in addresses if a and a.lower() != ZERO})
        self.con.execute("DELETE FROM listed")
        if rows:
            self.con.executemany("INSERT INTO listed VALUES (?)", [[a] for a in rows])
        return len(rows)

    # --- Running ---

    def run(self, only: Iterable[str] | None = None, timings: dict[str, float] | None = None) -> list[Alert]:
        import time

        wanted = set(only) if only else None
        alerts: list[Alert] = []
        for rule, method in self._rules().items():
            if not self.rules.enabled(rule) or (wanted is not None and rule not in wanted):
                continue
            start = time.perf_counter()
            exempt = set(self.rules.param(rule, "exempt"))
            alerts.extend(a for a in method() if a.subject.lower() not in exempt)
            if timings is not None:
                timings[rule] = time.perf_counter() - start
        return sorted(alerts, key=lambda a: (a.first_seen, a.rule, a.id))

    def _rules(self) -> dict[str, Callable[[], list[Alert]]]:
        return {
            "sanctions_direct": self.sanctions_direct,
            "sanctions_indirect": self.sanctions_indirect,
            "large_no_reference": self.large_no_reference,
            "structuring": self.structuring,
            "velocity": self.velocity,
            "pass_through": self.pass_through,
            "fan_in": lambda: self.fan("fan_in"),
            "fan_out": lambda: self.fan("fan_out"),
            "round_trip": self.round_trip,
        }

    def _alert(self, rule: str, key: tuple[object, ...], score: float, addresses: list[str], tx_hashes: list[str],
               first: int, last: int, som: float, explanation: str, **extra: Any) -> Alert:
        return Alert(
            id=alert_id(rule, *key),
            rule=rule,
            severity=self.rules.param(rule, "severity"),
            score=max(0, min(100, int(round(score)))),
            addresses=checksum(addresses),
            tx_hashes=unique(tx_hashes),
            first_seen=iso(first),
            last_seen=iso(last),
            amount_usd=_usd(self.rules, som),
            explanation=explanation,
            extra=extra,
        )

    def _q(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    # --- sanctions_direct: a transfer with a blocked or listed address ---

    def sanctions_direct(self) -> list[Alert]:
        rows = self._q(
            """WITH d AS (
                 SELECT *, src IN (SELECT addr FROM listed) AS ls, dst IN (SELECT addr FROM listed) AS ld FROM pay),
               e AS (SELECT *, ls AND NOT ld AS received FROM d WHERE ls OR ld)
            SELECT CASE WHEN received THEN dst ELSE src END AS subject, CASE WHEN received THEN src ELSE dst END AS other,
                   list(tx_hash ORDER BY seq), min(ts), max(ts), sum(amount),
                   coalesce(sum(amount) FILTER (WHERE received), 0), coalesce(sum(amount) FILTER (WHERE NOT received), 0), count(*)
            FROM e GROUP BY 1, 2"""
        )
        alerts = []
        for subject, other, txs, first, last, som, got, sent, n in rows:
            parts = []
            if got:
                parts.append(f"received {_money(self.rules.usd(got))} from")
            if sent:
                parts.append(f"sent {_money(self.rules.usd(sent))} to")
            text = (f"{checksum([subject])[0]} {' and '.join(parts)} the blocked or listed address {checksum([other])[0]} "
                    f"in {n} transfer(s) between {iso(first)} and {iso(last)}.")
            alerts.append(self._alert("sanctions_direct", (subject, other), 100, [subject, other], txs, first, last, som, text,
                                      listed=checksum([other])[0], transfers=n))
        return alerts

    # --- sanctions_indirect: funds within N hops downstream, attributed by amount ---

    def sanctions_indirect(self) -> list[Alert]:
        hops = self.rules.param("sanctions_indirect", "hops")
        share = self.rules.param("sanctions_indirect", "min_share")
        con = self.con
        # Hop 1: a transfer out of a listed address is wholly tainted. Each next hop: a transfer
        # out of A carries A's tainted share of everything A had received before it (pro rata,
        # the "haircut" attribution), counting every arrival, mints included, as the base.
        # Only tainted transfers are kept (taint_k is sparse): each hop looks at the arrivals of
        # the addresses tainted so far, and at the transfers out of them.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE taint_1 AS
            SELECT seq, src, dst, amount, amount AS taint FROM tx
            WHERE src IN (SELECT addr FROM listed) AND dst <> '{ZERO}' AND amount > 0""")
        for k in range(2, hops + 1):
            con.execute(f"""CREATE OR REPLACE TEMP TABLE tainted AS SELECT DISTINCT dst AS addr FROM taint_{k - 1}""")
            con.execute(f"""CREATE OR REPLACE TEMP TABLE taint_in AS
                SELECT x.dst AS addr, x.seq,
                       sum(coalesce(t.taint, 0)) OVER (PARTITION BY x.dst ORDER BY x.seq ROWS UNBOUNDED PRECEDING) AS cum_taint,
                       sum(x.amount) OVER (PARTITION BY x.dst ORDER BY x.seq ROWS UNBOUNDED PRECEDING) AS cum_in
                FROM tx x LEFT JOIN taint_{k - 1} t ON t.seq = x.seq WHERE x.dst IN (SELECT addr FROM tainted)""")
            con.execute(f"""CREATE OR REPLACE TEMP TABLE taint_{k} AS
                SELECT * FROM (
                  SELECT x.seq, x.src, x.dst, x.amount,
                         CASE WHEN x.src IN (SELECT addr FROM listed) THEN x.amount
                              WHEN i.cum_in > 0 THEN x.amount * least(1.0, i.cum_taint / i.cum_in) ELSE 0 END AS taint
                  FROM (SELECT seq, src, dst, amount FROM tx
                        WHERE dst <> '{ZERO}' AND (src IN (SELECT addr FROM tainted) OR src IN (SELECT addr FROM listed))) x
                  ASOF LEFT JOIN taint_in i ON x.src = i.addr AND x.seq > i.seq)
                WHERE taint > 0""")
        hop_case = " ".join(f"WHEN coalesce(t{k}.taint, 0) >= {share} * f.amount THEN {k}" for k in range(2, hops + 1))
        joins = " ".join(f"LEFT JOIN taint_{k} t{k} ON t{k}.seq = f.seq" for k in range(2, hops + 1))
        if hops < 2:
            return []
        rows = self._q(f"""WITH f AS (
                SELECT t.seq, t.taint, x.tx_hash, x.ts, x.src, x.dst, x.amount FROM taint_{hops} t JOIN tx x USING (seq)
                WHERE x.src <> '{ZERO}' AND x.amount > 0 AND t.taint >= ? * x.amount
                  AND x.src NOT IN (SELECT addr FROM listed) AND x.dst NOT IN (SELECT addr FROM listed)),
              h AS (SELECT f.*, CASE {hop_case} ELSE {hops} END AS hop FROM f {joins})
            SELECT dst, list(tx_hash ORDER BY seq), list(src ORDER BY seq), min(ts), max(ts), sum(amount), sum(taint),
                   max(taint / amount), min(hop), count(*)
            FROM h GROUP BY dst""", [share])
        alerts = []
        for subject, txs, srcs, first, last, som, tainted, top, hop, n in rows:
            text = (f"{checksum([subject])[0]} received {n} transfer(s) of {_money(self.rules.usd(som))} whose funds are at least "
                    f"{share:.0%} (up to {top:.0%}) traceable within {hop} hop(s) to blocked or listed addresses: "
                    f"{_money(self.rules.usd(tainted))} attributed by amount.")
            alerts.append(self._alert("sanctions_indirect", (subject,), top * 100, [subject, *srcs], txs, first, last, tainted, text,
                                      hop=int(hop), max_share=round(float(top), 4), transfers=n))
        return alerts

    # --- large_no_reference: a transfer over the travel-rule threshold without a reference ---

    def large_no_reference(self) -> list[Alert]:
        minimum = self.rules.min_som("large_no_reference")
        rows = self._q(
            """SELECT src, ts // 86400 AS day, list(tx_hash ORDER BY seq), list(dst ORDER BY seq), min(ts), max(ts), sum(amount),
                      max(amount), count(*)
               FROM pay WHERE amount >= ? AND reference = '' GROUP BY src, day""", [minimum])
        alerts = []
        for subject, day, txs, dsts, first, last, som, top, n in rows:
            text = (f"{checksum([subject])[0]} sent {n} transfer(s) of at least {_money(self.rules.usd(minimum))} "
                    f"(largest {_money(self.rules.usd(top))}) without a travel-rule reference on {iso(day * DAY)[:10]}.")
            alerts.append(self._alert("large_no_reference", (subject, day), 50 + 10 * min(n, 5), [subject, *dsts], txs, first, last,
                                      som, text, transfers=n))
        return alerts

    # --- structuring: several transfers just under the threshold within a window ---

    def structuring(self) -> list[Alert]:
        p = self.rules.rules["structuring"]
        threshold = p["min_som"]
        low, high = p["band_low"] * threshold, p["band_high"] * threshold
        alerts = []
        for side, key, other, extra in (("out", "src", "dst", ""), ("in", "dst", "src", "HAVING count(DISTINCT src) >= 2")):
            rows = self._q(f"""WITH b AS (SELECT * FROM pay WHERE amount >= ? AND amount < ?),
                  w AS (SELECT *, count(*) OVER (PARTITION BY {key} ORDER BY ts RANGE BETWEEN ? PRECEDING AND CURRENT ROW) AS n FROM b),
                  f AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY {key} ORDER BY seq) <= ? THEN 0 ELSE 1 END AS fresh
                        FROM w WHERE {key} IN (SELECT {key} FROM w WHERE n >= ?)),
                  e AS (SELECT *, sum(fresh) OVER (PARTITION BY {key} ORDER BY seq ROWS UNBOUNDED PRECEDING) AS ep FROM f)
                SELECT {key}, ep, max(n), list(tx_hash ORDER BY seq), list({other} ORDER BY seq), min(ts), max(ts), sum(amount), count(*)
                FROM e GROUP BY {key}, ep {"HAVING max(n) >= ?" if not extra else extra + " AND max(n) >= ?"}""",
                           [low, high, p["window_s"], p["window_s"], p["min_count"], p["min_count"]])
            for subject, _ep, top, txs, others, first, last, som, n in rows:
                verb = "sent" if side == "out" else "received"
                text = (f"{checksum([subject])[0]} {verb} {n} transfers each between {_money(self.rules.usd(low))} and "
                        f"{_money(self.rules.usd(high))}, just under the reporting threshold, {int(top)} of them within "
                        f"{p['window_s'] // 3600} h, between {iso(first)} and {iso(last)}.")
                alerts.append(self._alert("structuring", (side, subject, txs[0]), 60 + 10 * (top - p["min_count"]), [subject, *others],
                                          txs, first, last, som, text, side=side, max_in_window=int(top), transfers=n))
        return alerts

    # --- velocity: a day's outflow far above the wallet's own median day ---

    def velocity(self) -> list[Alert]:
        p = self.rules.rules["velocity"]
        # the median is computed only for the days over the amount threshold (a few), each
        # against the wallet's active days of the look-back window
        rows = self._q("""WITH d AS (SELECT src, ts // 86400 AS day, sum(amount) AS out FROM pay GROUP BY src, day),
              c AS (SELECT * FROM d WHERE out >= ?),
              w AS (SELECT c.src, c.day, any_value(c.out) AS out, median(h.out) AS med, count(h.out) AS active
                    FROM c LEFT JOIN d h ON h.src = c.src AND h.day >= c.day - ? AND h.day <= c.day - 1 GROUP BY c.src, c.day),
              x AS (SELECT w.*, list(p.tx_hash ORDER BY p.seq) AS txs, list(p.dst ORDER BY p.seq) AS dsts, min(p.ts) AS first,
                           max(p.ts) AS last
                    FROM w JOIN pay p ON p.src = w.src AND p.ts // 86400 = w.day
                    WHERE w.active >= ? AND w.out > ? * w.med GROUP BY ALL),
              f AS (SELECT *, CASE WHEN day - lag(day) OVER (PARTITION BY src ORDER BY day) <= 1 THEN 0 ELSE 1 END AS fresh
                    FROM x),
              e AS (SELECT *, sum(fresh) OVER (PARTITION BY src ORDER BY day ROWS UNBOUNDED PRECEDING) AS ep FROM f)
            SELECT src, ep, min(day), flatten(list(txs ORDER BY day)), flatten(list(dsts ORDER BY day)), min(first), max(last),
                   sum(out), max(out / med), arg_max(med, out), count(*)
            FROM e GROUP BY src, ep""", [p["min_som"], p["lookback_days"], p["min_active_days"], p["multiple"]])
        alerts = []
        for subject, _ep, day, txs, dsts, first, last, som, ratio, median, days in rows:
            text = (f"{checksum([subject])[0]} sent {_money(self.rules.usd(som))} in {days} day(s) from {iso(day * DAY)[:10]}, "
                    f"{ratio:,.0f} times its median active day of the previous {p['lookback_days']} days "
                    f"({_money(self.rules.usd(median))}).")
            alerts.append(self._alert("velocity", (subject, day), min(100, 40 + ratio), [subject, *dsts], txs, first, last, som, text,
                                      ratio=round(float(ratio), 1), median_usd=_usd(self.rules, median), days=days))
        return alerts

    # --- pass_through: what arrives leaves again within the hour ---

    def pass_through(self) -> list[Alert]:
        p = self.rules.rules["pass_through"]
        con = self.con
        con.execute("""CREATE OR REPLACE TEMP TABLE pt_in AS
            SELECT seq, ts, ts + ? AS te, dst AS addr, src, amount, tx_hash FROM pay WHERE amount >= ? AND src <> dst""",
                    [p["window_s"], p["min_som"]])
        con.execute("""CREATE OR REPLACE TEMP TABLE pt_out AS
            SELECT src AS addr, seq, ts, sum(amount) OVER (PARTITION BY src ORDER BY seq ROWS UNBOUNDED PRECEDING) AS cum
            FROM pay WHERE src IN (SELECT DISTINCT addr FROM pt_in) AND src <> dst""")
        con.execute("CREATE OR REPLACE TEMP TABLE pt_out_t AS SELECT addr, ts, max(cum) AS cum FROM pt_out GROUP BY addr, ts")
        rows = self._q("""WITH a AS (SELECT i.*, coalesce(o.cum, 0) AS c0 FROM pt_in i ASOF LEFT JOIN pt_out o ON i.addr = o.addr AND i.seq > o.seq),
              b AS (SELECT a.*, coalesce(o.cum, 0) AS c1 FROM a ASOF LEFT JOIN pt_out_t o ON a.addr = o.addr AND a.te >= o.ts),
              f AS (SELECT *, c1 - c0 AS left_som FROM b WHERE c1 - c0 >= ? * amount),
              g AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY addr ORDER BY seq) <= ? THEN 0 ELSE 1 END AS fresh FROM f),
              e AS (SELECT *, sum(fresh) OVER (PARTITION BY addr ORDER BY seq ROWS UNBOUNDED PRECEDING) AS ep FROM g),
              o AS (SELECT e.addr, e.ep, p.seq, p.tx_hash, p.dst, p.ts FROM e JOIN pay p ON p.src = e.addr AND p.seq > e.seq AND p.ts <= e.te AND p.dst <> p.src)
            SELECT e.addr, e.ep, list(e.tx_hash ORDER BY e.seq), list(e.src ORDER BY e.seq), min(e.ts), sum(e.amount), sum(e.left_som),
                   count(*), min(e.left_som / e.amount),
                   (SELECT list(DISTINCT o.tx_hash) FROM o WHERE o.addr = e.addr AND o.ep = e.ep),
                   (SELECT list(DISTINCT o.dst) FROM o WHERE o.addr = e.addr AND o.ep = e.ep),
                   (SELECT max(o.ts) FROM o WHERE o.addr = e.addr AND o.ep = e.ep)
            FROM e GROUP BY e.addr, e.ep""", [p["share"], p["window_s"]])
        alerts = []
        for subject, _ep, in_txs, srcs, first, som, left, n, share, out_txs, dsts, last in rows:
            out_txs = sorted(out_txs or [])
            text = (f"{checksum([subject])[0]} passed on at least {share:.0%} of {n} arrival(s) of {_money(self.rules.usd(som))} "
                    f"within {p['window_s'] // 60} minutes of each, from {iso(first)}.")
            alerts.append(self._alert("pass_through", (subject, in_txs[0]), 50 + 50 * min(1.0, share), [subject, *srcs, *sorted(dsts or [])],
                                      [*in_txs, *out_txs], first, max(last or first, first), som, text, arrivals=n,
                                      min_share=round(float(share), 4)))
        return alerts

    # --- fan_in / fan_out: many distinct counterparties within a window ---

    def fan(self, rule: str) -> list[Alert]:
        p = self.rules.rules[rule]
        key, other = ("dst", "src") if rule == "fan_in" else ("src", "dst")
        # Candidates first: a window of at most a day spans two UTC days, so it can qualify only
        # where two adjacent days of the address together have enough distinct counterparties
        # (the sum of each day's count bounds their union) and enough money. The windows are
        # computed over those days' transfers only: exactly the windows that can qualify.
        if p["window_s"] > DAY:
            cand = f"SELECT {key} AS addr, ts // 86400 AS day FROM pay WHERE {key} IN (SELECT {key} FROM pay GROUP BY {key} HAVING count(DISTINCT {other}) >= ?)"
            cand_params = [p["min_counterparties"]]
        else:
            cand = f"""SELECT addr, day FROM (
                  SELECT a.addr, a.day, a.day + 1 AS next FROM
                    (SELECT {key} AS addr, ts // 86400 AS day, count(DISTINCT {other}) AS n, sum(amount) AS s FROM pay GROUP BY 1, 2) a
                    LEFT JOIN (SELECT {key} AS addr, ts // 86400 AS day, count(DISTINCT {other}) AS n, sum(amount) AS s FROM pay GROUP BY 1, 2) b
                    ON b.addr = a.addr AND b.day = a.day + 1
                  WHERE a.n + coalesce(b.n, 0) >= ? AND a.s + coalesce(b.s, 0) >= ?)
                UNPIVOT (day FOR which IN (day, next))"""
            cand_params = [p["min_counterparties"], p["min_som"]]
        rows = self._q(f"""WITH c AS (SELECT DISTINCT addr, day FROM ({cand})),
              w AS (SELECT *, count(DISTINCT {other}) OVER h AS ncp, sum(amount) OVER h AS s
                    FROM pay WHERE ({key}, ts // 86400) IN (SELECT (addr, day) FROM c)
                    WINDOW h AS (PARTITION BY {key} ORDER BY ts RANGE BETWEEN ? PRECEDING AND CURRENT ROW)),
              f AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY {key} ORDER BY seq) <= ? THEN 0 ELSE 1 END AS fresh
                    FROM w WHERE ncp >= ? AND s >= ?),
              e AS (SELECT {key} AS addr, sum(fresh) OVER (PARTITION BY {key} ORDER BY seq ROWS UNBOUNDED PRECEDING) AS ep, ts, seq, ncp FROM f),
              g AS (SELECT addr, ep, min(ts) AS f_first, max(ts) AS f_last, max(ncp) AS top FROM e GROUP BY addr, ep)
            SELECT g.addr, g.ep, g.top, list(p.tx_hash ORDER BY p.seq), list(p.{other} ORDER BY p.seq), min(p.ts), max(p.ts),
                   sum(p.amount), count(DISTINCT p.{other})
            FROM g JOIN pay p ON p.{key} = g.addr AND p.ts >= g.f_first - ? AND p.ts <= g.f_last
            GROUP BY g.addr, g.ep, g.top""",
                       [*cand_params, p["window_s"], p["window_s"], p["min_counterparties"], p["min_som"], p["window_s"]])
        alerts = []
        direction = "into" if rule == "fan_in" else "out of"
        for subject, _ep, top, txs, others, first, last, som, distinct in rows:
            text = (f"{int(top)} distinct counterparties moved money {direction} {checksum([subject])[0]} within "
                    f"{p['window_s'] // 3600} h ({distinct} in all, {_money(self.rules.usd(som))}, {iso(first)} to {iso(last)}).")
            alerts.append(self._alert(rule, (subject, txs[0]), 40 + 3 * top, [subject, *others], txs, first, last, som, text,
                                      max_counterparties=int(top), counterparties=int(distinct)))
        return alerts

    # --- round_trip: an amount that comes back to its sender within a few hops ---

    def round_trip(self) -> list[Alert]:
        p = self.rules.rules["round_trip"]
        r, window, hops = p["min_return"], p["window_s"], p["max_hops"]
        con = self.con
        con.execute("""CREATE OR REPLACE TEMP TABLE rt_big AS
            SELECT seq, ts, src, dst, amount, tx_hash FROM pay WHERE amount >= ? AND src <> dst""", [r * p["min_som"]])
        # each hop carries at least r of the first amount, and not more than the first amount / r
        cond = "x{k}.seq > x{j}.seq AND x{k}.ts <= x1.ts + {w} AND x{k}.amount >= {r} * x1.amount AND x{k}.amount <= x1.amount / {r}"
        parts = []
        body2 = cond.format(k=2, j=1, w=window, r=r)
        parts.append(f"""SELECT 2 AS hops, x1.seq AS s1, x2.seq AS sn, [x1.tx_hash, x2.tx_hash] AS txs, [x1.src, x1.dst] AS path,
                           x1.ts AS first, x2.ts AS last, x1.amount AS a1, x2.amount AS an
                         FROM x1 JOIN rt_big x2 ON x2.src = x1.dst AND x2.dst = x1.src AND {body2}""")
        if hops >= 3:
            parts.append(f"""SELECT 3, x1.seq, x3.seq, [x1.tx_hash, x2.tx_hash, x3.tx_hash], [x1.src, x1.dst, x2.dst], x1.ts, x3.ts,
                               x1.amount, x3.amount
                             FROM x1 JOIN rt_big x2 ON x2.src = x1.dst AND x2.dst <> x1.src AND {cond.format(k=2, j=1, w=window, r=r)}
                             JOIN rt_big x3 ON x3.src = x2.dst AND x3.dst = x1.src AND {cond.format(k=3, j=2, w=window, r=r)}""")
        if hops >= 4:
            parts.append(f"""SELECT 4, x1.seq, x4.seq, [x1.tx_hash, x2.tx_hash, x3.tx_hash, x4.tx_hash], [x1.src, x1.dst, x2.dst, x3.dst],
                               x1.ts, x4.ts, x1.amount, x4.amount
                             FROM x1 JOIN rt_big x2 ON x2.src = x1.dst AND x2.dst <> x1.src AND {cond.format(k=2, j=1, w=window, r=r)}
                             JOIN rt_big x3 ON x3.src = x2.dst AND x3.dst <> x1.src AND x3.dst <> x1.dst AND {cond.format(k=3, j=2, w=window, r=r)}
                             JOIN rt_big x4 ON x4.src = x3.dst AND x4.dst = x1.src AND {cond.format(k=4, j=3, w=window, r=r)}""")
        rows = self._q(f"""WITH x1 AS (SELECT * FROM rt_big WHERE amount >= ?),
              c AS ({" UNION ALL ".join(parts)}),
              b AS (SELECT * FROM c QUALIFY row_number() OVER (PARTITION BY s1 ORDER BY sn, hops) = 1)
            SELECT hops, s1, txs, path, first, last, a1, an FROM b WHERE s1 NOT IN (SELECT sn FROM b) ORDER BY s1""", [p["min_som"]])
        alerts = []
        for n, _s1, txs, path, first, last, a1, an in rows:
            subject = path[0]
            text = (f"{checksum([subject])[0]} sent {_money(self.rules.usd(a1))} that came back "
                    f"({an / a1:.0%}, {_money(self.rules.usd(an))}) through {n - 1} other address(es) within "
                    f"{(last - first) / 3600:.1f} h.")
            alerts.append(self._alert("round_trip", (subject, txs[0]), 50 + 50 * min(1.0, an / a1), path, txs, first, last, a1, text,
                                      hops=int(n), returned_share=round(float(an / a1), 4)))
        return alerts
