"""The PKCS#11 signer against a real module (SoftHSM2, fixture `softhsm`), no chain needed:
what it signs is what eth-account accepts (legacy and EIP-1559 transactions with their chain
id, EIP-191 and EIP-712 messages), low-s with `v` recovered; the private key cannot be read out;
keys are generated, listed and refused; every failure is one line."""

from __future__ import annotations

import os

import pkcs11
import pytest
import rlp
from clihelp import assert_one_line_error, run
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.typed_transactions import TypedTransaction
from eth_keys import keys as eth_keys
from eth_utils import keccak

from somstack.core import _secp256k1 as ec
from somstack.core import hsm
from somstack.core.errors import HsmConnectionLost, HsmError
from somstack.core.signatures import (
    Domain,
    sign_authorization,
    sign_permit,
    typed_message,
)

CHAIN_ID = 97
TO = "0xF0109fC8DF283027b6285cc889F5aA624EaC1F55"
LEGACY = {"to": TO, "value": 10**15, "gas": 21_000, "gasPrice": 3 * 10**9, "nonce": 7, "chainId": CHAIN_ID, "data": b"\x01\x02"}
DYNAMIC = {"to": TO, "value": 10**15, "gas": 50_000, "maxFeePerGas": 5 * 10**9, "maxPriorityFeePerGas": 10**9,
           "nonce": 7, "chainId": CHAIN_ID, "data": "0xabcd", "type": 2}
DOMAIN = Domain("KGST Som Stablecoin", "1", CHAIN_ID, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


@pytest.fixture(scope="module")
def signer(softhsm, hsm_key):
    """The key `signer` of the token, opened as a command opens it."""
    hsm_key("signer")
    return hsm.account_of(softhsm.options("signer"))


def account(softhsm, label):
    return hsm.account_of(softhsm.options(label))


# --- Transactions: byte for byte what eth-account makes and accepts ---


def test_legacy_transaction_recovers_to_the_hsm_address_with_the_chain_id_in_v(signer):
    signed = signer.sign_transaction(LEGACY)
    assert Account.recover_transaction(signed.raw_transaction) == signer.address
    assert signed.v in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36)  # EIP-155
    assert signed.hash == keccak(signed.raw_transaction)


def test_legacy_transaction_has_eth_accounts_fields_apart_from_the_signature(signer):
    """eth-account's own signature (another key: ECDSA with a random k is not reproducible, so
    the signature fields differ) over the same dict: every other RLP field is the same bytes."""
    ours = rlp.decode(bytes(signer.sign_transaction(LEGACY).raw_transaction))
    theirs = rlp.decode(bytes(Account.sign_transaction(LEGACY, Account.create().key).raw_transaction))
    assert ours[:6] == theirs[:6]
    assert len(ours) == len(theirs) == 9


def test_eip1559_transaction_recovers_and_matches_eth_accounts_fields(signer):
    signed = signer.sign_transaction(DYNAMIC)
    assert bytes(signed.raw_transaction)[0] == 2
    assert Account.recover_transaction(signed.raw_transaction) == signer.address
    ours = TypedTransaction.from_bytes(signed.raw_transaction).as_dict()
    theirs = TypedTransaction.from_bytes(Account.sign_transaction(DYNAMIC, Account.create().key).raw_transaction).as_dict()
    for field in ("v", "r", "s"):
        ours.pop(field), theirs.pop(field)
    assert ours == theirs and ours["chainId"] == CHAIN_ID


def test_a_transaction_with_another_from_is_refused(signer):
    with pytest.raises(TypeError, match="from field must match"):
        signer.sign_transaction({**LEGACY, "from": TO})


def test_the_same_transaction_signed_twice_gives_the_same_bytes(signer):
    """A sender looks a transaction up by the hash it computed before sending it."""
    first = signer.sign_transaction(DYNAMIC)
    again = signer.sign_transaction({**DYNAMIC, "from": signer.address})
    other = signer.sign_transaction({**DYNAMIC, "nonce": 8})
    assert again.raw_transaction == first.raw_transaction
    assert other.hash != first.hash


def test_every_signature_is_low_s(signer):
    """Raw ECDSA gives s > n/2 about every other time; none may reach eth-account's checks."""
    sigs = [signer.unsafe_sign_hash(os.urandom(32)) for _ in range(24)]
    assert all(0 < sig.s <= ec.HALF_N for sig in sigs)
    assert {sig.v for sig in sigs} == {27, 28}  # both parities met, so v is really found


def test_recovery_id_agrees_with_eth_keys_for_low_and_high_s():
    key = eth_keys.PrivateKey(keccak(text="somstack-hsm-test-key"))
    point = key.public_key.to_bytes()
    table = ec.table((int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")))
    for i in range(8):
        digest = keccak(text=f"message {i}")
        v, r, s = key.sign_msg_hash(digest).vrs
        assert ec.recovery_id(digest, r, s, table) == v
        assert ec.recovery_id(digest, r, ec.N - s, table) == 1 - v  # the high twin: other parity
        assert ec.low_s(ec.N - s) == s
    with pytest.raises(ValueError, match="does not verify"):
        ec.recovery_id(keccak(text="another message"), r, s, table)


# --- Messages: EIP-191 and EIP-712 ---


def test_eip191_message_recovers_to_the_hsm_address(signer):
    message = encode_defunct(text="SomStack reserve attestation 2026-12")
    signed = signer.sign_message(message)
    assert Account.recover_message(message, signature=signed.signature) == signer.address
    assert signed.signature[-1] in (27, 28)


def test_eip712_authorization_and_permit_recover_to_the_hsm_address(signer):
    from somstack.core.signatures import AUTHORIZATION_TYPES, PERMIT_TYPES

    nonce = os.urandom(32)
    sig = sign_authorization(DOMAIN, signer, signer.address, TO, 5 * 10**18, 0, 2**40, nonce)
    message = {"from": signer.address, "to": TO, "value": 5 * 10**18, "validAfter": 0, "validBefore": 2**40, "nonce": nonce}
    typed = typed_message(DOMAIN, "TransferWithAuthorization", AUTHORIZATION_TYPES, message)
    assert Account.recover_message(typed, signature=sig.packed) == signer.address
    permit = sign_permit(DOMAIN, signer, signer.address, TO, 1, 0, 2**40)
    typed = typed_message(DOMAIN, "Permit", PERMIT_TYPES, {"owner": signer.address, "spender": TO, "value": 1, "nonce": 0, "deadline": 2**40})
    assert Account.recover_message(typed, signature=permit.packed) == signer.address


# --- The key stays in the token ---


def test_the_private_key_cannot_be_read_out(softhsm, signer):
    """What an attacker holding the PIN would try: the value (CKA_VALUE), or wrapping the key
    out under a key of their own; the token refuses both."""
    token = hsm.open_token(softhsm.options())
    private = token.session.get_key(pkcs11.ObjectClass.PRIVATE_KEY, label="signer")
    assert private[pkcs11.Attribute.SENSITIVE] and private[pkcs11.Attribute.ALWAYS_SENSITIVE]
    assert not private[pkcs11.Attribute.EXTRACTABLE] and private[pkcs11.Attribute.NEVER_EXTRACTABLE]
    with pytest.raises(pkcs11.AttributeSensitive):
        private[pkcs11.Attribute.VALUE]
    wrapper = token.session.generate_key(pkcs11.KeyType.AES, 256, template={pkcs11.Attribute.WRAP: True})
    with pytest.raises(pkcs11.PKCS11Error) as refused:
        wrapper.wrap_key(private, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)
    assert type(refused.value).__name__ in ("KeyUnextractable", "KeyNotWrappable")


# --- keys generate | list | address ---


def test_keys_generate_prints_an_address_that_keys_address_and_list_repeat(capsys, softhsm):
    code, out, err = run(capsys, "keys", "generate", "--hsm", "treasury-officer")
    assert code == 0, err
    address = out.strip()
    assert address.startswith("0x") and len(address) == 42
    assert run(capsys, "keys", "address", "--hsm", "treasury-officer")[1].strip() == address
    code, out, err = run(capsys, "keys", "list")
    assert code == 0, err
    assert f"treasury-officer" in out and address in out.splitlines()[[l.split()[0] for l in out.splitlines()].index("treasury-officer")]


def test_keys_generate_refuses_a_label_in_use(capsys, signer):
    assert_one_line_error(*run(capsys, "keys", "generate", "--hsm", "signer")[::2], "already holds an object labelled 'signer'")


def _plant(softhsm, label, curve_oid, extractable):
    """A key pair made outside `keys generate`: on ``curve_oid``, extractable or not."""
    token = hsm.open_token(softhsm.options())
    params = token.session.create_domain_parameters(
        pkcs11.KeyType.EC, {pkcs11.Attribute.EC_PARAMS: pkcs11.util.ec.encode_named_curve_parameters(curve_oid)}, local=True)
    params.generate_keypair(store=True, label=label, private_template={
        pkcs11.Attribute.EXTRACTABLE: extractable, pkcs11.Attribute.SENSITIVE: not extractable})


@pytest.fixture(scope="module")
def planted(softhsm):
    _plant(softhsm, "exportable", hsm.SECP256K1_OID, True)
    _plant(softhsm, "p256", "1.2.840.10045.3.1.7", False)


def test_an_extractable_key_is_refused_in_one_line(capsys, planted):
    assert_one_line_error(*run(capsys, "keys", "address", "--hsm", "exportable")[::2], "key 'exportable' is extractable", "refused")


def test_a_key_on_another_curve_is_refused_in_one_line(capsys, planted):
    assert_one_line_error(*run(capsys, "keys", "address", "--hsm", "p256")[::2], "key 'p256' is on another curve than secp256k1")


def test_keys_list_names_refused_keys_and_why(capsys, planted, signer):
    code, out, err = run(capsys, "keys", "list")
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert "refused" in rows["exportable"] and "extractable" in rows["exportable"]
    assert "refused" in rows["p256"] and "another curve" in rows["p256"]
    assert signer.address in rows["signer"]


# --- One-line errors ---


def test_a_missing_module_is_one_line(capsys, tmp_path):
    missing = str(tmp_path / "libnothing.so")
    assert_one_line_error(*run(capsys, "keys", "list", "--pkcs11-module", missing)[::2], "PKCS#11 module not found", missing)


def test_an_unknown_token_is_one_line_naming_the_present_ones(capsys, softhsm):
    assert_one_line_error(*run(capsys, "keys", "list", "--pkcs11-token", "no-such-token")[::2],
                          "token 'no-such-token' not found", softhsm.token)


def test_an_unknown_label_is_one_line(capsys, softhsm):
    assert_one_line_error(*run(capsys, "keys", "address", "--hsm", "nobody")[::2], "no key labelled 'nobody'", "keys list")


def test_a_wrong_pin_is_tried_once_and_one_line(capsys, softhsm, monkeypatch, tmp_path, signer):
    """The token alone counts failed logins: a wrong PIN is presented once per command, never
    again by SomStack, and the right one still logs in afterwards."""
    logins = []
    real_lib = pkcs11.lib

    class Token:
        def __init__(self, token):
            self._token = token

        def __getattr__(self, name):
            return getattr(self._token, name)

        def open(self, **kwargs):
            logins.append(kwargs.get("user_pin"))
            return self._token.open(**kwargs)

    class Lib:
        def __init__(self, lib):
            self._lib = lib

        def __getattr__(self, name):
            return getattr(self._lib, name)

        def get_token(self, **kwargs):
            return Token(self._lib.get_token(**kwargs))

    monkeypatch.setattr(pkcs11, "lib", lambda so: Lib(real_lib(so)))
    wrong = tmp_path / "wrong-pin"
    wrong.write_text("000000\n")
    assert_one_line_error(*run(capsys, "keys", "list", "--pin-file", str(wrong))[::2], "wrong PIN for token", "not tried again")
    assert logins == ["000000"]
    code, out, err = run(capsys, "keys", "address", "--hsm", "signer")
    assert code == 0 and out.strip() == signer.address, err
    assert logins == ["000000", softhsm.pin_file.read_text().strip()]


def test_a_pin_comes_from_the_prompt_when_no_file_is_named(softhsm, monkeypatch, signer):
    from click.testing import CliRunner

    from somstack.cli import cli

    hsm.forget_tokens()  # a fresh login, so the PIN is really asked for
    monkeypatch.delenv("SOMSTACK_PKCS11_PIN_FILE")
    result = CliRunner().invoke(cli, ["keys", "address", "--hsm", "signer"], input=softhsm.pin_file.read_text())
    assert result.exit_code == 0, result.output
    assert "PIN of token 'somstack-test'" in result.output and signer.address in result.output


def test_a_connection_lost_while_signing_is_one_hsm_error_and_the_next_use_reconnects(softhsm):
    """What a long-running relayer meets: the signature under way fails with one error, the
    next one logs in again (the PIN from its file) and signs with the same key."""
    account = hsm.account_of(softhsm.options("signer"))
    hsm.open_token(softhsm.options()).session.close()  # the HSM drops the session
    with pytest.raises(HsmConnectionLost, match="connection to the HSM .* was lost while signing .*run the command again"):
        account.sign_transaction({**LEGACY, "nonce": 99})
    assert Account.recover_transaction(account.sign_transaction({**LEGACY, "nonce": 99}).raw_transaction) == account.address


def test_a_key_replaced_while_the_token_was_away_is_refused(softhsm, hsm_key):
    hsm_key("rotating")
    account = hsm.account_of(softhsm.options("rotating"))
    token = hsm.open_token(softhsm.options())
    for obj in list(token.session.get_objects({pkcs11.Attribute.LABEL: "rotating"})):
        obj.destroy()
    hsm.generate_key(softhsm.options(), "rotating")  # same label, another key
    token.session.close()
    with pytest.raises(HsmConnectionLost):
        account.unsafe_sign_hash(b"\x05" * 32)
    with pytest.raises(HsmError, match="is another key than before"):
        account.unsafe_sign_hash(b"\x05" * 32)


def test_a_key_whose_public_half_has_another_label_is_found_by_its_id(capsys, softhsm, signer):
    """Vendor tools pair the halves of a key by CKA_ID; the label may be on the private half only."""
    token = hsm.open_token(softhsm.options())
    params = token.session.create_domain_parameters(
        pkcs11.KeyType.EC, {pkcs11.Attribute.EC_PARAMS: pkcs11.util.ec.encode_named_curve_parameters(hsm.SECP256K1_OID)}, local=True)
    public, private = params.generate_keypair(store=True, id=b"vendor-7", label="vendor-made", private_template={
        pkcs11.Attribute.EXTRACTABLE: False, pkcs11.Attribute.SENSITIVE: True})
    public[pkcs11.Attribute.LABEL] = "vendor-made-pub"
    code, out, err = run(capsys, "keys", "address", "--hsm", "vendor-made")
    assert code == 0, err
    assert out.strip() == hsm._address(hsm._ec_point(public[pkcs11.Attribute.EC_POINT]))
    message = encode_defunct(text="vendor key")
    assert Account.recover_message(message, signature=hsm.account_of(softhsm.options("vendor-made")).sign_message(message).signature) == out.strip()


def test_a_missing_or_empty_pin_file_is_one_line(capsys, softhsm, tmp_path):
    missing = tmp_path / "no-pin"
    assert_one_line_error(*run(capsys, "keys", "list", "--pin-file", str(missing))[::2], "cannot read the PIN file", str(missing))
    empty = tmp_path / "empty-pin"
    empty.write_text("\n")
    assert_one_line_error(*run(capsys, "keys", "list", "--pin-file", str(empty))[::2], f"the PIN file {empty} is empty")


@pytest.mark.parametrize("variable, fragment", [("SOMSTACK_PKCS11_MODULE", "no PKCS#11 module: set SOMSTACK_PKCS11_MODULE"),
                                                ("SOMSTACK_PKCS11_TOKEN", "no PKCS#11 token: set SOMSTACK_PKCS11_TOKEN")])
def test_an_unset_module_or_token_names_its_variable(capsys, softhsm, monkeypatch, variable, fragment):
    monkeypatch.setenv(variable, "")
    assert_one_line_error(*run(capsys, "keys", "address", "--hsm", "signer")[::2], fragment)
