"""EIP-2612 permit and EIP-3009 authorizations on the digital som (EIP-712 domain "Digital Som",
version "1"), signed locally and submitted by a relayer: the tier rules bind authorized
transfers as any other, and a signature made for KGST does not work on the digital som (nor the
reverse)."""

import pytest
from brownie import chain
from cbdclib import (
    BASIC_TIER,
    PAUSE_TRANSFERS,
    STANDARD_TIER,
    TYIYN,
    identity_of,
    kyc_record,
)
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
REASON = keccak(text="sanctions-record-1")
PERMIT_VRS = "address,address,uint256,uint256,uint8,bytes32,bytes32"
PERMIT_PACKED = "address,address,uint256,uint256,bytes"
AUTH_VRS = "address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32"
AUTH_PACKED = "address,address,uint256,uint256,uint256,bytes32,bytes"
CANCEL_VRS = "address,bytes32,uint8,bytes32,bytes32"


def som(amount):
    """`amount` som in token units (tyiyn)."""
    return amount * TYIYN


@pytest.fixture
def holders(cbdc_ready, kyc_officer, treasury, alice, bob, carol):
    """alice (standard tier) holds 60,000 som, bob (basic) 30,000; carol (basic) is empty."""
    for person, name, tier in ((alice, "alice", STANDARD_TIER), (bob, "bob", BASIC_TIER), (carol, "carol", BASIC_TIER)):
        cbdc_ready.registerWallet(person, tier, identity_of(name), kyc_record(name), {"from": kyc_officer})
    cbdc_ready.disburse(keccak(text="genesis-payroll"), [alice, bob], [som(60_000), som(30_000)], False, {"from": treasury})
    return cbdc_ready


@pytest.fixture
def domain(cbdc):
    return Domain.of(cbdc)


@pytest.fixture
def deadline():
    return chain[-1].timestamp + 3_600


@pytest.fixture
def window():
    """(validAfter, validBefore): valid from now for an hour."""
    return 0, chain[-1].timestamp + 3_600


@pytest.fixture
def nonce():
    return random_nonce()


def _permit(token, domain, signer, owner, spender, value, deadline):
    """A permit of `owner` signed by `signer`'s key for the owner's current nonce on `token`."""
    return sign_permit(domain, signer.private_key, str(owner), str(spender), value, token.nonces(owner), deadline)


def _auth(domain, signer, to, value, window, nonce, receive=False):
    """An EIP-3009 transfer (or receive) authorization from `signer` to `to`."""
    return sign_authorization(domain, signer.private_key, signer.address, str(to), value, *window, nonce, receive=receive)


def _submit(token, sender, to, value, window, nonce, sig, relayer):
    return token.transferWithAuthorization[AUTH_VRS](sender, to, value, *window, nonce, sig.v, sig.r, sig.s, {"from": relayer})


def _high_s(sig):
    """The malleable twin of a low-s signature: s' = n - s, v flipped between 27 and 28."""
    s = SECP256K1_N - int.from_bytes(sig.s, "big")
    return Signature(55 - sig.v, sig.r, s.to_bytes(32, "big"))


# --- Domain ---


def test_domain_names_the_digital_som(cbdc, domain):
    assert (domain.name, domain.version, domain.chain_id, domain.verifying_contract) == ("Digital Som", "1", chain.id, cbdc.address)


# --- EIP-2612 permit ---


def test_permit_sets_allowance_and_uses_nonce(holders, domain, deadline, alice, bob, relayer):
    sig = _permit(holders, domain, alice, alice, bob, som(100), deadline)
    tx = holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})
    assert (holders.allowance(alice, bob), holders.nonces(alice)) == (som(100), 1)
    assert tx.events["Approval"] == {"owner": alice.address, "spender": bob.address, "value": som(100)}


def test_permit_packed_signature_sets_allowance(holders, domain, deadline, alice, bob, relayer):
    sig = _permit(holders, domain, alice, alice, bob, som(100), deadline)
    holders.permit[PERMIT_PACKED](alice, bob, som(100), deadline, sig.packed, {"from": relayer})
    assert holders.allowance(alice, bob) == som(100)


def test_permit_allowance_spent_under_tier_rules(holders, domain, deadline, alice, bob, carol, relayer, tiers, reverts):
    sig = _permit(holders, domain, alice, alice, bob, som(60_000), deadline)
    holders.permit[PERMIT_VRS](alice, bob, som(60_000), deadline, sig.v, sig.r, sig.s, {"from": relayer})
    cap = tiers[BASIC_TIER].holding_cap
    with reverts("DigitalCurrencyHoldingCapExceeded", account=carol.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + som(1)):
        holders.transferFrom(alice, carol, cap + som(1), {"from": bob})


def test_permit_with_expired_deadline_reverts(holders, domain, alice, bob, relayer, reverts):
    deadline = chain[-1].timestamp - 100
    sig = _permit(holders, domain, alice, alice, bob, som(100), deadline)
    with reverts("ERC2612ExpiredSignature", deadline=deadline):
        holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_signed_by_wrong_key_reverts(holders, domain, deadline, alice, bob, mallory, relayer, reverts):
    sig = _permit(holders, domain, mallory, alice, bob, som(100), deadline)
    with reverts("InvalidSignature", signer=alice.address):
        holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_permit_replay_reverts(holders, domain, deadline, alice, bob, relayer, reverts):
    sig = _permit(holders, domain, alice, alice, bob, som(100), deadline)
    holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})
    with reverts("InvalidSignature", signer=alice.address):
        holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})


@pytest.mark.parametrize("form", ["vrs", "packed"])
def test_permit_high_s_signature_reverts(holders, domain, deadline, alice, bob, relayer, reverts, form):
    sig = _high_s(_permit(holders, domain, alice, alice, bob, som(100), deadline))
    with reverts("InvalidSignature", signer=alice.address):
        if form == "vrs":
            holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})
        else:
            holders.permit[PERMIT_PACKED](alice, bob, som(100), deadline, sig.packed, {"from": relayer})


def test_permit_while_transfers_paused_reverts(holders, domain, deadline, alice, bob, relayer, pauser, reverts):
    holders.pause(PAUSE_TRANSFERS, {"from": pauser})
    sig = _permit(holders, domain, alice, alice, bob, som(100), deadline)
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})


@pytest.mark.parametrize("party", ["alice", "bob", "relayer"], ids=["owner", "spender", "relayer"])
def test_permit_with_blocked_party_reverts(holders, domain, deadline, alice, bob, relayer, compliance, request, reverts, party):
    blocked = request.getfixturevalue(party)
    holders.blockAccount(blocked, REASON, {"from": compliance})
    sig = _permit(holders, domain, alice, alice, bob, som(100), deadline)
    with reverts("BlockedAddress", account=blocked.address):
        holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})


def test_kgst_permit_refused_by_digital_som(holders, funded, deadline, alice, bob, relayer, reverts):
    sig = sign_permit(Domain.of(funded), alice.private_key, alice.address, bob.address, som(100), 0, deadline)
    with reverts("InvalidSignature", signer=alice.address):
        holders.permit[PERMIT_VRS](alice, bob, som(100), deadline, sig.v, sig.r, sig.s, {"from": relayer})


# --- EIP-3009 transferWithAuthorization ---


def test_transfer_with_authorization_moves_balance(holders, domain, window, nonce, alice, carol, relayer):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)
    assert (holders.balanceOf(alice), holders.balanceOf(carol)) == (som(59_700), som(300))


def test_transfer_with_authorization_marks_nonce_used(holders, domain, window, nonce, alice, carol, relayer):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    tx = _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)
    assert tx.events["AuthorizationUsed"] == {"authorizer": alice.address, "nonce": "0x" + nonce.hex()}
    assert (holders.authorizationState(alice, nonce), holders.nonces(alice)) == (True, 0)


def test_transfer_with_authorization_packed_signature_moves_balance(holders, domain, window, nonce, alice, carol, relayer):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    holders.transferWithAuthorization[AUTH_PACKED](alice, carol, som(300), *window, nonce, sig.packed, {"from": relayer})
    assert holders.balanceOf(carol) == som(300)


def test_transfer_with_authorization_reused_nonce_reverts(holders, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)


@pytest.mark.parametrize("timing", ["not-yet-valid", "expired"])
def test_transfer_with_authorization_outside_window_reverts(holders, domain, nonce, alice, carol, relayer, reverts, timing):
    now = chain[-1].timestamp
    window = (now + 3_600, now + 7_200) if timing == "not-yet-valid" else (0, now - 100)
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    with reverts("ERC3009InvalidAuthorizationTime", validAfter=window[0], validBefore=window[1]):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)


def test_transfer_with_authorization_high_s_signature_reverts(holders, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _high_s(_auth(domain, alice, carol, som(300), window, nonce))
    with reverts("InvalidSignature", signer=alice.address):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)


def test_transfer_with_authorization_to_other_recipient_than_signed_reverts(holders, domain, window, nonce, alice, bob, carol, relayer, reverts):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    with reverts("InvalidSignature", signer=alice.address):
        _submit(holders, alice, bob, som(300), window, nonce, sig, relayer)


# --- The tier rules bind authorized transfers ---


def test_transfer_with_authorization_over_recipient_cap_reverts(holders, domain, window, nonce, alice, carol, relayer, tiers, reverts):
    cap = tiers[BASIC_TIER].holding_cap
    sig = _auth(domain, alice, carol, cap + 1, window, nonce)
    with reverts("DigitalCurrencyHoldingCapExceeded", account=carol.address, tier=BASIC_TIER, cap=cap, balanceAfter=cap + 1):
        _submit(holders, alice, carol, cap + 1, window, nonce, sig, relayer)
    assert holders.authorizationState(alice, nonce) is False


def test_transfer_with_authorization_over_sender_transfer_limit_reverts(holders, domain, window, nonce, bob, carol, relayer, tiers, reverts):
    limit = tiers[BASIC_TIER].transfer_limit
    sig = _auth(domain, bob, carol, limit + 1, window, nonce)
    with reverts("DigitalCurrencyTransferLimitExceeded", account=bob.address, tier=BASIC_TIER, limit=limit, amount=limit + 1):
        _submit(holders, bob, carol, limit + 1, window, nonce, sig, relayer)


def test_transfer_with_authorization_counts_against_daily_limit(holders, domain, window, alice, bob, relayer, tiers, reverts):
    limit, daily = tiers[BASIC_TIER].transfer_limit, tiers[BASIC_TIER].daily_limit
    for _ in range(daily // limit):
        nonce = random_nonce()
        _submit(holders, bob, alice, limit, window, nonce, _auth(domain, bob, alice, limit, window, nonce), relayer)
    nonce, rest = random_nonce(), daily % limit + 1
    with reverts("DigitalCurrencyDailyLimitExceeded", account=bob.address, tier=BASIC_TIER, limit=daily, spentAfter=daily + 1):
        _submit(holders, bob, alice, rest, window, nonce, _auth(domain, bob, alice, rest, window, nonce), relayer)


def test_transfer_with_authorization_to_unregistered_reverts(holders, domain, window, nonce, alice, mallory, relayer, reverts):
    sig = _auth(domain, alice, mallory, som(300), window, nonce)
    with reverts("DigitalCurrencyNotRegistered", account=mallory.address):
        _submit(holders, alice, mallory, som(300), window, nonce, sig, relayer)


# --- Pause and blocklist ---


@pytest.mark.parametrize("party", ["alice", "carol", "relayer"], ids=["sender", "recipient", "relayer"])
def test_transfer_with_authorization_with_blocked_party_reverts(holders, domain, window, nonce, alice, carol, relayer, compliance, request, reverts, party):
    blocked = request.getfixturevalue(party)
    holders.blockAccount(blocked, REASON, {"from": compliance})
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    with reverts("BlockedAddress", account=blocked.address):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)


def test_transfer_with_authorization_while_paused_keeps_nonce_unused(holders, domain, window, nonce, alice, carol, relayer, pauser, reverts):
    holders.pause(PAUSE_TRANSFERS, {"from": pauser})
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    with reverts("OperationPaused", flag=PAUSE_TRANSFERS):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)
    assert holders.authorizationState(alice, nonce) is False


# --- receiveWithAuthorization ---


def test_receive_with_authorization_by_recipient_moves_balance(holders, domain, window, nonce, alice, carol):
    sig = _auth(domain, alice, carol, som(300), window, nonce, receive=True)
    holders.receiveWithAuthorization[AUTH_VRS](alice, carol, som(300), *window, nonce, sig.v, sig.r, sig.s, {"from": carol})
    assert (holders.balanceOf(alice), holders.balanceOf(carol)) == (som(59_700), som(300))


def test_receive_with_authorization_by_other_than_recipient_reverts(holders, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _auth(domain, alice, carol, som(300), window, nonce, receive=True)
    with reverts("ERC20InvalidReceiver", receiver=carol.address):
        holders.receiveWithAuthorization[AUTH_VRS](alice, carol, som(300), *window, nonce, sig.v, sig.r, sig.s, {"from": relayer})


def test_receive_with_authorization_over_cap_reverts(holders, domain, window, nonce, alice, carol, tiers, reverts):
    cap = tiers[BASIC_TIER].holding_cap
    sig = _auth(domain, alice, carol, cap + 1, window, nonce, receive=True)
    with reverts("DigitalCurrencyHoldingCapExceeded", account=carol.address, cap=cap, balanceAfter=cap + 1):
        holders.receiveWithAuthorization[AUTH_VRS](alice, carol, cap + 1, *window, nonce, sig.v, sig.r, sig.s, {"from": carol})


# --- cancelAuthorization ---


def test_cancelled_authorization_cannot_be_used(holders, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    cancel = sign_cancel(domain, alice.private_key, alice.address, nonce)
    tx = holders.cancelAuthorization[CANCEL_VRS](alice, nonce, cancel.v, cancel.r, cancel.s, {"from": relayer})
    assert tx.events["AuthorizationCanceled"] == {"authorizer": alice.address, "nonce": "0x" + nonce.hex()}
    with reverts("ERC3009UsedAuthorization", authorizer=alice.address, nonce=nonce):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)


@pytest.mark.parametrize("state", ["paused", "blocked"])
def test_cancel_authorization_while_paused_or_blocked_succeeds(holders, domain, nonce, alice, relayer, pauser, compliance, state):
    if state == "paused":
        holders.pause(PAUSE_TRANSFERS, {"from": pauser})
    else:
        holders.blockAccount(alice, REASON, {"from": compliance})
    cancel = sign_cancel(domain, alice.private_key, alice.address, nonce)
    holders.cancelAuthorization[CANCEL_VRS](alice, nonce, cancel.v, cancel.r, cancel.s, {"from": relayer})
    assert holders.authorizationState(alice, nonce) is True


def test_cancel_authorization_signed_by_wrong_key_reverts(holders, domain, nonce, alice, mallory, relayer, reverts):
    cancel = sign_cancel(domain, mallory.private_key, alice.address, nonce)
    with reverts("InvalidSignature", signer=alice.address):
        holders.cancelAuthorization[CANCEL_VRS](alice, nonce, cancel.v, cancel.r, cancel.s, {"from": relayer})


# --- No replay between KGST and the digital som ---


def test_kgst_authorization_used_on_kgst_replayed_on_digital_som_reverts(holders, funded, window, nonce, alice, carol, relayer, reverts):
    sig = _auth(Domain.of(funded), alice, carol, som(300), window, nonce)
    _submit(funded, alice, carol, som(300), window, nonce, sig, relayer)
    with reverts("InvalidSignature", signer=alice.address):
        _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)
    assert (funded.balanceOf(carol), holders.balanceOf(carol), holders.authorizationState(alice, nonce)) == (som(300), 0, False)


def test_digital_som_authorization_refused_by_kgst(holders, funded, domain, window, nonce, alice, carol, relayer, reverts):
    sig = _auth(domain, alice, carol, som(300), window, nonce)
    _submit(holders, alice, carol, som(300), window, nonce, sig, relayer)
    with reverts("InvalidSignature", signer=alice.address):
        _submit(funded, alice, carol, som(300), window, nonce, sig, relayer)
