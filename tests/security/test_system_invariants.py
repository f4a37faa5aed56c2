"""System invariants: a hypothesis stateful test (brownie's `state_machine`) of the WHOLE
deployed system (KGST, the digital som, the reserve vault and the AccessManager, as the session
fixtures deploy them through the real plan; each example starts from a chain snapshot, taken
after the start every example shares: fresh oracles and rate, the users funded, `fixed_start`).

Random sequences of every public action of every role and every user, on both tokens:
mint, burn, transfer, transferFrom, EIP-2612 permit (+ pull), EIP-3009 authorizations, block,
unblock, seizure (propose + execute), pause and unpause (the guardian too, who may only pause),
minter allowances; vault deposits (BNB and tokens), withdrawals (scheduled by the delayed
RESERVE_MANAGER in the AccessManager, time travelled past the delay, executed), price moves and
stale feeds (mock Chainlink aggregators), rate updates, attestations, waits; digital som wallet
registration, tier changes, tier reconfiguration, overflow wallets, issuance, burns and
disbursements with reused batch ids. Each action is taken by its rightful role most of the time,
and sometimes by a stranger or a user (who must be refused). No Python model predicts the
outcomes: outcomes are taken as they come, and the invariants are checked on the chain, by one
batched read before and after every action:

1. supply: totalSupply == the sum of the balances of every address that can ever hold (the
   whole cast, the contracts too), for both tokens;
2. blocklist: the balance of an address blocked before or after an action does not change,
   unless the action is an executed seizure of that address, which moves exactly its amount to
   the recovery address;
3. mint gate: right before each KGST mint the vault's `checkMint(supply + amount)` is evaluated
   at the exact timestamp the mint's block will have (the block is pinned; anvil's eth_call
   block override), with `reserveValue` (which fails closed on a stale price, rate or
   attestation); a mint that the vault refuses, or that the reserve does not cover at
   `minCoverage`, never succeeds;
4. tier caps: no registered digital som wallet in a capped tier holds more than its cap, except
   a wallet put above it by a tier change or a lower cap (documented), whose balance then
   never rises;
5. batches: a disbursement under a batch id already paid changes no balance and fails; a batch
   id is paid by at most one BatchDisbursed event over the whole example;
6. pause: while a token's pause flag is set, no balance of that token changes by the paused kind
   of action (transfer flag: transfers, transferFrom, permit + pull, EIP-3009, disbursements;
   mint flag: mints; redeem flag: burns);
7. access: an action taken by a caller without the role never succeeds;
8. maker-checker by every route (issue 15): the compliance officer also holds SEIZE_APPROVER;
   it tries to execute its own orders directly and through `AccessManager.execute` (both count
   as callers without the role: 7 says they never succeed), and every executed seizure's
   approver differs from its proposer and is not the manager; a seizure still Proposed always
   has a blocked account (unblocking cancels it, and a later block does not revive it);
9. reserve share: wherever the valuation can be read, no asset counts more than its share of
   the others (c_i x (1 - s_i) <= s_i x (G - v_i)), none counts more than its weighted value,
   and an asset whose price is unusable counts zero;
10. rate window: the published rate is always within rateMaxChangeBps of the rate its window
   opened with, and that reference changes only when a new window opens;
11. tier kinds: a tier that holds a wallet of the cast before and after an action keeps its
   kind (capped or uncapped) across it.

Mutation runs (a copy of the tree with one check removed, SOMSTACK_STATEFUL_NO_SHRINK=1, the
default seed; nothing of them committed):
- 3, gate: `Stablecoin.mint` without `checkMint` -> "the mint succeeded although the vault refused
  it (ReserveVaultPriceInvalid)";
- 4, caps: `DigitalCurrencyLogic.credit` without the holding-cap test -> "carol holds ... above her
  cap";
- 1, supply: `Stablecoin._update` not reducing totalSupply on a burn -> "kgst supply != sum of
  balances";
- 5, batches: `DigitalCurrencyLogic.disburse` without the paid-batch check survived the first
  version of this test (no example reused a paid id); since a disbursement reuses a paid id half
  the time, it fails: "a paid batch id paid again";
- 2, blocklist: `Stablecoin._update` without the blocked-sender check, and 6, pause:
  `Stablecoin._update` ignoring PAUSE_TRANSFERS, survived the first version too (no blocked
  holder and no paused token happened to be asked to transfer); a block or a pause is now
  followed at once by the blocked or paused kind of action, and they fail: "blocked relayer's
  kgst balance changed by -150...", "kgst balances changed while paused (1)";
- 7, access: held by the AccessManager; not mutated.

Fixed seed (derandomized, no example database) in CI: 30 examples of up to 30 steps (hypothesis
adds a few; some end early): about 450 steps in about 100 s on a loaded 2-core machine.
`pytest --long` runs 200 examples of 50 steps; SOMSTACK_STATEFUL_EXAMPLES and
SOMSTACK_STATEFUL_STEPS set both. With -s, a tally of every action's outcomes is printed. The
test also asserts that each action of MUST_SUCCEED went through at least once, that the gate
refused a mint and let one through, so that a run which never reaches those states fails.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from brownie import chain, web3
from brownie.exceptions import VirtualMachineError
from cbdclib import (
    BANK_TIER,
    BASIC_TIER,
    FULL_TIER,
    GOVERNMENT_TIER,
    STANDARD_TIER,
    UNLIMITED,
    identity_of,
    kyc_record,
)
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from hypothesis import strategies as st
from stateful import BatchReader, send_patiently, stateful_settings

from somstack.core.signatures import (
    Domain,
    random_nonce,
    sign_authorization,
    sign_permit,
)

SETTINGS = stateful_settings(default_examples=30, default_steps=30)

UNIT = 10**18  # one KGST
SOM = 100  # one digital som [tyiyn]
BPS = 10_000
GAS = 2_000_000  # explicit: no estimate, so a refused transaction is mined (at its pinned timestamp)
PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM = 1, 2, 4
TOKENS = ("kgst", "dsom")
USERS = ("alice", "bob", "carol", "dave", "mallory", "relayer")  # with keys
CAPPED_TIERS = (BASIC_TIER, STANDARD_TIER, FULL_TIER)
ALL_TIERS = CAPPED_TIERS + (GOVERNMENT_TIER, BANK_TIER)
PROPOSED = 1  # ICompliantToken.SeizureStatus
SEIZE_APPROVER = 7
ASSETS = ("BNB", "BTCB", "BSC-USD")
LOT = {"BNB": 10**15, "BTCB": 10**12, "BSC-USD": UNIT // 2}  # ~50 som each (before haircuts)
BATCH_IDS = tuple(keccak(text=f"system-batch-{i}") for i in range(3))
FLAG_OF = {"transfer": PAUSE_TRANSFERS, "mint": PAUSE_MINT, "burn": PAUSE_REDEEM}


def _walletless(label):
    return to_checksum_address(keccak(text=f"somstack-system-{label}")[-20:])


class SystemMachine:
    # --- Strategies (brownie maps a rule argument to the class attribute named by its default) ---

    st_token = st.sampled_from(TOKENS)
    st_user = st.sampled_from(USERS)
    st_holder = st.sampled_from(USERS + ("burner", "issuer", "treasury", "bank", "recovery"))
    st_who = st.sampled_from(("role", "role", "role", "role", "stranger", "user"))
    st_frac = st.sampled_from((1, 10, 50, 100, 100, 150))  # [%] of what the payer holds
    st_kgst = st.integers(1, 4_000 * UNIT)
    st_som = st.one_of(st.integers(1, 70_000 * SOM), st.sampled_from((10_000 * SOM, 50_000 * SOM)))
    st_tier = st.sampled_from(CAPPED_TIERS)
    st_cap = st.sampled_from((10_000 * SOM, 25_000 * SOM, 50_000 * SOM, 80_000 * SOM))
    st_flags = st.sampled_from((PAUSE_TRANSFERS, PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM, 7))
    st_asset = st.sampled_from(ASSETS)
    st_lots = st.integers(1, 200)
    st_price = st.integers(3_000, 15_000)  # the new answer [bps of the current one]
    st_rate = st.integers(-600, 600)  # [bps]: beyond 500 is refused
    st_attest = st.sampled_from((0, 1_000, 3_000, 10_000, 100_000))  # [som]
    st_wait = st.sampled_from((60, 3_600, 86_401, 172_801))
    st_refresh = st.booleans()
    st_batch = st.sampled_from(BATCH_IDS)
    st_recipients = st.lists(st.sampled_from(USERS + ("bank",)), min_size=1, max_size=3)
    st_bool = st.booleans()
    st_pick = st.integers(0, 2**16)
    st_kind = st.sampled_from(("valid", "valid", "valid", "expired", "forged"))
    st_approver = st.sampled_from(("approver",) * 6 + ("self", "self via manager", "none", "earlier"))
    st_flip = st.sampled_from((None, None, None) + ALL_TIERS)

    # --- Per test ---

    def __init__(cls, system, tally):
        cls.s = system
        cls.tally = tally
        cls.reader = BatchReader()
        cls.token = {"kgst": system.kgst, "dsom": system.dsom}
        cls.domain = {t: Domain.of(c) for t, c in cls.token.items()}
        cls.acct = {**system.users, **system.roles}  # name -> brownie account
        cls.addr = {name: a.address for name, a in cls.acct.items()}
        cls.addr["recovery"] = _walletless("recovery")  # KGST seizures go here
        cls.addr.update({"kgst": system.kgst.address, "dsom": system.dsom.address, "vault": system.vault.address})
        # Every address that can ever hold: the invariants sum over all of them.
        cls.cast = tuple(sorted(cls.addr))

    # --- Per example ---

    def setup(self):
        self.tally["(examples)"] += 1
        self.paid_batches = set()  # batch ids seen in a BatchDisbursed event in this example
        self.orders = []  # (token, seizure id, account name) of every proposal of this example
        self.steps = 0
        self.fresh = 0
        self.state = self._read()

    def teardown(self):
        self.tally[f"(examples of {(self.steps // 10) * 10}+ steps)"] += 1

    def teardown_final(cls):
        lines = [f"  {k:<48} {v}" for k, v in sorted(cls.tally.items())]
        print("\nSystem stateful outcomes over all examples:\n" + "\n".join(lines))

    # --- Reading the chain ---

    def _read(self):
        s = self.s
        calls = {}
        for t, token in self.token.items():
            calls[(t, "supply")] = (token, "totalSupply", ())
            calls[(t, "paused")] = (token, "pausedFlags", ())
            for name in self.cast:
                calls[(t, "balance", name)] = (token, "balanceOf", (self.addr[name],))
                calls[(t, "blocked", name)] = (token, "isBlocked", (self.addr[name],))
        for name in self.cast:
            calls[("tier", name)] = (s.dsom, "walletOf", (self.addr[name],))
        for tier in ALL_TIERS:
            calls[("cap", tier)] = (s.dsom, "tier", (tier,))
        for t, seizure_id, _account in self.orders:
            calls[("order", t, seizure_id)] = (self.token[t], "seizure", (seizure_id,))
        calls[("rate",)] = (s.vault, "rate", ())
        calls[("window",)] = (s.vault, "rateWindow", ())
        for batch in BATCH_IDS:
            calls[("paid", batch)] = (s.dsom, "isBatchPaid", (batch,))
        raw = self.reader.read(calls)
        state = {
            t: {
                "supply": raw[(t, "supply")],
                "paused": raw[(t, "paused")],
                "balance": {n: raw[(t, "balance", n)] for n in self.cast},
                "blocked": {n: raw[(t, "blocked", n)] for n in self.cast},
            }
            for t in TOKENS
        }
        state["tier"] = {n: raw[("tier", n)][0] for n in self.cast}
        state["cap"] = {tier: raw[("cap", tier)][0] for tier in ALL_TIERS}
        state["order"] = {(t, i): tuple(raw[("order", t, i)])[6] for t, i, _a in self.orders}
        state["rate"] = tuple(raw[("rate",)])
        state["window"] = tuple(raw[("window",)])
        state["paid"] = {b: raw[("paid", b)] for b in BATCH_IDS}
        return state

    def _cap(self, state, name):
        """The holding cap of `name`'s tier, or None when unregistered or uncapped."""
        cap = state["cap"].get(state["tier"][name])
        return None if cap is None or cap == UNLIMITED else cap

    def _reserve_share(self, what):
        """9. No asset counts more than its share of the others (where the valuation reads)."""
        s = self.s
        answer = self.reader.raw({"v": (s.vault, "valuation", ())})["v"]
        if answer[0] != "ok":
            self.tally["(valuation refused: share not checked)"] += 1
            return
        rows, attested, total = s.vault.valuation.decode_output(answer[1])
        gross = attested + sum(r[6] for r in rows)
        assert total == attested + sum(r[7] for r in rows), f"{what}: reserve value is not the sum counted"
        for r in rows:
            share = self.share[r[0]]
            assert r[7] <= r[6], f"{what}: {r[0]} counts more than its weighted value"
            if r[8] != 0:
                assert r[6] == r[7] == 0, f"{what}: {r[0]} has an unusable price but counts {r[7]}"
                self.tally["(asset counted zero: price unusable)"] += 1
            if share < BPS:
                assert r[7] * (BPS - share) <= share * (gross - r[6]), f"{what}: {r[0]} counts beyond its share of the others"
                if r[7] < r[6]:
                    self.tally["(asset capped by its share)"] += 1

    # --- Acting ---

    def _caller(self, who, role):
        """The role holder, or someone without the role (a stranger, a user)."""
        if who == "role":
            return self.acct[role], False
        return (self.s.stranger if who == "stranger" else self.acct["mallory"]), True

    def _act(self, what, send, step, unauthorized=False):
        """Sends, records the outcome, and checks every invariant against the state before."""
        before = self.state
        reason = "status 0"
        try:
            tx = send_patiently(send)
            ok = tx.status == 1
        except VirtualMachineError as exc:
            tx, ok = None, False
            reason = self._reason(exc)
        if unauthorized:
            what += " [no role]"
        self.tally[f"{what}: {'ok' if ok else 'refused'}"] += 1
        if not ok and not unauthorized:
            self.tally[f"{what}: refused ({reason})"] += 1
        step = {"what": what, "ok": ok, "tx": tx, "unauthorized": unauthorized, **step}
        self.state = self._read()
        self._check(before, self.state, step)
        return tx if ok else None

    def _reason(self, exc):
        """The custom error's name of a refusal (brownie shows "typed error: 0x<data>")."""
        message = exc.revert_msg or ""
        if message.startswith("typed error: "):
            error = self.s.decoder.decode(message.split(": ", 1)[1])
            return error.name if error is not None else message[:24]
        return message.split(":")[0][:40] or "reverted"

    def _opts(self, sender, value=0):
        return {"from": sender, "gas_limit": GAS, "value": value}

    def _ref(self, text):
        self.fresh += 1
        return keccak(text=f"system-{text}-{self.fresh}-{web3.eth.block_number}")

    def _share(self, token, name, frac):
        return self.state[token]["balance"][name] * frac // 100

    def _pin(self):
        """Pins the next block one second after the latest; returns its timestamp."""
        at = web3.eth.get_block("latest")["timestamp"] + 1
        web3.provider.make_request("evm_setNextBlockTimestamp", [at])
        return at

    # --- The invariants, checked after every action ---

    def _check(self, before, after, step):
        what = step["what"]
        # 7. access
        assert not (step["unauthorized"] and step["ok"]), f"{what}: succeeded without the role"
        for t in TOKENS:
            b, a = before[t], after[t]
            # 1. supply == sum of balances
            assert a["supply"] == sum(a["balance"].values()), f"{what}: {t} supply != sum of balances"
            # 2. blocked balances move only by seizure, by exactly its amount
            seized = step.get("seized") if step.get("token") == t and step["ok"] else None
            for n in self.cast:
                if not (b["blocked"][n] or a["blocked"][n]):
                    continue
                delta = a["balance"][n] - b["balance"][n]
                if seized and n == seized["account"]:
                    assert delta == -seized["amount"], f"{what}: seizure of {n} moved {delta}, not its amount"
                else:
                    assert delta == 0, f"{what}: blocked {n}'s {t} balance changed by {delta}"
            if seized:
                got = a["balance"][seized["recovery"]] - b["balance"][seized["recovery"]]
                assert got == seized["amount"], f"{what}: the recovery address got {got}"
            # 6. pause
            flag = FLAG_OF.get(step.get("kind"))
            if step.get("token") == t and flag and b["paused"] & flag:
                assert a["balance"] == b["balance"], f"{what}: {t} balances changed while paused ({flag})"
                assert a["supply"] == b["supply"], f"{what}: {t} supply changed while paused ({flag})"
        # 8. maker-checker: an executed seizure was approved by another officer, never the manager
        if step.get("seized") and step["ok"]:
            event = step["tx"].events["SeizureExecuted"]
            proposer = self.token[step["token"]].seizure(event["seizureId"])[5]
            assert event["approver"] != proposer, f"{what}: the proposer approved its own seizure"
            assert event["approver"] != self.s.manager.address, f"{what}: the manager approved a seizure"
        #    ... and an order still Proposed has its account blocked (an unblock cancels it)
        for (t, i), status in after["order"].items():
            account = next(a for tt, ii, a in self.orders if (tt, ii) == (t, i))
            if status == PROPOSED:
                assert after[t]["blocked"][account], f"{what}: {t} order {i} pending on unblocked {account}"
        # 9. reserve share
        self._reserve_share(what)
        # 10. rate window
        rate, _updated, _max_age, max_change = after["rate"]
        reference, opened, _closes = after["window"]
        if rate:
            assert abs(rate - reference) * BPS <= reference * max_change, f"{what}: the rate left its window's bound"
            if before["window"][1] == opened and before["rate"][0]:
                assert reference == before["window"][0], f"{what}: the window's reference moved within the window"
        # 11. tier kinds: a tier holding a cast wallet before and after keeps its kind
        for tier in ALL_TIERS:
            held = any(before["tier"][n] == tier and after["tier"][n] == tier for n in self.cast)
            if held:
                was, now = before["cap"][tier] == UNLIMITED, after["cap"][tier] == UNLIMITED
                assert was == now, f"{what}: tier {tier} switched capped/uncapped while holding wallets"
        # 4. tier caps
        for n in self.cast:
            cap = self._cap(after, n)
            balance = after["dsom"]["balance"][n]
            if cap is None or balance <= cap:
                continue
            previous = before["dsom"]["balance"][n]
            was_over = self._cap(before, n) is not None and previous > self._cap(before, n)
            assert was_over or step.get("kind") == "retier", f"{what}: {n} holds {balance} above its cap {cap}"
            assert balance <= previous, f"{what}: {n}, above its cap {cap}, received ({previous} -> {balance})"
            self.tally["(wallet above a lowered cap)"] += 1
        # 5. batches
        if step.get("kind") == "transfer" and "batch" in step:
            batch = step["batch"]
            if before["paid"][batch]:
                assert not step["ok"], f"{what}: a paid batch id paid again"
                assert after["dsom"]["balance"] == before["dsom"]["balance"], f"{what}: a paid batch moved balances"
            if step["ok"]:
                assert after["paid"][batch], f"{what}: a batch went through but is not marked paid"
                events = [e for e in step["tx"].events if e.name == "BatchDisbursed"]
                assert len(events) == 1
                paid = events[0]["batchId"]
                key = bytes(HexBytes(paid))
                assert key not in self.paid_batches, f"{what}: batch {key.hex()} paid twice"
                self.paid_batches.add(key)
        # 3. mint gate
        gate = step.get("gate")
        if gate is not None and step["ok"]:
            assert gate["verdict"] is None, f"{what}: the mint succeeded although the vault refused it ({gate['verdict']})"
            assert gate["covered"], f"{what}: the mint succeeded beyond the reserve"
            self.tally["(gated mint: vault agreed)"] += 1
        if gate is not None and gate["verdict"] is not None:
            assert not step["ok"]
            self.tally[f"(gated mint refused: {gate['verdict']})"] += 1

    def invariant_quiet_between_steps(self):
        """Nothing changes between two actions (every change was checked with its action)."""
        now = self._read()
        assert now == self.state, "the chain changed outside an action"
        self.tally["(steps)"] += 1
        self.steps += 1

    # --- Start of each example: a small attestation (coverage binds), fresh oracles, wallets ---

    def fixed_start(self):
        """What every example starts from, the same in each: run once, through the same actions and
        checks, before the state machine's snapshot (each example reverts to it, the chain's
        clock too), instead of once per example. Fresh oracles and rate; every user but carol funded
        in both tokens (KGST minted while the session's huge attestation still covers it)."""
        self.share = {self.s.assets[a]: self.s.vault.asset(self.s.assets[a])[0][3] for a in ASSETS}
        # The audit's attacker: compliance also holds SEIZE_APPROVER (finding 1).
        send_patiently(lambda: self.s.manager.grantRole(SEIZE_APPROVER, self.acct["compliance"], 0, {"from": self.acct["admin"]}))
        for symbol in ASSETS:
            self.rule_price(symbol, BPS)
        self.rule_rate(0, "role")
        for name in ("carol", "dave", "mallory", "relayer", "burner"):
            self.rule_kgst_mint(name, 300 * UNIT, "role")
        for name, tier_id in (("alice", BASIC_TIER), ("bob", STANDARD_TIER), ("dave", BASIC_TIER)):
            self.rule_register(name, tier_id, "role")
        for name in ("alice", "bob", "dave"):
            self.rule_dsom_mint(name, 2_000 * SOM, "role")
        self.rule_dsom_mint("issuer", 100_000 * SOM, "role")

    def initialize_system(self, attest="st_attest", bnb="st_lots", usd="st_lots", tier="st_tier"):
        """Per example, on the fixed start: carol in a drawn tier and funded; then a small
        attestation, so that the gate binds, and deposits."""
        self.share = {self.s.assets[a]: self.s.vault.asset(self.s.assets[a])[0][3] for a in ASSETS}
        self.rule_register("carol", tier, "role")
        self.rule_dsom_mint("carol", 2_000 * SOM, "role")
        self.rule_attest(attest, "role")
        self.rule_deposit("alice", "BNB", bnb)
        self.rule_deposit("bob", "BSC-USD", usd)
        assert self.s.kgst.reserveVault() == self.s.vault.address

    # --- KGST: minting through the reserve gate, burning, minter allowances ---

    def rule_kgst_mint(self, to="st_holder", amount="st_kgst", who="st_who"):
        s = self.s
        minter, unauthorized = self._caller(who, "minter")
        at = self._pin()
        supply = self.state["kgst"]["supply"]
        views = {
            "check": (s.vault, "checkMint", (supply + amount,)),
            "value": (s.vault, "reserveValue", ()),
            "min": (s.vault, "minCoverage", ()),
        }
        raw = self.reader.raw(views, time=at)  # the vault as the mint's block will see it
        verdict = None
        if raw["check"][0] != "ok":
            error = s.decoder.decode(raw["check"][1]) if raw["check"][1] else None
            verdict = error.name if error is not None else "reverted"
        covered = False
        if raw["value"][0] == "ok":
            value = s.vault.reserveValue.decode_output(raw["value"][1])
            floor = s.vault.minCoverage.decode_output(raw["min"][1])
            covered = value * BPS >= (supply + amount) * floor
        gate = {"verdict": verdict, "covered": covered}
        ref = self._ref("deposit")
        send = lambda: s.kgst.mint(self.addr[to], amount, ref, self._opts(minter))
        self._act("kgst mint", send, {"token": "kgst", "kind": "mint", "gate": gate}, unauthorized)

    def rule_kgst_burn(self, frac="st_frac", who="st_who"):
        burner, unauthorized = self._caller(who, "burner")
        value = max(self._share("kgst", "burner", frac), 1)
        send = lambda: self.s.kgst.burn(value, self._ref("redemption"), self._opts(burner))
        self._act("kgst burn", send, {"token": "kgst", "kind": "burn"}, unauthorized)

    def rule_minter_allowance(self, amount="st_kgst", increase="st_bool", who="st_who"):
        admin, unauthorized = self._caller(who, "minter_admin")
        kgst, minter = self.s.kgst, self.addr["minter"]
        fn = kgst.increaseMinterAllowance if increase else kgst.decreaseMinterAllowance
        self._act("minter allowance", lambda: fn(minter, amount, self._opts(admin)), {}, unauthorized)

    # --- Digital som: issuance, burns, disbursements, the wallet registry ---

    def rule_dsom_mint(self, to="st_holder", amount="st_som", who="st_who"):
        issuer, unauthorized = self._caller(who, "issuer")
        send = lambda: self.s.dsom.mint(self.addr[to], amount, self._ref("issue"), self._opts(issuer))
        self._act("dsom mint", send, {"token": "dsom", "kind": "mint"}, unauthorized)

    def rule_dsom_burn(self, frac="st_frac", who="st_who"):
        issuer, unauthorized = self._caller(who, "issuer")
        value = max(self._share("dsom", "issuer", frac), 1)
        send = lambda: self.s.dsom.burn(value, self._ref("retire"), self._opts(issuer))
        self._act("dsom burn", send, {"token": "dsom", "kind": "burn"}, unauthorized)

    def rule_disburse(
        self, batch="st_batch", recipients="st_recipients", amount="st_som", skip="st_bool", who="st_who", reuse="st_bool"
    ):
        paid = [b for b in BATCH_IDS if self.state["paid"][b]]
        if reuse and paid:  # a retried or duplicated batch: its id was paid already
            batch = paid[BATCH_IDS.index(batch) % len(paid)]
        treasury, unauthorized = self._caller(who, "treasury")
        to = [self.addr[r] for r in recipients]
        amounts = [max(amount >> i, 1) for i in range(len(to))]
        send = lambda: self.s.dsom.disburse(batch, to, amounts, skip, self._opts(treasury))
        what = "disburse" + (" (paid id)" if self.state["paid"][batch] else "")
        self._act(what, send, {"token": "dsom", "kind": "transfer", "batch": batch}, unauthorized)

    def rule_register(self, name="st_user", tier="st_tier", who="st_who"):
        officer, unauthorized = self._caller(who, "kyc_officer")
        wallet = self.addr[name]
        send = lambda: self.s.dsom.registerWallet(wallet, tier, identity_of(name), kyc_record(name), self._opts(officer))
        self._act("registerWallet", send, {}, unauthorized)

    def rule_change_tier(self, name="st_user", tier="st_tier", who="st_who"):
        officer, unauthorized = self._caller(who, "kyc_officer")
        send = lambda: self.s.dsom.changeTier(self.addr[name], tier, kyc_record(f"{name}-{tier}"), self._opts(officer))
        self._act("changeTier", send, {"kind": "retier"}, unauthorized)

    def rule_set_cap(self, tier="st_tier", cap="st_cap", who="st_who", flip="st_flip"):
        """Governance (ADMIN) moves a capped tier's holding cap, its other limits unchanged; or
        (flip) tries to switch any tier between capped and uncapped (finding 6): refused once the
        tier has held a wallet (11 checks the kinds)."""
        admin, unauthorized = self._caller(who, "admin")
        if flip is not None:
            tier = flip
        _cap, transfer_limit, daily_limit, enabled = self.s.dsom.tier(tier)
        if flip is not None:
            cap = cap if _cap == UNLIMITED else UNLIMITED
        config = (cap, transfer_limit, daily_limit, enabled)
        send = lambda: self.s.dsom.setTier(tier, config, self._opts(admin))
        self._act("setTier (cap)", send, {"kind": "retier"}, unauthorized)

    def rule_overflow(self, name="st_user", link="st_bool", who="st_who"):
        """The KYC officer links (or unlinks) a wallet's overflow to the bank (a holder alone cannot)."""
        officer, unauthorized = self._caller(who, "kyc_officer")
        overflow = self.addr["bank"] if link else "0x" + "00" * 20
        send = lambda: self.s.dsom.setWaterfall(self.addr[name], overflow, self._opts(officer))
        self._act("setWaterfall", send, {}, unauthorized)

    # --- Both tokens: transfers, allowances, signatures ---

    def _amount(self, token, payer, frac):
        return max(self._share(token, payer, frac), 1)

    def _blocked_user(self, token, name, prefer_blocked):
        """`name`, or (when asked) a user on `token`'s blocklist, so that blocked parties try often."""
        blocked = [u for u in USERS if self.state[token]["blocked"][u]]
        return blocked[USERS.index(name) % len(blocked)] if prefer_blocked and blocked else name

    def rule_transfer(
        self, token="st_token", sender="st_user", to="st_holder", frac="st_frac", treasury="st_bool", blocked="st_bool"
    ):
        sender = self._blocked_user(token, sender, blocked)
        if token == "dsom" and treasury and not blocked:  # the treasury pays: wallets fill up towards their caps
            sender = "treasury"
        value = self._amount(token, sender, frac)
        send = lambda: self.token[token].transfer(self.addr[to], value, self._opts(self.acct[sender]))
        self._act(f"{token} transfer", send, {"token": token, "kind": "transfer"})

    def rule_approve_and_pull(
        self, token="st_token", owner="st_user", spender="st_user", to="st_holder", frac="st_frac", blocked="st_bool"
    ):
        owner = self._blocked_user(token, owner, blocked)
        value = self._amount(token, owner, frac)
        contract = self.token[token]
        self._act(f"{token} approve", lambda: contract.approve(self.addr[spender], value, self._opts(self.acct[owner])), {})
        send = lambda: contract.transferFrom(self.addr[owner], self.addr[to], value, self._opts(self.acct[spender]))
        self._act(f"{token} transferFrom", send, {"token": token, "kind": "transfer"})

    def rule_permit_and_pull(
        self, token="st_token", owner="st_user", spender="st_user", to="st_holder", frac="st_frac", kind="st_kind"
    ):
        contract, value = self.token[token], self._amount(token, owner, frac)
        now = web3.eth.get_block("latest")["timestamp"]
        deadline = now - 1 if kind == "expired" else now + 3_600
        signer = USERS[(USERS.index(owner) + 1) % len(USERS)] if kind == "forged" else owner
        nonce = contract.nonces(self.addr[owner])
        sig = sign_permit(
            self.domain[token], self.acct[signer].private_key, self.addr[owner], self.addr[spender], value, nonce, deadline
        )
        relayer = self.acct["relayer"]
        args = (self.addr[owner], self.addr[spender], value, deadline, sig.v, sig.r, sig.s)
        self._act(f"{token} permit ({kind})", lambda: contract.permit(*args, self._opts(relayer)), {})
        send = lambda: contract.transferFrom(self.addr[owner], self.addr[to], value, self._opts(self.acct[spender]))
        self._act(f"{token} permit+transferFrom", send, {"token": token, "kind": "transfer"})

    def rule_authorization(
        self, token="st_token", sender="st_user", to="st_holder", frac="st_frac", kind="st_kind", blocked="st_bool"
    ):
        sender = self._blocked_user(token, sender, blocked)
        contract, value = self.token[token], self._amount(token, sender, frac)
        now = web3.eth.get_block("latest")["timestamp"]
        valid_before = now - 1 if kind == "expired" else now + 3_600
        signer = USERS[(USERS.index(sender) + 1) % len(USERS)] if kind == "forged" else sender
        args = (self.addr[sender], self.addr[to], value, 0, valid_before, random_nonce())
        sig = sign_authorization(self.domain[token], self.acct[signer].private_key, *args)
        send = lambda: contract.transferWithAuthorization(*args, sig.v, sig.r, sig.s, self._opts(self.acct["relayer"]))
        self._act(f"{token} transferWithAuthorization ({kind})", send, {"token": token, "kind": "transfer"})

    # --- Both tokens: compliance and pause ---

    def rule_block(self, token="st_token", name="st_user", who="st_who"):
        """Blocks; then the blocked holder at once tries to send, and someone tries to pay it."""
        officer, unauthorized = self._caller(who, "compliance")
        send = lambda: self.token[token].blockAccount(self.addr[name], keccak(text="sanctions"), self._opts(officer))
        if not self._act(f"{token} blockAccount", send, {}, unauthorized):
            return
        other = "bob" if name == "alice" else "alice"
        self.rule_transfer(token, name, other, 50, False, False)
        self.rule_transfer(token, other, name, 10, False, False)

    def rule_unblock(self, token="st_token", pick="st_pick", who="st_who"):
        officer, unauthorized = self._caller(who, "compliance")
        blocked = [n for n in self.cast if self.state[token]["blocked"][n]] or ["alice"]
        name = blocked[pick % len(blocked)]
        send = lambda: self.token[token].unblockAccount(self.addr[name], self._opts(officer))
        self._act(f"{token} unblockAccount", send, {}, unauthorized)

    def rule_seize(self, token="st_token", pick="st_pick", frac="st_frac", who="st_who", approver="st_approver"):
        """COMPLIANCE proposes; SEIZE_APPROVER (or someone without the role) executes, or the
        proposer itself tries (directly or through the AccessManager: refused), or nobody yet
        (the order stays pending, and an unblock must cancel it); or ("earlier") SEIZE_APPROVER
        executes an earlier order of this example, which must be refused if its account was
        unblocked since."""
        contract = self.token[token]
        earlier = [(i, a) for t, i, a in self.orders if t == token]
        if approver == "earlier" and earlier:
            seizure_id, name = earlier[pick % len(earlier)]
            recovery = "recovery" if token == "kgst" else "bank"
            seized = {"account": name, "recovery": recovery, "amount": contract.seizure(seizure_id)[2]}
            send = lambda: contract.executeSeizure(seizure_id, self._opts(self.acct["seize_approver"]))
            self._act(f"{token} execute earlier order", send, {"token": token, "seized": seized})
            return
        blocked = [n for n in self.cast if self.state[token]["blocked"][n]] or [None]
        name = blocked[pick % len(blocked)]
        if name is None:  # nobody blocked yet: block someone first
            name = USERS[pick % len(USERS)]
            self.rule_block(token, name, "role")
        recovery = "recovery" if token == "kgst" else "bank"  # the digital som's is uncapped
        amount = self._amount(token, name, frac)
        case = self._ref("case")
        propose = lambda: contract.proposeSeizure(
            self.addr[name], self.addr[recovery], amount, case, keccak(text="evidence"), self._opts(self.acct["compliance"])
        )
        tx = self._act(f"{token} proposeSeizure", propose, {})
        if tx is None:
            return
        seizure_id = tx.events["SeizureProposed"]["seizureId"]
        self.orders.append((token, seizure_id, name))
        self.state = self._read()
        seized = {"account": name, "recovery": recovery, "amount": amount}
        if approver in ("none", "earlier"):
            return
        if approver == "approver":
            officer, unauthorized = self._caller(who, "seize_approver")
            send = lambda: contract.executeSeizure(seizure_id, self._opts(officer))
            self._act(f"{token} executeSeizure", send, {"token": token, "seized": seized}, unauthorized)
            return
        compliance = self.acct["compliance"]  # holds both roles: the maker tries to be its own checker
        if approver == "self":
            send = lambda: contract.executeSeizure(seizure_id, self._opts(compliance))
        else:
            data = contract.executeSeizure.encode_input(seizure_id)
            send = lambda: self.s.manager.execute(contract, data, self._opts(compliance))
        self._act(f"{token} self-approval ({approver})", send, {"token": token, "seized": seized}, True)

    def rule_pause(self, token="st_token", flags="st_flags", guardian="st_bool", who="st_who"):
        """Pauses; then each paused kind of action is tried at once (a funded user's transfer, a
        mint, a burn), so that the pause meets them however the rest of the sequence falls."""
        pauser, unauthorized = self._caller(who, "guardian" if guardian else "pauser")
        if not self._act(f"{token} pause", lambda: self.token[token].pause(flags, self._opts(pauser)), {}, unauthorized):
            return
        if flags & PAUSE_TRANSFERS:
            self.rule_transfer(token, "alice", "bob", 10, False, False)
        if flags & PAUSE_MINT:
            (self.rule_kgst_mint("alice", UNIT, "role") if token == "kgst" else self.rule_dsom_mint("alice", SOM, "role"))
        if flags & PAUSE_REDEEM:
            (self.rule_kgst_burn(10, "role") if token == "kgst" else self.rule_dsom_burn(10, "role"))

    def rule_unpause(self, token="st_token", flags="st_flags", guardian="st_bool", who="st_who"):
        pauser, unauthorized = self._caller(who, "pauser")
        unauthorized = unauthorized or guardian  # the guardian may pause, not unpause
        pauser = self.acct["guardian"] if guardian else pauser
        self._act(f"{token} unpause", lambda: self.token[token].unpause(flags, self._opts(pauser)), {}, unauthorized)

    # --- The reserve: deposits, delayed withdrawals, oracles, attestations, time ---

    def rule_deposit(self, name="st_user", symbol="st_asset", lots="st_lots"):
        s, sender, amount = self.s, self.acct[name], lots * LOT[symbol]
        if symbol == "BNB":
            self._act("deposit BNB", lambda: s.vault.depositNative(self._opts(sender, amount)), {})
            return
        token = s.tokens[symbol]
        send_patiently(lambda: token.mint(sender, amount, {"from": sender}))
        send_patiently(lambda: token.approve(s.vault, amount, {"from": sender}))
        self._act(f"deposit {symbol}", lambda: s.vault.deposit(token, amount, self._opts(sender)), {})

    def rule_withdraw(self, symbol="st_asset", frac="st_frac", who="st_who"):
        """RESERVE_MANAGER schedules in the AccessManager, waits out the delay, executes."""
        s = self.s
        manager_acct, unauthorized = self._caller(who, "reserve_manager")
        asset = s.assets[symbol]
        amount = max(s.vault.asset(asset)[4] * frac // 100, 1)
        data = s.vault.withdraw.encode_input(asset, manager_acct.address, amount)
        scheduled = self._act("withdraw: schedule", lambda: s.manager.schedule(s.vault, data, 0, self._opts(manager_acct)), {}, unauthorized)
        if scheduled is None:
            return
        chain.sleep(61)
        chain.mine()
        self.state = self._read()
        tx = self._act("withdraw: execute", lambda: s.manager.execute(s.vault, data, self._opts(manager_acct)), {})
        if tx is None:  # refused (coverage, cap, staleness): take the operation back
            self._act("withdraw: cancel", lambda: s.manager.cancel(manager_acct, s.vault, data, self._opts(manager_acct)), {})

    def rule_price(self, symbol="st_asset", factor="st_price"):
        feed = self.s.feeds[symbol]
        answer = max(feed.latestRoundData()[1] * factor // BPS, 1)
        self._act(f"price {symbol}", lambda: feed.updateAnswer(answer, self._opts(self.s.stranger)), {})

    def rule_stale_price(self, symbol="st_asset"):
        """The feed's last round is two days old (a stopped oracle)."""
        feed = self.s.feeds[symbol]
        round_id, answer, _started, _updated, _answered = feed.latestRoundData()
        old = web3.eth.get_block("latest")["timestamp"] - 2 * 86_400
        send = lambda: feed.setRoundData(round_id + 1, answer, old, old, round_id + 1, self._opts(self.s.stranger))
        self._act(f"stale price {symbol}", send, {})

    def rule_rate(self, change="st_rate", who="st_who"):
        setter, unauthorized = self._caller(who, "rate_setter")
        rate = self.s.vault.rate()[0]
        new = rate + rate * change // BPS
        self._act("setRate", lambda: self.s.vault.setRate(new, self._opts(setter)), {}, unauthorized)

    def rule_attest(self, amount="st_attest", who="st_who"):
        attestor, unauthorized = self._caller(who, "attestor")
        at = self._pin()
        report = keccak(text=f"system-statement-{at}")
        send = lambda: self.s.vault.attest(amount * UNIT, at, report, "ipfs://system", self._opts(attestor))
        self._act("attest", send, {}, unauthorized)

    def rule_wait(self, seconds="st_wait", refresh="st_refresh"):
        chain.sleep(seconds)
        chain.mine()
        self.state = self._read()
        if refresh:
            for symbol in ASSETS:
                self.rule_price(symbol, BPS)
            self.rule_rate(0, "role")


# Actions that must have gone through at least once in a run (else the run proves little).
MUST_SUCCEED = (
    "kgst mint", "kgst burn", "dsom mint", "disburse", "kgst transfer", "dsom transfer", "kgst transferFrom",
    "dsom transferFrom", "kgst transferWithAuthorization (valid)", "kgst blockAccount", "dsom blockAccount",
    "kgst executeSeizure", "kgst pause", "dsom pause", "deposit BNB", "withdraw: execute", "setRate", "attest",
    "changeTier", "registerWallet",
)  # fmt: skip


def test_system_invariants(
    state_machine, funded, reserve_ready, cbdc_ready, vault, manager, feeds, tokens, reserve_assets, artifacts,
    users, stranger, admin, minter, minter_admin, burner, pauser, guardian, compliance, seize_approver,
    reserve_manager, rate_setter, attestor, issuer, treasury, kyc_officer, bank_wallet,
):  # fmt: skip
    roles = {
        "admin": admin, "minter": minter, "minter_admin": minter_admin, "burner": burner, "pauser": pauser,
        "guardian": guardian, "compliance": compliance, "seize_approver": seize_approver,
        "reserve_manager": reserve_manager, "rate_setter": rate_setter, "attestor": attestor, "issuer": issuer,
        "treasury": treasury, "kyc_officer": kyc_officer, "bank": bank_wallet,
    }  # fmt: skip
    people = {name: getattr(users, name) for name in USERS}
    system = SimpleNamespace(
        kgst=funded, dsom=cbdc_ready, vault=vault, manager=manager, feeds=feeds, tokens=tokens, assets=reserve_assets,
        decoder=artifacts.decoder, users=people, roles=roles, stranger=stranger,
    )  # fmt: skip
    tally = Counter()
    start = type("FixedStart", (SystemMachine,), {})
    SystemMachine.__init__(start, system, Counter())  # as brownie's state_machine sets up the class
    first = object.__new__(start)
    first.setup()
    first.fixed_start()
    state_machine(SystemMachine, system, tally, settings=SETTINGS)
    missing = [what for what in MUST_SUCCEED if not tally[f"{what}: ok"]]
    assert not missing, f"never went through in this run: {missing}"
    assert any(k.startswith("(gated mint refused") for k in tally), "the reserve gate never refused a mint"
    assert tally["(gated mint: vault agreed)"], "no mint went through the gate"
