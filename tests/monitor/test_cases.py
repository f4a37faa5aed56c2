"""A case from alert to block proposal on anvil: a planted sanctions exposure (a listed address
pays a wallet) is raised by `monitor run`, listed by `monitor alerts`, opened as a case, noted,
identified (registry hashes only, the request audited), blocked through the existing compliance
command, reported (JSON + HTML, escaped) and closed; the audit trail is append-only and
hash-chained."""

from __future__ import annotations

import json

from eth_account import Account
from monitorlib import reverted

from somstack.cli import main
from somstack.monitor.store import Store


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_case_from_alert_to_block(chain, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOMSTACK_ANALYST", "analyst-7")
    listed, wallet = Account.create().address, Account.create().address
    blocklist = tmp_path / "list.csv"
    blocklist.write_text(f"address,reason,source\n{listed},UN-SC-2026/1,UN\n")
    store_path = str(tmp_path / "m.sqlite")
    s = ["--store", store_path]
    with reverted(chain):
        chain.pay(chain.holder, listed, 50_000, ref=b"\x02" * 32)
        chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction({"from": chain.holder, "to": listed, "value": 10**17}))
        chain.rpc("anvil_impersonateAccount", listed)
        receipt = chain.pay(listed, wallet, 20_000, ref=b"\x03" * 32)
        with chain.env():
            assert run(capsys, "monitor", "run", "--once", "--confirmations", "0", "--blocklist", str(blocklist), *s)[0] == 0
            code, out, _err = run(capsys, "monitor", "alerts", "--status", "open", "--json", *s)
            alerts = [json.loads(line) for line in out.splitlines()]
            exposure = next(a for a in alerts if a["rule"] == "sanctions_direct" and a["addresses"][0] == wallet)
            assert exposure["tx_hashes"] == ["0x" + bytes(receipt["transactionHash"]).hex()]

            code, out, _err = run(capsys, "monitor", "case", "open", exposure["id"], "--note", "received from a UN-listed address", *s)
            assert code == 0 and "case C-00001 opened by analyst-7" in out
            code, _out, err = run(capsys, "monitor", "case", "open", exposure["id"], *s)
            assert code == 1 and "already in case C-00001" in err and "Traceback" not in err
            assert run(capsys, "monitor", "case", "note", "C-00001", "<script>alert(1)</script> checked the counterparty", *s)[0] == 0

            code, out, _err = run(capsys, "monitor", "case", "identify", "C-00001", "--why", "FIU request 2026/88", *s)
            assert code == 0 and f"{wallet}  not a registered digital som wallet" in out

            code, out, err = run(capsys, "monitor", "case", "propose-block", "C-00001", *s)
            assert code == 0 and "block sent for 1 address(es)" in out, err
            assert chain.kgst.functions.isBlocked(wallet).call() is True

            code, out, _err = run(capsys, "monitor", "case", "report", "C-00001", "--out", str(tmp_path / "str"), *s)
            assert code == 0
            assert run(capsys, "monitor", "case", "close", "C-00001", "--outcome", "blocked", *s)[0] == 0
            code, _out, err = run(capsys, "monitor", "case", "note", "C-00001", "late", *s)
            assert code == 1 and "is closed" in err

    report = json.loads((tmp_path / "str.json").read_text())
    assert report["subjects"] == [wallet] and report["alerts"][0]["id"] == exposure["id"]
    assert [t["tx_hash"] for t in report["transactions"]] == exposure["tx_hashes"]
    assert report["transactions"][0]["reference"] == "0x" + "03" * 32 and report["transactions"][0]["amount"] == "20000"
    assert any("checked the counterparty" in n["text"] for n in report["notes"])
    html = (tmp_path / "str.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html

    store = Store(tmp_path / "m.sqlite")
    trail = store.audit("C-00001")
    assert [e["action"] for e in trail] == ["open", "note", "identify", "propose-block", "report", "close"]
    assert all(e["who"] == "analyst-7" for e in trail)
    identify = trail[2]["detail"]
    assert identify["why"] == "FIU request 2026/88" and identify["returned"] == {wallet: None}
    assert trail[3]["detail"]["done"] == [wallet] and trail[3]["detail"]["route"] == "direct"
    assert store.verify_audit() is True
    store.db.execute("UPDATE audit SET who = 'someone else' WHERE action = 'note'")
    assert store.verify_audit() is False  # a changed row breaks the hash chain


def test_case_open_refuses_an_unknown_alert(tmp_path, capsys):
    Store(tmp_path / "m.sqlite").close()
    code, _out, err = run(capsys, "monitor", "case", "open", "A-nope", "--who", "a1", "--store", str(tmp_path / "m.sqlite"))
    assert code == 1 and "no alert A-nope" in err and err.count("Error:") == 1


def test_propose_block_as_a_safe_proposal_sends_nothing(chain, tmp_path, capsys):
    listed, wallet = Account.create().address, Account.create().address
    blocklist = tmp_path / "list.csv"
    blocklist.write_text(f"address,reason\n{listed},OFAC-SDN-9\n")
    s = ["--store", str(tmp_path / "m.sqlite"), "--who", "analyst-3"]
    with reverted(chain):
        chain.pay(chain.holder, listed, 1_000, ref=b"\x04" * 32)
        chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction({"from": chain.holder, "to": listed, "value": 10**17}))
        chain.rpc("anvil_impersonateAccount", listed)
        chain.pay(listed, wallet, 500, ref=b"\x05" * 32)
        with chain.env():
            assert run(capsys, "monitor", "run", "--once", "--confirmations", "0", "--blocklist", str(blocklist), "--store", s[1])[0] == 0
            store = Store(tmp_path / "m.sqlite")
            alert = next(a for a in store.alerts("open") if a["record"]["addresses"][0] == wallet)
            assert run(capsys, "monitor", "case", "open", alert["id"], *s)[0] == 0
            batch = tmp_path / "batch.json"
            code, out, err = run(capsys, "monitor", "case", "propose-block", "C-00001", "--safe", chain.accounts[6], "--batch", str(batch), *s)
            assert code == 0 and "block proposed to the Safe for 1 address(es)" in out, err
            assert chain.kgst.functions.isBlocked(wallet).call() is False  # a proposal sends nothing
        transactions = json.loads(batch.read_text())["transactions"]
        assert len(transactions) == 2  # blockAccount on KGST and on the digital som
        trail = store.audit("C-00001")
        assert trail[-1]["action"] == "propose-block" and trail[-1]["detail"]["route"] == "safe"


def test_digital_som_events_and_identify_returns_registry_hashes_only(chain, settings, tmp_path, capsys):
    from eth_utils import keccak

    from somstack.core.artifacts import Artifacts

    w3, accounts = chain.w3, chain.accounts
    som = Artifacts(settings.root).get("DigitalCurrency").contract(w3, chain.manifest.address("DigitalCurrency"))
    issuer, treasury, kyc = accounts[20], accounts[21], accounts[22]
    citizen, identity = Account.create().address, keccak(text="salted national id 1")

    def send(call, sender):
        return w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))

    blocklist = tmp_path / "list.csv"
    blocklist.write_text(f"address,reason\n{treasury},TEST-LISTING-1\n")
    s = ["--store", str(tmp_path / "m.sqlite"), "--who", "kyc-desk-2"]
    with reverted(chain):
        send(som.functions.registerWallet(treasury, 10, keccak(text="treasury"), keccak(text="kyc-t")), kyc)
        send(som.functions.registerWallet(citizen, 2, identity, keccak(text="kyc-c")), kyc)
        send(som.functions.mint(treasury, 100_000_000, keccak(text="issue-1")), issuer)  # 1,000,000.00 som
        send(som.functions.transfer(citizen, 1_234_567), treasury)  # 12,345.67 som
        with chain.env():
            assert run(capsys, "monitor", "run", "--once", "--confirmations", "0", "--blocklist", str(blocklist), "--store", s[1])[0] == 0
            store = Store(tmp_path / "m.sqlite")
            rows = store.db.execute("SELECT name, amount FROM events WHERE token = 'DSOM' AND name IN ('Issued', 'Transfer') ORDER BY block_number, log_index").fetchall()
            assert ("Issued", "1000000") in rows and ("Transfer", "12345.67") in rows
            alert = next(a for a in store.alerts("open") if a["record"]["addresses"][0] == citizen)
            assert run(capsys, "monitor", "case", "open", alert["id"], *s)[0] == 0
            code, out, err = run(capsys, "monitor", "case", "identify", "C-00001", "--why", "court order 77/2026", *s)
        assert code == 0, err
        assert out.strip() == f"{citizen}  tier 2  identity 0x{identity.hex()}"
        entry = store.audit("C-00001")[-1]
        assert entry["action"] == "identify" and entry["who"] == "kyc-desk-2" and entry["detail"]["why"] == "court order 77/2026"
        assert entry["detail"]["returned"] == {citizen: {"tier": 2, "identity": "0x" + identity.hex()}}
