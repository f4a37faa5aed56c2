"""The one deployment plan of SomStack, idempotent and resumable.

The plan: the AccessManager; ComplianceLogic, the library of the compliance core that both tokens
link; the Stablecoin, the ReserveVault, the DigitalCurrency and KGST's RedemptionQueue (which
holds KGST's BURNER role, to burn paid escrow), each an implementation behind an ERC-1967 proxy
initialized in the proxy's constructor (so nobody can front-run the initializer); the digital
som's tiers; role labels, the function-to-role table of
:mod:`somstack.system.roles`, and the role grants with their delays.

Every step is recorded in ``deployments/<chain-id>.json`` as soon as its transaction is sent
(``pending``, with its hash) and again when it is mined (``done``). A re-run skips what is done
and whose code is on chain, waits for a pending transaction instead of sending it again, and
checks on chain whether a configuration step already holds before paying for it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from eth_utils import function_abi_to_4byte_selector, is_address, to_checksum_address
from web3 import Web3

from somstack.core.artifacts import Artifacts
from somstack.core.chain import Sender
from somstack.core.config import DeploymentParams, Network, Settings
from somstack.core.errors import ConfigError, ManifestError
from somstack.core.manifest import (
    Manifest,
    check_genesis,
    genesis_hash,
    git_commit,
    manifest_path,
)
from somstack.system.roles import DELAYED_ROLES, FUNCTION_ROLES, ROLES, role_id

logger = logging.getLogger(__name__)


@dataclass
class DeployContext:
    settings: Settings
    network: Network
    w3: Web3
    sender: Sender
    params: DeploymentParams
    holders: dict[str, list[str]]
    deployments_dir: Path | None = None  # default: settings.deployments_dir
    artifacts: Artifacts = field(init=False)

    def __post_init__(self) -> None:
        self.artifacts = Artifacts(self.settings.root)


@dataclass
class DeployResult:
    manifest: Manifest
    sent: int  # transactions sent by this run
    already_complete: bool


def governance_address() -> str | None:
    """The governance address that takes over the AccessManager's admin (SOMSTACK_GOVERNANCE:
    a Safe multisig or a TimelockController), or None to leave the deployer as admin."""
    value = os.environ.get("SOMSTACK_GOVERNANCE", "").strip()
    if not value:
        return None
    if not is_address(value) or int(value, 16) == 0:
        raise ConfigError(f"SOMSTACK_GOVERNANCE holds '{value}', which is not an address")
    return to_checksum_address(value)


def resolve_holders(settings: Settings, network: Network, w3: Web3) -> dict[str, list[str]]:
    """Who gets each role: the node's dev accounts on a dev chain, SOMSTACK_ROLE_<ROLE> otherwise."""
    params = settings.deployment(network.name)
    holders: dict[str, list[str]] = {}
    if network.dev:
        accounts = w3.eth.accounts
        for role, indexes in params.dev_holders.items():
            try:
                holders[role] = [to_checksum_address(accounts[i]) for i in indexes]
            except IndexError:
                raise ConfigError(f"dev_holders.{role} names account {max(indexes)}, the node has {len(accounts)}") from None
        return holders
    for role in ROLES:
        if role == "ADMIN":
            continue
        value = os.environ.get(f"SOMSTACK_ROLE_{role}", "").strip()
        if not value:
            continue
        addresses = [a.strip() for a in value.split(",") if a.strip()]
        for address in addresses:
            if not is_address(address):
                raise ConfigError(f"SOMSTACK_ROLE_{role} holds '{address}', which is not an address")
        holders[role] = [to_checksum_address(a) for a in addresses]
    return holders


def selectors(abi: list[dict[str, Any]], names: tuple[str, ...]) -> list[bytes]:
    """The 4-byte selectors of every overload of the functions ``names`` in ``abi``."""
    found = [function_abi_to_4byte_selector(i) for i in abi if i.get("type") == "function" and i["name"] in names]
    missing = set(names) - {i["name"] for i in abi if i.get("type") == "function"}
    if missing:
        raise ConfigError(f"the role table names functions the contract lacks: {', '.join(sorted(missing))}")
    return found


class _Run:
    """One execution of the plan against one manifest."""

    def __init__(self, ctx: DeployContext, manifest: Manifest):
        self.ctx = ctx
        self.manifest = manifest
        self.sent = 0

    # --- primitives ---

    def _code_at(self, address: str) -> bool:
        return len(self.ctx.w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def _send(self, record: dict[str, Any], tx: dict[str, Any], what: str) -> Any:
        """Sends ``tx`` unless ``record`` holds a pending transaction, which is awaited instead."""
        sender = self.ctx.sender
        if record.get("status") == "pending" and record.get("txHash"):
            receipt = sender.receipt_if_mined(record["txHash"])
            if receipt is not None:
                logger.info(f"  {what}: found the pending transaction {record['txHash']} mined")
                return receipt
            logger.info(f"  {what}: the pending transaction was dropped; sending again")

        def on_sent(tx_hash: str) -> None:
            record.update(status="pending", txHash=tx_hash)
            self.manifest.save()

        sender.on_sent = on_sent
        try:
            tx_hash = sender.submit(tx, what)
        finally:
            sender.on_sent = None
        self.sent += 1
        return sender.wait(tx_hash, what)

    def contract(self, key: str, artifact_name: str, args: list[Any], libraries: dict[str, str] | None = None) -> str:
        contracts = self.manifest.contracts
        record = contracts.get(key, {})
        if record.get("status") == "done" and self._code_at(record["address"]):
            logger.info(f"  {key}: already at {record['address']}")
            return record["address"]
        if record.get("status") == "done":
            raise ManifestError(f"{self.manifest.path.name} puts {key} at {record['address']}, but there is no code there")
        contracts[key] = record
        artifact = self.ctx.artifacts.get(artifact_name).linked(libraries or {})
        factory = artifact.contract(self.ctx.w3)
        data = factory.constructor(*args).data_in_transaction  # type: ignore[union-attr]
        receipt = self._send(record, {"data": data}, f"deploy {key}")
        address = receipt["contractAddress"]
        record.update(
            status="done",
            address=address,
            artifact=artifact_name,
            constructorArgs="0x" + data.removeprefix("0x")[len(artifact.bytecode.removeprefix("0x")) :],
            txHash=_hex(receipt["transactionHash"]),
            block=receipt["blockNumber"],
            gasUsed=receipt["gasUsed"],
        )
        if libraries:
            record["libraries"] = dict(libraries)
        self.manifest.save()
        logger.info(f"  {key}: deployed at {address} (gas {receipt['gasUsed']:,})")
        return address

    def call(self, key: str, target: str, data: str, what: str, holds: Callable[[], bool]) -> None:
        """A configuration transaction, skipped when recorded done or when ``holds()`` already."""
        steps = self.manifest.steps
        record = steps.get(key, {})
        if record.get("status") == "done" or (record.get("status") != "pending" and holds()):
            if record.get("status") != "done":
                steps[key] = {"status": "done", "note": "already held on chain"}
                self.manifest.save()
            return
        steps[key] = record
        receipt = self._send(record, {"to": target, "data": data}, what)
        record.update(status="done", txHash=_hex(receipt["transactionHash"]), block=receipt["blockNumber"], gasUsed=receipt["gasUsed"])
        self.manifest.save()
        logger.info(f"  {what} (gas {receipt['gasUsed']:,})")


def _hex(value: Any) -> str:
    text = value.hex() if hasattr(value, "hex") else str(value)
    return text if text.startswith("0x") else "0x" + text


NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"


def _deploy_reserve(run: _Run, manager_address: str, token_address: str) -> str:
    """The ReserveVault behind its proxy, initialized with its policy and first assets. On a dev
    chain the feeds and tokens named in the settings are mocks (contracts/test/) deployed here."""
    ctx = run.ctx
    reserve = ctx.params.reserve
    addresses: list[str] = []
    configs: list[tuple[Any, ...]] = []
    for symbol, spec in (reserve.get("assets") or {}).items():
        token, feed = spec.get("token"), spec.get("feed")
        if isinstance(feed, dict) or isinstance(token, dict):
            if not ctx.network.dev:
                raise ConfigError(f"reserve asset {symbol}: mocks are for dev chains; give addresses on {ctx.network.name}")
        if isinstance(feed, dict):
            feed = run.contract(f"Feed:{symbol}", "MockAggregatorV3", [int(feed["decimals"]), str(feed["description"]), int(feed["answer"])])
        if token == "native":
            token, decimals = NATIVE, 18
        elif isinstance(token, dict):
            decimals = int(token["decimals"])
            token = run.contract(f"Token:{symbol}", "MockReserveToken", [str(token["name"]), str(token["symbol"]), decimals])
        else:
            decimals = int(spec.get("decimals", 18))
        if not (is_address(token) and is_address(feed)):
            raise ConfigError(f"reserve asset {symbol}: token and feed must be addresses")
        addresses.append(to_checksum_address(token))
        configs.append(
            (
                to_checksum_address(feed),
                int(spec["heartbeat"]),
                int(spec["haircut_bps"]),
                int(spec["max_share_bps"]),
                int(spec["daily_cap"]) * 10**decimals,
            )
        )
    implementation = run.contract("ReserveVaultImplementation", "ReserveVault", [])
    vault_impl = ctx.w3.eth.contract(abi=ctx.artifacts.get("ReserveVault").abi)
    init = vault_impl.encode_abi(
        "initialize",
        [
            manager_address,
            token_address,
            int(reserve.get("min_coverage_bps", 10_000)),
            int(reserve["rate_max_age"]),
            int(reserve["rate_max_change_bps"]),
            int(reserve["attestation_max_age"]),
            addresses,
            configs,
        ],
    )
    vault = run.contract("ReserveVault", "SomProxy", [implementation, init])
    run.manifest.contracts["ReserveVault"]["implementation"] = implementation
    run.manifest.contracts["ReserveVault"]["assets"] = dict(zip(reserve.get("assets") or {}, addresses))
    return vault


def _deploy_digital_currency(run: _Run, manager_address: str, compliance: str) -> str:
    """The digital som behind its proxy (its cold paths in the linked DigitalCurrencyLogic and,
    shared with KGST, ComplianceLogic)."""
    ctx = run.ctx
    params = ctx.params.digital_currency
    logic = run.contract("DigitalCurrencyLogic", "DigitalCurrencyLogic", [])
    libraries = {"DigitalCurrencyLogic": logic, "ComplianceLogic": compliance}
    # The implementation signs EIP-712 under the token name, fixed in its code (SignedTransfers).
    implementation = run.contract("DigitalCurrencyImplementation", "DigitalCurrency", [params.name], libraries=libraries)
    impl = ctx.w3.eth.contract(abi=ctx.artifacts.get("DigitalCurrency").abi)
    init = impl.encode_abi("initialize", [params.name, params.symbol, params.decimals, manager_address])
    address = run.contract("DigitalCurrency", "SomProxy", [implementation, init])
    run.manifest.contracts["DigitalCurrency"]["implementation"] = implementation
    return address


def _deploy_redemption_queue(run: _Run, manager_address: str, token_address: str) -> str:
    """The KGST redemption queue behind its proxy, with the minimum and service level of the
    settings (``redemption``: min_amount in whole KGST, service_level in seconds)."""
    ctx = run.ctx
    settings = ctx.params.redemption
    try:
        minimum = int(settings.get("min_amount", 0)) * 10**ctx.params.stablecoin.decimals
        service_level = int(settings.get("service_level", 172800))
    except (TypeError, ValueError):
        raise ConfigError(f"deployment.redemption must hold whole numbers, not {settings!r}") from None
    implementation = run.contract("RedemptionQueueImplementation", "RedemptionQueue", [])
    impl = ctx.w3.eth.contract(abi=ctx.artifacts.get("RedemptionQueue").abi)
    init = impl.encode_abi("initialize", [token_address, manager_address, minimum, service_level])
    address = run.contract("RedemptionQueue", "SomProxy", [implementation, init])
    run.manifest.contracts["RedemptionQueue"]["implementation"] = implementation
    return address


def _delay_in_force(manager: Any, getter: str, key: Any) -> int:
    """The delay AccessManager applies now. A raised delay only applies after its setback, and
    no getter shows a pending one, so it is the manifest's "done" record that skips a delay step
    on a re-run; this check only skips it on a chain where the delay is already in force."""
    return int(getattr(manager.functions, getter)(key).call())


def load_manifest(ctx: DeployContext) -> Manifest:
    chain_id = ctx.w3.eth.chain_id
    folder = ctx.deployments_dir or ctx.settings.deployments_dir
    manifest = Manifest.load(manifest_path(folder, chain_id, ctx.network), chain_id)
    manager = manifest.contracts.get("AccessManager", {})
    if ctx.network.dev and manager.get("status") == "done" and not ctx.w3.eth.get_code(manager["address"]):
        # A dev chain restarts empty: its old record describes a chain that is gone.
        logger.info(f"{manifest.path.name} describes an earlier local chain; deploying afresh")
        manifest = Manifest(manifest.path, {"schema": 1, "chainId": chain_id, "contracts": {}, "steps": {}, "complete": False})
    check_genesis(manifest, ctx.w3)  # code at the same addresses on another chain is not this deployment
    return manifest


def is_complete(ctx: DeployContext, manifest: Manifest) -> bool:
    """Complete and really there: every recorded contract has code at its address."""
    if not manifest.complete:
        return False
    return all(ctx.w3.eth.get_code(c["address"]) for c in manifest.contracts.values())


@dataclass
class _System:
    """The deployed contracts, as the configuration phases address them."""

    manager_address: str
    manager: Any  # the AccessManager
    token: Any  # KGST (its proxy)
    vault_address: str
    cbdc: Any  # the digital som (its proxy)
    queue_address: str
    targets: dict[str, tuple[str, Any]]  # contract -> (address, ABI): what the role table restricts


def deploy_system(ctx: DeployContext) -> DeployResult:
    """Runs the whole plan (or what is left of it) and returns the manifest. The phases run in
    this order, and each in its own fixed order: a re-run finds its steps by their keys."""
    manifest = load_manifest(ctx)
    if is_complete(ctx, manifest):
        _report_complete(ctx, manifest)
        return DeployResult(manifest, 0, True)
    deployer = ctx.sender.signer.address
    _record_parameters(ctx, manifest, deployer)
    run = _Run(ctx, manifest)
    logger.info(f"deploying SomStack on {ctx.network.name} (chain {ctx.w3.eth.chain_id}) from {deployer}")
    system = _deploy_contracts(run, deployer)
    _wire(run, system)
    _set_roles(run, system)
    _set_delays(run, system)
    _hand_over(run, system, deployer)
    manifest.data["complete"] = True
    manifest.save()
    logger.info(f"deployment complete: {run.sent} transaction(s) sent, manifest {manifest.path.name}")
    return DeployResult(manifest, run.sent, False)


def _report_complete(ctx: DeployContext, manifest: Manifest) -> None:
    """What a re-run of a complete deployment says: nothing to do, or the handover .env asks for."""
    changes = handover_steps(ctx, manifest)
    if changes:
        listed = "; ".join(c.what for c in changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
        logger.info(f"{manifest.path.name} is complete, but .env asks for what the chain does not hold: {listed}: "
                f"run `somstack handover --network {ctx.network.name}`")
    else:
        logger.info(f"nothing to do: {manifest.path.name} is complete and its code is on chain")


def _record_parameters(ctx: DeployContext, manifest: Manifest, deployer: str) -> None:
    """The manifest's header: the chain, the deployer, the compiler, the commit and the parameters."""
    params = ctx.params
    manifest.data.setdefault("genesis", genesis_hash(ctx.w3))
    manifest.data.update(
        network=ctx.network.name,
        deployer=deployer,
        compiler=ctx.settings.compiler.as_dict(),
        gitCommit=git_commit(ctx.settings.root),
        parameters={
            "stablecoin": vars(params.stablecoin),
            "digitalCurrency": {
                "name": params.digital_currency.name,
                "symbol": params.digital_currency.symbol,
                "decimals": params.digital_currency.decimals,
                "tiers": {str(t.id): {**vars(t)} for t in params.digital_currency.tiers},
            },
            "upgradeDelay": params.upgrade_delay,
        },
    )


def _deploy_contracts(run: _Run, deployer: str) -> _System:
    """Phase 1, the contracts: the AccessManager (the deployer its first admin), the compliance
    library, KGST, the reserve vault, the digital som and the redemption queue."""
    ctx = run.ctx
    w3 = ctx.w3
    manager_address = run.contract("AccessManager", "SomAccessManager", [deployer])
    # The cold paths of the compliance core (blocklist, seizure, rescue), linked by both tokens.
    compliance = run.contract("ComplianceLogic", "ComplianceLogic", [])
    token_address = _deploy_stablecoin(run, manager_address, compliance)
    vault_address = _deploy_reserve(run, manager_address, token_address)
    cbdc_address = _deploy_digital_currency(run, manager_address, compliance)
    queue_address = _deploy_redemption_queue(run, manager_address, token_address)
    abi = {name: ctx.artifacts.get(name).abi for name in ("Stablecoin", "ReserveVault", "DigitalCurrency", "RedemptionQueue")}
    return _System(
        manager_address=manager_address,
        manager=ctx.artifacts.get("SomAccessManager").contract(w3, manager_address),
        token=w3.eth.contract(address=token_address, abi=abi["Stablecoin"]),
        vault_address=vault_address,
        cbdc=w3.eth.contract(address=cbdc_address, abi=abi["DigitalCurrency"]),
        queue_address=queue_address,
        targets={
            "Stablecoin": (token_address, abi["Stablecoin"]),
            "ReserveVault": (vault_address, abi["ReserveVault"]),
            "DigitalCurrency": (cbdc_address, abi["DigitalCurrency"]),
            "RedemptionQueue": (queue_address, abi["RedemptionQueue"]),
        },
    )


def _deploy_stablecoin(run: _Run, manager_address: str, compliance: str) -> str:
    """KGST behind its proxy, its cold paths in the linked ComplianceLogic."""
    ctx = run.ctx
    params = ctx.params.stablecoin
    # The implementation signs EIP-712 under the token name, fixed in its code (SignedTransfers).
    implementation = run.contract("StablecoinImplementation", "Stablecoin", [params.name], libraries={"ComplianceLogic": compliance})
    impl = ctx.w3.eth.contract(abi=ctx.artifacts.get("Stablecoin").abi)
    init = impl.encode_abi("initialize", [params.name, params.symbol, params.decimals, manager_address])
    address = run.contract("Stablecoin", "SomProxy", [implementation, init])
    run.manifest.contracts["Stablecoin"]["implementation"] = implementation
    return address


def _wire(run: _Run, system: _System) -> None:
    """Phase 2, the contracts wired together: KGST minting gated on the vault, the queue's BURNER
    role, the digital som's tiers."""
    token, manager, cbdc = system.token, system.manager, system.cbdc
    vault_address, queue_address = system.vault_address, system.queue_address
    run.call(
        "connect:Stablecoin:ReserveVault",
        token.address,
        token.encode_abi("setReserveVault", [vault_address]),
        "KGST minting gated on the reserve vault",
        holds=lambda: token.functions.reserveVault().call() == vault_address,
    )
    # The queue burns the escrow of a paid redemption through KGST's own burn.
    burner = role_id("BURNER")
    run.call(
        "grant:BURNER:RedemptionQueue",
        system.manager_address,
        manager.encode_abi("grantRole", [burner, queue_address, 0]),
        f"grant BURNER to the redemption queue {queue_address}",
        holds=lambda: tuple(manager.functions.hasRole(burner, queue_address).call()) == (True, 0),
    )
    for tier in run.ctx.params.digital_currency.tiers:
        run.call(
            f"tier:DigitalCurrency:{tier.id}",
            cbdc.address,
            cbdc.encode_abi("setTier", [tier.id, tier.as_tuple()]),
            f"digital som tier {tier.id} ({tier.name})",
            holds=lambda t=tier: tuple(cbdc.functions.tier(t.id).call()) == t.as_tuple(),
        )


def _set_roles(run: _Run, system: _System) -> None:
    """Phase 3, the roles: their labels, the function-to-role table, the holders' grants."""
    manager, manager_address = system.manager, system.manager_address
    for role in ROLES.values():
        if role.id == 0:
            continue
        run.call(
            f"label:{role.name}",
            manager_address,
            manager.encode_abi("labelRole", [role.id, role.name]),
            f"label role {role.id} {role.name}",
            holds=lambda: False,
        )
    for contract, table in FUNCTION_ROLES.items():
        address, abi = system.targets[contract]
        for role_name, names in table.items():
            rid = role_id(role_name)
            sels = selectors(abi, names)
            run.call(
                f"functions:{contract}:{role_name}",
                manager_address,
                manager.encode_abi("setTargetFunctionRole", [address, sels, rid]),
                f"{contract}.{{{', '.join(names)}}} -> {role_name}",
                holds=lambda a=address, s=sels, r=rid: all(manager.functions.getTargetFunctionRole(a, x).call() == r for x in s),
            )
    for step in _role_grants(run.ctx, manager):
        run.call(step.key, manager_address, step.data, step.what, step.holds)


def _set_delays(run: _Run, system: _System) -> None:
    """Phase 4, the delays. Without these, the admin could give itself UPGRADER, or move
    upgradeToAndCall to its own role, and upgrade at once. AccessManager applies a raised delay
    after its minimum setback (5 days), so they protect from then on; until then the admin is
    the deployer."""
    manager, manager_address, params = system.manager, system.manager_address, run.ctx.params
    for role, setting in DELAYED_ROLES.items():
        rid, role_delay = role_id(role), params.delay_of(setting)
        run.call(
            f"grant-delay:{role}",
            manager_address,
            manager.encode_abi("setGrantDelay", [rid, role_delay]),
            f"grant delay of {role}: {role_delay} s",
            holds=lambda r=rid, d=role_delay: _delay_in_force(manager, "getRoleGrantDelay", r) == d,
        )
    delay = params.upgrade_delay
    for contract, (address, _abi) in system.targets.items():
        run.call(
            f"admin-delay:{contract}",
            manager_address,
            manager.encode_abi("setTargetAdminDelay", [address, delay]),
            f"admin delay of {contract}: {delay} s",
            holds=lambda a=address: _delay_in_force(manager, "getTargetAdminDelay", a) == delay,
        )


def _hand_over(run: _Run, system: _System, deployer: str) -> None:
    """Phase 5, last, with SOMSTACK_GOVERNANCE: the AccessManager's admin moves to governance (a
    Safe or a TimelockController) and the deployer gives it up, so that no single key keeps the
    keys to the system."""
    governance = governance_address()
    if not governance:
        return
    manager, manager_address = system.manager, system.manager_address
    grant = _governance_grant(run.ctx, manager, governance)
    run.call(grant.key, manager_address, grant.data, grant.what, grant.holds)
    if governance != deployer:
        run.call(
            f"handover:renounce-admin:{deployer}",
            manager_address,
            manager.encode_abi("renounceRole", [0, deployer]),
            f"deployer {deployer} renounces ADMIN",
            holds=lambda: not manager.functions.hasRole(0, deployer).call()[0],
        )
    run.manifest.data["governance"] = governance


# --- Handover: what .env asks for after the deployment (`somstack handover`) ---


@dataclass(frozen=True)
class HandoverStep:
    key: str  # the manifest step
    what: str
    data: str  # AccessManager calldata
    holds: Callable[[], bool]


def _role_grants(ctx: DeployContext, manager: Any) -> list[HandoverStep]:
    """Each holder's grant of its role (with the role's execution delay), holder by holder."""
    has = manager.functions.hasRole
    steps = []
    for role, accounts in ctx.holders.items():
        rid = role_id(role)
        delay = ctx.params.delay_of(DELAYED_ROLES[role]) if role in DELAYED_ROLES else 0
        for account in accounts:
            steps.append(HandoverStep(f"grant:{role}:{account}", f"grant {role} to {account}" + (f" (execution delay {delay} s)" if delay else ""),
                                      manager.encode_abi("grantRole", [rid, account, delay]),
                                      lambda r=rid, a=account, d=delay: tuple(has(r, a).call()) == (True, d)))
    return steps


def _governance_grant(ctx: DeployContext, manager: Any, governance: str) -> HandoverStep:
    """ADMIN granted to governance, with the governance delay."""
    gov_delay = ctx.params.governance_delay
    return HandoverStep(f"handover:grant-admin:{governance}",
                        f"grant ADMIN to governance {governance}" + (f" (execution delay {gov_delay} s)" if gov_delay else ""),
                        manager.encode_abi("grantRole", [0, governance, gov_delay]),
                        lambda: tuple(manager.functions.hasRole(0, governance).call()) == (True, gov_delay))


def handover_steps(ctx: DeployContext, manifest: Manifest) -> list[HandoverStep]:
    """What .env asks that the chain does not hold yet, in order: each role holder of
    SOMSTACK_ROLE_* (dev holders on a dev chain) granted its role, SOMSTACK_GOVERNANCE granted
    ADMIN with governance_delay, then the deployer renouncing every role it holds (ADMIN last)."""
    manager = ctx.artifacts.get("SomAccessManager").contract(ctx.w3, manifest.address("AccessManager"))
    has = manager.functions.hasRole
    steps = _role_grants(ctx, manager)
    governance = governance_address()
    deployer = manifest.data.get("deployer")
    if governance:
        steps.append(_governance_grant(ctx, manager, governance))
        if deployer and to_checksum_address(deployer) != governance:
            deployer = to_checksum_address(deployer)
            held = [r for r in ROLES if r != "ADMIN" and has(role_id(r), deployer).call()[0]
                    and deployer not in ctx.holders.get(r, [])]
            for role in held + ["ADMIN"]:
                rid = role_id(role)
                steps.append(HandoverStep(f"handover:renounce:{role}:{deployer}", f"deployer {deployer} renounces {role}",
                                          manager.encode_abi("renounceRole", [rid, deployer]),
                                          lambda r=rid: not has(r, deployer).call()[0]))
    return [s for s in steps if not s.holds()]


def handover(ctx: DeployContext) -> tuple[Manifest, list[str]]:
    """Sends the :func:`handover_steps` (by the deployer's key, which holds ADMIN until the
    last step); returns the manifest and what was done."""
    manifest = load_manifest(ctx)
    if not manifest.complete:
        raise ManifestError(f"{manifest.path.name} is not complete: run `somstack deploy` first (it resumes)")
    steps = handover_steps(ctx, manifest)
    sender = ctx.sender.signer.address
    deployer = manifest.data.get("deployer")
    if deployer and to_checksum_address(deployer) != sender:
        others = [s for s in steps if s.key.startswith("handover:renounce:")]
        if others:
            logger.info(f"the deployer {deployer} renounces its roles with its own key: {len(others)} renounce step(s) left to it")
        steps = [s for s in steps if not s.key.startswith("handover:renounce:")]
    if not steps:
        return manifest, []
    manager = ctx.artifacts.get("SomAccessManager").contract(ctx.w3, manifest.address("AccessManager"))
    if not manager.functions.hasRole(0, sender).call()[0]:
        raise ManifestError(f"{sender} does not hold ADMIN: the handover is sent with the deployer's key "
                            f"({manifest.data.get('deployer')}); governance grants by `somstack governance propose`")
    run = _Run(ctx, manifest)
    for step in steps:
        run.call(f"{step.key}@{ctx.w3.eth.block_number}" if step.key in manifest.steps else step.key,
                 manifest.address("AccessManager"), step.data, step.what, step.holds)
    governance = governance_address()
    if governance:
        manifest.data["governance"] = governance
        manifest.save()
    return manifest, [s.what for s in steps]
