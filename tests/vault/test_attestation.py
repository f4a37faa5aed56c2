"""Attestations of fiat som in banks: posted by ATTESTOR in order, never from the future, and no
older than their maximum age (35 days) when the reserve is valued (else minting halts)."""

import pytest
from brownie import chain
from eth_utils import keccak

from vaultlib import ATTESTATION_MAX_AGE, UNIT, ZERO_ADDRESS, latest_time, pin_next_block

REPORT = keccak(text="bank-statement-2025-12")
URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def test_attest_records_and_emits(vault, attestor):
    as_of = latest_time()
    tx = vault.attest(5_000_000 * UNIT, as_of, REPORT, URI, {"from": attestor})
    event = tx.events["Attested"]
    assert (event["amount"], event["asOf"], bytes(event["reportHash"]), event["uri"], event["attestor"]) == (
        5_000_000 * UNIT,
        as_of,
        REPORT,
        URI,
        attestor,
    )
    amount, recorded_as_of, report, max_age = vault.attestation()
    assert (amount, recorded_as_of, bytes(report), max_age) == (5_000_000 * UNIT, as_of, REPORT, ATTESTATION_MAX_AGE)
    assert vault.reserveValue() == 5_000_000 * UNIT  # no asset held: the reserve is the bank fiat


@pytest.mark.parametrize("when", ["same", "older", "future"])
def test_attest_out_of_order_reverts(vault, attestor, reverts, when):
    previous = vault.attestation()[1]
    as_of = {"same": previous, "older": previous - 1, "future": latest_time() + 3_600}[when]
    with reverts("ReserveVaultAttestationOutOfOrder", asOf=as_of, previousAsOf=previous):
        vault.attest(1 * UNIT, as_of, REPORT, URI, {"from": attestor})
    assert vault.attestation()[1] == previous


@pytest.mark.parametrize("caller", ["stranger", "rate_setter"])
def test_attest_by_other_accounts_reverts(vault, reverts, request, caller):
    account = request.getfixturevalue(caller)
    with reverts("AccessManagedUnauthorized", caller=account.address):
        vault.attest(1 * UNIT, latest_time(), REPORT, URI, {"from": account})


def test_set_attestation_max_age_emits(vault, reserve_admin):
    tx = vault.setAttestationMaxAge(3_600, {"from": reserve_admin})
    assert dict(tx.events["AttestationMaxAgeUpdated"]) == {"previousMaxAge": ATTESTATION_MAX_AGE, "newMaxAge": 3_600}
    assert vault.attestation()[3] == 3_600


def test_zero_attestation_max_age_refused(vault, reserve_admin, reverts):
    with reverts("ReserveVaultInvalidConfig", asset=ZERO_ADDRESS):
        vault.setAttestationMaxAge(0, {"from": reserve_admin})


@pytest.mark.parametrize("age, fresh", [(3_600, True), (3_601, False)], ids=["at-max-age", "one-second-past"])
def test_attestation_max_age_edge(vault, kgst, reserve_admin, attest, mint, reverts, age, fresh):
    vault.setAttestationMaxAge(3_600, {"from": reserve_admin})
    as_of = attest(10_000 * UNIT).events["Attested"]["asOf"]
    pin_next_block(as_of + age)
    if fresh:
        mint(1 * UNIT)
        assert kgst.totalSupply() == 2_001 * UNIT
    else:
        with reverts("ReserveVaultAttestationStale", asOf=as_of, maxAge=3_600):
            mint(1 * UNIT)


def test_stale_attestation_halts_minting_until_a_new_one(vault, kgst, rate_setter, attest, mint, reverts, call_error):
    as_of = vault.attestation()[1]
    chain.sleep(ATTESTATION_MAX_AGE + 10)
    chain.mine()
    vault.setRate(vault.rate()[0], {"from": rate_setter})  # keep the rate fresh: only the attestation is stale
    error = call_error(vault.reserveValue)
    assert (error.name, error.args) == ("ReserveVaultAttestationStale", {"asOf": as_of, "maxAge": ATTESTATION_MAX_AGE})
    with reverts("ReserveVaultAttestationStale", asOf=as_of, maxAge=ATTESTATION_MAX_AGE):
        mint(1 * UNIT)

    attest(10_000 * UNIT)
    mint(1 * UNIT)
    assert kgst.totalSupply() == 2_001 * UNIT
