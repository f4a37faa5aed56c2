"""The demo scenario of `make demo`: a local chain, the whole deployment, and KGST at work.

It deploys through the same plan as operators do, then walks the life of the stablecoin:
a reserve valued on chain, a mint within a minter's allowance (and the same deposit refused
twice), the reserve binding (a lower bank attestation refuses a mint beyond coverage), a stale
BNB price counted as zero while the rest of the reserve covers minting, a BNB -50% stress test and
the reserve's status table (both through somstack.ops.reserve, as `somstack reserve` prints them),
a transfer, a permit, an EIP-3009 transfer paid by a relayer for a sender who holds no BNB, a
blocked address refused (by the pre-check and by the chain), and a court-ordered seizure by
two officers. Then the digital som: its tiers, 1,003 wallets registered, a 1,000-row payroll
paid from a CSV in once-only batches, a holding cap refusing a payment and the waterfall
taking the excess to the holder's bank, the same payroll run again paying nothing twice, and
one sanction applied to both tokens. Then a remittance through the relayer's HTTP service
(somstack.relay) by a sender who holds no BNB, the same sender redeeming 500 KGST through the
relayer into the redemption queue and the desk paying it, and transaction monitoring (somstack.monitor): a
listed address paying a mule is flagged, made a case and the mule blocked. Chain time moves forward a day (anvil evm_increaseTime)
for the stale price.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from somstack.core import logs
from somstack.core.artifacts import Artifacts
from somstack.core.chain import LocalNode, LocalSigner, NodeSigner, Sender
from somstack.core.config import Network, load_settings
from somstack.core.errors import TransactionFailed
from somstack.core.session import Session
from somstack.core.signatures import (
    Domain,
    random_nonce,
    sign_authorization,
    sign_permit,
)
from somstack.ops.cbdc import (
    Cbdc,
    disburse,
    format_tiers,
    prepare_payroll,
    read_tiers,
    register_many,
    som_text,
    write_payroll,
)
from somstack.ops.compliance import apply_sanction
from somstack.ops.reserve import (
    PRICE_ERRORS,
    Reserve,
    Sent,
    attest,
    format_status,
    format_stress,
    read_status,
    stress,
)
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders

Log = Callable[[str], None]
UNIT = 10**18
TYIYN = 100  # digital som units per som


def kgst(amount: int) -> str:
    return f"{amount / UNIT:,.2f} KGST"


def som(amount: int) -> str:
    return f"{amount / UNIT:,.2f} som"


@dataclass
class Actor:
    name: str
    sender: Sender

    @property
    def address(self) -> str:
        return self.sender.signer.address


@dataclass
class _Scene:
    """What the demo's steps share: the chain, the deployment and the cast."""

    settings: Any
    network: Network
    w3: Web3
    decoder: Any
    manifest: Any
    artifacts: Artifacts
    deployer: Actor
    treasury: Actor  # the node's first account, funding the reserve
    role: dict[str, Actor]  # each role's first holder
    people: dict[str, LocalAccount]  # alice, bob, carol, mallory, relayer: their keys
    actor: dict[str, Actor]  # the same, sending
    token: Any  # KGST
    vault: Any
    reserve: Reserve | None = None  # loaded once KGST is minted (step 3)


class Demo:
    def __init__(self, log: Log = print):
        self.log = log
        self.gas: dict[str, int] = {}

    def step(self, title: str) -> None:
        self.log(f"\n== {title}")

    def act(self, actor: Actor, call: Any, what: str) -> Any:
        receipt = actor.sender.transact({"to": call.address, "data": call._encode_transaction_data()}, what)
        self.gas[what] = receipt["gasUsed"]
        self.log(f"  {actor.name}: {what}  (gas {receipt['gasUsed']:,}, tx {receipt['transactionHash'].hex()[:18]}…)")
        return receipt

    def refused(self, actor: Actor, call: Any, what: str) -> str:
        try:
            actor.sender.transact({"to": call.address, "data": call._encode_transaction_data()}, what)
        except TransactionFailed as exc:
            self.log(f"  {actor.name}: {what} -> refused: {exc.error}")
            return str(exc.error)
        raise AssertionError(f"{what} should have been refused")

    def sent(self, actor: Actor, sent: Sent) -> None:
        receipt = sent.receipt
        self.gas[sent.what] = receipt["gasUsed"]
        self.log(f"  {actor.name}: {sent.what}  (gas {receipt['gasUsed']:,}, tx {receipt['transactionHash'].hex()[:18]}…)")

    def advance(self, w3: Web3, seconds: int, why: str) -> None:
        """Moves the chain's clock forward (anvil) and mines a block at the new time."""
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        self.log(f"  (chain time +{seconds:,} s: {why})")

    def run(self) -> dict[str, int]:
        """The demo, on a chain of its own, its manifest in build/demo/deployments (its own
        folder, emptied first): never deployments/31337.json, the operator's `local` record."""
        import os
        import shutil

        settings = load_settings()
        folder = settings.root / "build" / "demo" / "deployments"
        shutil.rmtree(folder, ignore_errors=True)
        previous = os.environ.get("SOMSTACK_DEPLOYMENTS_DIR")
        os.environ["SOMSTACK_DEPLOYMENTS_DIR"] = str(folder)
        try:
            return self._run()
        finally:
            if previous is None:
                os.environ.pop("SOMSTACK_DEPLOYMENTS_DIR", None)
            else:
                os.environ["SOMSTACK_DEPLOYMENTS_DIR"] = previous

    def _run(self) -> dict[str, int]:
        settings = load_settings()
        base = settings.network("local")
        started = time.monotonic()
        with LocalNode(settings, base.chain_id) as node:
            s = self.deploy(settings, node, base.chain_id)
            self.reserve_valued(s)
            self.mint_within_allowance(s)
            s.reserve = Reserve.load(s.w3, s.artifacts, s.manifest, s.decoder)
            self.reserve_binds(s)
            self.stale_price(s)
            self.stress_test(s)
            self.transfer(s)
            domain = self.permit(s)
            self.authorization(s, domain)
            self.sanctions(s)
            self.seizure(s)
            self.digital_som(s.w3, settings, s.network, s.manifest, s.artifacts, s.role, s.decoder, s.deployer)
            self.remittance(s.w3, s.manifest, s.artifacts, s.decoder, s.actor["relayer"], s.people["carol"], s.actor["alice"].address,
                            s.role["REDEEMER"])
            self.monitoring(s.w3, settings, s.network, s.manifest, s.artifacts, s.role, s.actor["bob"], s.decoder, s.deployer.address)
            self.balances(s)
            self.transparency_report(Session(settings, s.network, s.w3, s.deployer.sender))
            self.log(f"\ndemo finished in {time.monotonic() - started:.1f} s")
        return self.gas

    def deploy(self, settings: Any, node: LocalNode, chain_id: int) -> _Scene:
        """Step 1: the deployment through the operators' plan, and the cast: the role holders (the
        node's accounts) and five fresh keys."""
        network = Network(name="local", rpc=node.url, rpc_source=node.url, chain_id=chain_id, dev=True)
        w3 = Web3(Web3.HTTPProvider(node.url))
        self.log(f"local chain: anvil at {node.url}, chain id {w3.eth.chain_id}, hardfork {settings.anvil.get('hardfork')}")
        decoder = Artifacts(settings.root).decoder
        dev = w3.eth.accounts

        def node_actor(name: str, address: str) -> Actor:
            return Actor(name, Sender(w3, NodeSigner(address), decoder))

        deployer = node_actor("deployer", dev[0])
        self.step("1. Deploy: AccessManager, KGST (UUPS proxy), roles and delays")
        holders = resolve_holders(settings, network, w3)
        ctx = DeployContext(settings, network, w3, deployer.sender, settings.deployment("local"), holders)
        result = deploy_system(ctx)
        manifest = result.manifest
        artifacts = Artifacts(settings.root)
        token = artifacts.get("Stablecoin").contract(w3, manifest.address("Stablecoin"))
        self.log(f"  AccessManager  {manifest.address('AccessManager')}")
        self.log(f"  KGST (proxy)   {manifest.address('Stablecoin')}  -> implementation {manifest.contracts['Stablecoin']['implementation']}")
        self.log(f"  manifest       {manifest.path.relative_to(settings.root)}")

        role = {name: node_actor(name.lower(), accounts[0]) for name, accounts in holders.items()}
        people = {name: Account.create() for name in ("alice", "bob", "carol", "mallory", "relayer")}
        actor = {name: Actor(name, Sender(w3, LocalSigner(acct), decoder)) for name, acct in people.items()}
        for name in ("bob", "mallory", "relayer"):
            w3.eth.send_transaction({"from": dev[0], "to": people[name].address, "value": UNIT})  # 1 BNB for gas
        self.log("  alice, carol: fresh keys holding no BNB; bob, mallory, relayer: 1 BNB each for gas")
        vault = artifacts.get("ReserveVault").contract(w3, manifest.address("ReserveVault"))
        return _Scene(settings, network, w3, decoder, manifest, artifacts, deployer, node_actor("treasury", dev[0]),
                      role, people, actor, token, vault)

    def reserve_valued(self, s: _Scene) -> None:
        self.step("2. The national reserve: BNB, BSC-USD and attested fiat som, valued on chain")
        w3, role, treasury, vault, v = s.w3, s.role, s.treasury, s.vault, s.vault.functions
        assets = s.manifest.contracts["ReserveVault"]["assets"]
        self.act(role["RATE_SETTER"], v.setRate(87_45 * 10**16), "setRate(87.45 KGS per USD)")
        receipt = treasury.sender.transact({"to": vault.address, "data": v.depositNative()._encode_transaction_data(), "value": 500 * UNIT}, "deposit 500 BNB")
        self.log(f"  treasury: deposit 500 BNB into the vault  (gas {receipt['gasUsed']:,})")
        usd = s.artifacts.get("MockReserveToken").contract(w3, assets["BSC-USD"])
        self.act(treasury, usd.functions.mint(treasury.address, 1_000_000 * UNIT), "mint 1,000,000 mock BSC-USD to the treasury")
        self.act(treasury, usd.functions.approve(vault.address, 1_000_000 * UNIT), "approve the vault")
        self.act(treasury, v.deposit(assets["BSC-USD"], 1_000_000 * UNIT), "deposit 1,000,000 BSC-USD")
        now = w3.eth.get_block("latest")["timestamp"]
        self.act(role["ATTESTOR"], v.attest(50_000_000 * UNIT, now, Web3.keccak(text="bank statement 2025-11"), "ipfs://attestation-2025-11"), "attest 50,000,000 som held in banks")
        self.log(f"  reserve value {som(v.reserveValue().call())} (after haircuts and concentration caps)")

    def mint_within_allowance(self, s: _Scene) -> None:
        self.step("3. Mint within the minter's allowance, against a fiat deposit reference")
        role, f, v, bob = s.role, s.token.functions, s.vault.functions, s.actor["bob"]
        self.act(role["MINTER_ADMIN"], f.configureMinter(role["MINTER"].address, 1_000_000 * UNIT), "configureMinter(minter, 1,000,000 KGST)")
        deposit = Web3.keccak(text="NBKR-PAYMENT-ORDER-2025-000001")
        self.act(role["MINTER"], f.mint(bob.address, 100_000 * UNIT, deposit), "mint 100,000 KGST to bob (deposit ref)")
        self.refused(role["MINTER"], f.mint(bob.address, 100_000 * UNIT, deposit), "mint again with the same deposit ref")
        self.refused(role["MINTER"], f.mint(bob.address, 2_000_000 * UNIT, Web3.keccak(text="ORDER-2")), "mint 2,000,000 KGST (over allowance)")
        self.log(f"  minter allowance left: {kgst(f.minterAllowance(role['MINTER'].address).call())}")
        self.log(f"  coverage now {v.coverageRatio().call() / 100:,.0f}% of supply")

    def reserve_binds(self, s: _Scene) -> None:
        self.step("4. The reserve binds: a lower bank attestation, and a mint beyond coverage refused")
        role, f, v, bob, minter = s.role, s.token.functions, s.vault.functions, s.actor["bob"], s.role["MINTER"]
        assert s.reserve is not None
        before = v.reserveValue().call()
        self.advance(s.w3, 3600, "the bank's next statement")
        report = "0x" + Web3.keccak(text="bank statement 2025-11-b").hex().removeprefix("0x")
        with logs.silenced():
            self.sent(role["ATTESTOR"], attest(s.reserve, role["ATTESTOR"].sender, "1000000", "now", report, "ipfs://attestation-2025-11-b"))
        after = v.reserveValue().call()
        self.log(f"  reserve value {som(before)} -> {som(after)}; KGST supply {kgst(f.totalSupply().call())}")
        self.act(role["MINTER_ADMIN"], f.increaseMinterAllowance(minter.address, 200_000_000 * UNIT), "increaseMinterAllowance(minter, +200,000,000 KGST)")
        self.refused(minter, f.mint(bob.address, 120_000_000 * UNIT, Web3.keccak(text="ORDER-3")), "mint 120,000,000 KGST (within allowance, beyond the reserve)")
        self.log(f"  the vault would need {som(f.totalSupply().call() + 120_000_000 * UNIT)} at 100% coverage; it holds {som(after)}")

    def stale_price(self, s: _Scene) -> None:
        self.step("5. A stale BNB price counts as zero: minting goes on while the rest covers (issue 15)")
        w3, f, v, treasury, bob, carol = s.w3, s.token.functions, s.vault.functions, s.treasury, s.actor["bob"], s.actor["carol"]
        assets = s.manifest.contracts["ReserveVault"]["assets"]
        bnb_feed = s.artifacts.get("MockAggregatorV3").contract(w3, s.manifest.address("Feed:BNB"))
        usd_feed = s.artifacts.get("MockAggregatorV3").contract(w3, s.manifest.address("Feed:BSC-USD"))
        self.advance(w3, 86_401, "no BNB/USD update for longer than its 1-day heartbeat")
        self.act(treasury, usd_feed.functions.updateAnswer(10**8), "the BSC-USD/USD feed updates (1.00 USD)")
        _answer, updated_at, error = v.price(assets["BNB"]).call()
        now = w3.eth.get_block("latest")["timestamp"]
        _rate, rate_at, rate_max_age, _bound = v.rate().call()
        self.log(
            f"  BNB/USD: last update {now - updated_at:,} s ago -> {PRICE_ERRORS[error]} (PriceError {error}); "
            f"som rate {now - rate_at:,} s old (max {rate_max_age:,} s): still fresh"
        )
        order = Web3.keccak(text="NBKR-PAYMENT-ORDER-2025-000002")
        self.act(s.role["MINTER"], f.mint(bob.address, 1_000 * UNIT, order), "mint 1,000 KGST to bob (BNB counted as zero; BSC-USD and the attested som cover it)")
        self.act(bob, f.transfer(carol.address, 1_000 * UNIT), "transfer 1,000 KGST bob -> carol (transfers never ask the vault)")
        self.act(treasury, bnb_feed.functions.updateAnswer(600 * 10**8), "the BNB/USD feed updates (600.00 USD): BNB counts again")

    def stress_test(self, s: _Scene) -> None:
        self.step("6. Stress test: BNB -50%, and the reserve's status")
        assert s.reserve is not None
        for line in [*format_stress(stress(s.reserve, "BNB", 5_000)), "", *format_status(read_status(s.reserve), "local")]:
            self.log(f"  {line}" if line else "")

    def transfer(self, s: _Scene) -> None:
        self.step("7. Transfer")
        f, bob = s.token.functions, s.actor["bob"]
        self.act(bob, f.transfer(s.actor["alice"].address, 25_000 * UNIT), "transfer 25,000 KGST bob -> alice")
        self.act(bob, f.transfer(s.actor["mallory"].address, 5_000 * UNIT), "transfer 5,000 KGST bob -> mallory")

    def permit(self, s: _Scene) -> Domain:
        """Step 8; returns KGST's EIP-712 domain, which step 9 signs under too."""
        self.step("8. Permit: alice (no BNB) signs an approval; bob submits it and spends")
        f, alice, bob, carol = s.token.functions, s.actor["alice"], s.actor["bob"], s.actor["carol"]
        domain = Domain.of(s.token)
        deadline = s.w3.eth.get_block("latest")["timestamp"] + 3600
        sig = sign_permit(domain, s.people["alice"].key, alice.address, bob.address, 5_000 * UNIT, f.nonces(alice.address).call(), deadline)
        self.act(bob, f.permit(alice.address, bob.address, 5_000 * UNIT, deadline, sig.v, sig.r, sig.s), "permit(alice -> bob, 5,000 KGST)")
        self.act(bob, f.transferFrom(alice.address, carol.address, 5_000 * UNIT), "transferFrom alice -> carol 5,000 KGST")
        return domain

    def authorization(self, s: _Scene, domain: Domain) -> None:
        self.step("9. EIP-3009: alice signs a transfer, the relayer pays the BNB")
        w3, f, alice, carol = s.w3, s.token.functions, s.actor["alice"], s.actor["carol"]
        now = w3.eth.get_block("latest")["timestamp"]
        nonce = random_nonce()
        sig = sign_authorization(domain, s.people["alice"].key, alice.address, carol.address, 1_000 * UNIT, now - 1, now + 3600, nonce)
        self.act(
            s.actor["relayer"],
            f.transferWithAuthorization(alice.address, carol.address, 1_000 * UNIT, now - 1, now + 3600, nonce, sig.v, sig.r, sig.s),
            "transferWithAuthorization alice -> carol 1,000 KGST",
        )
        self.log(f"  alice still holds {w3.eth.get_balance(alice.address)} BNB; authorization used: {f.authorizationState(alice.address, nonce).call()}")

    def sanctions(self, s: _Scene) -> None:
        self.step("10. Sanctions: mallory is blocked and cannot move KGST")
        f, bob, mallory = s.token.functions, s.actor["bob"], s.actor["mallory"]
        self.act(s.role["COMPLIANCE"], f.blockAccount(mallory.address, Web3.keccak(text="UN-SANCTIONS-LIST-ENTRY-42")), "blockAccount(mallory)")
        code = f.detectTransferRestriction(mallory.address, bob.address, 1_000 * UNIT).call()
        self.log(f"  pre-check: {f.messageForTransferRestriction(code).call()} (code {code})")
        self.refused(mallory, f.transfer(bob.address, 1_000 * UNIT), "mallory transfers 1,000 KGST to bob")
        self.refused(bob, f.transfer(mallory.address, 1_000 * UNIT), "bob transfers 1,000 KGST to mallory")

    def seizure(self, s: _Scene) -> None:
        self.step("11. Seizure by court order: one officer proposes, another approves")
        role, f, mallory = s.role, s.token.functions, s.actor["mallory"]
        recovery = role["BURNER"].address
        balance = f.balanceOf(mallory.address).call()
        case = Web3.keccak(text="BISHKEK-COURT-CASE-2025-117")
        self.act(
            role["COMPLIANCE"],
            f.proposeSeizure(mallory.address, recovery, balance, case, Web3.keccak(text="evidence bundle")),
            f"proposeSeizure(mallory, {kgst(balance)})",
        )
        seizure_id = f.seizureCount().call()
        self.act(role["SEIZE_APPROVER"], f.executeSeizure(seizure_id), f"executeSeizure({seizure_id})")
        self.act(role["BURNER"], f.burn(balance, Web3.keccak(text="SEIZED-FUNDS-RETURNED-117")), f"burn {kgst(balance)} (redemption ref)")

    def balances(self, s: _Scene) -> None:
        self.step("Balances")
        f = s.token.functions
        for person in (s.actor[n] for n in ("alice", "bob", "carol", "mallory")):
            self.log(f"  {person.name:8s} {kgst(f.balanceOf(person.address).call()):>22s}")
        self.log(f"  total supply {kgst(f.totalSupply().call()):>18s}")

    def digital_som(self, w3: Web3, settings: Any, network: Network, manifest: Any, artifacts: Artifacts,
                    role: dict[str, Actor], decoder: Any, deployer: Actor) -> None:
        """The digital som: tiers, a 1,000-row payroll, a cap refusal, the waterfall, a rerun
        that pays nothing twice, and one sanction reaching both tokens."""
        cbdc = Cbdc(w3, artifacts.get("DigitalCurrency").contract(w3, manifest.address("DigitalCurrency")),  # type: ignore[arg-type]
                    artifacts.get("SomAccessManager").contract(w3, manifest.address("AccessManager")),  # type: ignore[arg-type]
                    settings.deployment("local").digital_currency)
        d = cbdc.token.functions

        self.step("12. The digital som: wallet tiers set by governance")
        for line in format_tiers(read_tiers(cbdc), 2):
            self.log(f"  {line}")

        self.step("13. KYC: the issuer, the treasury and a bank; 1,000 citizens in two tiers")
        kyc, issuer, treasury = role["KYC_OFFICER"], role["ISSUER"], role["TREASURY"]
        bank = Actor("bank", Sender(w3, NodeSigner(w3.eth.accounts[23]), decoder))
        citizen, wallets = self._register(w3, cbdc, kyc, [issuer.address, treasury.address], bank)
        self.act(issuer, d.mint(treasury.address, 100_000_000 * TYIYN, Web3.keccak(text="NBKR-ISSUANCE-2025-11")), "mint 100,000,000 digital som to the treasury")

        self.step("14. Payroll: 1,000 salaries from a CSV, in once-only batches of 200")
        folder = settings.root / "build" / "demo"
        folder.mkdir(parents=True, exist_ok=True)
        payroll = folder / "payroll-2025-11.csv"
        write_payroll(payroll, [(w, f"{12_000 + 37 * i % 9_000}.{i % 100:02d}") for i, w in enumerate(wallets)])
        plan = prepare_payroll(cbdc, treasury.address, payroll, "demo-2025-11-salaries")
        rows = plan.rows
        started = time.monotonic()
        with logs.silenced():
            result = disburse(cbdc, treasury.sender, plan)
        took = time.monotonic() - started
        for line in result.lines(2):
            self.log(f"  {line}")
        self.log(f"  {rows:,} payments in {took:.1f} s; {result.gas_used // rows:,} gas per payment "
                 f"(a separate transfer to each would cost ~{self._one_transfer_gas(cbdc, treasury, wallets[1]):,})")

        self.step("15. Holding caps: a payment over the cap is refused, unless the wallet links its bank (the waterfall)")
        cap = d.tier(1).call()[0]
        held = d.balanceOf(citizen.address).call()
        over = cap - held + 1_000 * TYIYN
        self.log(f"  citizen (tier 1, cap {som_text(cap)}) holds {som_text(held)}")
        code = d.detectTransferRestriction(treasury.address, citizen.address, over).call()
        self.log(f"  pre-check for {som_text(over)}: {d.messageForTransferRestriction(code).call()} (code {code})")
        self.refused(treasury, d.transfer(citizen.address, over), f"treasury pays the citizen {som_text(over)}")
        self.act(kyc, d.setWaterfall(citizen.address, bank.address),
                 "kyc officer: setWaterfall(citizen, the bank's wallet), on the citizen's request and the bank's agreement")
        bank_before = d.balanceOf(bank.address).call()
        self.act(treasury, d.transfer(citizen.address, over), f"treasury pays the citizen {som_text(over)}")
        self.log(f"  citizen now holds {som_text(d.balanceOf(citizen.address).call())} (the cap); the bank received "
                 f"{som_text(d.balanceOf(bank.address).call() - bank_before)} to credit the citizen's account")

        self.step("16. The same payroll again (a retried job): nothing is paid twice")
        first = plan.batches[0]
        plan = prepare_payroll(cbdc, treasury.address, payroll, "demo-2025-11-salaries")
        with logs.silenced():
            again = disburse(cbdc, treasury.sender, plan)
        for line in again.lines(2):
            self.log(f"  {line}")
        self.refused(treasury, d.disburse(first.batch_id, [p.address for p in first.payments], [p.amount for p in first.payments], False),
                     "disburse batch 1 again, by hand")

        self.step("17. One sanction, every token: KGST and the digital som")
        session = Session(settings, network, w3, role["COMPLIANCE"].sender)
        target = wallets[7]
        with logs.silenced():
            outcomes = apply_sanction(session, role["COMPLIANCE"].sender, target, True, "UN-SANCTIONS-LIST-ENTRY-43")
        for outcome in outcomes:
            self.log(f"  {outcome}")
        self.log(f"  pre-check on the digital som: {d.messageForTransferRestriction(d.detectTransferRestriction(target, treasury.address, 1).call()).call()}")

    def _register(self, w3: Web3, cbdc: Cbdc, kyc: Actor, institutions: list[str], bank: Actor) -> tuple[Any, list[str]]:
        """Step 13's registrations: the institutions and the bank, then 1,000 citizens in two
        tiers; the first citizen holds a key (it acts later) and 1 BNB."""
        with logs.silenced():  # the demo says what was done, below
            register_many(cbdc, kyc.sender, institutions, 10, [Web3.keccak(text=f"body:{a}") for a in institutions],
                          [Web3.keccak(text="kyc:institution")] * 2)
            register_many(cbdc, kyc.sender, [bank.address], 11, [Web3.keccak(text="body:bank")], [Web3.keccak(text="kyc:bank")])
        citizen = Account.create()  # a citizen with a key, to act below
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": citizen.address, "value": UNIT})
        wallets = [citizen.address] + [Account.create().address for _ in range(999)]
        started = time.monotonic()
        for tier, part in ((1, wallets[:500]), (2, wallets[500:])):
            with logs.silenced():
                sent = register_many(cbdc, kyc.sender, part, tier, [Web3.keccak(text=f"national-id:{w}") for w in part],
                                     [Web3.keccak(text=f"kyc-file:{w}") for w in part])
            gas = sum(x.receipt["gasUsed"] for x in sent)
            self.log(f"  kyc officer: registerWallets {len(part)} wallets in tier {tier} ({len(sent)} tx, {gas // len(part):,} gas per wallet)")
        self.log(f"  registered 1,003 wallets in {time.monotonic() - started:.1f} s; one identity holds one capped wallet")
        return citizen, wallets

    def _one_transfer_gas(self, cbdc: Cbdc, treasury: Actor, wallet: str) -> int:
        call = cbdc.token.functions.transfer(wallet, 100 * TYIYN)
        return int(cbdc.w3.eth.estimate_gas({"from": treasury.address, "to": cbdc.token.address, "data": call._encode_transaction_data()}))

    def remittance(self, w3: Web3, manifest: Any, artifacts: Artifacts, decoder: Any, relayer: Actor, sender: Any,
                   to: str, redeemer: Actor) -> None:
        """A remittance through the relayer's HTTP API (somstack.relay) by a sender holding no BNB;
        then the same sender redeems KGST through the relayer and the redemption desk pays it."""
        import tempfile
        from pathlib import Path

        from somstack.relay.client import RelayClient, send, send_redemption
        from somstack.relay.server import Background, Relay, tokens_of
        from somstack.relay.store import Store

        self.step("18. The remittance relayer (somstack relay): carol, who holds no BNB, sends 250 KGST over HTTP")
        with tempfile.TemporaryDirectory() as folder:
            relay = Relay(relayer.sender, tokens_of(w3, manifest, artifacts), Store(Path(folder) / "relay.sqlite"), decoder)
            relay.queue = manifest.address("RedemptionQueue")
            queue = artifacts.get("RedemptionQueue").contract(w3, relay.queue)
            try:
                with Background(relay) as served:
                    answer = send(RelayClient(served.url), sender, "kgst", to, "250")
                    self.log(f"  transfer {answer['status']} in tx {answer['txHash']}, gas paid by the relayer {relay.relayer}; "
                             f"carol holds {w3.eth.get_balance(sender.address)} BNB")
                    self.step("18b. Redemption on chain: carol (no BNB) asks for 500 KGST in som through the relayer; the desk pays it")
                    payout = Web3.keccak(text=f"carol's bank details, salted {sender.address}")
                    redeemed = send_redemption(RelayClient(served.url), sender, "500", payout)
            finally:
                relay.store.close()
        request_id = int(queue.functions.requestCount().call())
        holder, _at, deadline, _status, amount = queue.functions.request(request_id).call()
        self.log(f"  request {request_id} {redeemed['status']} in tx {redeemed['txHash']}: {kgst(amount)} in escrow, "
                 f"due by {deadline} (service level {queue.functions.serviceLevel().call() // 3600} h)")
        self.act(redeemer, queue.functions.pay([request_id], [Web3.keccak(text="bank payout 2026/18b")]),
                 f"pay request {request_id} (REDEEMER; the escrow is burned)")
        paid = queue.functions.request(request_id).call()[3] == 2
        self.log(f"  request {request_id} {'paid' if paid else 'NOT PAID'}; carol holds {w3.eth.get_balance(holder)} BNB; "
                 f"queue pending {queue.functions.pendingCount().call()}")

    def monitoring(self, w3: Web3, settings: Any, network: Network, manifest: Any, artifacts: Artifacts, role: dict[str, Actor],
                   bob: Actor, decoder: Any, funder: str) -> None:
        """Transaction monitoring (somstack.monitor): a planted sanctions exposure flagged, made a
        case and blocked through the compliance path, with the report for the FIU."""
        import tempfile
        from pathlib import Path

        from somstack.monitor.cases import note, open_case, record, write_report
        from somstack.monitor.follow import Follower, Runner
        from somstack.monitor.scan import default_rules
        from somstack.monitor.store import Store

        self.step("19. Transaction monitoring (somstack monitor): a listed address pays a mule; flagged, a case, a block")
        listed = Actor("listed", Sender(w3, LocalSigner(Account.create()), decoder))
        mule = Account.create()
        w3.eth.send_transaction({"from": funder, "to": listed.address, "value": UNIT})
        f = artifacts.get("Stablecoin").contract(w3, manifest.address("Stablecoin")).functions
        self.act(bob, f.transferWithReference(listed.address, 20_000 * UNIT, Web3.keccak(text="INV-2026-311")), "bob pays 20,000 KGST to an address (referenced)")
        self.act(listed, f.transferWithReference(mule.address, 15_000 * UNIT, Web3.keccak(text="LOAN-7")), "that address pays 15,000 KGST to a new wallet")
        self.log(f"  the UN list of today names {listed.address} (not yet blocked on chain)")
        with tempfile.TemporaryDirectory() as folder:
            store = Store(Path(folder) / "monitor.sqlite")
            follower = Follower(w3, manifest, artifacts, store, confirmations=0)
            runner = Runner(follower, store, default_rules(settings.raw), [listed.address], Path(folder))
            started = time.monotonic()
            with logs.silenced():  # its alerts are listed below
                result = runner.step()
            self.log(f"  monitor read blocks {follower.start}..{result.cursor}: {store.event_count()} events, "
                     f"{len(store.alerts('open'))} open alert(s) in {time.monotonic() - started:.1f} s")
            for alert in store.alerts("open"):
                self.log(f"  {alert['id']} {alert['record']['rule']} ({alert['record']['severity']}): {alert['record']['explanation']}")
            exposure = next(a for a in store.alerts("open") if a["record"]["rule"] == "sanctions_direct" and a["record"]["addresses"][0] == mule.address)
            case = open_case(store, [exposure["id"]], "demo-analyst", "received KGST from a UN-listed address")
            note(store, case["id"], "demo-analyst", "new wallet, no other activity: the mule of the listed address")
            session = Session(settings, network, w3, role["COMPLIANCE"].sender)
            with logs.silenced():
                outcomes = apply_sanction(session, role["COMPLIANCE"].sender, mule.address, True, case["id"])
            record(store, case["id"], "demo-analyst", "propose-block", {"route": "direct", "addresses": [mule.address],
                                                                        "done": [mule.address] if all(o.ok for o in outcomes) else []})
            self.log(f"  case {case['id']}: propose-block {mule.address} (the compliance block, reason = the case):")
            for outcome in outcomes:
                self.log(f"    {outcome}")
            out = settings.root / "build" / "monitor" / f"demo-{case['id']}"
            json_path, html_path = write_report(store, case["id"], out, "demo-analyst")
            self.log(f"  report for the FIU: {json_path.relative_to(settings.root)}, {html_path.relative_to(settings.root)}; "
                     f"audit trail intact: {store.verify_audit()}")
            store.close()

    def transparency_report(self, session: Session) -> None:
        """The last step: the public transparency page of the demo's chain (`somstack report`)."""
        from somstack.report import Options, write_report

        self.step("Transparency report (somstack report): supplies, reserve, compliance, governance from the chain")
        out = session.settings.root / "build" / "report"
        with logs.silenced():  # the page's reading steps
            built = write_report(session, out, Options(days=30))
        self.log(f"  built at block {built['block']:,} in {built['buildSeconds']} s; open {out / 'index.html'}")


def run_demo(log: Log = print) -> dict[str, int]:
    return Demo(log).run()
