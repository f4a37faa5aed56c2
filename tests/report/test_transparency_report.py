"""`somstack report`: the transparency page against a deployed chain of the module's own, with
mints, a burn, a block, a seizure, a pause, an attestation and a scheduled withdrawal on it.

The figures of report.json are compared with the chain (totalSupply, coverage, balances); the
event cache is checked to read only new blocks on a rerun, and to survive a tiny chunk size;
bad input gives one error line. The page is opened in headless Chromium (the Makefile's
`install` puts it at /usr/bin/chromium): its rendered figures must be report.json's, it must
load no asset over the network, and phone and desktop screenshots go to
reports/report-screenshots/.

Dev accounts (brownie-config.yaml dev_holders): MINTER 1, MINTER_ADMIN 2, BURNER 3, PAUSER 4,
COMPLIANCE 6, SEIZE_APPROVER 7."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))

from clihelp import assert_one_line_error, deployed_chain, reverted, run  # noqa: E402

from somstack.cli import main
from somstack.core.format import units
from somstack.system.roles import role_id

HOLDER, VICTIM, BURNER, REDEEMER = 11, 12, 3, 24
UNIT = 10**18
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


def ok(*argv):
    assert main(list(argv)) == 0, argv


@pytest.fixture(scope="module")
def system(settings, tmp_path_factory):
    """A deployed chain with every kind of event the page shows."""
    with deployed_chain(settings, tmp_path_factory) as (node, manifest):
        w3 = Web3(Web3.HTTPProvider(node.url))
        acct = w3.eth.accounts
        ok("reserve", "set-rate", "--rate", "87.5")
        ok("reserve", "deposit", "--asset", "BNB", "--amount", "1000")
        ok("reserve", "attest", "--amount", "5000000", "--as-of", "now", "--report-hash", "0x" + "ab" * 32, "--uri", "ipfs://report-1")
        ok("minter", "set", acct[1], "--allowance", "1000000")
        ok("mint", acct[HOLDER], "500", "--ref", "deposit-1")
        ok("mint", acct[VICTIM], "300", "--ref", "deposit-2")
        ok("mint", acct[BURNER], "100", "--ref", "deposit-3")
        ok("burn", "40", "--ref", "payout-1")
        ok("block", acct[VICTIM], "--reason", "UN-LIST-42")
        ok("seize", "propose", acct[VICTIM], "--to", acct[BURNER], "--amount", "300", "--case", "COURT-CASE-117")
        ok("seize", "execute", "1")
        _redemptions(w3, manifest, settings)
        ok("pause", "--token", "kgst", "--what", "mint")
        ok("unpause", "--token", "kgst", "--what", "mint")
        ok("pause", "--token", "kgst", "--what", "redeem")
        ok("governance", "schedule", "reserve", "withdraw", "--asset", "BNB", "--amount", "10", "--to", acct[HOLDER])
        artifacts = settings.root / "build" / "contracts"
        abi = {n: json.loads((artifacts / f"{n}.json").read_text())["abi"] for n in ("Stablecoin", "ReserveVault", "DigitalCurrency")}
        contracts = {n: w3.eth.contract(address=manifest.address(n), abi=abi[n]) for n in abi}
        yield type("System", (), {"w3": w3, "manifest": manifest, "accounts": acct, "c": contracts, "node": node})


def _redemptions(w3, manifest, settings):
    """The queue with a 60 s service level: request 1 paid in time, 2 cancelled after its
    deadline (a breach), 3 paid late, 4 still pending."""
    abi = json.loads((settings.root / "build" / "contracts" / "RedemptionQueue.json").read_text())["abi"]
    queue = w3.eth.contract(address=manifest.address("RedemptionQueue"), abi=abi)
    queue.functions.setServiceLevel(60).transact({"from": w3.eth.accounts[0]})
    for i, amount in enumerate(("150", "100", "100", "100"), start=1):
        ok("redeem", "request", amount, "--payout", f"salted-bank-details-{i}", "--from-index", str(HOLDER))
    ok("redeem", "pay", "1", "--bank-ref", "bank-1", "--from-index", str(REDEEMER))
    w3.provider.make_request("evm_increaseTime", [61])
    w3.provider.make_request("evm_mine", [])
    ok("redeem", "cancel", "2", "--from-index", str(HOLDER))
    ok("redeem", "pay", "3", "--bank-ref", "bank-3", "--from-index", str(REDEEMER))


@pytest.fixture(scope="module")
def built(system, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    cache = tmp_path_factory.mktemp("cache")
    return build(out, cache, "--explorer", "https://bscscan.com")


def build(out, cache, *extra, requests=None):
    """Builds the report with the CLI; ``requests`` (a list) collects the JSON-RPC method of
    every request that goes through web3's HTTP provider."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("somstack.report.cache_dir", lambda _session: cache)
        if requests is not None:
            send = Web3.HTTPProvider.make_request

            def counted(provider, method, params):
                requests.append(method)
                return send(provider, method, params)

            mp.setattr(Web3.HTTPProvider, "make_request", counted)
        code = main(["report", "--network", "local", "--out", str(out), *extra])
    assert code == 0
    return json.loads((out / "report.json").read_text()), out


def figure(report, fid):
    return report["figures"][fid]


# --- Figures equal the chain ---


def test_report_supply_equals_total_supply(system, built):
    report, _ = built
    kgst = system.c["Stablecoin"].functions
    supply = kgst.totalSupply().call(block_identifier=report["block"])
    assert supply == (500 + 300 + 100 - 40 - 150 - 100) * UNIT  # two redemptions paid from the queue
    assert figure(report, "kgst.supply")["raw"] == supply
    assert figure(report, "kgst.supply")["text"] == units(supply, 18)
    assert figure(report, "som.supply")["raw"] == system.c["DigitalCurrency"].functions.totalSupply().call()
    token = report["tokens"]["kgst"]
    assert token["reconciled"] and token["mints"] == 3 and token["burns"] == 3  # one burn, two queue payments
    assert [p["raw"] for p in token["series"][1:-1]] == [500 * UNIT, 800 * UNIT, 900 * UNIT, 860 * UNIT, 710 * UNIT, 610 * UNIT]


def test_report_reserve_equals_the_vault(system, built):
    report, _ = built
    vault = system.c["ReserveVault"].functions
    at = report["block"]
    assert figure(report, "reserve.coverage")["raw"] == vault.coverageRatio().call(block_identifier=at)
    assert figure(report, "reserve.total")["raw"] == vault.valuation().call(block_identifier=at)[2]
    bnb = report["reserve"]["assets"][[a["symbol"] for a in report["reserve"]["assets"]].index("BNB")]
    assert figure(report, bnb["balance"])["raw"] == vault.asset(bnb["address"]).call(block_identifier=at)[4] == 1000 * UNIT
    assert figure(report, "reserve.attested")["raw"] == 5_000_000 * UNIT
    assert report["reserve"]["attestations"][0]["reportHash"] == "0x" + "ab" * 32
    drops = {s["drop"]: figure(report, s["coverage"])["raw"] for s in report["reserve"]["stress"]}
    native = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
    assert drops[50] == vault.stressedCoverage(native, 5000).call(block_identifier=at)
    assert drops[25] >= drops[50] >= drops[75]
    assert report["reserve"]["coverageSeries"][-1]["raw"] == figure(report, "reserve.coverage")["raw"]


def test_report_redemption_queue_figures(system, built):
    report, _ = built
    w3, at = system.w3, report["block"]
    abi = json.loads((ROOT / "build" / "contracts" / "RedemptionQueue.json").read_text())["abi"]
    queue = w3.eth.contract(address=system.manifest.address("RedemptionQueue"), abi=abi).functions
    q = report["redemption"]
    assert figure(report, q["pendingCount"])["raw"] == queue.pendingCount().call(block_identifier=at) == 1
    assert figure(report, q["pendingAmount"])["raw"] == queue.pendingAmount().call(block_identifier=at) == 100 * UNIT
    assert (figure(report, q["paidWithin"])["raw"], figure(report, q["paidAfter"])["raw"]) == (1, 1)
    _holder, requested_at, *_rest = queue.request(4).call(block_identifier=at)
    assert figure(report, q["oldestAge"])["raw"] == report["timestamp"] - requested_at
    paid = [queue.request(i).call(block_identifier=at)[1] for i in (1, 3)]
    assert figure(report, q["medianToPay"])["raw"] > 0 and (q["requests"], q["rejected"], q["seized"]) == (4, 0, 0)
    breach = q["breaches"]
    assert figure(report, q["breachCount"])["raw"] == len(breach) == queue.breachCount().call(block_identifier=at) == 1
    receipt = w3.eth.get_transaction_receipt(breach[0]["tx"])
    assert breach[0]["requestId"] == 2 and receipt["to"] == system.manifest.address("RedemptionQueue") and len(paid) == 2


def test_report_lists_compliance_actions_and_pauses(system, built):
    report, _ = built
    c = report["compliance"]
    kinds = [(a["token"], a["kind"]) for a in c["actions"]]
    assert kinds.count(("kgst", "block")) == kinds.count(("som", "block")) == 1  # `somstack block` blocks on both tokens
    assert kinds.count(("kgst", "seizure executed")) == 1
    seizure = next(a for a in c["actions"] if a["kind"] == "seizure executed")
    assert seizure["ref"] == Web3.to_hex(Web3.keccak(text="COURT-CASE-117"))
    assert seizure["amount"] == units(300 * UNIT, system.c["Stablecoin"].functions.decimals().call()) == "300"
    assert system.w3.eth.get_transaction_receipt(seizure["tx"])["blockNumber"] == seizure["block"]
    pauses = {(p["what"], p["to"] is None) for p in c["pauses"]}
    assert pauses == {("mint", False), ("redeem", True)}


def test_report_shows_pending_operations_roles_and_upgrades(system, built):
    report, _ = built
    g = report["governance"]
    (pending,) = g["pending"]
    assert pending["targetName"] == "ReserveVault" and pending["function"] == "withdraw" and pending["status"] == "waiting"
    assert pending["executableAt"] > report["timestamp"]
    minter = next(r for r in g["roles"] if r["name"] == "MINTER")
    assert [m["address"] for m in minter["members"]] == [system.accounts[1]]
    assert {u["contract"] for u in g["upgrades"]} >= {"Stablecoin", "ReserveVault", "DigitalCurrency"}


# --- The event cache ---


def test_report_rerun_reads_only_new_blocks(system, built, tmp_path):
    first, _ = build(tmp_path / "a", tmp_path / "cache")
    requests = []
    again, _ = build(tmp_path / "b", tmp_path / "cache", requests=requests)
    assert first["cache"]["getLogs"] > 0 and first["cache"]["blocksScanned"] > 0
    assert again["cache"]["getLogs"] == 0 and again["cache"]["blocksScanned"] == 0
    assert "eth_call" in requests and "eth_getLogs" not in requests  # the role matrix too reads its events through the cache
    ok("mint", system.accounts[HOLDER], "1", "--ref", "deposit-late")
    third, _ = build(tmp_path / "c", tmp_path / "cache")
    queries = len(list((tmp_path / "cache").glob("0x*.json")))
    new_blocks = third["block"] - again["block"]
    assert third["cache"]["blocksScanned"] == new_blocks  # each block counted once, however many queries read it
    assert third["cache"]["queriedBlockRanges"] == queries * new_blocks
    assert figure(third, "kgst.supply")["raw"] == figure(again, "kgst.supply")["raw"] + UNIT
    assert third["tokens"]["kgst"]["reconciled"]


def test_report_cache_from_another_chain_is_thrown_away(system, tmp_path):
    build(tmp_path / "a", tmp_path / "cache")
    for path in (tmp_path / "cache").glob("0x*.json"):
        entry = json.loads(path.read_text())
        entry["anchor"]["genesis"] = "0x" + "00" * 32
        path.write_text(json.dumps(entry))
    again, _ = build(tmp_path / "b", tmp_path / "cache")
    assert again["cache"]["blocksScanned"] > 0 and again["cache"]["invalidated"]


def test_report_cache_is_dropped_when_the_chain_went_back(system, tmp_path):
    """A dev chain reverted to a snapshot (or a reorganisation): the cached last block's hash no
    longer matches, so the cache is read again rather than trusted."""
    w3 = system.w3
    with reverted(w3):
        snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
        ok("mint", system.accounts[HOLDER], "7", "--ref", "deposit-undone")
        build(tmp_path / "a", tmp_path / "cache")
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
        ok("mint", system.accounts[HOLDER], "2", "--ref", "deposit-instead")
        again, _ = build(tmp_path / "b", tmp_path / "cache")
        supply = system.c["Stablecoin"].functions.totalSupply().call()
    assert any("changed" in why for why in again["cache"]["invalidated"])
    assert figure(again, "kgst.supply")["raw"] == supply and again["tokens"]["kgst"]["reconciled"]


def test_report_tiny_chunks_give_the_same_figures(system, built, tmp_path, capsys):
    report, _ = built
    tiny, _ = build(tmp_path / "site", tmp_path / "cache", "--chunk", "3", "--block", str(report["block"]))
    assert tiny["cache"]["getLogs"] > 3 * len(list((tmp_path / "cache").glob("0x*.json")))
    err = capsys.readouterr().err
    assert re.search(r"\[#+ *\] 100% [0-9,]+/[0-9,]+ blocks", err), err[-500:]  # the progress bar of the long scans
    assert tiny["figures"] == report["figures"]
    assert tiny["compliance"] == report["compliance"]


def test_report_at_a_past_block(system, built, tmp_path):
    """A report at a past block shows that block's chain: the assets registered then (not an
    asset unregistered later), the role members then (not a MINTER granted later)."""
    report, _ = built
    w3, vault = system.w3, system.c["ReserveVault"].functions
    kgst = system.c["Stablecoin"].functions
    past = report["tokens"]["kgst"]["series"][2]["block"]  # the second mint
    manifest_assets = system.manifest.contracts["ReserveVault"]["assets"]
    btcb = Web3.to_checksum_address(manifest_assets["BTCB"])
    manager = w3.eth.contract(address=system.manifest.address("AccessManager"), abi=json.loads(
        (ROOT / "build" / "contracts" / "SomAccessManager.json").read_text())["abi"])
    minter = role_id("MINTER")
    granted = min(e["blockNumber"] for e in manager.events.RoleGranted().get_logs(from_block=0, argument_filters={"roleId": minter}))
    with reverted(w3):
        sent = vault.unregisterAsset(btcb).transact({"from": system.accounts[15]})  # RESERVE_ADMIN; BTCB holds nothing
        assert w3.eth.wait_for_transaction_receipt(sent)["status"] == 1  # mined before it is read back
        assert btcb not in vault.assets().call()
        old, _ = build(tmp_path / "site", tmp_path / "cache", "--block", str(past))
        before_grant, _ = build(tmp_path / "site0", tmp_path / "cache", "--block", str(granted - 1))
    assert old["block"] == past
    assert figure(old, "kgst.supply")["raw"] == kgst.totalSupply().call(block_identifier=past) == 800 * UNIT
    assert old["tokens"]["kgst"]["reconciled"]
    assert old["governance"]["matrixBlock"] == past
    assert not [a for a in old["compliance"]["actions"] if a["block"] > past]
    assert {a["address"] for a in old["reserve"]["assets"]} == set(vault.assets().call(block_identifier=past)) >= {btcb}
    assert figure(old, "reserve.total")["raw"] == vault.valuation().call(block_identifier=past)[2]
    assert figure(old, "reserve.coverage")["raw"] == vault.coverageRatio().call(block_identifier=past)
    roles = {r["name"]: r["members"] for r in before_grant["governance"]["roles"]}
    assert roles["MINTER"] == [] and before_grant["governance"]["matrixBlock"] == granted - 1
    now = {r["name"]: r["members"] for r in report["governance"]["roles"]}
    assert [m["address"] for m in now["MINTER"]] == [system.accounts[1]]


# --- Bad input: one line, non-zero exit ---


def test_report_unknown_network_is_one_line(capsys):
    code, _, err = run(capsys, "report", "--network", "no-such-net", "--out", "unused")
    assert_one_line_error(code, err, "no-such-net")


def test_report_unwritable_out_dir_is_one_line(system, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "report", "--network", "local", "--out", str(blocker / "site"))
    assert_one_line_error(code, err, "ReportError", "output folder")


def test_report_without_manifest_is_one_line(system, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(tmp_path / "empty"))
    code, _, err = run(capsys, "report", "--network", "local", "--out", str(tmp_path / "site"))
    assert_one_line_error(code, err, "ManifestError", "nothing deployed")


def test_report_past_the_head_is_one_line(system, capsys, tmp_path):
    code, _, err = run(capsys, "report", "--network", "local", "--out", str(tmp_path / "site"), "--block", "99999999")
    assert_one_line_error(code, err, "ReportError", "99999999")


# --- The page ---


class Figures(HTMLParser):
    """data-figure -> the text of each element carrying it, and every href/src of the page."""

    def __init__(self):
        super().__init__()
        self.figures, self.links, self._open = {}, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if key in attrs:
                self.links.append((tag, key, attrs[key]))
        if "data-figure" in attrs:
            self._open = attrs["data-figure"]
            self.figures.setdefault(self._open, []).append("")

    def handle_data(self, data):
        if self._open:
            self.figures[self._open][-1] += data

    def handle_endtag(self, tag):
        if tag == "span":
            self._open = None


def parse(html):
    parser = Figures()
    parser.feed(html)
    return parser


def test_page_assets_are_local_and_links_go_to_the_explorer(built):
    report, out = built
    page = parse((out / "index.html").read_text())
    assert report["explorer"] == "https://bscscan.com"
    for tag, key, url in page.links:
        if re.match(r"https?:", url):
            assert tag == "a" and url.startswith(report["explorer"]), (tag, url)
        elif tag != "a":
            assert (out / url).is_file(), url
    for name in ("style.css", "supply-kgst.svg", "coverage.svg"):
        assert not re.search(r"(src|href)=\"https?:", (out / name).read_text()), name
    supply = figure(report, "kgst.supply")
    assert f'{report["explorer"]}/block/{supply["block"]}' in (out / "index.html").read_text()
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o644}  # readable by a web server
    assert not list(out.glob(".*"))  # no temporary file left behind


def chromium(*args, profile):
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run `make install` (it installs Debian's chromium)")
    return CHROMIUM


def test_rendered_page_shows_report_figures(system, built, browser, tmp_path):
    report, out = built
    done = chromium("--dump-dom", (out / "index.html").as_uri(), profile=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    page = parse(done.stdout)
    shown = page.figures
    assert set(shown) == set(report["figures"])
    for fid, item in report["figures"].items():
        assert set(shown[fid]) == {item["text"]}, fid
    supply = system.c["Stablecoin"].functions.totalSupply().call(block_identifier=report["block"])
    assert shown["kgst.supply"][0] == units(supply, 18)
    coverage = system.c["ReserveVault"].functions.coverageRatio().call(block_identifier=report["block"])
    assert shown["reserve.coverage"][0] == f"{units(coverage, 2, 2)}%"


@pytest.mark.parametrize("device,size", [("phone", "390,844"), ("desktop", "1280,900")])
def test_rendered_page_screenshots(built, browser, tmp_path, device, size):
    _, out = built
    folder = ROOT / "reports" / "report-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"report-{device}.png"
    shot.unlink(missing_ok=True)
    done = chromium(f"--screenshot={shot}", f"--window-size={size}", "--hide-scrollbars", (out / "index.html").as_uri(),
                    profile=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(shot.read_bytes()[16:20], "big")
    assert width == int(size.split(",")[0])
    print(f"{device} screenshot: {shot}")
    shutil.copy(shot, tmp_path / shot.name)


def test_report_of_a_dev_chain_links_to_no_explorer(system, tmp_path):
    """A dev chain has no explorer: no link to BscScan's blocks (they are other blocks)."""
    report, out = build(tmp_path / "site", tmp_path / "cache")
    assert report["explorer"] is None
    html = (out / "index.html").read_text()
    assert "bscscan" not in html and not re.search(r'href="https?:', html)
    assert "no explorer; --explorer URL adds links" in html


def test_report_keeps_the_sanctions_reason_text_beside_its_hash(built):
    report, out = built
    blocks = [a for a in report["compliance"]["actions"] if a["kind"] == "block"]
    assert {a["ref"] for a in blocks} == {Web3.to_hex(Web3.keccak(text="UN-LIST-42"))}
    assert {a["reasonText"] for a in blocks} == {"UN-LIST-42"}
    assert "UN-LIST-42" in (out / "index.html").read_text()


# --- Chain data is text: symbols, names, references and attestation URIs cannot inject markup ---

SCRIPT = "<script>alert(1)</script><script>document.body.setAttribute('data-pwned', 'script')</script>"
IMG = "\"><img src=x onerror=\"document.body.setAttribute('data-pwned', 'img')\">"
JAVASCRIPT = "javascript:document.body.setAttribute('data-pwned','link')"


class Elements(HTMLParser):
    """Every element of a page, as (tag, attributes)."""

    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_inert(out, tmp_path, *payloads):
    """index.html holds each payload as text (escaped), and in Chromium no script of it ran,
    no element of it exists, and no link leads anywhere but http(s) or ipfs."""
    html = (out / "index.html").read_text()
    for payload in payloads:
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&#34;&gt;&lt;img src=x onerror=" in html
    done = chromium("--dump-dom", (out / "index.html").as_uri(), profile=tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    parser = Elements()
    parser.feed(done.stdout)
    tags = [tag for tag, _ in parser.elements]
    assert "body" in tags and "script" not in tags and "img" in tags  # the charts are the page's only images
    for tag, attrs in parser.elements:
        assert "data-pwned" not in attrs, (tag, attrs)
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].endswith(".svg"), attrs
        if tag == "a":
            assert re.match(r"(https?|ipfs)://|report\.json$", attrs["href"]), attrs
    return html


def test_attestation_uris_from_the_chain_are_text_and_a_javascript_uri_is_no_link(system, built, browser, tmp_path):
    """An ATTESTOR posts report URIs holding markup and a javascript: URI: the page shows them
    as text; an ipfs:// (or http/https) report is a link, a javascript: one is not."""
    import time

    with reverted(system.w3):
        for uri in (SCRIPT + IMG, JAVASCRIPT):
            time.sleep(1.1)  # each attestation is dated after the last (as-of now, in whole seconds)
            system.w3.provider.make_request("evm_mine", [])
            ok("reserve", "attest", "--amount", "5000000", "--as-of", "now", "--report-hash", "0x" + "cd" * 32, "--uri", uri)
        report, out = build(tmp_path / "site", tmp_path / "cache", "--explorer", "https://bscscan.com")
    assert [a["uri"] for a in report["reserve"]["attestations"][:3]] == [JAVASCRIPT, SCRIPT + IMG, "ipfs://report-1"]
    html = assert_inert(out, tmp_path, SCRIPT, IMG)
    assert 'href="ipfs://report-1"' in html
    assert "javascript:" in html and 'href="javascript:' not in html


def test_token_symbols_and_names_from_the_chain_are_escaped_on_the_page_and_charts(built, browser, tmp_path):
    """The page of a report whose token symbol, reserve asset symbol, role name and sanctions
    reason hold markup (what a token registered by governance, or a chain, could carry)."""
    from somstack.report import write_site

    report = json.loads(json.dumps(built[0]))
    report["tokens"]["kgst"]["symbol"] = "KGST" + SCRIPT
    report["reserve"]["assets"][0]["symbol"] = IMG
    report["governance"]["roles"][0]["name"] = SCRIPT
    blocked = next(a for a in report["compliance"]["actions"] if a.get("reasonText"))
    blocked["reasonText"] = IMG
    out = tmp_path / "site"
    out.mkdir()
    write_site(report, out)
    assert_inert(out, tmp_path, SCRIPT, IMG)
    chart = (out / "supply-kgst.svg").read_text()
    assert SCRIPT not in chart and "KGST&lt;script&gt;alert(1)&lt;/script&gt;" in chart
    assert chart.count("<title>") == 1 and "<script" not in chart


def test_only_http_https_and_ipfs_uris_are_links():
    from somstack.report.templating import is_link

    assert all(is_link(u) for u in ("https://example.org/r.pdf", "http://x.y/z", "ipfs://bafy", "HTTPS://X.Y"))
    for uri in ("javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                "data:text/html,<script>alert(1)</script>", "https://x.y/\nz", "\x01https://x.y", "//x.y", "ipfs:bafy", "", None):
        assert not is_link(uri), uri
