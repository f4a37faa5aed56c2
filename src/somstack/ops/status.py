"""`somstack status`: one screen on one network, read at one block: the chain (id, block, time),
every contract of the manifest (marked when its code is missing), the supply and pause switches
of each token, the reserve's value and coverage, and the age of every price the system relies
on (each reserve asset's feed against its heartbeat, the som rate and the bank attestation
against their maximum ages), stale ones flagged.

It only reads, with no key. The reserve's figures come from :mod:`somstack.ops.reserve` (its
``read_status``, the vault's own valuation); nothing is valued here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception

from somstack.core.chain import batched
from somstack.core.errors import SomstackError
from somstack.core.format import table, units, utc
from somstack.core.manifest import Manifest, manifest_path
from somstack.core.session import Session
from somstack.ops.reserve import (
    PRICE_ERRORS,
    Reserve,
    Status,
    coverage_text,
    percent,
    read_status,
    som,
)

TOKENS = (("Stablecoin", "Stablecoin"), ("DigitalCurrency", "DigitalCurrency"))  # manifest name, artifact
STALE_PRICE = 4  # IReserveVault.PriceError.Stale


@dataclass(frozen=True)
class ContractState:
    name: str
    address: str
    has_code: bool


@dataclass(frozen=True)
class TokenState:
    name: str  # the manifest's
    symbol: str
    address: str
    supply: int  # [token units]
    decimals: int
    paused: int  # pausedFlags()
    switches: dict[int, str]  # bit -> switch name, from the contract's PAUSE_* constants

    def paused_names(self) -> list[str]:
        names = [name for bit, name in sorted(self.switches.items()) if self.paused & bit]
        unknown = self.paused & ~sum(self.switches)
        return names + ([f"unknown bits 0x{unknown:02x}"] if unknown else [])


@dataclass(frozen=True)
class PriceAge:
    what: str
    updated_at: int  # [unix s]; 0 when never set
    max_age: int  # [s] the heartbeat or maximum age it is held to
    problem: str  # "" when usable


@dataclass
class Screen:
    network: str
    rpc_source: str
    chain_id: int
    block: int
    time: int  # the block's timestamp [unix s]
    manifest: Manifest
    contracts: list[ContractState] = field(default_factory=list)
    tokens: list[TokenState] = field(default_factory=list)
    reserve: Status | None = None
    queue: str | None = None  # the redemption queue's one line
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def deployed(self) -> bool:
        return self.manifest.exists

    def prices(self) -> list[PriceAge]:
        """Every price the reserve's valuation uses, with its age limit and what is wrong."""
        status = self.reserve
        if status is None:
            return []
        out = []
        for row in status.rows:
            problem = ""
            if row.price_error == STALE_PRICE or (row.updated_at and status.now - row.updated_at > row.heartbeat):
                problem = f"STALE: older than its {row.heartbeat:,} s heartbeat"
            elif row.price_error:
                reason = PRICE_ERRORS[row.price_error] if row.price_error < len(PRICE_ERRORS) else f"error {row.price_error}"
                problem = f"UNUSABLE: {reason}"
            if problem and row.balance == 0:
                problem += " (none held: not valued)"
            out.append(PriceAge(f"{row.symbol} feed", row.updated_at, row.heartbeat, problem))
        rate_problem = "NOT PUBLISHED" if not status.rate else (
            f"STALE: older than its {status.rate_max_age:,} s maximum" if status.now - status.rate_updated_at > status.rate_max_age else "")
        out.append(PriceAge("som rate (KGS/USD)", status.rate_updated_at if status.rate else 0, status.rate_max_age, rate_problem))
        attested = status.attested_as_of
        attest_problem = "NONE POSTED" if not attested else (
            f"STALE: older than its {status.attestation_max_age:,} s maximum" if status.now - attested > status.attestation_max_age else "")
        out.append(PriceAge("bank attestation", attested, status.attestation_max_age, attest_problem))
        return out


def read_screen(session: Session) -> Screen:
    """Everything the screen shows, read at the chain's latest block."""
    w3 = session.w3
    block = w3.eth.get_block("latest")
    chain_id = w3.eth.chain_id
    folder = session.settings.deployments_dir
    manifest = Manifest.load(manifest_path(folder, chain_id, session.network), chain_id)
    screen = Screen(session.network.name, session.network.rpc_source, chain_id, block["number"], block["timestamp"], manifest)
    if not manifest.exists:
        return screen
    at = block["number"]
    records = sorted((name, r["address"]) for name, r in manifest.contracts.items() if r.get("address"))
    codes = batched(w3, records, lambda item: w3.eth.get_code(Web3.to_checksum_address(item[1]), at))
    screen.contracts = [ContractState(name, address, bool(code)) for (name, address), code in zip(records, codes)]
    present = {c.name for c in screen.contracts if c.has_code}
    if records and not present:
        screen.notes.append(
            f"none of the {len(records)} recorded contracts has code on this chain: {manifest.path.name} describes "
            "another chain, or a dev chain that was restarted (deploy again)"
        )
        return screen
    artifacts = session.artifacts
    for name, artifact in TOKENS:
        if name in present:
            token = artifacts.get(artifact).contract(w3, manifest.address(name))  # type: ignore[arg-type]
            _read_or_note(screen, name, lambda: screen.tokens.append(_token(token, name, at)))
        elif name in manifest.contracts:
            screen.notes.append(f"{name}: no code at its recorded address, not read")
    if {"ReserveVault", "Stablecoin"} <= present:
        reserve = Reserve.load(w3, artifacts, manifest, session.sender.decoder)
        _read_or_note(screen, "ReserveVault", lambda: setattr(screen, "reserve", read_status(reserve)))
    elif "ReserveVault" in manifest.contracts:
        screen.notes.append("ReserveVault: no code at its recorded address (or KGST's), coverage not read")
    if {"RedemptionQueue", "Stablecoin"} <= present:
        from somstack.ops.redemption import Queue, status_line

        _read_or_note(screen, "RedemptionQueue", lambda: setattr(screen, "queue", status_line(Queue.of_session(session))))
    return screen


def _read_or_note(screen: Screen, name: str, read: Callable[[], None]) -> None:
    """Runs ``read``; a contract that answers nonsense (a proxy whose implementation has no code,
    an ABI that does not match) becomes a note on the screen instead of ending it."""
    try:
        read()
    except (Web3Exception, ValueError) as exc:
        if isinstance(exc, SomstackError):
            raise
        screen.notes.append(f"{name}: could not be read ({type(exc).__name__}): is its implementation's code on chain?")


def _token(token: Contract, name: str, at: int) -> TokenState:
    f = token.functions
    switches = {}
    for item in token.abi:  # the pause switches are the contract's own PAUSE_* constants
        if item.get("type") == "function" and str(item.get("name", "")).startswith("PAUSE_") and not item.get("inputs"):
            bit = int(getattr(f, item["name"])().call(block_identifier=at))
            switches[bit] = item["name"].removeprefix("PAUSE_").lower()
    return TokenState(
        name=name,
        symbol=str(f.symbol().call(block_identifier=at)),
        address=token.address,
        supply=int(f.totalSupply().call(block_identifier=at)),
        decimals=int(f.decimals().call(block_identifier=at)),
        paused=int(f.pausedFlags().call(block_identifier=at)),
        switches=switches,
    )


def format_screen(screen: Screen) -> list[str]:
    """The screen, as lines."""
    lines = [
        f"SomStack on {screen.network}: chain {screen.chain_id}, block {screen.block:,} at {utc(screen.time)} "
        f"(RPC {screen.rpc_source})"
    ]
    if not screen.deployed:
        lines.append(
            f"nothing deployed on {screen.network}: no {screen.manifest.path.name} "
            f"(deploy with `somstack deploy --network {screen.network}`)"
        )
        return lines
    data = screen.manifest.data
    done = "complete" if screen.manifest.complete else "INCOMPLETE (run the deploy again to finish it)"
    lines.append(f"deployment {screen.manifest.path.name}: {done}, deployer {data.get('deployer', '-')}, commit {data.get('gitCommit') or '-'}")
    lines.append("")
    rows = [[c.name, c.address, "code" if c.has_code else "NO CODE"] for c in screen.contracts]
    lines += table(["contract", "address", ""], rows, [False, False, False])
    if screen.tokens:
        lines.append("")
        rows = [[t.symbol, t.address, units(t.supply, t.decimals, min(t.decimals, 2)), ", ".join(t.paused_names()) or "no"]
                for t in screen.tokens]
        lines += table(["token", "address", "supply", "paused"], rows, [False, False, True, False])
    status = screen.reserve
    if status is not None:
        lines.append("")
        if status.total is None:
            lines.append(f"reserve   valuation refused: {status.refusal}")
        else:
            below = "" if status.coverage is None or status.coverage >= status.min_coverage else "  BELOW MINIMUM"
            lines.append(
                f"reserve   {som(status.total)}, coverage {coverage_text(status.coverage)} "
                f"(minimum {percent(status.min_coverage)}){below}"
            )
        lines.append("")
        rows = []
        for price in screen.prices():
            age = f"{status.now - price.updated_at:,} s" if 0 < price.updated_at <= status.now else "-"
            when = utc(price.updated_at) if price.updated_at else "-"
            rows.append([price.what, when, age, f"{price.max_age:,} s", price.problem or "ok"])
        lines += table(["price", "updated", "age", "max age", ""], rows, [False, False, True, True, False])
    if screen.queue:
        lines += ["", screen.queue]
    if screen.notes:
        lines.append("")
        lines += [f"note: {note}" for note in screen.notes]
    return lines

