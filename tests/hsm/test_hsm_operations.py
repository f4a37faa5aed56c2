"""Operating the whole system with keys that stay in the HSM (SoftHSM2, fixture `softhsm`):
on an anvil served as the live network `bsc-test` (chain 97: no unlocked accounts are used, every
transaction is signed by a token key), `somstack deploy --hsm-key deployer` deploys with role
holders from SOMSTACK_ROLE_<ROLE> set to HSM addresses and hands ADMIN over to
SOMSTACK_GOVERNANCE (resuming after losing the HSM part-way), then a mint, a seizure proposed and
executed by two HSM officers, a payroll that loses the HSM mid-batch and resumes, and the
relayer with an HSM relayer key relaying a transfer signed in the HSM.

One chain and one deployment for the module; each test runs between an anvil snapshot and its
revert (clihelp.reverted)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from cbdclib import BASIC_TIER, GOVERNMENT_TIER, TYIYN, identity_of, kyc_record
from clihelp import assert_one_line_error, reverted, run
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from somstack.cli import main
from somstack.core import hsm
from somstack.core.artifacts import Artifacts
from somstack.core.chain import LocalNode, LocalSigner, Sender
from somstack.core.manifest import Manifest
from somstack.ops.cbdc import Cbdc, register_many
from somstack.system.roles import ROLES as ROLE_IDS

CHAIN_ID = 97
NETWORK = "bsc-test"
UNIT = 10**18
# HSM officers: one key per desk, as a central bank would split them
ROLES = {
    "officer-a": ("MINTER_ADMIN", "MINTER", "RATE_SETTER", "ATTESTOR", "COMPLIANCE", "ISSUER", "KYC_OFFICER"),
    "officer-b": ("SEIZE_APPROVER", "TREASURY", "PAUSER", "UNPAUSER"),
}
LABELS = ("deployer", "officer-a", "officer-b", "relayer", "payer")
GOVERNANCE = to_checksum_address(keccak(text="somstack-hsm-test-safe")[-20:])  # stands for the Safe


def somstack(capsys, key, *argv):
    """`somstack *argv --network bsc-test --hsm-key key`, in-process; (code, out, err)."""
    return run(capsys, *argv, "--network", NETWORK, "--hsm-key", key)


def ok(capsys, key, *argv):
    code, out, err = somstack(capsys, key, *argv)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def world(settings, softhsm, hsm_key, tmp_path_factory):
    """The chain, deployed by the HSM deployer; the reserve attested (coverage for minting) and
    officer-a a minter, all signed in the HSM."""
    address = {label: hsm_key(label) for label in LABELS}
    node = LocalNode(settings, CHAIN_ID).start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        for who in address.values():
            w3.provider.make_request("anvil_setBalance", [who, hex(1000 * UNIT)])
        deployments = tmp_path_factory.mktemp("deployments")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SOMSTACK_RPC_BSC_TEST", node.url)
            mp.setenv("SOMSTACK_DEPLOYMENTS_DIR", str(deployments))
            mp.setenv("SOMSTACK_GOVERNANCE", GOVERNANCE)  # the handover, signed in the HSM too
            for label, roles in ROLES.items():
                for role in roles:
                    mp.setenv(f"SOMSTACK_ROLE_{role}", address[label])
            # the first try loses the HSM at its 8th signature; the second resumes from the manifest
            interrupted = _deploy_losing_the_hsm_at(8)
            partial = dict(Manifest.load(deployments / f"{CHAIN_ID}.json", CHAIN_ID).contracts)
            assert main(["deploy", "--network", NETWORK, "--hsm-key", "deployer"]) == 0
            manifest = Manifest.load(deployments / f"{CHAIN_ID}.json", CHAIN_ID)
            a = ["--network", NETWORK, "--hsm-key", "officer-a"]
            assert main(["reserve", "set-rate", "--rate", "87.5", *a]) == 0
            assert main(["reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash",
                         "0x" + keccak(text="bank statement").hex().removeprefix("0x"), "--uri", "ipfs://statement", *a]) == 0
            assert main(["minter", "set", address["officer-a"], "--allowance", "1000000", *a]) == 0
            artifacts = Artifacts(settings.root)

            def contract(name, artifact=None):
                return artifacts.get(artifact or name).contract(w3, manifest.address(name))

            som = contract("DigitalCurrency")
            cbdc = Cbdc(w3, som, contract("AccessManager", "SomAccessManager"), settings.deployment(NETWORK).digital_currency)

            def sender(label):
                """A Sender that signs with the token's key ``label`` (what a command builds)."""
                return Sender(w3, LocalSigner(hsm.account_of(softhsm.options(label))), artifacts.decoder)

            yield SimpleNamespace(w3=w3, node=node, manifest=manifest, address=address, contract=contract, artifacts=artifacts,
                                  kgst=contract("Stablecoin"), som=som, cbdc=cbdc, sender=sender, interrupted=interrupted,
                                  partial=partial)
    finally:
        node.stop()


def _deploy_losing_the_hsm_at(nth):
    """`somstack deploy` whose HSM drops its session before the ``nth`` signature; (code, stderr)."""
    import io
    from contextlib import redirect_stderr

    real, signed = hsm.HsmAccount._sign_digest, []

    def flaky(self, digest):
        signed.append(digest)
        if len(signed) == nth:
            self._token.session.close()
        return real(self, digest)

    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stderr(err):
        mp.setattr(hsm.HsmAccount, "_sign_digest", flaky)
        code = main(["deploy", "--network", NETWORK, "--hsm-key", "deployer"])
    return code, err.getvalue()


@pytest.fixture
def chain(world):
    with reverted(world.w3):
        yield world


def test_deploy_signed_in_the_hsm_grants_the_roles_to_hsm_addresses(chain):
    deployer = chain.address["deployer"]
    assert chain.w3.eth.get_transaction_count(deployer) > 10  # every deployment transaction
    manager = chain.contract("AccessManager", "SomAccessManager")
    for label, held in ROLES.items():
        for role in held:
            assert manager.functions.hasRole(ROLE_IDS[role].id, chain.address[label]).call()[0], (label, role)
    assert not manager.functions.hasRole(ROLE_IDS["MINTER"].id, deployer).call()[0]
    # handover: governance holds ADMIN, the HSM deployer renounced it
    assert manager.functions.hasRole(ROLE_IDS["ADMIN"].id, GOVERNANCE).call()[0]
    assert not manager.functions.hasRole(ROLE_IDS["ADMIN"].id, deployer).call()[0]


def test_a_deploy_that_loses_the_hsm_stops_in_one_line_and_resumes(chain):
    code, err = chain.interrupted
    assert_one_line_error(code, err, "(HsmConnectionLost)", "run the command again")
    assert 0 < len(chain.partial) < len(chain.manifest.contracts)  # stopped part-way
    for name, record in chain.partial.items():  # the rerun kept what was deployed, paid nothing twice
        assert chain.manifest.contracts[name]["address"] == record["address"], name
    assert chain.manifest.complete


def test_a_mint_signed_in_the_hsm(capsys, chain):
    holder = Account.create().address
    out = ok(capsys, "officer-a", "mint", holder, "250", "--ref", "deposit-hsm-1")
    assert chain.kgst.functions.balanceOf(holder).call() == 250 * UNIT
    tx = chain.w3.eth.get_transaction(out.split("tx ")[1].split(")")[0])
    assert tx["from"] == chain.address["officer-a"]
    assert Account.recover_transaction(tx["raw"] if "raw" in tx else _raw(chain.w3, tx["hash"])) == chain.address["officer-a"]


def _raw(w3, tx_hash):
    """The signed bytes of a mined transaction, as the node has them."""
    return w3.provider.make_request("eth_getRawTransactionByHash", [Web3.to_hex(tx_hash)])["result"]


def test_a_seizure_by_two_hsm_officers(capsys, chain):
    holder, recovery = Account.create().address, Account.create().address
    ok(capsys, "officer-a", "mint", holder, "1000", "--ref", "deposit-hsm-2")
    ok(capsys, "officer-a", "block", holder, "--reason", "court order 7")
    out = ok(capsys, "officer-a", "seize", "propose", holder, "--to", recovery, "--amount", "400", "--case", "case-7")
    seizure_id = out.split("seizure id ")[1].split(":")[0]
    # the proposer cannot execute its own proposal: the second officer's key does
    ok(capsys, "officer-b", "seize", "execute", seizure_id)
    assert chain.kgst.functions.balanceOf(recovery).call() == 400 * UNIT
    assert chain.kgst.functions.balanceOf(holder).call() == 600 * UNIT


def payee(i):
    return to_checksum_address(keccak(text=f"somstack-hsm-payee:{i}")[-20:])


def test_a_payroll_that_loses_the_hsm_mid_batch_resumes_without_paying_twice(capsys, chain, monkeypatch, tmp_path):
    treasury = chain.address["officer-b"]
    ok(capsys, "officer-a", "cbdc", "register", treasury, "--tier", str(GOVERNMENT_TIER), "--kyc-hash",
       "0x" + kyc_record("hsm-treasury").hex(), "--identity", "0x" + identity_of("hsm-treasury").hex())
    # the payees in one registerWallets, signed in the HSM by the KYC officer (somstack.ops.cbdc directly)
    register_many(chain.cbdc, chain.sender("officer-a"), [payee(i) for i in range(3)], BASIC_TIER,
                  [identity_of(f"hsm-{i}") for i in range(3)], [kyc_record(f"hsm-{i}") for i in range(3)])
    ok(capsys, "officer-a", "mint", "--token", "som", treasury, "10000", "--ref", "issuance-hsm")
    payroll = tmp_path / "payroll-2026-12.csv"
    payroll.write_text("address,amount\n" + "".join(f"{payee(i)},{100 + i}.50\n" for i in range(3)))

    real = hsm.HsmAccount._sign_digest
    signed = []

    def flaky(self, digest):
        signed.append(digest)
        if len(signed) == 2:  # the second batch: the HSM drops the session under it
            self._token.session.close()
        return real(self, digest)

    monkeypatch.setattr(hsm.HsmAccount, "_sign_digest", flaky)
    code, out, err = somstack(capsys, "officer-b", "cbdc", "disburse", str(payroll), "--batch-size", "1",
                               "--payroll", "2026-12-hsm", "--yes")
    assert_one_line_error(code, err, "(HsmConnectionLost)", "was lost while signing", "run the command again")
    paid = [chain.som.functions.balanceOf(payee(i)).call() for i in range(3)]
    expected = [10050, 10150, 10250]
    assert sum(1 for p in paid if p) == 1  # the first batch only
    assert all(p in (0, e) for p, e in zip(paid, expected))

    code, out, err = somstack(capsys, "officer-b", "cbdc", "disburse", str(payroll), "--batch-size", "1",
                               "--payroll", "2026-12-hsm", "--yes")
    assert code == 0, err
    assert [chain.som.functions.balanceOf(payee(i)).call() for i in range(3)] == expected
    assert chain.som.functions.balanceOf(treasury).call() == 10000 * TYIYN - 30450


def test_the_relayer_signs_with_an_hsm_key_and_relays_a_transfer_signed_in_the_hsm(capsys, chain, tmp_path, softhsm):
    from somstack.core.session import KeyOptions, open_session
    from somstack.relay.run import relay_of_session
    from somstack.relay.server import Background, RelayConfig

    payer, to = chain.address["payer"], Account.create().address
    ok(capsys, "officer-a", "mint", payer, "100", "--ref", "deposit-hsm-3")
    keys = KeyOptions(hsm=softhsm.options("relayer"))
    with open_session(NETWORK, keys, start_node=False) as session:
        relay = relay_of_session(session, keys, None, tmp_path / "relay.sqlite", RelayConfig())
        assert relay.relayer == chain.address["relayer"]
        try:
            with Background(relay) as bg:
                code, out, err = run(capsys, "relay", "send", "--hsm-key", "payer", "--to", to, "--amount", "12.5", "--url", bg.url)
        finally:
            relay.store.close()
    assert code == 0, err
    assert "confirmed" in out
    tx_hash = out.split("(tx ")[1].rstrip(")\n")
    assert chain.w3.eth.get_transaction(tx_hash)["from"] == chain.address["relayer"]
    assert chain.kgst.functions.balanceOf(to).call() == 125 * UNIT // 10
    assert chain.kgst.functions.balanceOf(payer).call() == 875 * UNIT // 10


def test_relay_serve_selects_the_hsm_key_like_every_sending_command(capsys, chain, monkeypatch, tmp_path):
    """`somstack relay serve --hsm-key relayer`: the relayer's sender is the token's key (the
    serving itself is tests/relay's: it is stopped here before it listens)."""
    import somstack.relay.run as relay_run
    from somstack.relay.run import relay_of_session

    seen = {}

    def serve(session, keys, from_index, host, port, db, *rest, **more):
        relay = relay_of_session(session, keys, from_index, db, relay_run.RelayConfig())
        relay.store.close()
        seen["relayer"], seen["signer"] = relay.relayer, session.sender.signer

    monkeypatch.setattr(relay_run, "serve", serve)
    code, out, err = somstack(capsys, "relayer", "relay", "serve", "--db", str(tmp_path / "relay.sqlite"))
    assert code == 0, err
    assert seen["relayer"] == chain.address["relayer"]
    assert isinstance(seen["signer"].account, hsm.HsmAccount)


def test_hsm_key_with_another_key_source_is_a_usage_error(capsys, chain):
    code, out, err = run(capsys, "mint", chain.address["payer"], "1", "--ref", "x", "--network", NETWORK,
                         "--hsm-key", "officer-a", "--key-env", "DEPLOYER_PRIVATE_KEY")
    assert code == 2 and "do not combine it with --key-env or --keystore" in err


def test_the_relayer_survives_losing_the_hsm_mid_batch_without_a_nonce_gap(capsys, chain, tmp_path, softhsm, monkeypatch):
    """The HSM drops its session while the relayer signs a batch: that round fails, the next
    one logs in again and sends every transfer with the nonces that follow the chain's (none
    skipped: a gap would hold every later transaction in the node's pool for ever)."""
    import requests

    from somstack.core.session import KeyOptions, open_session
    from somstack.core.signatures import Domain
    from somstack.relay.client import authorization
    from somstack.relay.run import relay_of_session
    from somstack.relay.server import Background, RelayConfig

    payer = hsm.account_of(softhsm.options("payer"))
    ok(capsys, "officer-a", "mint", payer.address, "100", "--ref", "deposit-hsm-4")
    recipients = [Account.create().address for _ in range(4)]
    domain = Domain.of(chain.kgst)
    bodies = [authorization(payer, domain, chain.kgst.address, to, UNIT, 3600) for to in recipients]
    relayer = chain.address["relayer"]
    start_nonce = chain.w3.eth.get_transaction_count(relayer)

    real, signed = hsm.HsmAccount._sign_digest, []

    def flaky(self, digest):
        if self.address == relayer:
            signed.append(digest)
            if len(signed) == 2:  # the second transaction of the batch
                self._token.session.close()
        return real(self, digest)

    monkeypatch.setattr(hsm.HsmAccount, "_sign_digest", flaky)
    keys = KeyOptions(hsm=softhsm.options("relayer"))
    config = RelayConfig(sender_rate=1000, sender_burst=1000, global_rate=10_000, global_burst=10_000, chain_pause=0.1)
    with open_session(NETWORK, keys, start_node=False) as session:
        relay = relay_of_session(session, keys, None, tmp_path / "relay.sqlite", config)
        relay.submitter.round()  # the first round (reads the chain id) happens before any transfer
        try:
            with Background(relay) as bg:
                ids = [requests.post(bg.url + "/v1/transfers", json=b, timeout=30).json()["id"] for b in bodies]
                for transfer_id in ids:
                    deadline = time.monotonic() + 60
                    while requests.get(f"{bg.url}/v1/transfers/{transfer_id}", timeout=10).json()["status"] != "confirmed":
                        assert time.monotonic() < deadline, f"transfer {transfer_id} not confirmed"
                        time.sleep(0.1)
        finally:
            relay.store.close()
    assert len(signed) > len(bodies)  # the lost signature was asked again
    assert chain.w3.eth.get_transaction_count(relayer) == start_nonce + len(bodies)  # one each, no gap
    assert [chain.kgst.functions.balanceOf(to).call() for to in recipients] == [UNIT] * len(bodies)
