"""`somstack deploy --dry-run`: what the plan would send, with its gas and its cost, before
anything is sent.

Later steps of the plan call contracts that earlier steps create, so their gas cannot be
estimated on the target chain before those exist. The plan is therefore rehearsed on an anvil
of our own that forks the target (its chain id, its state: the price feeds the plan registers,
the deployer's nonce, so the same addresses), sent from the deployer's own address
(impersonated), with the target's settings and role holders; each step's gas is measured there
and priced at the target's current gas price. The target only answers reads: chain id, gas
price, the deployer's balance, what its manifest says is done already, and the state the fork
reads on demand.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from web3 import Web3

from somstack.core import logs
from somstack.core.artifacts import Artifacts
from somstack.core.chain import LocalNode, NodeSigner, Sender
from somstack.core.session import Session
from somstack.system.deploy import (
    DeployContext,
    deploy_system,
    is_complete,
    load_manifest,
    resolve_holders,
)

logger = logging.getLogger(__name__)
DEPLOY_LOG = "somstack.system.deploy"  # the deployment's progress lines, silenced in a rehearsal

REHEARSAL_BALANCE = 10**24  # wei given to the impersonated deployer on the rehearsal chain


@dataclass(frozen=True)
class PlannedTx:
    key: str  # the manifest key of the step
    gas: int


@dataclass
class DryRun:
    network: str
    chain_id: int
    deployer: str
    gas_price: int  # [wei]
    balance: int  # [wei]
    steps: list[PlannedTx]
    done_already: int  # steps the target's manifest records done
    complete: bool

    @property
    def gas(self) -> int:
        return sum(s.gas for s in self.steps)

    @property
    def cost(self) -> int:
        return self.gas * self.gas_price

    def lines(self) -> list[str]:
        bnb = lambda wei: f"{Web3.from_wei(wei, 'ether'):.6f} BNB"  # noqa: E731
        if self.complete:
            return [f"{self.network} (chain {self.chain_id}): the deployment is complete; a real run sends nothing"]
        out = [
            f"dry run of the deploy plan on {self.network} (chain {self.chain_id}) from {self.deployer}",
            f"gas price {Web3.from_wei(self.gas_price, 'gwei')} gwei; gas measured on a rehearsal chain",
            "",
        ]
        width = max(len(s.key) for s in self.steps)
        for i, step in enumerate(self.steps, 1):
            out.append(f"{i:3d}  {step.key:<{width}s}  {step.gas:>10,} gas  {bnb(step.gas * self.gas_price)}")
        out += [
            "",
            f"{len(self.steps)} transactions, {self.gas:,} gas, {bnb(self.cost)} at the current gas price",
            f"deployer balance {bnb(self.balance)}" + ("" if self.balance >= self.cost else f": SHORT by {bnb(self.cost - self.balance)}"),
        ]
        if self.done_already:
            out.append(f"the target's manifest records {self.done_already} step(s) done: a real run resumes and skips them")
        out.append("nothing was sent")
        return out


def dry_run(session: Session, deployer: str) -> DryRun:
    """Rehearses the plan for ``session``'s network and prices it there (sends nothing there)."""
    w3, network, settings = session.w3, session.network, session.settings
    chain_id = w3.eth.chain_id
    params = settings.deployment(network.name)
    target_holders = resolve_holders(settings, network, w3)
    target = DeployContext(settings, network, w3, session.sender, params, target_holders)
    with logs.silenced(DEPLOY_LOG):  # the plan's own lines are not the rehearsal's
        manifest = load_manifest(target)
    gas_price, balance = w3.eth.gas_price, w3.eth.get_balance(deployer)
    if manifest.exists and is_complete(target, manifest):
        return DryRun(network.name, chain_id, deployer, gas_price, balance, [], 0, True)
    done = sum(1 for r in (*manifest.contracts.values(), *manifest.steps.values()) if r.get("status") == "done")
    logger.info(f"rehearsing the plan on a local fork of {network.name} (chain {chain_id}; nothing is sent to {network.name})")
    with LocalNode(settings, chain_id, fork_url=network.rpc) as node, tempfile.TemporaryDirectory() as folder:
        local = Web3(Web3.HTTPProvider(node.url))
        local.provider.make_request("anvil_impersonateAccount", [deployer])  # type: ignore[arg-type]
        local.provider.make_request("anvil_setBalance", [deployer, hex(REHEARSAL_BALANCE)])  # type: ignore[arg-type]
        rehearsal = replace(network, rpc=node.url, rpc_source="rehearsal")
        holders = target_holders if not network.dev else resolve_holders(settings, rehearsal, local)
        sender = Sender(local, NodeSigner(deployer), Artifacts(settings.root).decoder)
        ctx = DeployContext(settings, rehearsal, local, sender, params, holders, deployments_dir=Path(folder))
        with logs.silenced(DEPLOY_LOG):
            result = deploy_system(ctx)
        records = [*result.manifest.contracts.items(), *result.manifest.steps.items()]
        steps = [PlannedTx(key, int(r["gasUsed"])) for key, r in records if r.get("gasUsed")]
    steps.sort(key=lambda s: _block_of(result.manifest, s.key))
    return DryRun(network.name, chain_id, deployer, gas_price, balance, steps, done, False)


def _block_of(manifest: object, key: str) -> tuple[int, str]:
    data = manifest.data  # type: ignore[attr-defined]
    record = data["contracts"].get(key) or data["steps"].get(key) or {}
    return (int(record.get("block", 0)), key)
