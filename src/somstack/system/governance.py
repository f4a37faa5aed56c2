"""Governance as the chain has it: the role matrix of the AccessManager (role -> members with
their execution delays, grant delay, guarded functions), read from its events and views, with
every role the deployer still holds flagged.

AccessManager does not enumerate members, so they are found from its RoleGranted and
RoleRevoked events (read over block ranges, as live RPCs limit log queries) and each is then
confirmed with ``hasRole``: what is printed is what holds now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from somstack.core.errors import ManifestError
from somstack.core.format import table, utc
from somstack.core.manifest import Manifest
from somstack.core.session import Session, session_manifest
from somstack.system.deploy import selectors
from somstack.system.roles import (
    ADMIN_FUNCTIONS,
    FUNCTION_ROLES,
    ROLES,
    role_id,
    role_name,
)

LOG_RANGE = 5_000  # blocks per eth_getLogs query (public BSC endpoints refuse wide ranges)


@dataclass
class RoleRow:
    id: int
    name: str
    members: list[tuple[str, int]] = field(default_factory=list)  # (address, execution delay [s])
    grant_delay: int = 0  # [s]
    functions: list[str] = field(default_factory=list)  # Contract.function, as wired on chain
    pending: dict[str, tuple[int, int]] = field(default_factory=dict)  # member -> (next execution delay [s], effective at [unix s])


@dataclass
class Matrix:
    manager: str
    deployer: str | None
    block: int
    rows: list[RoleRow]
    admin_delays: dict[str, int]  # contract -> admin delay [s]
    mismatches: list[str]  # functions whose on-chain role differs from somstack.system.roles
    pending_admin: dict[str, tuple[int, int]] = field(default_factory=dict)  # contract -> (next admin delay [s], effective at)

    @property
    def deployer_roles(self) -> list[str]:
        if not self.deployer:
            return []
        return [r.name for r in self.rows if any(m == self.deployer for m, _d in r.members)]


def _logs(event: object, start: int, end: int) -> list[dict]:
    found = []
    for low in range(start, end + 1, LOG_RANGE):
        found += event.get_logs(from_block=low, to_block=min(low + LOG_RANGE - 1, end))  # type: ignore[attr-defined]
    return found


def read_matrix(w3: Web3, manifest: Manifest, artifacts: object, at_block: int | None = None,
                granted: Iterable[Mapping[str, Any]] | None = None) -> Matrix:
    """The role matrix at the latest block (or at ``at_block``). ``granted`` is the arguments
    (``roleId``, ``account``) of the AccessManager's RoleGranted events up to that block when the
    caller has read them already (the report, through its cache); else they are read here."""
    record = manifest.contracts.get("AccessManager")
    if not record or not w3.eth.get_code(Web3.to_checksum_address(record["address"])):
        raise ManifestError(f"{manifest.path.name} records no AccessManager with code on this chain: deploy first")
    manager: Contract = artifacts.get("SomAccessManager").contract(w3, record["address"])  # type: ignore[attr-defined]
    at = w3.eth.block_number if at_block is None else at_block
    start = int(record.get("block") or 0)
    admin_changes: dict[str, tuple[int, int]] = {}  # target -> its last (delay, since), read by the CLI only
    if granted is None:
        granted = (log["args"] for log in _logs(manager.events.RoleGranted, start, at))
        for log in _logs(manager.events.TargetAdminDelayUpdated, start, at):
            admin_changes[to_checksum_address(log["args"]["target"])] = (int(log["args"]["delay"]), int(log["args"]["since"]))
    candidates: dict[int, set[str]] = {}
    for args in granted:
        candidates.setdefault(int(args["roleId"]), set()).add(to_checksum_address(args["account"]))
    functions = manager.functions
    now = int(w3.eth.get_block(at)["timestamp"])
    rows = []
    for role in sorted(ROLES.values(), key=lambda r: r.id):
        row = RoleRow(role.id, role.name, grant_delay=int(functions.getRoleGrantDelay(role.id).call(block_identifier=at)))
        for account in sorted(candidates.get(role.id, ())):
            member, delay = functions.hasRole(role.id, account).call(block_identifier=at)
            if member:
                row.members.append((account, int(delay)))
                _since, _current, next_delay, effect = functions.getAccess(role.id, account).call(block_identifier=at)
                if int(effect) > now:  # a delay change not yet in effect
                    row.pending[account] = (int(next_delay), int(effect))
        rows.append(row)
    by_id = {r.id: r for r in rows}
    mismatches = []
    admin_delays = {}
    pending_admin: dict[str, tuple[int, int]] = {}
    wiring = {c: {**{r: f for r, f in t.items()}} for c, t in FUNCTION_ROLES.items()}
    for contract, names in ADMIN_FUNCTIONS.items():
        wiring.setdefault(contract, {})["ADMIN"] = names
    for contract, table_ in wiring.items():
        if contract not in manifest.contracts:
            continue
        target = artifacts.get(contract).contract(w3, manifest.address(contract))  # type: ignore[attr-defined]
        admin_delays[contract] = int(functions.getTargetAdminDelay(target.address).call(block_identifier=at))
        change = admin_changes.get(to_checksum_address(target.address))
        if change and change[1] > now:
            pending_admin[contract] = change
        for role, names in table_.items():
            for name in names:
                on_chain = {int(functions.getTargetFunctionRole(target.address, s).call(block_identifier=at)) for s in selectors(target.abi, (name,))}
                for rid in on_chain:
                    if rid in by_id:
                        label = f"{contract}.{name}"
                        if label not in by_id[rid].functions:
                            by_id[rid].functions.append(label)
                if on_chain != {role_id(role)}:
                    got = ", ".join(role_name(r) for r in sorted(on_chain))
                    mismatches.append(f"{contract}.{name}: on chain {got}, planned {role}")
    deployer = manifest.data.get("deployer")
    return Matrix(record["address"], to_checksum_address(deployer) if deployer else None, at, rows, admin_delays, mismatches,
                  pending_admin)


def format_matrix(matrix: Matrix) -> list[str]:
    def who(row: RoleRow) -> str:
        if not row.members:
            return "-"
        def change(address: str) -> str:
            if address not in row.pending:
                return ""
            next_delay, effect = row.pending[address]
            return f" (delay becomes {next_delay:,} s at {utc(effect)})"

        return ", ".join(
            f"{address}{' (delay ' + format(delay, ',') + ' s)' if delay else ''}{change(address)}"
            f"{' [DEPLOYER]' if address == matrix.deployer else ''}"
            for address, delay in row.members
        )

    body = [[str(r.id), r.name, who(r), f"{r.grant_delay:,}", ", ".join(r.functions) or "-"] for r in matrix.rows]
    lines = [f"AccessManager {matrix.manager} at block {matrix.block:,}", ""]
    lines += table(["id", "role", "members", "grant delay [s]", "guarded functions"], body, [True, False, False, True, False])
    lines.append("")
    lines += [f"admin delay of {c}: {d:,} s" + (f" (becomes {matrix.pending_admin[c][0]:,} s at {utc(matrix.pending_admin[c][1])})"
                                                 if c in matrix.pending_admin else "")
              for c, d in matrix.admin_delays.items()]
    for mismatch in matrix.mismatches:
        lines.append(f"WARNING: {mismatch}")
    held = matrix.deployer_roles
    if held:
        lines.append(f"WARNING: the deployer {matrix.deployer} still holds {', '.join(held)}: hand over to governance (SOMSTACK_GOVERNANCE) and renounce")
    else:
        lines.append("the deployer holds no role")
    return lines


def matrix_of_session(session: Session) -> Matrix:
    return read_matrix(session.w3, session_manifest(session), session.artifacts)


def roles_held(matrix: Matrix, account: str) -> Sequence[str]:
    return [r.name for r in matrix.rows if any(m == to_checksum_address(account) for m, _d in r.members)]
