"""EIP-2612 permit on KGST, signed locally with eth-account: by EOAs (v, r, s and packed bytes)
and by an ERC-1271 contract wallet, with the expiry, replay, malleability, pause and blocklist
refusals."""

import pytest
from brownie import MockContractWallet, chain
from eth_abi import encode
from eth_utils import keccak

from somstack.core.signatures import Domain, Signature, sign_permit

UNIT = 10**18
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PAUSE_TRANSFERS = 1
VRS = "address,address,uint256,uint256,uint8,bytes32,bytes32"
PACKED = "address,address,uint256,uint256,bytes"
REASON = keccak(text="sanctions-record-1")


@pytest.fixture
def domain(funded):
    return Domain.of(funded)


@pytest.fixture
def deadline():
    return chain[-1].timestamp + 3_600


@pytest.fixture
def wallet(alice):
    """A contract wallet that alice's key signs for."""
    return MockContractWallet.deploy(alice, {"from": alice})


def _sign(kgst, domain, signer, owner, spender, value, deadline, nonce=None):
    """A permit of `owner` (an address) signed by `signer`'s key, for the owner's current nonce."""
    nonce = kgst.nonces(owner) if nonce is None else nonce
    return sign_permit(domain, signer.private_key, str(owner), str(spender), value, nonce, deadline)


def _high_s(sig):
    """The malleable twin of a low-s signature: s' = n - s, v flipped between 27 and 28."""
    s = SECP256K1_N - int.from_bytes(sig.s, "big")
    return Signature(55 - sig.v, sig.r, s.to_bytes(32, "big"))


# --- Domain ---


def test_domain_names_the_token(funded, domain):
    assert (domain.name, domain.version, domain.chain_id, domain.verifying_contract) == ("KGST Som Stablecoin", "1", chain.id, funded.address)


# --- EOA permits ---


def test_permit_sets_allowance(funded, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert funded.allowance(alice, bob) == 100 * UNIT


def test_permit_increments_nonce(funded, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert funded.nonces(alice) == 1


def test_permit_nonce_leaves_balance(funded, domain, deadline, alice, bob, relayer):
    before = funded.balanceOf(alice)
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert (funded.balanceOf(alice), funded.nonces(alice)) == (before, 1)


def test_unblock_keeps_permit_nonce_and_balance(funded, domain, deadline, alice, bob, relayer, compliance):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    before = funded.balanceOf(alice)
    funded.blockAccount(alice, REASON, {"from": compliance})
    funded.unblockAccount(alice, {"from": compliance})
    assert (funded.balanceOf(alice), funded.nonces(alice)) == (before, 1)


def test_permit_emits_approval_event(funded, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    tx = funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert tx.events["Approval"] == {"owner": alice.address, "spender": bob.address, "value": 100 * UNIT}


def test_permit_packed_signature_sets_allowance(funded, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[PACKED](alice, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    assert funded.allowance(alice, bob) == 100 * UNIT


def test_permit_allowance_can_be_spent(funded, domain, deadline, alice, bob, carol, relayer):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    funded.transferFrom(alice, carol, 60 * UNIT, {"from": bob})
    assert (funded.balanceOf(carol), funded.allowance(alice, bob)) == (60 * UNIT, 40 * UNIT)


def test_permit_with_expired_deadline_reverts(funded, domain, alice, bob, relayer, reverts):
    deadline = chain[-1].timestamp - 100
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    with reverts("ERC2612ExpiredSignature", deadline=deadline):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_signed_by_wrong_key_reverts(funded, domain, deadline, alice, bob, mallory, relayer, reverts):
    sig = _sign(funded, domain, mallory, alice, bob, 100 * UNIT, deadline)
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_with_other_value_than_signed_reverts(funded, domain, deadline, alice, bob, relayer, reverts):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[VRS](alice, bob, 1_000 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_for_future_nonce_reverts(funded, domain, deadline, alice, bob, relayer, reverts):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline, nonce=1)
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_replay_reverts(funded, domain, deadline, alice, bob, relayer, reverts):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_replay_of_packed_signature_reverts(funded, domain, deadline, alice, bob, relayer, reverts):
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    funded.permit[PACKED](alice, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[PACKED](alice, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})


def test_permit_high_s_signature_reverts(funded, domain, deadline, alice, bob, relayer, reverts):
    sig = _high_s(_sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline))
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_high_s_packed_signature_reverts(funded, domain, deadline, alice, bob, relayer, reverts):
    sig = _high_s(_sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline))
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[PACKED](alice, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})


def test_permit_refused_keeps_nonce(funded, domain, deadline, alice, bob, mallory, relayer, reverts):
    sig = _sign(funded, domain, mallory, alice, bob, 100 * UNIT, deadline)
    with reverts("InvalidSignature"):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert funded.nonces(alice) == 0


# --- Pause and blocklist ---


def test_permit_while_transfers_paused_reverts(funded, domain, deadline, alice, bob, relayer, pauser, reverts):
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_with_blocked_owner_reverts(funded, domain, deadline, alice, bob, relayer, compliance, reverts):
    funded.blockAccount(alice, REASON, {"from": compliance})
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    with reverts("BlockedAddress", account=alice.address):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_with_blocked_spender_reverts(funded, domain, deadline, alice, bob, relayer, compliance, reverts):
    funded.blockAccount(bob, REASON, {"from": compliance})
    sig = _sign(funded, domain, alice, alice, bob, 100 * UNIT, deadline)
    with reverts("BlockedAddress", account=bob.address):
        funded.permit[VRS](alice, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


# --- ERC-1271 contract wallet as owner ---


def test_wallet_accepts_its_owners_signature(wallet, domain, deadline, funded, alice, bob):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    digest = keccak(b"\x19\x01" + funded.DOMAIN_SEPARATOR() + _permit_struct_hash(wallet, bob, 100 * UNIT, 0, deadline))
    assert wallet.isValidSignature(digest, sig.packed) == "0x1626ba7e"


def test_wallet_permit_packed_signature_sets_allowance(funded, wallet, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    assert funded.allowance(wallet, bob) == 100 * UNIT


def test_wallet_permit_vrs_signature_sets_allowance(funded, wallet, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    funded.permit[VRS](wallet, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert funded.allowance(wallet, bob) == 100 * UNIT


def test_wallet_permit_emits_approval_event(funded, wallet, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    tx = funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    assert tx.events["Approval"] == {"owner": wallet.address, "spender": bob.address, "value": 100 * UNIT}


def test_wallet_permit_increments_wallet_nonce(funded, wallet, domain, deadline, alice, bob, relayer):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    assert funded.nonces(wallet) == 1


def test_wallet_permit_allowance_can_be_spent(funded, wallet, domain, deadline, alice, bob, carol, relayer):
    funded.transfer(wallet, 200 * UNIT, {"from": alice})
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    funded.transferFrom(wallet, carol, 100 * UNIT, {"from": bob})
    assert (funded.balanceOf(wallet), funded.balanceOf(carol)) == (100 * UNIT, 100 * UNIT)


def test_wallet_permit_signed_by_other_key_reverts(funded, wallet, domain, deadline, mallory, bob, relayer, reverts):
    sig = _sign(funded, domain, mallory, wallet, bob, 100 * UNIT, deadline)
    with reverts("InvalidSignature", signer=wallet.address):
        funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})


def test_wallet_permit_replay_reverts(funded, wallet, domain, deadline, alice, bob, relayer, reverts):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})
    with reverts("InvalidSignature", signer=wallet.address):
        funded.permit[PACKED](wallet, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})


def test_wallet_permit_high_s_signature_reverts(funded, wallet, domain, deadline, alice, bob, relayer, reverts):
    sig = _high_s(_sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline))
    with reverts("InvalidSignature", signer=wallet.address):
        funded.permit[VRS](wallet, bob, 100 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_wallet_owner_signature_does_not_permit_for_the_owner(funded, wallet, domain, deadline, alice, bob, relayer, reverts):
    sig = _sign(funded, domain, alice, wallet, bob, 100 * UNIT, deadline)
    with reverts("InvalidSignature", signer=alice.address):
        funded.permit[PACKED](alice, bob, 100 * UNIT, deadline, sig.packed, {"from": relayer})


def _permit_struct_hash(owner, spender, value, nonce, deadline):
    typehash = keccak(text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")
    return keccak(encode(["bytes32", "address", "address", "uint256", "uint256", "uint256"], [typehash, str(owner), str(spender), value, nonce, deadline]))


def test_permit_submitted_by_blocked_relayer_is_refused(funded, alice, bob, relayer, compliance, reverts):
    from somstack.core.signatures import Domain, sign_permit

    funded.blockAccount(relayer, b"\x07" * 32, {"from": compliance})
    deadline = 2**40
    sig = sign_permit(Domain.of(funded), alice.private_key, alice.address, bob.address, 5, funded.nonces(alice), deadline)
    with reverts("BlockedAddress", account=relayer.address):
        funded.permit(alice, bob, 5, deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_spender_may_submit_the_permit_itself(funded, domain, deadline, alice, bob):
    """The usual flow of a dApp: the spender submits the owner's permit and then spends."""
    sig = _sign(funded, domain, alice, alice, bob, 5 * UNIT, deadline)
    funded.permit[VRS](alice, bob, 5 * UNIT, deadline, sig.v, sig.r, sig.s, {"from": bob})
    funded.transferFrom(alice, bob, 5 * UNIT, {"from": bob})
    assert funded.allowance(alice, bob) == 0 and funded.nonces(alice) == 1
