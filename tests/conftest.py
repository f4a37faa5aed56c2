"""Shared fixtures: one deployment for the whole session (through the somstack deploy plan, as
operators deploy), and a chain snapshot around every test so that each starts from it."""

from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from types import SimpleNamespace

import brownie.network.state as _brownie_state
import brownie.test.managers.utils as _brownie_outcomes
import pytest
import requests
from brownie import Contract, accounts, chain, history, project, web3
from brownie._config import CONFIG
from brownie.exceptions import VirtualMachineError
from brownie.network.contract import ContractContainer as _BrownieContainer
from brownie.network.rpc import Rpc as _BrownieRpc
from brownie.network.state import Chain as _BrownieChain
from cbdclib import BANK_TIER, GOVERNMENT_TIER, TREASURY_FLOAT, identity_of, kyc_record
from eth_utils import keccak
from web3 import HTTPProvider
from web3.exceptions import TransactionNotFound

from somstack.core.artifacts import Artifacts
from somstack.core.chain import NodeSigner, Sender
from somstack.core.config import Network, load_settings
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders

# The suite's own harness: per-test CPU times and the heaviest-file-first order (tests/support/).
pytest_plugins = ["support.chains", "support.selection", "support.timing"]

# brownie's test runner knows no "rerun" outcome (pytest-rerunfailures, see pytest.ini) and
# stops the session with StopIteration when a test is rerun: teach it the outcome.
if not any("rerun" in pair for pair in _brownie_outcomes.OUTCOMES):
    _brownie_outcomes.OUTCOMES = (*_brownie_outcomes.OUTCOMES, ("R", "rerun"))

# brownie runs a full gc.collect() at every snapshot revert, before telling its objects the
# chain went back: about 0.15 s per test with this suite's heap. Objects without a reference are
# freed by reference counting at once; the collector only finds cycles, and a cyclic object told
# of a revert just drops history it no longer shows. Collected at the usual thresholds instead.
_brownie_state.gc = SimpleNamespace(collect=lambda *args: 0)


def _unwatched(method):
    """brownie wraps Rpc.snapshot/revert/sleep/mine to warn a user who calls them directly instead
    of through `chain`, and finds the caller with inspect.stack(): the source context of every
    frame of the stack, read at every snapshot and revert (brownie takes one after every
    transaction, and --coverage one for every view call): under pytest's deep stacks, more CPU
    than the calls themselves. The same check, on the caller's frame alone."""
    original = method.__closure__[0].cell_contents

    def checked(*args, **kwargs):
        if sys._getframe(1).f_locals.get("self", None) is not chain:
            warnings.warn(f"rpc.{original.__name__} should not be called directly, use chain.{original.__name__} instead",
                          FutureWarning, stacklevel=2)
        return original(*args, **kwargs)

    return checked


for _name, _method in list(vars(_BrownieRpc).items()):
    if getattr(_method, "__qualname__", "") == "internal.<locals>.wrapped":
        setattr(_BrownieRpc, _name, _unwatched(_method))


# brownie tells every contract object it knows of each revert, and each one not deployed by a
# brownie transaction (every contract of the deploy plan, attached at its address) asks the node
# for its code to learn whether the revert took it away: about 40 eth_getCode per revert, and
# a revert per test and, under --coverage, per view call (28,197 of them in tests/stablecoin).
# Code that was on the chain at a height is still there after any revert to that height or above
# (nothing here self-destructs; the chain goes back, never sideways, and a revert below the
# height asks again): the lowest height each address was seen at is remembered.
_code_seen_at: dict[str, int] = {}


def _container_revert(self, height: int) -> None:
    reverted = []
    for contract in self._contracts:
        if contract.tx and contract.tx.block_number is not None and contract.tx.block_number > height:
            reverted.append(contract)
        elif _code_seen_at.get(contract.address, height + 1) > height:
            if len(web3.eth.get_code(contract.address)) == 0:
                reverted.append(contract)
            else:
                _code_seen_at[contract.address] = height
    for contract in reverted:
        _code_seen_at.pop(contract.address, None)
        self.remove(contract)
        contract._reverted = True


_BrownieContainer._revert = _container_revert


def _no_undo_buffer(self, tx, fn, args, kwargs):
    """brownie takes an evm_snapshot after every transaction for `chain.undo()` (anvil copies its
    state for each); the suite never undoes a transaction (each test goes back to its own
    snapshot, --coverage's view calls to their own), so only the clock is synced as brownie does."""
    with self._undo_lock:
        tx._confirmed.wait()
        self._set_time_offset_from_block()


def _undo_refused(self, *args, **kwargs):
    raise NotImplementedError("the test suite keeps no undo buffer (tests/conftest.py): take a snapshot and revert to it")


_BrownieChain._add_to_undo_buffer = _no_undo_buffer
_BrownieChain.undo = _BrownieChain.redo = _undo_refused


def _patient(lookup, tries=20, pause=0.05):
    """`lookup` (a transaction or receipt by hash), asked again for up to a second while the node
    says "not found". anvil counts a mined transaction in the sender's nonce a moment before it
    can be looked up; brownie's receipt thread, asking in that moment, declares the transaction
    "dropped without known replacement" and fails a test that did nothing wrong."""

    def ask(*args, **kwargs):
        for _ in range(tries - 1):
            try:
                return lookup(*args, **kwargs)
            except TransactionNotFound:
                time.sleep(pause)
        return lookup(*args, **kwargs)

    return ask


web3.eth.get_transaction = _patient(web3.eth.get_transaction)
web3.eth.get_transaction_receipt = _patient(web3.eth.get_transaction_receipt)

UNIT = 10**18
MINTER_ALLOWANCE = 10**12 * UNIT


def pytest_addoption(parser):
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="deeper hypothesis stateful runs (more examples, more steps; see tests/stateful.py) and the relay load test at full size (make test-long)",
    )
    parser.addoption(
        "--coverage-floor",
        type=float,
        default=None,
        metavar="PCT",
        help="with --coverage: fail the run when a production contract has less than PCT%% of its "
        "branches covered; the report goes to reports/coverage-floor.txt (tests/coverage_floor.py)",
    )


def pytest_configure(config):
    import stateful

    stateful.LONG = config.getoption("--long")


_SESSION = pytest.StashKey()


def pytest_collection_modifyitems(config, items):
    """Under --coverage, brownie turns every contract call of a test into a traced transaction
    that it then undoes. Where that is no use to the contracts' coverage it is turned off: the
    operator tests (tests/ops, tests/bench: the CLI sends through web3 anyway) and the stateful
    tests (whose transactions are still traced; their reads must not become transactions)."""
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        if parts[:2] in (("tests", "ops"), ("tests", "bench")) or "state_machine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.no_call_coverage)


def _test_chain_port() -> int:
    """The port of this process's test chain: SOMSTACK_TEST_PORT (default 8545) plus the xdist
    worker number, so that two checkouts can run their suites side by side."""
    raw = os.environ.get("SOMSTACK_TEST_PORT", "").strip() or "8545"
    if not raw.isascii() or not raw.isdigit() or not 1024 <= int(raw) <= 65000:
        raise pytest.UsageError(f"SOMSTACK_TEST_PORT must be a port number from 1024 to 65000, not {raw!r}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(raw) + (int("".join(c for c in worker if c.isdigit()) or 0) if worker else 0)


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    session.config.stash[_SESSION] = session
    if hasattr(session.config, "workerinput") or not session.config.pluginmanager.hasplugin("xdist") or (
        session.config.getoption("numprocesses", None) in (None, 0)
    ):
        # brownie launches (or, if something already answers there, attaches to and resets) the
        # development chain at collection's end: the port is set here, and a chain that this run
        # did not start is refused rather than reset.
        port = _test_chain_port()
        CONFIG.networks["development"]["cmd_settings"]["port"] = port
        if _port_in_use(port):
            raise pytest.UsageError(
                f"port {port} is in use: the test chain is started by the tests and never attached to "
                f"(something else may be using it); set SOMSTACK_TEST_PORT to another base port"
            )


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """After brownie's own coverage report: the branch floor of the production contracts."""
    floor = config.getoption("--coverage-floor")
    if floor is None:
        return
    session = config.stash[_SESSION]
    if not CONFIG.argv.get("coverage"):
        terminalreporter.write_line("--coverage-floor needs --coverage", red=True)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
        return
    import coverage_floor

    lines, ok = coverage_floor.evaluate(floor, config.rootpath)
    terminalreporter.section("coverage floor")
    for line in lines:
        terminalreporter.write_line(line, red=not ok and line.startswith("FAILED"))
    if not ok and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session", autouse=True)
def lean_rpc():
    """brownie's connection to the test chain, made cheaper per request, same answers:
    - web3 asks the node its chain id before every call and transaction (its validation; over a
      quarter of the suite's requests) and brownie its client version after each one. The chain
      of a session changes neither: web3's own request cache answers them after the first (as
      somstack's connections do for the chain id).
    - requests looks for proxy settings in the environment on every request (a walk over
      os.environ, twice): the test chain is on localhost, so its session does not look.
    (brownie's own middlewares stay on web3 and see every request.)"""
    session = requests.Session()
    session.trust_env = False
    old = web3.provider
    web3.provider = HTTPProvider(
        old.endpoint_uri,
        request_kwargs=dict(old.get_request_kwargs()),
        session=session,
        cache_allowed_requests=True,
        cacheable_requests={"eth_chainId", "web3_clientVersion"},
    )
    yield
    session.close()


@pytest.fixture(scope="session")
def artifacts(settings):
    return Artifacts(settings.root)


@pytest.fixture(scope="session")
def network():
    return Network(name="local", rpc="brownie", rpc_source="brownie", chain_id=web3.eth.chain_id, dev=True)


@pytest.fixture(scope="session")
def deployment(settings, network, tmp_path_factory):
    """The whole system, deployed once per session by `somstack.system.deploy.deploy_system`."""
    chain.reset()
    sender = Sender(web3, NodeSigner(accounts[0].address), Artifacts(settings.root).decoder)
    holders = resolve_holders(settings, network, web3)
    ctx = DeployContext(
        settings,
        network,
        web3,
        sender,
        settings.deployment("local"),
        holders,
        deployments_dir=tmp_path_factory.mktemp("deployments"),
    )
    result = deploy_system(ctx)
    if CONFIG.argv.get("coverage"):
        _traced(result.manifest)
    return SimpleNamespace(ctx=ctx, manifest=result.manifest, holders=holders)


def _traced(manifest):
    """Under brownie's --coverage: every contract the plan deployed (implementations, the linked
    library, the mocks) becomes a project contract at its address, so that brownie maps the
    traces of the calls delegated to it onto its sources. Proxies stay abi-only fixtures: the
    implementation's frame is what is measured. brownie compares the deployed code with the
    artifact's and drops the source map when they differ, which they do wherever an immutable
    is filled in by the constructor (the EIP-712 name hash, OZ's own) (brownie #1087): the
    artifacts are the ones the plan deployed, so the check is skipped here."""
    import brownie.network.contract as brownie_contract

    brownie_contract._verify_deployed_code = lambda *args, **kwargs: True
    containers = project.get_loaded_projects()[0]
    for record in manifest.contracts.values():
        artifact = record.get("artifact")
        if artifact and artifact != "SomProxy" and hasattr(containers, artifact):
            getattr(containers, artifact).at(record["address"])


@pytest.fixture(scope="session")
def manager(deployment, artifacts):
    return Contract.from_abi("SomAccessManager", deployment.manifest.address("AccessManager"), artifacts.get("SomAccessManager").abi)


@pytest.fixture(scope="session")
def kgst(deployment, artifacts, reserve_ready):
    """KGST through its proxy, as users call it, with the reserve in operation (rate published,
    bank attestation posted): see `reserve_ready`."""
    return Contract.from_abi("Stablecoin", deployment.manifest.address("Stablecoin"), artifacts.get("Stablecoin").abi)


# --- Role accounts (as granted by the deploy plan from brownie-config.yaml dev_holders) ---


def _holder(deployment, role, index=0):
    return accounts.at(deployment.holders[role][index], force=True)


@pytest.fixture(scope="session")
def admin():
    return accounts[0]


def _role_fixture(role, index=0, doc=None):
    """A session fixture for the `index`-th holder of `role`."""

    @pytest.fixture(scope="session")
    def holder(deployment):
        return _holder(deployment, role, index)

    holder.__doc__ = doc or f"Holds {role} (brownie-config.yaml dev_holders)."
    return holder


minter = _role_fixture("MINTER")
minter_admin = _role_fixture("MINTER_ADMIN")
burner = _role_fixture("BURNER")
pauser = _role_fixture("PAUSER", 0, "The operations desk: PAUSER and UNPAUSER.")
guardian = _role_fixture("PAUSER", 1, "PAUSER only: may pause, may not unpause.")
compliance = _role_fixture("COMPLIANCE")
seize_approver = _role_fixture("SEIZE_APPROVER")
rescuer = _role_fixture("RESCUER")
upgrader = _role_fixture("UPGRADER")
reserve_admin = _role_fixture("RESERVE_ADMIN")
rate_setter = _role_fixture("RATE_SETTER")
attestor = _role_fixture("ATTESTOR")
reserve_manager = _role_fixture("RESERVE_MANAGER")
issuer = _role_fixture("ISSUER", 0, "The central bank's issuance desk (ISSUER), registered in the government tier.")
treasury = _role_fixture("TREASURY", 0, "The government treasury (TREASURY), registered in the government tier.")
kyc_officer = _role_fixture("KYC_OFFICER")
redeemer = _role_fixture("REDEEMER", 0, "The redemption desk (REDEEMER).")


@pytest.fixture(scope="session")
def queue(deployment, artifacts, funded):
    """KGST's redemption queue through its proxy (alice and bob hold 1,000 KGST each)."""
    return Contract.from_abi("RedemptionQueue", deployment.manifest.address("RedemptionQueue"), artifacts.get("RedemptionQueue").abi)


@pytest.fixture(scope="session")
def vault(deployment, artifacts):
    """The ReserveVault through its proxy; on the local chain its assets are mocks."""
    return Contract.from_abi("ReserveVault", deployment.manifest.address("ReserveVault"), artifacts.get("ReserveVault").abi)


@pytest.fixture(scope="session")
def reserve_assets(deployment):
    """Symbol -> asset address (BNB is the native key 0xEeee...)."""
    return dict(deployment.manifest.contracts["ReserveVault"]["assets"])


def _mocks(deployment, artifacts, prefix, artifact):
    """Symbol -> the mock the deploy plan recorded as `<prefix>:<symbol>`."""
    abi = artifacts.get(artifact).abi
    return {
        key.split(":", 1)[1]: Contract.from_abi(artifact, record["address"], abi)
        for key, record in deployment.manifest.contracts.items()
        if key.startswith(f"{prefix}:")
    }


@pytest.fixture(scope="session")
def feeds(deployment, artifacts):
    """Symbol -> the mock AggregatorV3 of that asset."""
    return _mocks(deployment, artifacts, "Feed", "MockAggregatorV3")


@pytest.fixture(scope="session")
def tokens(deployment, artifacts):
    """Symbol -> the mock BEP-20 of that reserve asset ("BTCB", "BSC-USD"; 18 decimals)."""
    return _mocks(deployment, artifacts, "Token", "MockReserveToken")


SOM_PER_USD = 87_45 * 10**16  # 87.45 KGS per USD [wad]
ATTESTED_SOM = 10**13 * UNIT  # fiat som attested in banks, enough to cover every test's mints


@pytest.fixture(scope="session")
def reserve_ready(vault, rate_setter, attestor):
    """The official rate is published and a bank attestation covers far more than tests mint."""
    vault.setRate(SOM_PER_USD, {"from": rate_setter})
    vault.attest(ATTESTED_SOM, chain[-1].timestamp - 1, keccak(text="bank-statement-2025-11"), "ipfs://attestation", {"from": attestor})
    return vault


@pytest.fixture(scope="session")
def stranger():
    """Holds no role."""
    return accounts[19]


def _user(name):
    """A user with a private key (for EIP-712 signatures) and 100 BNB for gas."""
    user = accounts.add(keccak(text=f"somstack-test-{name}"))
    return user


@pytest.fixture(scope="session")
def users(deployment):
    people = {name: _user(name) for name in ("alice", "bob", "carol", "dave", "mallory", "relayer")}
    for i, user in enumerate(people.values()):
        accounts[10 + i].transfer(user, 100 * UNIT)
    return SimpleNamespace(**people)


@pytest.fixture(scope="session")
def alice(users):
    return users.alice


@pytest.fixture(scope="session")
def bob(users):
    return users.bob


@pytest.fixture(scope="session")
def carol(users):
    return users.carol


@pytest.fixture(scope="session")
def mallory(users):
    return users.mallory


@pytest.fixture(scope="session")
def relayer(users):
    return users.relayer


@pytest.fixture(scope="session")
def funded(kgst, minter, minter_admin, users):
    """The minter holds a large allowance; alice and bob hold 1,000 KGST each."""
    kgst.configureMinter(minter, MINTER_ALLOWANCE, {"from": minter_admin})
    for i, user in enumerate((users.alice, users.bob)):
        kgst.mint(user, 1_000 * UNIT, keccak(text=f"genesis-deposit-{i}"), {"from": minter})
    return kgst


# --- The digital som ---

@pytest.fixture(scope="session")
def cbdc(deployment, artifacts):
    """The digital som through its proxy, bare: tiers set by the plan, no wallet registered."""
    return Contract.from_abi("DigitalCurrency", deployment.manifest.address("DigitalCurrency"), artifacts.get("DigitalCurrency").abi)


@pytest.fixture(scope="session")
def tiers(deployment):
    """Tier id -> the TierParams the plan set (brownie-config.yaml digital_currency.tiers)."""
    return {t.id: t for t in deployment.ctx.params.digital_currency.tiers}


@pytest.fixture(scope="session")
def bank_wallet():
    """A commercial bank's wallet (the overflow wallet of its customers)."""
    return accounts[23]


@pytest.fixture(scope="session")
def cbdc_ready(cbdc, kyc_officer, issuer, treasury, bank_wallet):
    """Issuer and treasury registered in the government tier, a bank in the bank tier, and
    1 billion som issued to the treasury."""
    for name, wallet, tier in (("issuer", issuer, GOVERNMENT_TIER), ("treasury", treasury, GOVERNMENT_TIER), ("bank", bank_wallet, BANK_TIER)):
        cbdc.registerWallet(wallet, tier, identity_of(name), kyc_record(name), {"from": kyc_officer})
    cbdc.mint(treasury, TREASURY_FLOAT, keccak(text="issuance-genesis"), {"from": issuer})
    return cbdc


@pytest.fixture(autouse=True)
def untraced_stateful(request):
    """Under --coverage, the stateful tests' thousands of transactions are not traced (that would
    multiply their time several times over); the unit tests measure the coverage. The same for
    the tests marked `untraced` (tests/support/selection.py: none of their transactions reaches
    production code)."""
    traced_elsewhere = "state_machine" in request.fixturenames or request.node.get_closest_marker("untraced")
    if not traced_elsewhere or not CONFIG.argv.get("coverage"):
        yield
        return
    CONFIG.argv["coverage"] = False
    try:
        yield
    finally:
        CONFIG.argv["coverage"] = True
        # brownie's no_call_coverage marker restored `always_transact` from `coverage` at the end
        # of the call phase, while it was still off here: without this, every later test's
        # calls (the pre-check views) would go untraced.
        CONFIG.argv["always_transact"] = True


@pytest.fixture(autouse=True)
def isolation():
    """Each test starts from the state left by the session fixtures, and leaves no trace. brownie
    does not check the node's answer to evm_revert: a revert that went elsewhere would leave this
    test's transactions to the next tests of the worker, which then fail for no fault of theirs.
    The height is compared after, and this test is named."""
    chain.snapshot()
    ours, height = chain._snapshot_id, web3.eth.block_number
    yield
    # brownie keeps one snapshot, and its state_machine takes its own when it starts: a test that
    # sent transactions before calling it (test_queue_invariants: a transfer to carol) would be
    # reverted to that later snapshot and leave those transactions to the next tests. The node
    # keeps older snapshots while a later one is taken and reverted to: revert to this test's.
    chain._snapshot_id = ours
    chain.revert()
    after = web3.eth.block_number
    if after != height:
        raise RuntimeError(f"the chain did not go back to this test's starting snapshot (block {after}, expected {height}): "
                           "the next tests of this worker would inherit its state")


# --- Reverts with named custom errors ---


class _Reverts:
    """Catches a revert and checks its custom error by name and arguments.

    A reverted transaction is replayed with eth_call to get its raw revert data, decoded with
    every ABI in build/. A reverted call gives only brownie's text, so only the name is checked.
    """

    def __init__(self, decoder, name, args):
        self.decoder, self.name, self.args = decoder, name, args
        self.error = None

    def __enter__(self):
        self._history_length = len(history)
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            raise AssertionError(f"expected a revert with {self.name}, but it succeeded")
        if not issubclass(kind, VirtualMachineError):
            return False
        if len(history) > self._history_length and history[-1].status == 0:
            self.error = self.decoder.decode(_replay(history[-1].txid))
        else:
            assert not self.args, f"{self.name}: arguments cannot be checked on a reverted call"
            assert (exc.revert_msg or "").split(":")[0] == self.name, f"expected {self.name}, got {exc.revert_msg!r}"
            return True
        assert self.error is not None, f"expected {self.name}, got undecodable revert {exc.revert_msg!r}"
        assert self.error.name == self.name, f"expected {self.name}, got {self.error}"
        for key, value in self.args.items():
            got = self.error.args[key]
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                got, value = str(got).lower(), value.lower()
            assert got == value, f"{self.name}.{key}: expected {value!r}, got {got!r}"
        return True


def _replay(txid):
    """The revert data of a mined, reverted transaction: replayed on the state before it, or on
    the latest state (a reverted transaction changed nothing but the sender's nonce and gas)."""
    tx = web3.eth.get_transaction(txid)
    call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
    # Under load anvil may still show the transaction without its block: its receipt has it.
    number = tx["blockNumber"] if tx["blockNumber"] is not None else web3.eth.wait_for_transaction_receipt(txid, timeout=10)["blockNumber"]
    for block in (number - 1, "latest"):
        try:
            web3.eth.call(call, block)
        except Exception as exc:  # web3's ContractCustomError has .data; brownie's middleware a dict
            payload = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            data = getattr(exc, "data", None) or payload.get("data")
            if data:
                return data
    return None


@pytest.fixture(scope="session")
def reverts(artifacts):
    """`with reverts("BlockedAddress", account=alice.address): ...` asserts the named
    custom error and its arguments."""
    decoder = artifacts.decoder

    def factory(name, **args):
        return _Reverts(decoder, name, {k: (str(v) if hasattr(v, "address") else v) for k, v in args.items()})

    return factory
