"""Signature safety on both tokens (KGST and the digital som): what tests/stablecoin and tests/cbdc
do not already cover.

Already covered there, not repeated here:
- permit: expired (test_permit.py, cbdc/test_signatures.py), replayed (both), high-s (both, v/r/s
  and packed), wrong key (both), a KGST permit on the digital som (test_kgst_permit_refused_by_digital_som);
- EIP-3009 transfer: reused, not yet valid, expired, cancelled (test_authorization.py and
  cbdc/test_signatures.py), high-s on the digital som, replay between the tokens both ways
  (test_kgst_authorization_used_on_kgst_replayed_on_digital_som_reverts,
  test_digital_som_authorization_refused_by_kgst); KGST receive: reused and expired.

Added here: every signed call (permit, transfer, receive, cancel) signed for another chain id, on
both tokens, and a chain whose id changes under a signature (a fork); a digital som permit on
KGST, and receive and cancel across the tokens; high-s EIP-3009 on KGST and receive/cancel on the
digital som; receive not yet valid (both), expired and reused (digital som); a cancelled nonce
refused to receiveWithAuthorization (both)."""

import pytest
from brownie import chain, web3
from cbdclib import STANDARD_TIER, TYIYN, identity_of, kyc_record
from eth_utils import keccak

from somstack.core.signatures import (
    Domain,
    Signature,
    random_nonce,
    sign_authorization,
    sign_cancel,
    sign_permit,
)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PERMIT_VRS = "address,address,uint256,uint256,uint8,bytes32,bytes32"
AUTH_VRS = "address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32"
CANCEL_VRS = "address,bytes32,uint8,bytes32,bytes32"
VALUE = 300 * TYIYN  # 300 som, or 3e-14 KGST: a value both tokens' holders have
BSC_MAINNET, BSC_TESTNET = 56, 97
INVALID = {"KGST": "InvalidSignature", "DSOM": "InvalidSignature"}
OTHER = {"KGST": "DSOM", "DSOM": "KGST"}


@pytest.fixture
def both(funded, cbdc_ready, kyc_officer, treasury, alice, carol):
    """Both tokens: alice and carol registered on the digital som (standard tier), alice holding
    60,000 som and 1,000 KGST."""
    for person, name in ((alice, "alice"), (carol, "carol")):
        cbdc_ready.registerWallet(person, STANDARD_TIER, identity_of(name), kyc_record(name), {"from": kyc_officer})
    cbdc_ready.disburse(keccak(text="signature-safety-payroll"), [alice], [60_000 * TYIYN], False, {"from": treasury})
    return {"KGST": funded, "DSOM": cbdc_ready}


def _window(delay=0, length=3_600):
    now = chain[-1].timestamp
    return (now + delay, now + delay + length) if delay else (0, now + length)


def _high_s(sig):
    """The malleable twin of a low-s signature: s' = n - s, v flipped between 27 and 28."""
    return Signature(55 - sig.v, sig.r, (SECP256K1_N - int.from_bytes(sig.s, "big")).to_bytes(32, "big"))


def _signed(kind, domain, token, alice, carol, nonce, window):
    """alice's signature of a `kind` call for `domain`, and the call that submits it to `token`."""
    key = alice.private_key
    if kind == "permit":
        deadline = window[1]
        sig = sign_permit(domain, key, alice.address, carol.address, VALUE, token.nonces(alice), deadline)
        return sig, lambda s, by: token.permit[PERMIT_VRS](alice, carol, VALUE, deadline, s.v, s.r, s.s, {"from": by})
    if kind == "cancel":
        sig = sign_cancel(domain, key, alice.address, nonce)
        return sig, lambda s, by: token.cancelAuthorization[CANCEL_VRS](alice, nonce, s.v, s.r, s.s, {"from": by})
    receive = kind == "receive"
    sig = sign_authorization(domain, key, alice.address, carol.address, VALUE, *window, nonce, receive=receive)
    method = token.receiveWithAuthorization if receive else token.transferWithAuthorization
    # receiveWithAuthorization must be submitted by the payee
    return sig, lambda s, by: method[AUTH_VRS](alice, carol, VALUE, *window, nonce, s.v, s.r, s.s, {"from": carol if receive else by})


def _trace(token, alice, carol, nonce):
    """What a signed call would change: balances, allowance, nonces."""
    return (token.balanceOf(alice), token.balanceOf(carol), token.allowance(alice, carol), token.nonces(alice),
            token.authorizationState(alice, nonce))


KINDS = ["permit", "transfer", "receive", "cancel"]


# --- Another chain id ---


@pytest.mark.parametrize("chain_id", [BSC_MAINNET, BSC_TESTNET])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["KGST", "DSOM"])
def test_signature_for_other_chain_id_refused(both, alice, carol, relayer, reverts, name, kind, chain_id):
    token, nonce = both[name], random_nonce()
    domain = Domain.of(token)
    assert domain.chain_id != chain_id
    sig, submit = _signed(kind, Domain(domain.name, domain.version, chain_id, domain.verifying_contract), token, alice, carol, nonce, _window())
    before = _trace(token, alice, carol, nonce)
    with reverts(INVALID[name], signer=alice.address):
        submit(sig, relayer)
    assert _trace(token, alice, carol, nonce) == before


@pytest.fixture
def forked_chain_id():
    """The chain's id changed under the tests (as a fork of the chain would have it), put back after.
    The suite's connection keeps the chain id it was told once (tests/conftest.py, lean_rpc): the
    node is asked every time while the id may change."""
    original = web3.eth.chain_id
    web3.provider.cache_allowed_requests = False

    def change(new):
        web3.provider.make_request("anvil_setChainId", [new])
        return web3.eth.chain_id

    yield change
    change(original)
    web3.provider.cache_allowed_requests = True


@pytest.mark.parametrize("name", ["KGST", "DSOM"])
def test_signature_made_before_chain_id_change_refused(both, alice, carol, relayer, forked_chain_id, reverts, name):
    """The domain separator reads the chain id live: a signature made on the chain before a fork
    does not work on the fork, and the domain the token reports follows the new id."""
    token, nonce, window = both[name], random_nonce(), _window()
    sig = sign_authorization(Domain.of(token), alice.private_key, alice.address, carol.address, VALUE, *window, nonce)
    args = (alice, carol, VALUE, *window, nonce, sig.v, sig.r, sig.s, {"from": relayer})
    token.transferWithAuthorization[AUTH_VRS].call(*args)  # valid before the change
    assert forked_chain_id(BSC_MAINNET) == BSC_MAINNET
    # a call, not a transaction: the node's dev signer keeps the old chain id
    with reverts(INVALID[name]):
        token.transferWithAuthorization[AUTH_VRS].call(*args)
    assert Domain.of(token).chain_id == BSC_MAINNET


# --- The other token ---


CROSS = [(name, kind) for name in ("KGST", "DSOM") for kind in ("permit", "receive", "cancel") if (name, kind) != ("KGST", "permit")]


@pytest.mark.parametrize("signed_for, kind", CROSS, ids=[f"{n}-{k}-on-{OTHER[n]}" for n, k in CROSS])
def test_signature_for_other_token_refused(both, alice, carol, relayer, reverts, signed_for, kind):
    target, nonce = both[OTHER[signed_for]], random_nonce()
    sig, submit = _signed(kind, Domain.of(both[signed_for]), target, alice, carol, nonce, _window())
    before = _trace(target, alice, carol, nonce)
    with reverts(INVALID[OTHER[signed_for]], signer=alice.address):
        submit(sig, relayer)
    assert _trace(target, alice, carol, nonce) == before


def test_cancel_on_one_token_leaves_other_token_nonce_unused(both, alice, carol, relayer):
    nonce = random_nonce()
    sig, submit = _signed("cancel", Domain.of(both["KGST"]), both["KGST"], alice, carol, nonce, _window())
    submit(sig, relayer)
    assert (both["KGST"].authorizationState(alice, nonce), both["DSOM"].authorizationState(alice, nonce)) == (True, False)


# --- Malleable (high-s) signatures ---


HIGH_S = [("KGST", "transfer"), ("KGST", "receive"), ("KGST", "cancel"), ("DSOM", "receive"), ("DSOM", "cancel")]


@pytest.mark.parametrize("name, kind", HIGH_S, ids=[f"{n}-{k}" for n, k in HIGH_S])
def test_high_s_authorization_refused(both, alice, carol, relayer, reverts, name, kind):
    token, nonce = both[name], random_nonce()
    sig, submit = _signed(kind, Domain.of(token), token, alice, carol, nonce, _window())
    with reverts(INVALID[name], signer=alice.address):
        submit(_high_s(sig), relayer)
    submit(sig, relayer)  # the low-s original still works: only the twin was refused
    assert token.authorizationState(alice, nonce) is True


# --- Validity window, reuse and cancellation of receive authorizations ---


@pytest.mark.parametrize("name", ["KGST", "DSOM"])
def test_receive_authorization_not_yet_valid_refused(both, alice, carol, relayer, reverts, name):
    token, nonce, window = both[name], random_nonce(), _window(delay=600)
    sig, submit = _signed("receive", Domain.of(token), token, alice, carol, nonce, window)
    with reverts("ERC3009InvalidAuthorizationTime", validAfter=window[0], validBefore=window[1]):
        submit(sig, relayer)


def test_digital_som_receive_authorization_expired_refused(both, alice, carol, relayer, reverts):
    token, nonce, window = both["DSOM"], random_nonce(), _window(length=60)
    sig, submit = _signed("receive", Domain.of(token), token, alice, carol, nonce, window)
    chain.sleep(61)
    chain.mine()
    with reverts("ERC3009InvalidAuthorizationTime", validAfter=window[0], validBefore=window[1]):
        submit(sig, relayer)


def test_digital_som_receive_authorization_reused_refused(both, alice, carol, relayer, reverts):
    token, nonce = both["DSOM"], random_nonce()
    sig, submit = _signed("receive", Domain.of(token), token, alice, carol, nonce, _window())
    submit(sig, relayer)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        submit(sig, relayer)


@pytest.mark.parametrize("name", ["KGST", "DSOM"])
def test_cancelled_receive_authorization_refused(both, alice, carol, relayer, reverts, name):
    token, nonce = both[name], random_nonce()
    window = _window()
    sig, submit = _signed("receive", Domain.of(token), token, alice, carol, nonce, window)
    cancel, submit_cancel = _signed("cancel", Domain.of(token), token, alice, carol, nonce, window)
    submit_cancel(cancel, relayer)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        submit(sig, relayer)
    assert token.balanceOf(carol) == 0
