"""`somstack monitor run` and `monitor export` on anvil: events read behind the head into the
store, alerts raised as they arrive; a reorganisation deeper than the confirmations (a snapshot
revert) retracts its events and the alerts that rested on them; a kill -9 mid-run loses and
duplicates nothing; the webhook outbox survives a failing and an absent receiver; /metrics and
/healthz answer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from eth_account import Account
from monitorlib import monitor_port, reverted
from support import logs

from somstack.cli import main
from somstack.core.artifacts import Artifacts
from somstack.monitor.follow import Follower, Runner, deliver, serve_http, signature
from somstack.monitor.settings import load_rules
from somstack.monitor.store import Store


def runner(settings, chain, store, confirmations=0, webhook=None, tmp_path=None):
    follower = Follower(chain.w3, chain.manifest, Artifacts(settings.root), store, confirmations, chunk=500)
    return Runner(follower, store, load_rules({}, None, Decimal("87.45")), [], tmp_path or store.path.parent, webhook)


def test_run_reads_events_and_raises_an_alert_on_a_blocked_counterparty(chain, tmp_path, capsys):
    listed = Account.create().address
    store_path = tmp_path / "m.sqlite"
    with reverted(chain):
        chain.pay(chain.holder, listed, 100, ref=b"\x01" * 32)
        with chain.env():
            assert main(["compliance", "block", listed, "--reason", "UN-SC-1"]) == 0
            code = main(["monitor", "run", "--once", "--confirmations", "0", "--store", str(store_path)])
        out, err = capsys.readouterr()
        assert code == 0 and "1 open alert(s)" in out, err
        store = Store(store_path)
        names = {r[0] for r in store.db.execute("SELECT DISTINCT name FROM events")}
        assert {"Transfer", "TransferReference", "Minted", "AccountBlocked"} <= names
        [alert] = store.alerts("open")
        record = alert["record"]
        assert record["rule"] == "sanctions_direct" and record["addresses"] == [chain.holder, listed]
        exported = tmp_path / "t.csv"
        with chain.env():
            assert main(["monitor", "export", "--confirmations", "0", "--store", str(store_path), "--out", str(exported)]) == 0
        lines = exported.read_text().splitlines()
        assert lines[0].startswith("block_number,timestamp") and lines[-1].endswith(",100," + "0x" + "01" * 32)


def test_reorg_deeper_than_confirmations_retracts_events_and_alerts(settings, chain, tmp_path):
    store = Store(tmp_path / "m.sqlite")
    run = runner(settings, chain, store, confirmations=1)
    with reverted(chain):
        chain.rpc("anvil_mine", hex(2))  # the setup's last events are now behind the confirmation
        run.step()
        before = store.event_count()
        snapshot = chain.rpc("evm_snapshot")
        chain.pay(chain.holder, Account.create().address, 100_000)  # 1,143 USD without a reference
        chain.rpc("anvil_mine", hex(2))
        run.step()
        [alert] = store.alerts("open")
        assert alert["record"]["rule"] == "large_no_reference" and store.event_count() == before + 1
        assert chain.rpc("evm_revert", snapshot) is True
        chain.rpc("anvil_mine", hex(6))  # a longer chain without the transfer
        result = run.step()
        assert result.dropped_events == 1 and store.event_count() == before
        assert store.alerts("open") == [] and store.alerts("retracted")[0]["id"] == alert["id"]
        kinds = [r[0] for r in store.db.execute("SELECT kind FROM outbox ORDER BY seq")]
        assert kinds == ["alert", "retraction"]


def _cursor(path):
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
            return int(row[0]) if row else None
    except sqlite3.Error:
        return None


def test_resume_after_kill_loses_and_duplicates_nothing(settings, chain, tmp_path):
    killed = tmp_path / "killed.sqlite"
    with reverted(chain):
        for i in range(4):
            chain.pay(chain.holder, Account.create().address, 10 + i)
            chain.rpc("anvil_mine", hex(100))
        head = chain.w3.eth.block_number
        with chain.env() as env:
            process = subprocess.Popen([sys.executable, "-m", "somstack.cli", "monitor", "run", "--confirmations", "0", "--chunk", "1",
                                        "--poll", "0.05", "--port", "0", "--store", str(killed)], env={**os.environ, **env},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 60
                while time.time() < deadline and (_cursor(killed) or 0) < head - 300:
                    time.sleep(0.05)
                os.kill(process.pid, signal.SIGKILL)
            finally:
                process.wait(10)
            at_kill = _cursor(killed)
            assert at_kill is not None and at_kill < head  # killed mid-run
            assert main(["monitor", "run", "--once", "--confirmations", "0", "--store", str(killed)]) == 0
            assert main(["monitor", "run", "--once", "--confirmations", "0", "--store", str(tmp_path / "fresh.sqlite")]) == 0
        rows = [sorted(Store(p).db.execute("SELECT * FROM events").fetchall()) for p in (killed, tmp_path / "fresh.sqlite")]
        assert rows[0] == rows[1] and len(rows[0]) >= 4


class Receiver:
    """A webhook receiver that fails (HTTP 500) until told to accept."""

    def __init__(self, port):
        self.port, self.accept, self.bodies, self.signatures, self.server = port, False, [], [], None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 200 if receiver.accept else 500
                if receiver.accept:
                    receiver.bodies.append(json.loads(body))
                    receiver.signatures.append((self.headers.get("X-Somstack-Signature"), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_webhook_outbox_survives_a_failing_and_an_absent_receiver(settings, chain, tmp_path):
    port = monitor_port(5)
    url = f"http://127.0.0.1:{port}/hook"
    store = Store(tmp_path / "m.sqlite")
    receiver = Receiver(port).start()
    try:
        with reverted(chain):
            chain.pay(chain.holder, Account.create().address, 200_000)
            run = runner(settings, chain, store, webhook=url)
            run.step()  # raised, and the receiver answers 500
            [alert] = store.alerts("open")
            assert store.outbox_pending() == 1
            receiver.stop()
            assert deliver(store, url, now=time.time() + 10_000) == (0, 1)  # nobody listens
            seq, attempts, error = store.db.execute("SELECT seq, attempts, last_error FROM outbox").fetchone()
            assert attempts == 2 and error and store.outbox_pending() == 1
            receiver = Receiver(port).start()
            receiver.accept = True
            assert deliver(store, url, now=time.time() + 20_000, secret="s3cret") == (1, 0)
            assert store.outbox_pending() == 0
            header, body = receiver.signatures[0]
            assert header == signature("s3cret", body) and header.startswith("sha256=")  # the receiver can authenticate it
            assert [b["alert"]["id"] for b in receiver.bodies] == [alert["id"]] and receiver.bodies[0]["kind"] == "alert"
            assert deliver(store, url, now=time.time() + 30_000) == (0, 0)  # delivered once
    finally:
        receiver.stop()


def test_metrics_and_healthz(settings, chain, tmp_path):
    store = Store(tmp_path / "m.sqlite")
    run = runner(settings, chain, store)
    server = serve_http("127.0.0.1", monitor_port(6), run.metrics, run.health)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/healthz", timeout=5)
        assert refused.value.code == 503  # no poll yet
        run.step()
        health = json.loads(urllib.request.urlopen(base + "/healthz", timeout=5).read())
        assert health["ok"] is True and health["cursor"] == chain.w3.eth.block_number
        metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        assert f"somstack_monitor_cursor_block {float(health['cursor'])}" in metrics
        assert "somstack_monitor_outbox_pending 0.0" in metrics
    finally:
        server.shutdown()
        server.server_close()


def test_a_failed_round_is_logged_and_retried(settings, chain, tmp_path):
    store = Store(tmp_path / "m.sqlite")
    run = runner(settings, chain, store)
    real, calls = run.follower.poll, []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("node not answering")
        return real()

    run.follower.poll = flaky
    with logs.logged("somstack.monitor") as lines:
        run.run(poll=0.01, rounds=2)
    assert len(calls) == 2 and any("this round failed (ConnectionError: node not answering)" in line for line in lines)
    assert run.health.healthy() and run.health.last_error is None and store.cursor() == chain.w3.eth.block_number
