"""EIP-3009 on KGST: transfer, receive and cancel authorizations with random 32-byte nonces,
signed locally and submitted by a relayer; by EOAs (v, r, s and packed bytes) and by an ERC-1271
contract wallet."""

import pytest
from brownie import MockContractWallet, chain
from eth_utils import keccak

from somstack.core.signatures import (
    Domain,
    random_nonce,
    sign_authorization,
    sign_cancel,
)

UNIT = 10**18
PAUSE_TRANSFERS = 1
REASON = keccak(text="sanctions-record-1")
VRS = "address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32"
PACKED = "address,address,uint256,uint256,uint256,bytes32,bytes"
CANCEL_VRS = "address,bytes32,uint8,bytes32,bytes32"
CANCEL_PACKED = "address,bytes32,bytes"


@pytest.fixture
def domain(funded):
    return Domain.of(funded)


@pytest.fixture
def window():
    """(validAfter, validBefore): valid from now for an hour."""
    return 0, chain[-1].timestamp + 3_600


@pytest.fixture
def nonce():
    return random_nonce()


@pytest.fixture
def wallet(funded, alice):
    """A contract wallet that alice's key signs for, holding 300 KGST."""
    wallet = MockContractWallet.deploy(alice, {"from": alice})
    funded.transfer(wallet, 300 * UNIT, {"from": alice})
    return wallet


def _transfer_auth(domain, signer, sender, to, value, window, nonce, receive=False):
    return sign_authorization(domain, signer.private_key, str(sender), str(to), value, *window, nonce, receive=receive)


def _submit(kgst, sender, to, value, window, nonce, sig, submitter):
    return kgst.transferWithAuthorization[VRS](sender, to, value, *window, nonce, sig.v, sig.r, sig.s, {"from": submitter})


def _receive(kgst, sender, to, value, window, nonce, sig, submitter):
    return kgst.receiveWithAuthorization[VRS](sender, to, value, *window, nonce, sig.v, sig.r, sig.s, {"from": submitter})


def _cancel(kgst, domain, signer, authorizer, nonce, submitter):
    sig = sign_cancel(domain, signer.private_key, str(authorizer), nonce)
    return kgst.cancelAuthorization[CANCEL_VRS](authorizer, nonce, sig.v, sig.r, sig.s, {"from": submitter})


# --- transferWithAuthorization ---


def test_transfer_with_authorization_moves_balance(funded, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert (funded.balanceOf(alice), funded.balanceOf(carol)) == (970 * UNIT, 30 * UNIT)


def test_transfer_with_authorization_emits_authorization_used(funded, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    tx = _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert tx.events["AuthorizationUsed"] == {"authorizer": alice.address, "nonce": "0x" + nonce.hex()}


def test_transfer_with_authorization_emits_transfer(funded, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    tx = _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert tx.events["Transfer"] == {"from": alice.address, "to": carol.address, "value": 30 * UNIT}


def test_authorization_state_starts_unused(funded, nonce, alice):
    assert funded.authorizationState(alice, nonce) is False


def test_transfer_with_authorization_marks_nonce_used(funded, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert funded.authorizationState(alice, nonce) is True


def test_transfer_with_authorization_leaves_permit_nonce(funded, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert funded.nonces(alice) == 0


def test_transfer_with_authorization_reused_nonce_reverts(funded, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_not_yet_valid_reverts(funded, domain, nonce, alice, carol, relayer, reverts):
    now = chain[-1].timestamp
    window = (now + 3_600, now + 7_200)
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("ERC3009InvalidAuthorizationTime", validAfter=window[0], validBefore=window[1]):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_expired_reverts(funded, domain, nonce, alice, carol, relayer, reverts):
    window = (0, chain[-1].timestamp - 100)
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("ERC3009InvalidAuthorizationTime", validAfter=window[0], validBefore=window[1]):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_becomes_valid_after_wait(funded, domain, nonce, alice, carol, relayer):
    now = chain[-1].timestamp
    window = (now + 600, now + 7_200)
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    chain.sleep(1_200)
    _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert funded.balanceOf(carol) == 30 * UNIT


def test_transfer_with_authorization_signed_by_wrong_key_reverts(funded, domain, window, nonce, alice, mallory, relayer, reverts):
    sig = _transfer_auth(domain, mallory, alice, mallory, 30 * UNIT, window, nonce)
    with reverts("InvalidSignature", signer=alice.address):
        _submit(funded, alice, mallory, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_to_other_recipient_than_signed_reverts(funded, domain, window, nonce, alice, carol, mallory, relayer, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("InvalidSignature", signer=alice.address):
        _submit(funded, alice, mallory, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_with_receive_signature_reverts(funded, domain, window, nonce, alice, carol, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    with reverts("InvalidSignature", signer=alice.address):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)


def test_transfer_with_authorization_above_balance_reverts(funded, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 1_001 * UNIT, window, nonce)
    with reverts("ERC20InsufficientBalance", sender=alice.address, balance=1_000 * UNIT, needed=1_001 * UNIT):
        _submit(funded, alice, carol, 1_001 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_by_blocked_relayer_reverts(funded, domain, window, nonce, alice, carol, relayer, compliance, reverts):
    funded.blockAccount(relayer, REASON, {"from": compliance})
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("BlockedAddress", account=relayer.address):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_from_blocked_sender_reverts(funded, domain, window, nonce, alice, carol, relayer, compliance, reverts):
    funded.blockAccount(alice, REASON, {"from": compliance})
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("BlockedAddress", account=alice.address):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_to_blocked_recipient_reverts(funded, domain, window, nonce, alice, carol, relayer, compliance, reverts):
    funded.blockAccount(carol, REASON, {"from": compliance})
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("BlockedAddress", account=carol.address):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_while_paused_reverts(funded, domain, window, nonce, alice, carol, relayer, pauser, reverts):
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_transfer_with_authorization_refused_keeps_nonce_unused(funded, domain, window, nonce, alice, carol, relayer, pauser, reverts):
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("OperationPaused"):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert funded.authorizationState(alice, nonce) is False


def test_transfer_with_authorization_packed_signature_moves_balance(funded, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    funded.transferWithAuthorization[PACKED](alice, carol, 30 * UNIT, *window, nonce, sig.packed, {"from": relayer})
    assert funded.balanceOf(carol) == 30 * UNIT


def test_transfer_with_authorization_packed_signature_by_wrong_key_reverts(funded, domain, window, nonce, alice, carol, mallory, relayer, reverts):
    sig = _transfer_auth(domain, mallory, alice, carol, 30 * UNIT, window, nonce)
    with reverts("InvalidSignature", signer=alice.address):
        funded.transferWithAuthorization[PACKED](alice, carol, 30 * UNIT, *window, nonce, sig.packed, {"from": relayer})


# --- Contract wallet (ERC-1271) as authorizer ---


def test_wallet_transfer_with_authorization_packed_signature_moves_balance(funded, wallet, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, wallet, carol, 30 * UNIT, window, nonce)
    funded.transferWithAuthorization[PACKED](wallet, carol, 30 * UNIT, *window, nonce, sig.packed, {"from": relayer})
    assert (funded.balanceOf(wallet), funded.balanceOf(carol)) == (270 * UNIT, 30 * UNIT)


def test_wallet_transfer_with_authorization_vrs_signature_moves_balance(funded, wallet, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, wallet, carol, 30 * UNIT, window, nonce)
    _submit(funded, wallet, carol, 30 * UNIT, window, nonce, sig, relayer)
    assert funded.balanceOf(carol) == 30 * UNIT


def test_wallet_transfer_with_authorization_marks_wallet_nonce_used(funded, wallet, domain, window, nonce, alice, carol, relayer):
    sig = _transfer_auth(domain, alice, wallet, carol, 30 * UNIT, window, nonce)
    funded.transferWithAuthorization[PACKED](wallet, carol, 30 * UNIT, *window, nonce, sig.packed, {"from": relayer})
    assert (funded.authorizationState(wallet, nonce), funded.authorizationState(alice, nonce)) == (True, False)


def test_wallet_transfer_with_authorization_signed_by_other_key_reverts(funded, wallet, domain, window, nonce, mallory, relayer, reverts):
    sig = _transfer_auth(domain, mallory, wallet, mallory, 30 * UNIT, window, nonce)
    with reverts("InvalidSignature", signer=wallet.address):
        funded.transferWithAuthorization[PACKED](wallet, mallory, 30 * UNIT, *window, nonce, sig.packed, {"from": relayer})


def test_wallet_receive_with_authorization_packed_signature_moves_balance(funded, wallet, domain, window, nonce, alice, carol):
    sig = _transfer_auth(domain, alice, wallet, carol, 30 * UNIT, window, nonce, receive=True)
    funded.receiveWithAuthorization[PACKED](wallet, carol, 30 * UNIT, *window, nonce, sig.packed, {"from": carol})
    assert funded.balanceOf(carol) == 30 * UNIT


def test_wallet_cancel_authorization_packed_signature_marks_nonce_used(funded, wallet, domain, nonce, alice, relayer):
    sig = sign_cancel(domain, alice.private_key, wallet.address, nonce)
    funded.cancelAuthorization[CANCEL_PACKED](wallet, nonce, sig.packed, {"from": relayer})
    assert funded.authorizationState(wallet, nonce) is True


def test_wallet_can_send_its_own_transfer(funded, wallet, alice, carol):
    wallet.execute(funded, funded.transfer.encode_input(carol, 30 * UNIT), {"from": alice})
    assert funded.balanceOf(carol) == 30 * UNIT


# --- receiveWithAuthorization ---


def test_receive_with_authorization_by_recipient_moves_balance(funded, domain, window, nonce, alice, carol):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)
    assert (funded.balanceOf(alice), funded.balanceOf(carol)) == (970 * UNIT, 30 * UNIT)


def test_receive_with_authorization_emits_authorization_used(funded, domain, window, nonce, alice, carol):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    tx = _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)
    assert tx.events["AuthorizationUsed"] == {"authorizer": alice.address, "nonce": "0x" + nonce.hex()}


def test_receive_with_authorization_by_other_than_recipient_reverts(funded, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    with reverts("ERC20InvalidReceiver", receiver=carol.address):
        _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_receive_with_authorization_with_transfer_signature_reverts(funded, domain, window, nonce, alice, carol, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    with reverts("InvalidSignature", signer=alice.address):
        _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)


def test_receive_with_authorization_reused_nonce_reverts(funded, domain, window, nonce, alice, carol, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)


def test_receive_with_authorization_expired_reverts(funded, domain, nonce, alice, carol, reverts):
    window = (0, chain[-1].timestamp - 100)
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    with reverts("ERC3009InvalidAuthorizationTime", validAfter=window[0], validBefore=window[1]):
        _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)


def test_receive_with_authorization_while_paused_reverts(funded, domain, window, nonce, alice, carol, pauser, reverts):
    funded.pause(PAUSE_TRANSFERS, {"from": pauser})
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        _receive(funded, alice, carol, 30 * UNIT, window, nonce, sig, carol)


def test_receive_with_authorization_packed_signature_moves_balance(funded, domain, window, nonce, alice, carol):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce, receive=True)
    funded.receiveWithAuthorization[PACKED](alice, carol, 30 * UNIT, *window, nonce, sig.packed, {"from": carol})
    assert funded.balanceOf(carol) == 30 * UNIT


# --- cancelAuthorization ---


def test_cancel_authorization_marks_nonce_used(funded, domain, nonce, alice, relayer):
    _cancel(funded, domain, alice, alice, nonce, relayer)
    assert funded.authorizationState(alice, nonce) is True


def test_cancel_authorization_emits_authorization_canceled(funded, domain, nonce, alice, relayer):
    tx = _cancel(funded, domain, alice, alice, nonce, relayer)
    assert tx.events["AuthorizationCanceled"] == {"authorizer": alice.address, "nonce": "0x" + nonce.hex()}


def test_cancelled_nonce_cannot_be_used(funded, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    _cancel(funded, domain, alice, alice, nonce, relayer)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)


def test_cancel_authorization_of_used_nonce_reverts(funded, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _transfer_auth(domain, alice, alice, carol, 30 * UNIT, window, nonce)
    _submit(funded, alice, carol, 30 * UNIT, window, nonce, sig, relayer)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        _cancel(funded, domain, alice, alice, nonce, relayer)


def test_cancel_authorization_signed_by_wrong_key_reverts(funded, domain, nonce, alice, mallory, relayer, reverts):
    with reverts("InvalidSignature", signer=alice.address):
        _cancel(funded, domain, mallory, alice, nonce, relayer)


def test_cancel_authorization_packed_signature_marks_nonce_used(funded, domain, nonce, alice, relayer):
    sig = sign_cancel(domain, alice.private_key, alice.address, nonce)
    funded.cancelAuthorization[CANCEL_PACKED](alice, nonce, sig.packed, {"from": relayer})
    assert funded.authorizationState(alice, nonce) is True
