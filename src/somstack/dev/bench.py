"""`make bench` (`python -m somstack.dev bench`): the gas of every user-facing operation of SomStack, side by side
with reference tokens compiled in the same run with the same compiler, and the speed of the harness.

What it does, in one run:

- compiles the project (brownie, brownie-config.yaml) and the reference wrappers of
  ``benchmarks/contracts`` (OpenZeppelin ERC20 + ERC20Permit, the same + ERC3009, Solady's ERC20)
  with the same solc, EVM version, optimizer and remappings (:func:`somstack.core.artifacts.compile_sources`);
- starts its own anvil on a free port, deploys SomStack with the one deployment plan
  (:mod:`somstack.system.deploy`, manifest in a temporary folder) and the references next to it;
- measures ``gasUsed`` from the receipt of each operation (21,000 base and calldata included);
  views (``coverageRatio``) are measured with ``eth_estimateGas``, which also counts the base;
- times the harness: a full local deployment (fresh anvil each time), the CLI's 10,000-recipient
  disbursement (``somstack cbdc disburse`` in a subprocess) and ``make test``, each the median of
  several runs;
- writes ``benchmarks/results/gas.md`` and ``gas.json`` (:func:`build_report`, :func:`write_report`).

Settings (environment): BENCH_TEST_RUNS (runs of `make test`, default 3; 0 reuses the figure of
the previous gas.json, said so in the report), BENCH_TEST_ARGS (PYTEST_ARGS of those runs, e.g.
``--network dev-h1``), BENCH_DEPLOY_RUNS (default 3), BENCH_DISBURSE_RUNS (default 3),
BENCH_RECIPIENTS (default 10,000).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from somstack.core import logs
from somstack.core.artifacts import (
    Artifact,
    Artifacts,
    compile_project,
    compile_sources,
)
from somstack.core.chain import LocalNode, LocalSigner, NodeSigner, Sender
from somstack.core.config import Network, Settings, load_settings
from somstack.core.errors import SomstackError
from somstack.core.format import utc
from somstack.core.manifest import git_commit
from somstack.core.signatures import (
    Domain,
    random_nonce,
    sign_authorization,
    sign_permit,
)
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders

Log = Callable[[str], None]

SCHEMA = 1
RESULTS = Path("benchmarks") / "results"
REFERENCE_SOURCES = Path("benchmarks") / "contracts"
REFERENCE_REMAPPINGS = ["solady=node_modules/solady"]
UNIT = 10**18
TYIYN = 100  # digital som units per som
BATCH_SIZES = (1, 50, 200)
VAULT_ASSET_COUNTS = (1, 3, 5)


class BenchError(SomstackError):
    """The benchmark could not measure what it measures (a step reverted, a run failed)."""


# --- Results ---


@dataclass
class Row:
    """One operation: our gas and the references' (None where the operation does not exist)."""

    section: str
    operation: str
    ours: int | None
    oz: int | None = None
    solady: int | None = None
    note: str = ""

    @property
    def ratio_oz(self) -> float | None:
        return round(self.ours / self.oz, 2) if self.ours and self.oz else None

    @property
    def ratio_solady(self) -> float | None:
        return round(self.ours / self.solady, 2) if self.ours and self.solady else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio_oz": self.ratio_oz, "ratio_solady": self.ratio_solady}


@dataclass(frozen=True)
class Target:
    """A gas target of issue 6: the row it reads and its limit."""

    key: str
    name: str
    section: str
    operation: str
    limit: int
    why: str  # what the figure is made of: why it is met, or why it is missed


TARGETS = (
    Target("kgst-transfer-existing", "KGST transfer to an existing holder", "Stablecoin (KGST)", "transfer to an existing holder", 42_000,
           "proxy (~2,700) + cold pause read (2,100) over a plain ERC-20; blocklist flags packed in the balance slots cost nothing"),
    Target("kgst-transfer-new", "KGST transfer to a new holder", "Stablecoin (KGST)", "transfer to a new holder", 59_000,
           "as above, plus the new holder's balance slot written from zero (20,000)"),
    Target("kgst-permit", "KGST permit (first)", "Stablecoin (KGST)", "permit (first, nonce 0 -> 1)", 87_000,
           "EIP-712 domain from immutables; the owner's nonce lives in its balance slot, read anyway for the blocklist"),
    Target("kgst-twa-existing", "KGST transferWithAuthorization to an existing holder", "Stablecoin (KGST)",
           "transferWithAuthorization -> existing holder", 78_000,
           "random-nonce record written from zero (22,100) as in every EIP-3009 token; relayer blocklist read (2,100)"),
    Target("dsom-payout-200", "digital som payout per new recipient, batch of 200", "DigitalCurrency (digital som)",
           "disburse, per recipient, batch of 200", 28_000,
           "a registered wallet's balance slot already holds its tier, so its first credit is a 2,900 rewrite, not a 20,000 write"),
    Target("vault-gated-mint-3", "gated mint with three reserve assets (deposit reference included)", "ReserveVault",
           "gated KGST mint, 3 reserve assets", 150_000,
           "to an existing holder (a new holder adds 17,100, see the rows). Fixed before any valuation: base and calldata "
           "(~22,300), KGST proxy (~4,700), AccessManager `restricted` check (~12,000), deposit reference written from zero "
           "(22,100), minter allowance, supply and balance writes (~13,000), the call into the vault's proxy (~7,300); then "
           "per asset one Chainlink-style feed call (cold account + its round data: ~13,100 with the mock) plus three cold "
           "vault slots and the arithmetic (~11,600), and the rate, attestation and policy slots. Tried and kept: the asset "
           "record packed into two slots (balance, policy and decimals in one), rate, attestation and coverage policy one "
           "slot each, the vault address in the token's pause slot (-11,900 together). Not done: caching prices or "
           "skipping the per-asset feed call would weaken the fail-closed valuation"),
)


@dataclass
class Timing:
    """Wall times [s] of repeated runs; the median is the figure."""

    samples: list[float] = field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return round(statistics.median(self.samples), 2) if self.samples else None

    def as_dict(self) -> dict[str, Any]:
        return {"median_s": self.median, "runs": len(self.samples), "samples_s": [round(s, 2) for s in self.samples],
                "note": self.note, **self.extra}


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    speed: dict[str, Timing] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def row(self, section: str, operation: str) -> Row | None:
        return next((r for r in self.rows if r.section == section and r.operation == operation), None)


# --- The report ---


def _gas(value: int | None) -> str:
    return f"{value:,}" if value is not None else "–"


def _ratio(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "–"


def target_outcomes(results: Results) -> list[dict[str, Any]]:
    """Each target of :data:`TARGETS` with our figure and whether it is met (by how much)."""
    out = []
    for t in TARGETS:
        row = results.row(t.section, t.operation)
        ours = row.ours if row else None
        out.append({
            "key": t.key, "target": t.name, "limit": t.limit, "ours": ours,
            "met": ours is not None and ours <= t.limit,
            "margin": None if ours is None else t.limit - ours,  # > 0: under the limit by; < 0: over by
            "why": t.why,
        })
    return out


def build_report(results: Results) -> tuple[str, dict[str, Any]]:
    """The markdown report and its JSON twin."""
    targets = target_outcomes(results)
    data = {
        "schema": SCHEMA,
        "meta": results.meta,
        "rows": [r.as_dict() for r in results.rows],
        "targets": targets,
        "speed": {k: v.as_dict() for k, v in results.speed.items()},
        "notes": results.notes,
    }
    meta = results.meta
    lines = [
        "# SomStack benchmarks",
        "",
        f"Generated by `make bench` on {meta.get('generated', '?')} from commit `{meta.get('git_commit') or '?'}`; "
        f"regenerate with `make bench`. Machine: {meta.get('cores', '?')} CPU cores ({meta.get('platform', '?')}).",
        f"Compiler: solc {meta.get('solc', '?')}, EVM {meta.get('evm_version', '?')}, optimizer {meta.get('optimizer', '?')} "
        "for SomStack and the references alike. Chain: anvil "
        f"{meta.get('anvil', '?')}, hardfork {meta.get('hardfork', '?')}.",
        "",
        "Gas is each receipt's `gasUsed` (21,000 base and calldata included); SomStack's tokens are called through "
        "their ERC-1967 proxies with every check on. References: OpenZeppelin 5 ERC20 + ERC20Permit "
        "(`benchmarks/contracts/RefOZPermit.sol`; its EIP-3009 rows from ERC20 + ERC20Permit + ERC3009, "
        "`RefOZAuthorization.sol`) and Solady's ERC20 (`RefSolady.sol`), plain contracts without proxy or checks. "
        "Ratio = ours / reference.",
        "",
        "## Targets (issue 6)",
        "",
        "| target | limit | ours | outcome | what it is made of |",
        "|---|---:|---:|---|---|",
    ]
    for t in targets:
        if t["ours"] is None:
            outcome = "not measured"
        elif t["met"]:
            outcome = f"met ({t['margin']:,} under)"
        else:
            outcome = f"**missed** by {-t['margin']:,}"
        lines.append(f"| {t['target']} | {t['limit']:,} | {_gas(t['ours'])} | {outcome} | {t['why']} |")
    section = None
    for r in results.rows:
        if r.section != section:
            section = r.section
            lines += ["", f"## {section}", "", "| operation | ours | OZ 5 | Solady | ours/OZ | ours/Solady | note |",
                      "|---|---:|---:|---:|---:|---:|---|"]
        lines.append(f"| {r.operation} | {_gas(r.ours)} | {_gas(r.oz)} | {_gas(r.solady)} | {_ratio(r.ratio_oz)} | "
                     f"{_ratio(r.ratio_solady)} | {r.note} |")
    lines += ["", "## Harness speed", "", "| measure | median | runs | samples | note |", "|---|---:|---:|---|---|"]
    for name, timing in results.speed.items():
        median = "–" if timing.median is None else f"{timing.median:,.2f} s"
        samples = ", ".join(f"{s:.1f}" for s in timing.samples) or "–"
        extra = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in timing.extra.items())
        note = "; ".join(x for x in (timing.note, extra) if x)
        lines.append(f"| {name} | {median} | {len(timing.samples)} | {samples} | {note} |")
    if results.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in results.notes]
    return "\n".join(lines) + "\n", data


def results_from_json(data: dict[str, Any]) -> Results:
    """The :class:`Results` a gas.json was written from (build_report of it gives the same report)."""
    fields = ("section", "operation", "ours", "oz", "solady", "note")
    derived = {"median_s", "runs", "samples_s", "note"}
    return Results(
        rows=[Row(**{k: r.get(k) if k != "note" else r.get(k, "") for k in fields}) for r in data.get("rows", [])],
        speed={name: Timing(list(t.get("samples_s") or []), t.get("note", ""), {k: v for k, v in t.items() if k not in derived})
               for name, t in data.get("speed", {}).items()},
        notes=list(data.get("notes", [])),
        meta=dict(data.get("meta", {})),
    )


def write_report(results: Results, folder: Path) -> tuple[Path, Path]:
    markdown, data = build_report(results)
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "gas.md", folder / "gas.json"
    md.write_text(markdown)
    js.write_text(json.dumps(data, indent=1) + "\n")
    return md, js


# --- Talking to the chain ---


class Bench:
    """One anvil chain with SomStack and the references deployed on it."""

    def __init__(self, settings: Settings, node: LocalNode, refs: dict[str, Artifact], log: Log):
        self.settings = settings
        self.node = node
        self.log = log
        self.w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        self.artifacts = Artifacts(settings.root)
        self.decoder = self.artifacts.decoder
        self.refs = refs
        self.dev = self.w3.eth.accounts

    # actors

    def node_sender(self, address: str) -> Sender:
        return Sender(self.w3, NodeSigner(address), self.decoder)

    def fresh(self) -> LocalAccount:
        """A new key holding 10 BNB for gas (anvil_setBalance)."""
        account = Account.create()
        self.w3.provider.make_request("anvil_setBalance", [account.address, hex(10 * UNIT)])  # type: ignore[arg-type]
        return account

    def key_sender(self, account: LocalAccount) -> Sender:
        return Sender(self.w3, LocalSigner(account), self.decoder)

    @staticmethod
    def address() -> str:
        """A new address nobody holds a key of (a recipient)."""
        return Account.create().address

    # transactions

    def gas(self, sender: Sender, call: Any, what: str, value: int = 0) -> int:
        receipt = sender.transact({"to": call.address, "data": call._encode_transaction_data(), "value": value}, what)
        return int(receipt["gasUsed"])

    def deploy(self, sender: Sender, artifact: Artifact, *args: Any) -> tuple[Any, int]:
        factory = artifact.contract(self.w3)
        receipt = sender.transact({"data": factory.constructor(*args).data_in_transaction}, f"deploy {artifact.name}")  # type: ignore[union-attr]
        return artifact.contract(self.w3, receipt["contractAddress"]), int(receipt["gasUsed"])

    def view_gas(self, call: Any) -> int:
        return int(self.w3.eth.estimate_gas({"to": call.address, "data": call._encode_transaction_data()}))

    def snapshot(self) -> str:
        return self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type,index]

    def revert(self, snapshot: str) -> None:
        self.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


def _ref(text: str) -> bytes:
    return Web3.keccak(text=text)


def _deploy_somstack(settings: Settings, w3: Web3, url: str, folder: Path) -> Any:
    """The deployment plan on the bench's chain, its progress lines silenced."""
    network = Network(name="local", rpc=url, rpc_source=url, chain_id=w3.eth.chain_id, dev=True)
    sender = Sender(w3, NodeSigner(w3.eth.accounts[0]), Artifacts(settings.root).decoder)
    holders = resolve_holders(settings, network, w3)
    ctx = DeployContext(settings, network, w3, sender, settings.deployment("local"), holders, deployments_dir=folder)
    with logs.silenced():
        return deploy_system(ctx)


# --- The gas rows ---


@dataclass
class TokenOps:
    """How the bench reaches one token's operations (ours or a reference)."""

    contract: Any
    mint: Callable[[str, int], int]  # (to, amount) -> gas
    burn: Callable[[int], int] | None  # (amount) -> gas, of a holder's own balance
    holder: Callable[[], LocalAccount]  # a fresh key that may hold the token (registered for ours)
    recipient: Callable[[], str]  # a fresh address that may receive it
    amount: int
    domain: Domain | None


def token_rows(bench: Bench, ops: TokenOps, warm_up: bool) -> dict[str, int]:
    """Gas of the ERC-20, permit and EIP-3009 operations of one token, same flow for every token."""
    f, amount = ops.contract.functions, ops.amount
    out: dict[str, int] = {}
    a, b = ops.holder(), ops.holder()
    sa = bench.key_sender(a)
    out["mint to a new holder"] = ops.mint(a.address, 100 * amount)
    ops.mint(b.address, 100 * amount)
    if warm_up:
        # The digital som records each sender's outflow per day: the first transfer of a wallet
        # ever creates that record (measured apart); the rows below are later transfers.
        out["first transfer of a wallet ever (daily outflow record created)"] = bench.gas(sa, f.transfer(b.address, amount), "warm-up")
    out["transfer to a new holder"] = bench.gas(sa, f.transfer(ops.recipient(), amount), "transfer new")
    out["transfer to an existing holder"] = bench.gas(sa, f.transfer(b.address, amount), "transfer existing")
    spender = bench.fresh()
    out["approve (0 -> finite)"] = bench.gas(sa, f.approve(spender.address, 10 * amount), "approve")
    out["transferFrom (finite allowance, existing holder)"] = bench.gas(
        bench.key_sender(spender), f.transferFrom(a.address, b.address, amount), "transferFrom")
    if ops.domain is not None:
        owner, permit_spender = ops.holder(), bench.fresh()
        ops.mint(owner.address, 10 * amount)
        deadline = bench.now() + 3600
        sig = sign_permit(ops.domain, owner.key, owner.address, permit_spender.address, amount, 0, deadline)
        out["permit (first, nonce 0 -> 1)"] = bench.gas(
            bench.key_sender(permit_spender), f.permit(owner.address, permit_spender.address, amount, deadline, sig.v, sig.r, sig.s), "permit")
    return out


def authorization_rows(bench: Bench, ops: TokenOps, warm_up: bool) -> dict[str, int]:
    """Gas of EIP-3009 transfer and receive authorizations (relayer: a third party)."""
    f, amount, domain = ops.contract.functions, ops.amount, ops.domain
    assert domain is not None
    out: dict[str, int] = {}
    a, b = ops.holder(), ops.holder()
    ops.mint(a.address, 100 * amount)
    ops.mint(b.address, 100 * amount)
    if warm_up:  # see token_rows
        bench.gas(bench.key_sender(a), f.transfer(b.address, amount), "warm-up")
    relayer = bench.key_sender(bench.fresh())
    now = bench.now()

    def authorization(to: str, receive: bool = False) -> tuple[Any, ...]:
        nonce = random_nonce()
        sig = sign_authorization(domain, a.key, a.address, to, amount, now - 1, now + 3600, nonce, receive)
        return (a.address, to, amount, now - 1, now + 3600, nonce, sig.v, sig.r, sig.s)

    out["transferWithAuthorization -> existing holder"] = bench.gas(relayer, f.transferWithAuthorization(*authorization(b.address)), "twa")
    out["transferWithAuthorization -> new holder"] = bench.gas(relayer, f.transferWithAuthorization(*authorization(ops.recipient())), "twa new")
    out["receiveWithAuthorization (existing holder, submitted by it)"] = bench.gas(
        bench.key_sender(b), f.receiveWithAuthorization(*authorization(b.address, receive=True)), "rwa")
    return out


def reference_ops(bench: Bench, name: str, deployer: Sender, domain_name: str | None) -> tuple[TokenOps, int]:
    contract, gas = bench.deploy(deployer, bench.refs[name])
    f = contract.functions

    def mint(to: str, amount: int) -> int:
        return bench.gas(deployer, f.mint(to, amount), f"{name}.mint")

    burner = bench.fresh()

    def burn(amount: int) -> int:
        mint(burner.address, amount)
        return bench.gas(bench.key_sender(burner), f.burn(amount), f"{name}.burn")

    mint(deployer.signer.address, UNIT)  # a supply already: no row pays for the first write of totalSupply
    domain = Domain(domain_name, "1", bench.w3.eth.chain_id, contract.address) if domain_name else None
    return TokenOps(contract, mint, burn if "burn" in {i.get("name") for i in contract.abi} else None, bench.fresh,
                    bench.address, 1_000 * UNIT, domain), gas


@dataclass
class _Gas:
    """What every measured family shares: the chain, SomStack's contracts and role holders, the
    references, and the rows so far."""

    bench: Bench
    results: Results
    records: dict[str, Any]  # the manifest's contracts
    holders: dict[str, list[str]]
    role: dict[str, Sender]  # a sender for each role, its first holder
    deployer: Sender
    token: Any
    vault: Any
    cbdc: Any
    oz: TokenOps
    oz_deploy: int
    auth: TokenOps  # OZ with ERC-3009
    solady: TokenOps
    solady_deploy: int
    oz_holder: str
    solady_holder: str
    deposits: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))  # KGST deposit references
    issuances: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))  # digital som references

    @classmethod
    def start(cls, bench: Bench, manifest: Any, results: Results) -> "_Gas":
        """SomStack's contracts and role holders, and the references deployed, each with a supply
        and a holder already."""
        w3 = bench.w3
        holders = {role: [Web3.to_checksum_address(a) for a in accounts] for role, accounts in resolve_holders(
            bench.settings, Network("local", bench.node.url, bench.node.url, w3.eth.chain_id, dev=True), w3).items()}
        role = {name: bench.node_sender(accounts[0]) for name, accounts in holders.items()}
        deployer = bench.node_sender(bench.dev[0])
        art = bench.artifacts
        token = art.get("Stablecoin").contract(w3, manifest.address("Stablecoin"))
        vault = art.get("ReserveVault").contract(w3, manifest.address("ReserveVault"))
        cbdc = art.get("DigitalCurrency").contract(w3, manifest.address("DigitalCurrency"))
        oz, oz_deploy = reference_ops(bench, "RefOZPermit", deployer, "Reference OZ Permit")
        auth, _ = reference_ops(bench, "RefOZAuthorization", deployer, "Reference OZ Authorization")
        solady, solady_deploy = reference_ops(bench, "RefSolady", deployer, "Reference Solady")
        oz_holder, solady_holder = bench.address(), bench.address()
        oz.mint(oz_holder, UNIT)
        solady.mint(solady_holder, UNIT)
        return cls(bench, results, manifest.contracts, holders, role, deployer, token, vault, cbdc,
                   oz, oz_deploy, auth, solady, solady_deploy, oz_holder, solady_holder)

    def deployed(self, *keys: str) -> int:
        """The deployment gas of the manifest's ``keys``, together."""
        return sum(int(self.records[k]["gasUsed"]) for k in keys)

    def kgst_mint(self, to: str, amount: int) -> int:
        call = self.token.functions.mint(to, amount, _ref(f"bench-deposit-{next(self.deposits)}"))
        return self.bench.gas(self.role["MINTER"], call, "KGST mint")

    def deposit_token(self, address: str, amount: int) -> int:
        """A BEP-20 deposit into the vault by the deployer (mock minted and approved first)."""
        bench, depositor = self.bench, self.deployer
        handle = bench.artifacts.get("MockReserveToken").contract(bench.w3, address)
        bench.gas(depositor, handle.functions.mint(depositor.signer.address, amount), "mint mock")
        bench.gas(depositor, handle.functions.approve(self.vault.address, amount), "approve vault")
        return bench.gas(depositor, self.vault.functions.deposit(address, amount), "deposit")

    def register(self, wallets: Sequence[str], tier: int) -> int:
        ids = [_ref(f"bench-identity-{next(self.issuances)}") for _ in wallets]
        call = self.cbdc.functions.registerWallets(list(wallets), tier, ids, [_ref(f"kyc-{w}") for w in wallets])
        return self.bench.gas(self.role["KYC_OFFICER"], call, "registerWallets")

    def dsom_holder(self) -> LocalAccount:
        account = self.bench.fresh()
        self.register([account.address], 3)
        return account

    def dsom_recipient(self) -> str:
        address = self.bench.address()
        self.register([address], 3)
        return address

    def dsom_mint(self, to: str, amount: int) -> int:
        call = self.cbdc.functions.mint(to, amount, _ref(f"bench-issuance-{next(self.issuances)}"))
        return self.bench.gas(self.role["ISSUER"], call, "DSOM mint")

    def row(self, *args: Any, **kwargs: Any) -> None:
        self.results.rows.append(Row(*args, **kwargs))


@dataclass
class _VaultFigures:
    """The reserve's gas, by number of assets (VAULT_ASSET_COUNTS) where it depends on it."""

    deposits: dict[str, int] = field(default_factory=dict)  # operation -> gas
    mints: dict[int, int] = field(default_factory=dict)  # to a new holder
    mints_existing: dict[int, int] = field(default_factory=dict)
    coverage: dict[int, int] = field(default_factory=dict)  # coverageRatio, estimated


_TOKEN_NOTES = {
    "mint to a new holder": "ours: minter allowance, deposit reference and the reserve check (3 assets); references: open mint",
    "permit (first, nonce 0 -> 1)": "submitted by the spender; owner already holds the token",
    "transferWithAuthorization -> existing holder": "relayer is a third party (ours checks it is not blocked); OZ column: ERC20 + ERC3009",
    "transferWithAuthorization -> new holder": "as above",
    "receiveWithAuthorization (existing holder, submitted by it)": "OZ column: ERC20 + ERC3009",
    "burn (own balance, with reference)": "ours: BURNER role, with a redemption reference; references: plain burn",
}
_DSOM_NOTES = {
    "mint to a new holder": "ISSUER role, issuance reference; the holder is a registered wallet (its balance slot holds its tier)",
    "transfer to a new holder": "to a registered wallet that never held digital som (slot already non-zero: its tier)",
    "first transfer of a wallet ever (daily outflow record created)": "the sender's daily-limit record written from zero, once per wallet",
}


def measure_gas(bench: Bench, manifest: Any, results: Results) -> None:
    """Every gas row of the report, family by family (the order matters: each family finds the
    chain as the ones before left it)."""
    g = _Gas.start(bench, manifest, results)
    bench.log("reserve vault: deposits, gated mints and coverage with 1, 3 and 5 assets")
    vault = _measure_reserve(g)
    bench.log("KGST: ERC-20, permit, EIP-3009, burn")
    refs_oz, refs_solady = _measure_kgst(g)
    _vault_rows(g, vault)
    bench.log("digital som: registration, ERC-20, permit, EIP-3009, burn, payouts")
    _measure_digital_som(g, refs_oz, refs_solady)
    _measure_disbursement(g)


def _measure_reserve(g: _Gas) -> _VaultFigures:
    """The reserve: rate, deposits, and minting against 1, 3 and 5 assets."""
    bench, role, v = g.bench, g.role, g.vault.functions
    assets = g.records["ReserveVault"]["assets"]
    bench.gas(role["RATE_SETTER"], v.setRate(87_45 * 10**16), "setRate")
    # Fiat held in banks, attested (100,000,000 som): an asset's cap is a share of what everything
    # else is worth, so a reserve of one capped asset alone (BNB, 60%) would count nothing without
    # it. With it no asset's cap binds in these rows, a healthy reserve; a binding cap adds one
    # full-precision division (Math.mulDiv) per capped asset.
    bench.gas(role["ATTESTOR"], v.attest(100_000_000 * UNIT, bench.now(), _ref("bench-attestation"), "bench"), "attest")
    bench.gas(role["MINTER_ADMIN"], g.token.functions.configureMinter(g.holders["MINTER"][0], 10**12 * UNIT), "configureMinter")
    out = _VaultFigures()
    out.deposits["deposit native BNB (first into the asset)"] = bench.gas(g.deployer, v.depositNative(), "deposit BNB", value=100 * UNIT)
    out.deposits["deposit native BNB"] = bench.gas(g.deployer, v.depositNative(), "deposit BNB", value=100 * UNIT)
    holder = bench.address()
    g.kgst_mint(holder, UNIT)  # a supply and a holder already: no row pays for the first supply write

    def mint_rows(n: int) -> None:
        out.mints[n] = g.kgst_mint(bench.address(), 1_000 * UNIT)
        out.mints_existing[n] = g.kgst_mint(holder, 1_000 * UNIT)
        out.coverage[n] = bench.view_gas(v.coverageRatio())

    one = bench.snapshot()
    for symbol in ("BTCB", "BSC-USD"):  # no balance yet: the vault lets them go
        bench.gas(role["RESERVE_ADMIN"], v.unregisterAsset(assets[symbol]), "unregisterAsset")
    mint_rows(1)
    bench.revert(one)
    out.deposits["deposit BEP-20 (first into the asset; approve apart)"] = g.deposit_token(assets["BTCB"], 10 * UNIT)
    out.deposits["deposit BEP-20 (approve apart)"] = g.deposit_token(assets["BTCB"], 10 * UNIT)
    g.deposit_token(assets["BSC-USD"], 1_000_000 * UNIT)
    mint_rows(3)
    three = bench.snapshot()
    mock, feed_artifact = bench.artifacts.get("MockReserveToken"), bench.artifacts.get("MockAggregatorV3")
    for i in range(2):
        extra, _ = bench.deploy(g.deployer, mock, f"Bench Asset {i}", f"BA{i}", 18)
        feed, _ = bench.deploy(g.deployer, feed_artifact, 8, f"BA{i} / USD", 100 * 10**8)
        bench.gas(role["RESERVE_ADMIN"], v.registerAsset(extra.address, (feed.address, 86_400, 1_000, 10_000, 10**6 * UNIT)), "registerAsset")
        g.deposit_token(extra.address, 1_000 * UNIT)
    mint_rows(5)
    bench.revert(three)
    return out


def _measure_kgst(g: _Gas) -> tuple[dict[str, int], dict[str, int]]:
    """KGST's rows beside the references'; returns the references' figures (OZ, Solady), which
    the digital som's rows show too."""
    bench, oz, solady = g.bench, g.oz, g.solady
    kgst = TokenOps(g.token, g.kgst_mint, None, bench.fresh, bench.address, 1_000 * UNIT, Domain.of(g.token))
    ours = token_rows(bench, kgst, warm_up=False) | authorization_rows(bench, kgst, warm_up=False)
    burner = g.role["BURNER"]
    g.kgst_mint(burner.signer.address, 1_000 * UNIT)
    ours["burn (own balance, with reference)"] = bench.gas(burner, g.token.functions.burn(100 * UNIT, _ref("bench-redemption")), "KGST burn")
    refs_oz = token_rows(bench, oz, warm_up=False) | authorization_rows(bench, g.auth, warm_up=False)
    refs_oz["burn (own balance, with reference)"] = oz.burn(100 * UNIT) if oz.burn else None  # type: ignore[assignment]
    refs_solady = token_rows(bench, solady, warm_up=False)
    refs_solady["burn (own balance, with reference)"] = solady.burn(100 * UNIT) if solady.burn else None  # type: ignore[assignment]
    section = "Stablecoin (KGST)"
    g.row(section, "deployment (library + implementation + proxy, initialized)",
          g.deployed("ComplianceLogic", "StablecoinImplementation", "Stablecoin"), g.oz_deploy, g.solady_deploy,
          "ours: linked ComplianceLogic (the compliance core's library, deployed once for both tokens) "
          "+ UUPS implementation + ERC-1967 proxy")
    for op, gas in ours.items():
        g.row(section, op, gas, refs_oz.get(op), refs_solady.get(op), _TOKEN_NOTES.get(op, ""))
    return refs_oz, refs_solady


def _vault_rows(g: _Gas, vault: _VaultFigures) -> None:
    """The vault's rows: KGST minted against the reserve, beside the references' open mints."""
    bench, oz, solady = g.bench, g.oz, g.solady
    section = "ReserveVault"
    g.row(section, "deployment (implementation + proxy, initialized with 3 assets)",
          g.deployed("ReserveVaultImplementation", "ReserveVault"), note="mocks of feeds and tokens not counted")
    for op, gas in vault.deposits.items():
        g.row(section, op, gas)
    plain = {"new": (oz.mint(bench.address(), UNIT), solady.mint(bench.address(), UNIT)),
             "existing": (oz.mint(g.oz_holder, UNIT), solady.mint(g.solady_holder, UNIT))}
    for n in VAULT_ASSET_COUNTS:
        assets_text = f"{n} reserve asset{'s' if n > 1 else ''}"
        g.row(section, f"gated KGST mint, {assets_text}", vault.mints_existing[n], *plain["existing"],
              "to an existing holder, deposit reference included, every asset holding a balance; "
              "references: open mint to an existing holder")
        g.row(section, f"gated KGST mint, {assets_text}, to a new holder", vault.mints[n], *plain["new"],
              "as above, to a new holder (its balance slot written from zero: +20,000 on every token)")
    for n in VAULT_ASSET_COUNTS:
        g.row(section, f"coverageRatio, {n} reserve asset{'s' if n > 1 else ''} (eth_estimateGas)", vault.coverage[n],
              note="a view: estimate including the 21,000 base")


def _measure_digital_som(g: _Gas, refs_oz: dict[str, int], refs_solady: dict[str, int]) -> None:
    """The digital som's token rows (registration of every holder included in its setup)."""
    bench = g.bench
    g.register([g.holders["ISSUER"][0], g.holders["TREASURY"][0]], 10)
    dsom = TokenOps(g.cbdc, g.dsom_mint, None, g.dsom_holder, g.dsom_recipient, 100 * TYIYN, Domain.of(g.cbdc))
    g.dsom_mint(g.holders["ISSUER"][0], 1_000 * TYIYN)  # a supply already, as on the references
    ours = token_rows(bench, dsom, warm_up=True) | authorization_rows(bench, dsom, warm_up=True)
    ours["burn (own balance, with reference)"] = bench.gas(
        g.role["ISSUER"], g.cbdc.functions.burn(100 * TYIYN, _ref("bench-retirement")), "DSOM burn")
    section = "DigitalCurrency (digital som)"
    g.row(section, "deployment (library + implementation + proxy, initialized)",
          g.deployed("ComplianceLogic", "DigitalCurrencyLogic", "DigitalCurrencyImplementation", "DigitalCurrency"),
          g.oz_deploy, g.solady_deploy,
          "ours: linked ComplianceLogic (shared with KGST, counted in both rows) and DigitalCurrencyLogic "
          "+ UUPS implementation + ERC-1967 proxy")
    for op, gas in ours.items():
        g.row(section, op, gas, refs_oz.get(op), refs_solady.get(op), _DSOM_NOTES.get(op, _TOKEN_NOTES.get(op, "")))


def _measure_disbursement(g: _Gas) -> None:
    """The digital som's payouts: disburse by batch size, registration, and the two together."""
    bench, results = g.bench, g.results
    g.dsom_mint(g.holders["TREASURY"][0], 10**8 * TYIYN)
    plain_new = next(r for r in results.rows if r.section == "Stablecoin (KGST)" and r.operation == "transfer to a new holder")
    section = "DigitalCurrency (digital som)"
    registration = 0
    for size in BATCH_SIZES:
        wallets = [bench.address() for _ in range(size)]
        gas = g.register(wallets, 1)
        if size == max(BATCH_SIZES):
            registration = gas // size
        call = g.cbdc.functions.disburse(_ref(f"bench-batch-{size}"), wallets, [50 * TYIYN] * size, False)
        paid = bench.gas(g.role["TREASURY"], call, f"disburse {size}")
        g.row(section, f"disburse, per recipient, batch of {size}", paid // size, plain_new.oz, plain_new.solady,
              "to registered wallets that never held digital som (the honest 'new recipient' here: a wallet "
              "must be registered before it can be paid); reference columns: one plain transfer to a new holder")
    g.row(section, "registerWallets, per wallet, batch of 200", registration,
          note="KYC registration, paid once per wallet before its first payment (identity, one capped wallet "
          "per identity, tier in the balance slot)")
    g.row(section, "registration + first payout, per new recipient (batch of 200)",
          registration + next(r.ours for r in results.rows if r.operation == "disburse, per recipient, batch of 200"),  # type: ignore[operator]
          plain_new.oz, plain_new.solady, "what a never-seen recipient costs in all")


# --- Harness speed ---


def time_deployments(settings: Settings, runs: int, log: Log) -> Timing:
    """Wall time of the whole deployment plan on a fresh anvil (start of the node not counted)."""
    timing = Timing(note="the deployment plan (somstack.system.deploy) on a fresh anvil; node start not counted")
    for i in range(runs):
        with LocalNode(settings, settings.network("local").chain_id) as node, tempfile.TemporaryDirectory() as folder:
            w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
            started = time.monotonic()
            result = _deploy_somstack(settings, w3, node.url, Path(folder))
            timing.samples.append(time.monotonic() - started)
            timing.extra["transactions"] = result.sent
        log(f"  deployment {i + 1}/{runs}: {timing.samples[-1]:.1f} s")
    return timing


def time_cli_disbursement(settings: Settings, recipients: int, runs: int, log: Log) -> Timing:
    """`somstack cbdc disburse` (a subprocess, default batch size) paying ``recipients`` registered
    wallets, on a chain of its own; each run pays a new payroll file."""
    from somstack.ops.cbdc import Cbdc, register_many

    timing = Timing()
    with LocalNode(settings, settings.network("local").chain_id) as node, tempfile.TemporaryDirectory() as folder:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        result = _deploy_somstack(settings, w3, node.url, Path(folder))
        manifest = result.manifest
        artifacts = Artifacts(settings.root)
        decoder = artifacts.decoder
        holders = resolve_holders(settings, Network("local", node.url, node.url, w3.eth.chain_id, dev=True), w3)
        kyc = Sender(w3, NodeSigner(holders["KYC_OFFICER"][0]), decoder)
        cbdc = Cbdc(w3, artifacts.get("DigitalCurrency").contract(w3, manifest.address("DigitalCurrency")),  # type: ignore[arg-type]
                    artifacts.get("SomAccessManager").contract(w3, manifest.address("AccessManager")),  # type: ignore[arg-type]
                    settings.deployment("local").digital_currency)
        treasury = holders["TREASURY"][0]
        wallets = [Account.create().address for _ in range(recipients)]
        with logs.silenced():
            register_many(cbdc, kyc, [holders["ISSUER"][0], treasury], 10, [_ref("issuer"), _ref("treasury")], [_ref("k1"), _ref("k2")])
            log(f"  registering {recipients:,} wallets")
            register_many(cbdc, kyc, wallets, 1, [_ref(f"id-{w}") for w in wallets], [_ref(f"kyc-{w}") for w in wallets])
        issuer = Sender(w3, NodeSigner(holders["ISSUER"][0]), decoder)
        issuer.transact({"to": cbdc.token.address, "data": cbdc.token.encode_abi("mint", [treasury, 10**9 * TYIYN, _ref("bench")])}, "mint")
        env = {**os.environ, "SOMSTACK_DEPLOYMENTS_DIR": folder}
        batches = 0
        for run in range(runs):
            payroll = Path(folder) / f"payroll-{run}.csv"
            with payroll.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["address", "amount"])
                writer.writerows((w, f"{10 + run}.{i % 100:02d}") for i, w in enumerate(wallets))
            cmd = [sys.executable, "-m", "somstack.cli", "cbdc", "disburse", str(payroll), "--payroll", f"bench-{run}",
                   "--yes", "--network", "local", "--rpc", node.url]
            started = time.monotonic()
            done = subprocess.run(cmd, cwd=settings.root, env=env, capture_output=True, text=True)
            took = time.monotonic() - started
            if done.returncode != 0:
                raise BenchError(f"somstack cbdc disburse failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
            batches = -(-recipients // 200)
            timing.samples.append(took)
            log(f"  disbursement {run + 1}/{runs}: {took:.1f} s")
    median = timing.median or 0
    timing.note = (f"`somstack cbdc disburse` of a {recipients:,}-row payroll (subprocess, batch size 200: validation of every row, "
                   "then one transaction per batch)")
    timing.extra = {"transactions": batches, "tx_per_s": round(batches / median, 2) if median else None,
                    "payments_per_s": round(recipients / median, 1) if median else None}
    return timing


def time_make_test(settings: Settings, runs: int, previous: dict[str, Any] | None, log: Log) -> Timing:
    """Wall time of `make test` (the whole suite), BENCH_TEST_ARGS as its PYTEST_ARGS."""
    args = os.environ.get("BENCH_TEST_ARGS", "")
    if runs == 0:
        old = (previous or {}).get("speed", {}).get("make test")
        if not old or not old.get("samples_s"):
            return Timing(note="BENCH_TEST_RUNS=0 and no previous figure: not measured")
        kept = {k: v for k, v in old.items() if k not in {"median_s", "runs", "samples_s", "note"}}
        if "last_summary" in kept and not _pytest_summary(str(kept["last_summary"])):
            del kept["last_summary"]  # written by an older bench that took make's last line for pytest's
        note = old.get("note", "")
        if not note.startswith("BENCH_TEST_RUNS=0"):
            note = "BENCH_TEST_RUNS=0: reused from the previous report" + (f" ({note})" if note else "")
        return Timing(list(old["samples_s"]), note=note, extra=kept)
    timing = Timing(note=f"`make test` with PYTEST_ARGS='{args}', {runs} run(s)" if args else f"`make test`, {runs} run(s)")
    failed = 0
    for i in range(runs):
        started = time.monotonic()
        done = subprocess.run(["make", "test", f"PYTEST_ARGS={args}"], cwd=settings.root, capture_output=True, text=True)
        took = time.monotonic() - started
        summary = _pytest_summary(done.stdout)
        log(f"  make test {i + 1}/{runs}: {took:.0f} s, exit {done.returncode}: {summary}")
        if done.returncode != 0:
            failed += 1
            continue
        timing.samples.append(took)
        if summary:
            timing.extra["last_summary"] = summary
    if failed:
        timing.extra["failed_runs"] = failed
    return timing


def _pytest_summary(output: str) -> str:
    """pytest's closing line ("12 passed in 3.4s") in ``output``, or ""."""
    lines = [line.strip("= ") for line in output.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    return lines[-1] if lines else ""


# --- The whole run ---


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BenchError(f"{name}={value!r} is not a whole number") from None
    if number < 0:
        raise BenchError(f"{name} must be 0 or more")
    return number


def _anvil_version(settings: Settings) -> str:
    from somstack.core.chain import anvil_executable

    try:
        out = subprocess.run([anvil_executable(settings.root), "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (out.splitlines() or ["?"])[0].replace("anvil Version:", "").strip()


def run_bench(log: Log = print, out_dir: Path | None = None) -> tuple[Path, Path]:
    settings = load_settings()
    root = settings.root
    folder = out_dir or root / RESULTS
    test_runs = _env_int("BENCH_TEST_RUNS", 3)
    deploy_runs = max(1, _env_int("BENCH_DEPLOY_RUNS", 3))
    disburse_runs = max(1, _env_int("BENCH_DISBURSE_RUNS", 3))
    recipients = max(1, _env_int("BENCH_RECIPIENTS", 10_000))
    previous = None
    if (folder / "gas.json").exists():
        try:
            previous = json.loads((folder / "gas.json").read_text())
        except ValueError:
            previous = None

    log("compiling SomStack (brownie) and the reference wrappers (same compiler and settings)")
    compile_project(root)
    refs = compile_sources(root, root / REFERENCE_SOURCES, REFERENCE_REMAPPINGS)
    results = Results()
    compiler = settings.compiler
    results.meta = {
        "generated": utc(int(time.time())),
        "git_commit": git_commit(root),
        "cores": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "solc": compiler.version,
        "evm_version": compiler.evm_version,
        "optimizer": ", ".join(f"{k} {v}" for k, v in compiler.optimizer.items()),
        "anvil": _anvil_version(settings),
        "hardfork": settings.anvil.get("hardfork"),
    }
    with LocalNode(settings, settings.network("local").chain_id) as node, tempfile.TemporaryDirectory() as manifests:
        log(f"anvil at {node.url}: deploying SomStack with the deployment plan and the references")
        bench = Bench(settings, node, refs, log)
        result = _deploy_somstack(settings, bench.w3, node.url, Path(manifests))
        measure_gas(bench, result.manifest, results)
    log(f"harness speed: {deploy_runs} deployment(s)")
    results.speed["full local deployment"] = time_deployments(settings, deploy_runs, log)
    log(f"harness speed: {disburse_runs} CLI disbursement(s) of {recipients:,} recipients")
    results.speed[f"CLI disbursement, {recipients:,} recipients"] = time_cli_disbursement(settings, recipients, disburse_runs, log)
    log(f"harness speed: make test x {test_runs}")
    results.speed["make test"] = time_make_test(settings, test_runs, previous, log)
    from somstack.dev.hsmbench import run_hsm_bench

    run_hsm_bench(settings, folder, log)  # its own file: benchmarks/results/hsm.md
    results.notes += [
        f"Machine: {os.cpu_count()} cores, shared with other work while measured: wall times vary from run to run; "
        "gas figures do not.",
        "The references are compiled with SomStack's settings (optimizer runs from brownie-config.yaml), not each "
        "project's own, so that the compiler is the one difference left out.",
    ]
    md, js = write_report(results, folder)
    log(f"wrote {md.relative_to(root) if md.is_relative_to(root) else md} and {js.name}")
    if out_dir is None:  # transaction monitoring: scan speed and detection quality (benchmarks/results/monitor.md)
        from somstack.dev.monitorbench import run_monitor_bench

        run_monitor_bench(root, log)
    return md, js


def rerun_make_test(log: Log = print, out_dir: Path | None = None) -> tuple[Path, Path]:
    """Only the harness row of `make test` measured again (BENCH_TEST_RUNS runs, default 3;
    BENCH_TEST_ARGS as in :func:`run_bench`), every other figure of the last gas.json kept as it
    was: gas does not change with the test harness, and a whole `make bench` takes long."""
    settings = load_settings()
    folder = out_dir or settings.root / RESULTS
    try:
        results = results_from_json(json.loads((folder / "gas.json").read_text()))
    except (OSError, ValueError) as exc:
        raise BenchError(f"{folder / 'gas.json'}: no report to update ({exc}): run `make bench`") from None
    runs = max(1, _env_int("BENCH_TEST_RUNS", 3))
    log(f"harness speed: make test x {runs}")
    timing = time_make_test(settings, runs, None, log)
    timing.note += (f"; measured {utc(int(time.time()))} at commit {git_commit(settings.root)} by "
                    f"`python -m somstack.dev bench --only make-test` (the other figures: {results.meta.get('generated', '?')})")
    results.speed["make test"] = timing
    return write_report(results, folder)


def main() -> None:
    run_bench()


if __name__ == "__main__":
    main()
