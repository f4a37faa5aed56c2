"""Stateful (hypothesis) test of KGST against a python model of the token.

A fixed cast of holders (five users with keys, the burner, two wallet-less addresses and the
token contract itself) goes through every public action of the token in random order: mints
with fresh and reused deposit references, redemption burns, transfers (with and without a
travel-rule reference), approvals (unlimited too) and `transferFrom`, EIP-2612 permits, EIP-3009
authorizations (relayed, received, cancelled, replayed, out of their time window, forged),
blocklisting, seizures (maker-checker), pauses and rescues. Every action is predicted by the
model before it is sent: an action the model says must succeed has to succeed, one it says
must fail (blocked party, paused, reused reference, expired or forged signature, ...) has to
revert, and the model then follows the chain. Each example starts with initialize steps that
fund the other holders, grant allowances and (mostly) put one holder on the blocklist, so that
the rules meet funded, approved and blocked parties early.

Invariants, checked after every rule step (and once after the initialize steps: hypothesis does
not check between those) from one batched read of the chain:

1. totalSupply == the sum of the balances of every address that ever held KGST;
2. the chain equals the model (balances, blocklist, pause flags, allowances, permit nonces,
   minter allowance, seizures) and, independently of the model, no blocked address's balance
   changed in a step other than an executed seizure;
3. the set of used deposit references on chain equals the model's and only ever grows; every
   reference newly used in a step is one a successful mint of that step was made against, the
   supply grows only in such a step, and a mint against a used reference leaves it unchanged;
4. no balance changed in a transfer-family step (transfer, transferFrom, permit + transferFrom,
   EIP-3009, rescue) taken while transfers were paused;
5. maker-checker by every route (issue 15): every seizure status on chain equals the model's,
   where unblocking an account cancels its pending orders (status Cancelled, never revived by a
   later block); an officer holding both COMPLIANCE and SEIZE_APPROVER never completes its own
   order, directly (SeizureSelfApproval) or through `AccessManager.execute` (SeizureRelayed),
   and no seizure is proposed through the manager; every executed order's approver differs from
   its proposer and is not the manager;
6. a blocked minter never mints.

Runs derandomized (same examples every run, no example database) for CI: 25 examples of up to
20 steps, about 25 s. Deeper runs (300 x 40 take about 10 min):
    SOMSTACK_STATEFUL_EXAMPLES=300 SOMSTACK_STATEFUL_STEPS=40 pytest tests/stablecoin/test_invariants.py
With -s, a tally of every action's outcomes over all examples is printed at the end.
"""

from __future__ import annotations

from collections import Counter

import requests
from brownie import web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak, to_checksum_address
from hypothesis import strategies as st
from stateful import stateful_settings

from somstack.core.signatures import (
    Domain,
    random_nonce,
    sign_authorization,
    sign_cancel,
    sign_permit,
)

UNIT = 10**18
MAX_UINT = 2**256 - 1
PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM = 1, 2, 4

SETTINGS = stateful_settings(default_examples=25)

SIGNERS = ("alice", "bob", "carol", "mallory", "relayer")  # users with private keys
SENDERS = SIGNERS + ("burner",)  # can send transactions
WALLETLESS = ("cold", "recovery")  # addresses nobody holds a key for
HOLDERS = SENDERS + WALLETLESS + ("token",)  # every address that can ever hold KGST

GENESIS_REFS = tuple(keccak(text=f"genesis-deposit-{i}") for i in range(2))  # used by `funded`
REF_POOL = GENESIS_REFS + tuple(keccak(text=f"stateful-deposit-{i}") for i in range(4))

TRANSFER_STEPS = {"transfer", "transfer_from", "permit_and_pull", "authorization", "replay", "rescue"}


def _walletless(label):
    return to_checksum_address(keccak(text=f"somstack-stateful-{label}")[-20:])


class _Chain:
    """Reads many views of the token in one JSON-RPC batch of eth_calls."""

    def __init__(self, token):
        self.token = token
        self.session = requests.Session()
        self.url = web3.provider.endpoint_uri
        self._calldata = {}

    def _data(self, fn, args):
        key = (fn, args)
        if key not in self._calldata:
            self._calldata[key] = getattr(self.token, fn).encode_input(*args)
        return self._calldata[key]

    def read(self, calls):
        """calls: {key: (function name, args)} -> {key: int}"""
        keys = list(calls)
        batch = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": self.token.address, "data": self._data(*calls[k])}, "latest"],
            }
            for i, k in enumerate(keys)
        ]
        answers = self.session.post(self.url, json=batch, timeout=60).json()
        by_id = {a["id"]: a for a in answers}
        out = {}
        for i, k in enumerate(keys):
            answer = by_id[i]
            assert "result" in answer, f"eth_call {calls[k]} failed: {answer.get('error')}"
            out[k] = int(answer["result"], 16)
        return out


class KgstMachine:
    # --- Strategies (brownie maps a rule argument to the class attribute named by its default) ---

    st_holder = st.sampled_from(HOLDERS)
    st_sender = st.sampled_from(SENDERS)
    st_signer = st.sampled_from(SIGNERS)
    st_recovery = st.sampled_from(("recovery", "recovery", "cold", "carol", "burner"))
    # "all"/"half" are taken from the model balance of the payer when the step runs
    st_amount = st.one_of(st.sampled_from(("all", "half")), st.integers(0, 1_500 * UNIT))
    st_pull_amount = st.one_of(st.sampled_from(("all", "half", "allowed", "allowed")), st.integers(0, 1_500 * UNIT))
    st_twist = st.sampled_from(("none", "none", "recovery blocked", "account unblocked"))
    st_pull_pair = st.sampled_from(("any", "approved", "approved", "blocked spender"))
    st_init_allowance = st.one_of(st.just(MAX_UINT), st.integers(1, 1_500 * UNIT))
    st_mint_amount = st.integers(0, 3_000 * UNIT)
    st_fund = st.integers(1, 2_000 * UNIT)
    st_allowance = st.one_of(st.sampled_from((MAX_UINT, 0)), st.integers(0, 1_500 * UNIT))
    st_block_focus = st.sampled_from(("holder", "holder", "seizure recovery", "approved spender"))
    st_sanctioned = st.sampled_from((None,) + HOLDERS)
    st_pool_ref = st.sampled_from(REF_POOL)
    st_pick = st.integers(0, 2**16)
    st_bool = st.booleans()
    st_flags = st.sampled_from((PAUSE_TRANSFERS, PAUSE_TRANSFERS, PAUSE_MINT, PAUSE_REDEEM, 7))
    st_permit_kind = st.sampled_from(("valid", "valid", "valid", "expired", "forged"))
    st_auth_kind = st.sampled_from(("valid", "valid", "valid", "receive", "expired", "early", "forged", "cancelled"))
    st_route = st.sampled_from(("direct", "manager", "propose through manager"))

    # --- Per test: the token, the cast, and a tally of outcomes over all examples ---

    def __init__(cls, token, roles, users, manager=None):
        cls.token = token
        cls.manager = manager
        cls.chain = _Chain(token)
        cls.domain = Domain.of(token)
        cls.roles = roles  # minter, burner, pauser, compliance, seize_approver, rescuer
        cls.accounts = {**users, "burner": roles["burner"]}  # name -> brownie account
        cls.addr = {name: acct.address for name, acct in cls.accounts.items()}
        cls.addr.update({label: _walletless(label) for label in WALLETLESS})
        cls.addr["token"] = token.address
        cls.tally = Counter()

    # --- Per example: the model, starting from the funded deployment ---

    def setup(self):
        start = self._read_chain(refs=REF_POOL)
        assert start["supply"] == 2_000 * UNIT
        assert start["balance"] == {h: (1_000 * UNIT if h in ("alice", "bob") else 0) for h in HOLDERS}
        assert not any(start["blocked"].values()) and start["paused"] == 0
        assert {r for r, used in start["refs"].items() if used} == set(GENESIS_REFS)
        self.balance = dict(start["balance"])
        self.blocked = set()
        self.paused = 0
        self.allowance = dict(start["allowance"])
        self.nonce = dict(start["nonce"])
        self.used_refs = set(GENESIS_REFS)
        self.known_refs = list(REF_POOL)
        self.minter_allowance = start["minter_allowance"]
        self.seizures = {}  # id -> {"account", "recovery", "amount", "status"}
        assert start["seizure_count"] == 0
        self.used_auths = []  # arguments of authorizations that went through (for replays)
        self.fresh = 0  # counter for fresh deposit references and case references
        self.steps = {"setup"}  # kinds of the steps since the last invariant check
        self.step_new_refs = set()  # deposit references minted against in the current step
        self.last = start
        self.tally["(examples)"] += 1

    def teardown_final(cls):
        lines = [f"  {k:<42} {v}" for k, v in sorted(cls.tally.items())]
        print("\nKGST stateful outcomes over all examples:\n" + "\n".join(lines))

    # --- Helpers ---

    def _read_chain(self, refs=None):
        refs = self.known_refs if refs is None else refs
        calls = {"supply": ("totalSupply", ()), "paused": ("pausedFlags", ()), "seizure_count": ("seizureCount", ())}
        calls["minter_allowance"] = ("minterAllowance", (self.roles["minter"].address,))
        for h in HOLDERS:
            calls[("balance", h)] = ("balanceOf", (self.addr[h],))
            calls[("blocked", h)] = ("isBlocked", (self.addr[h],))
        for o in SENDERS:
            for s in SENDERS:
                calls[("allowance", (o, s))] = ("allowance", (self.addr[o], self.addr[s]))
        for u in SIGNERS:
            calls[("nonce", u)] = ("nonces", (self.addr[u],))
        for r in refs:
            calls[("refs", r)] = ("isDepositReferenceUsed", (r,))
        raw = self.chain.read(calls)
        out = {"balance": {}, "blocked": {}, "allowance": {}, "nonce": {}, "refs": {}}
        for key, value in raw.items():
            if isinstance(key, tuple):
                out[key[0]][key[1]] = bool(value) if key[0] in ("blocked", "refs") else value
            else:
                out[key] = value
        return out

    def _payer_amount(self, payer, amount):
        if amount == "all":
            return self.balance[payer]
        if amount == "half":
            return self.balance[payer] // 2
        return amount

    def _now(self):
        return web3.eth.get_block("latest")["timestamp"]

    def _attempt(self, what, expect_ok, send):
        """Sends the transaction; asserts it succeeded or reverted as the model predicted."""
        try:
            tx = send()
        except VirtualMachineError as exc:
            self.tally[f"{what}: reverted"] += 1
            assert not expect_ok, f"{what}: the model expected success, but it reverted: {exc.revert_msg}"
            return None
        self.tally[f"{what}: ok"] += 1
        assert expect_ok, f"{what}: the model expected a revert, but it succeeded"
        return tx

    def _free(self, name):
        return name not in self.blocked

    def _transfers_open(self):
        return not self.paused & PAUSE_TRANSFERS

    def _move(self, src, dst, amount):
        self.balance[src] -= amount
        self.balance[dst] += amount

    def _can_move(self, src, dst, amount):
        """`_update` for a transfer: unpaused, neither party blocked, enough balance."""
        return self._transfers_open() and self._free(src) and self._free(dst) and self.balance[src] >= amount

    def _can_approve(self, owner, spender, value):
        """approve/permit: unpaused, owner not blocked; a blocked spender's allowance may only be revoked."""
        return self._transfers_open() and self._free(owner) and (value == 0 or self._free(spender))

    def _spend(self, owner, spender, amount):
        current = self.allowance[(owner, spender)]
        if current != MAX_UINT:
            self.allowance[(owner, spender)] = current - amount

    def _can_pull(self, spender, owner, to, amount):
        """transferFrom: OpenZeppelin 5 spends the allowance even when spender == owner."""
        spender_ok = spender == owner or self._free(spender)
        return spender_ok and self.allowance[(owner, spender)] >= amount and self._can_move(owner, to, amount)

    def _sign_key(self, name, forged):
        """The key of `name`, or of someone else when the signature is to be forged."""
        if forged:
            name = SIGNERS[(SIGNERS.index(name) + 1) % len(SIGNERS)]
        return self.accounts[name].private_key

    # --- Minting and redemption ---

    def _mint(self, what, to, amount, ref):
        self.steps.add("mint")
        if ref not in self.known_refs:
            self.known_refs.append(ref)
        reused = ref in self.used_refs
        supply = self.token.totalSupply()
        ok = (
            amount > 0
            and not reused
            and amount <= self.minter_allowance
            and not self.paused & PAUSE_MINT
            and self._free(to)
        )
        minter = self.roles["minter"]
        tx = self._attempt(what, ok, lambda: self.token.mint(self.addr[to], amount, ref, {"from": minter}))
        if tx:
            self.used_refs.add(ref)
            self.step_new_refs.add(ref)
            self.minter_allowance -= amount
            self.balance[to] += amount
        if reused:  # invariant 3: a reused reference never mints
            assert self.token.totalSupply() == supply, "a reused deposit reference increased the supply"

    def initialize_fund(self, carol="st_fund", mallory="st_fund", relayer="st_fund", burner="st_fund"):
        """Gives the other holders (the burner too: it burns its own balance) a balance."""
        for name, amount in (("carol", carol), ("mallory", mallory), ("relayer", relayer), ("burner", burner)):
            self.fresh += 1
            self._mint("mint (initial funding)", name, amount, keccak(text=f"stateful-fresh-deposit-{self.fresh}"))

    def initialize_sanction(self, account="st_sanctioned"):
        """Starts most examples with one holder (or none) on the blocklist, so that blocked parties
        meet every action often."""
        if account is not None:
            self.rule_block(account, "holder", 0)

    def rule_mint(self, to="st_holder", amount="st_mint_amount", ref="st_pool_ref"):
        self._mint("mint (pool ref)", to, amount, ref)

    def rule_mint_fresh(self, to="st_holder", amount="st_mint_amount"):
        self.fresh += 1
        self._mint("mint (fresh ref)", to, amount, keccak(text=f"stateful-fresh-deposit-{self.fresh}"))

    def rule_mint_reused(self, to="st_holder", amount="st_mint_amount", pick="st_pick"):
        used = sorted(self.used_refs)
        self._mint("mint (reused ref)", to, max(amount, 1), used[pick % len(used)])

    def rule_burn(self, amount="st_amount"):
        self.steps.add("burn")
        value = self._payer_amount("burner", amount)
        ok = value > 0 and not self.paused & PAUSE_REDEEM and self._free("burner") and self.balance["burner"] >= value
        burner = self.roles["burner"]
        if self._attempt("burn", ok, lambda: self.token.burn(value, keccak(text="redemption"), {"from": burner})):
            self.balance["burner"] -= value

    # --- Transfers ---

    def rule_transfer(self, sender="st_sender", to="st_holder", amount="st_amount", with_ref="st_bool"):
        self.steps.add("transfer")
        value = self._payer_amount(sender, amount)
        ok = self._can_move(sender, to, value)
        tx_from = {"from": self.accounts[sender]}
        if with_ref:
            send = lambda: self.token.transferWithReference(self.addr[to], value, keccak(text="travel-rule"), tx_from)
        else:
            send = lambda: self.token.transfer(self.addr[to], value, tx_from)
        if self._attempt("transferWithReference" if with_ref else "transfer", ok, send):
            self._move(sender, to, value)

    def rule_approve(self, owner="st_sender", spender="st_sender", value="st_allowance"):
        self.steps.add("approve")
        ok = self._can_approve(owner, spender, value)
        send = lambda: self.token.approve(self.addr[spender], value, {"from": self.accounts[owner]})
        what = "approve (unlimited)" if value == MAX_UINT else "approve"
        what += " [blocked spender]" if spender in self.blocked else ""
        if self._attempt(what, ok, send):
            self.allowance[(owner, spender)] = value

    def initialize_allowances(
        self, alice="st_sender", bob="st_sender", carol="st_sender", mallory="st_sender", value="st_init_allowance"
    ):
        """Each user starts with an allowance granted to someone (unlimited or not)."""
        for owner, spender in (("alice", alice), ("bob", bob), ("carol", carol), ("mallory", mallory)):
            self.rule_approve(owner, spender, value)

    def rule_transfer_from(
        self,
        spender="st_sender",
        owner="st_sender",
        to="st_holder",
        amount="st_pull_amount",
        pair="st_pull_pair",
        pick="st_pick",
    ):
        self.steps.add("transfer_from")
        pairs = sorted(p for p, v in self.allowance.items() if v)  # (owner, spender) with an allowance
        if pair == "blocked spender":
            pairs = [(o, s) for o, s in pairs if s in self.blocked and o != s]
        if pair != "any" and pairs:
            owner, spender = pairs[pick % len(pairs)]
        if amount == "allowed":
            value = min(self.balance[owner], self.allowance[(owner, spender)])
        else:
            value = self._payer_amount(owner, amount)
        ok = self._can_pull(spender, owner, to, value)
        send = lambda: self.token.transferFrom(self.addr[owner], self.addr[to], value, {"from": self.accounts[spender]})
        what = "transferFrom (unlimited)" if self.allowance[(owner, spender)] == MAX_UINT else "transferFrom"
        what += " [blocked spender]" if spender != owner and spender in self.blocked else ""
        if self._attempt(what, ok, send):
            self._spend(owner, spender, value)
            self._move(owner, to, value)

    # --- EIP-2612 permit ---

    def _permit(self, what, owner, spender, value, kind):
        """Signs a permit by `owner` and has the relayer submit it."""
        deadline = self._now() + (-1 if kind == "expired" else 3_600)
        sig = sign_permit(
            self.domain,
            self._sign_key(owner, kind == "forged"),
            self.addr[owner],
            self.addr[spender],
            value,
            self.nonce[owner],
            deadline,
        )
        # A blocked relayer may not submit a permit for others (it may for itself: then it is the
        # owner or the spender, whom the approval checks anyway).
        relayer_ok = "relayer" in (owner, spender) or self._free("relayer")
        ok = kind == "valid" and relayer_ok and self._can_approve(owner, spender, value)
        relayer = self.accounts["relayer"]
        send = lambda: self.token.permit(
            self.addr[owner], self.addr[spender], value, deadline, sig.v, sig.r, sig.s, {"from": relayer}
        )
        relayed = " [blocked relayer]" if "relayer" in self.blocked else ""
        if self._attempt(f"{what} ({kind}){relayed}", ok, send):
            self.allowance[(owner, spender)] = value
            self.nonce[owner] += 1
            return True
        return False

    def rule_permit(self, owner="st_signer", spender="st_sender", value="st_allowance", kind="st_permit_kind"):
        self.steps.add("permit")
        self._permit("permit", owner, spender, value, kind)

    def rule_permit_and_pull(
        self, owner="st_signer", spender="st_sender", to="st_holder", amount="st_amount", unlimited="st_bool"
    ):
        self.steps.add("permit_and_pull")
        value = self._payer_amount(owner, amount)
        self._permit("permit+pull: permit", owner, spender, MAX_UINT if unlimited else value, "valid")
        ok = self._can_pull(spender, owner, to, value)
        send = lambda: self.token.transferFrom(self.addr[owner], self.addr[to], value, {"from": self.accounts[spender]})
        if self._attempt("permit+pull: transferFrom", ok, send):
            self._spend(owner, spender, value)
            self._move(owner, to, value)

    # --- EIP-3009 ---

    def rule_authorization(self, sender="st_signer", to="st_holder", amount="st_amount", kind="st_auth_kind"):
        self.steps.add("authorization")
        if kind == "receive" and to not in SENDERS:
            kind = "valid"  # a receive authorization is submitted by its recipient
        value = self._payer_amount(sender, amount)
        now = self._now()
        valid_after, valid_before = {
            "expired": (0, now - 1),
            "early": (now + 3_600, now + 7_200),
        }.get(kind, (0, now + 3_600))
        nonce = random_nonce()
        args = (self.addr[sender], self.addr[to], value, valid_after, valid_before, nonce)
        sig = sign_authorization(
            self.domain, self._sign_key(sender, kind == "forged"), *args, receive=kind == "receive"
        )
        if kind == "cancelled":
            cancel = sign_cancel(self.domain, self.accounts[sender].private_key, self.addr[sender], nonce)
            relayer = self.accounts["relayer"]
            send = lambda: self.token.cancelAuthorization(
                self.addr[sender], nonce, cancel.v, cancel.r, cancel.s, {"from": relayer}
            )
            self._attempt("cancelAuthorization", True, send)
        if kind == "receive":
            submitter = to
            send = lambda: self.token.receiveWithAuthorization(*args, sig.v, sig.r, sig.s, {"from": self.accounts[to]})
        else:
            submitter = "relayer"
            send = lambda: self.token.transferWithAuthorization(
                *args, sig.v, sig.r, sig.s, {"from": self.accounts["relayer"]}
            )
        relayer_ok = submitter in (sender, to) or self._free(submitter)
        ok = kind in ("valid", "receive") and relayer_ok and self._can_move(sender, to, value)
        what = "receiveWithAuthorization" if kind == "receive" else f"transferWithAuthorization ({kind})"
        if self._attempt(what, ok, send):
            self._move(sender, to, value)
            if kind == "valid":
                self.used_auths.append((args, sig))

    def rule_replay_authorization(self, pick="st_pick"):
        self.steps.add("replay")
        if not self.used_auths:
            return
        args, sig = self.used_auths[pick % len(self.used_auths)]
        send = lambda: self.token.transferWithAuthorization(
            *args, sig.v, sig.r, sig.s, {"from": self.accounts["relayer"]}
        )
        self._attempt("transferWithAuthorization (replay)", False, send)

    # --- Blocklist and seizure ---

    def rule_block(self, account="st_holder", focus="st_block_focus", pick="st_pick"):
        self.steps.add("block")
        if focus == "seizure recovery":  # the recovery address of a pending seizure
            candidates = [o["recovery"] for _, o in sorted(self.seizures.items()) if o["status"] == 1]
        elif focus == "approved spender":  # a spender that holds someone else's allowance
            candidates = sorted({s for (o, s), v in self.allowance.items() if v and o != s})
        else:
            candidates = []
        if candidates:
            account = candidates[pick % len(candidates)]
        compliance = self.roles["compliance"]
        ok = account not in self.blocked
        send = lambda: self.token.blockAccount(self.addr[account], keccak(text="sanctions-record"), {"from": compliance})
        if self._attempt("blockAccount", ok, send):
            self.blocked.add(account)

    def rule_unblock(self, account="st_holder", prefer_blocked="st_bool", pick="st_pick"):
        self.steps.add("unblock")
        if prefer_blocked and self.blocked:
            candidates = sorted(self.blocked)
            account = candidates[pick % len(candidates)]
        compliance = self.roles["compliance"]
        ok = account in self.blocked
        send = lambda: self.token.unblockAccount(self.addr[account], {"from": compliance})
        if self._attempt("unblockAccount", ok, send):
            self.blocked.discard(account)
            for order in self.seizures.values():  # its pending orders are cancelled (issue 15, finding 5)
                if order["account"] == account and order["status"] == 1:
                    order["status"] = 4

    def rule_propose_seizure(
        self, account="st_holder", recovery="st_recovery", amount="st_amount", prefer_blocked="st_bool", pick="st_pick"
    ):
        self.steps.add("propose_seizure")
        if prefer_blocked and self.blocked:
            candidates = sorted(self.blocked)
            account = candidates[pick % len(candidates)]
        value = self._payer_amount(account, amount)
        ok = value > 0 and account in self.blocked and self._free(recovery)
        self.fresh += 1
        case, evidence = keccak(text=f"case-{self.fresh}"), keccak(text=f"evidence-{self.fresh}")
        compliance = self.roles["compliance"]
        send = lambda: self.token.proposeSeizure(
            self.addr[account], self.addr[recovery], value, case, evidence, {"from": compliance}
        )
        tx = self._attempt("proposeSeizure", ok, send)
        self.step_ok = tx is not None
        if tx:
            seizure_id = len(self.seizures) + 1
            assert tx.events["SeizureProposed"]["seizureId"] == seizure_id
            self.seizures[seizure_id] = {"account": account, "recovery": recovery, "amount": value, "status": 1}

    def _pick_seizure(self, pick, prefer_pending):
        ids = sorted(self.seizures)
        pending = [i for i in ids if self.seizures[i]["status"] == 1]
        if prefer_pending and pending:
            ids = pending
        return ids[pick % len(ids)] if ids else None

    def rule_execute_seizure(self, pick="st_pick", prefer_pending="st_bool"):
        self.steps.add("seizure")
        seizure_id = self._pick_seizure(pick, prefer_pending)
        if seizure_id is None:
            return
        order = self.seizures[seizure_id]
        account, recovery, value = order["account"], order["recovery"], order["amount"]
        ok = (
            order["status"] == 1
            and account in self.blocked
            and self._free(recovery)
            and self.balance[account] >= value
        )
        approver = self.roles["seize_approver"]
        send = lambda: self.token.executeSeizure(seizure_id, {"from": approver})
        tx = self._attempt("executeSeizure", ok, send)
        if tx:
            order["status"] = 2
            self._move(account, recovery, value)
            executed = tx.events["SeizureExecuted"]["approver"]
            assert executed != self.addr_of_proposer(seizure_id) and executed != self.manager.address

    def addr_of_proposer(self, seizure_id):
        return self.token.seizure(seizure_id)[5]

    def rule_self_approval(self, pick="st_pick", route="st_route"):
        """The audit's attacker: compliance also holds SEIZE_APPROVER (initialize_dual_officer) and
        tries to complete its own order, directly or through the AccessManager, or proposes one
        through the manager. Every route must be refused."""
        self.steps.add("self_approval")
        compliance = self.roles["compliance"]
        if route == "propose through manager":
            blocked = sorted(self.blocked) or ["alice"]
            account = blocked[pick % len(blocked)]
            data = self.token.proposeSeizure.encode_input(self.addr[account], self.addr["recovery"], 1, keccak(text="case"), keccak(text="ev"))
            self._attempt("proposeSeizure through manager", False, lambda: self.manager.execute(self.token, data, {"from": compliance}))
            return
        seizure_id = self._pick_seizure(pick, True)
        if seizure_id is None:
            return
        if route == "direct":
            send = lambda: self.token.executeSeizure(seizure_id, {"from": compliance})
        else:
            data = self.token.executeSeizure.encode_input(seizure_id)
            send = lambda: self.manager.execute(self.token, data, {"from": compliance})
        self._attempt(f"self-approval ({route})", False, send)

    def initialize_dual_officer(self):
        """Compliance also holds SEIZE_APPROVER: every seizure it proposes tempts it."""
        self.manager.grantRole(7, self.roles["compliance"], 0, {"from": self.roles["admin"]})

    def rule_blocked_minter(self, to="st_holder", amount="st_mint_amount"):
        """The minter is blocked, tries to mint (refused, whatever its allowance), is unblocked."""
        self.steps.add("blocked_minter")
        compliance, minter = self.roles["compliance"], self.roles["minter"]
        self._attempt("block minter", True, lambda: self.token.blockAccount(minter, keccak(text="minter-sanction"), {"from": compliance}))
        self.fresh += 1
        ref = keccak(text=f"blocked-minter-{self.fresh}")
        self._attempt("mint by a blocked minter", False, lambda: self.token.mint(self.addr[to], max(amount, 1), ref, {"from": minter}))
        self._attempt("unblock minter", True, lambda: self.token.unblockAccount(minter, {"from": compliance}))

    def rule_court_order(self, account="st_holder", recovery="st_recovery", amount="st_amount", twist="st_twist"):
        """A whole court order in one step (so that executed seizures are frequent): compliance
        blocks the account if needed and proposes the seizure, the approver executes it; in
        between, the recovery address may get blocked or the account unblocked (both must stop it)."""
        if account not in self.blocked:
            self.rule_block(account, "holder", 0)
        self.rule_propose_seizure(account, recovery, amount, False, 0)
        if not self.step_ok:
            return
        if twist == "recovery blocked":
            self.rule_block(recovery, "holder", 0)
        elif twist == "account unblocked":
            self.rule_unblock(account, False, 0)
        self.rule_execute_seizure(len(self.seizures) - 1, False)

    def rule_reject_seizure(self, pick="st_pick", prefer_pending="st_bool"):
        self.steps.add("reject_seizure")
        seizure_id = self._pick_seizure(pick, prefer_pending)
        if seizure_id is None:
            return
        approver = self.roles["seize_approver"]
        ok = self.seizures[seizure_id]["status"] == 1
        if self._attempt("rejectSeizure", ok, lambda: self.token.rejectSeizure(seizure_id, {"from": approver})):
            self.seizures[seizure_id]["status"] = 3

    # --- Pause and rescue ---

    def rule_pause(self, flags="st_flags"):
        self.steps.add("pause")
        if self._attempt(f"pause({flags})", True, lambda: self.token.pause(flags, {"from": self.roles["pauser"]})):
            self.paused |= flags

    def rule_unpause(self, flags="st_flags"):
        self.steps.add("unpause")
        if self._attempt(f"unpause({flags})", True, lambda: self.token.unpause(flags, {"from": self.roles["pauser"]})):
            self.paused &= ~flags

    def rule_rescue(self, to="st_holder", amount="st_amount"):
        """KGST sent to the token contract is returned by the rescuer, under the transfer checks."""
        self.steps.add("rescue")
        value = self._payer_amount("token", amount)
        ok = self._can_move("token", to, value)
        rescuer = self.roles["rescuer"]
        send = lambda: self.token.rescueERC20(self.token.address, self.addr[to], value, {"from": rescuer})
        if self._attempt("rescueERC20 (KGST)", ok, send):
            self._move("token", to, value)

    # --- Invariants ---

    def invariant_chain_matches_model(self):
        now = self._read_chain()
        last, steps = self.last, self.steps
        where = f"after step(s) {sorted(steps)}"

        # 1. the supply is the sum of the balances of every address that ever held KGST
        assert now["supply"] == sum(now["balance"].values()), f"{where}: totalSupply != sum of balances"

        # 2. the chain equals the model
        assert now["balance"] == self.balance, f"{where}: balances differ from the model"
        assert {h for h, b in now["blocked"].items() if b} == self.blocked, f"{where}: blocklist differs"
        assert now["paused"] == self.paused, f"{where}: pause flags differ"
        assert now["allowance"] == self.allowance, f"{where}: allowances differ"
        assert now["nonce"] == self.nonce, f"{where}: permit nonces differ"
        assert now["minter_allowance"] == self.minter_allowance, f"{where}: minter allowance differs"
        assert now["seizure_count"] == len(self.seizures), f"{where}: seizure count differs"
        # 5. seizure statuses (Cancelled once the account was unblocked while the order was pending)
        statuses = {i: self.token.seizure(i)[6] for i in self.seizures}
        assert statuses == {i: o["status"] for i, o in self.seizures.items()}, f"{where}: seizure statuses differ"
        # ... and, independently of the model, a blocked balance moves only by an executed seizure
        if "seizure" not in steps:
            for h in HOLDERS:
                if last["blocked"][h]:
                    assert now["balance"][h] == last["balance"][h], f"{where}: blocked {h}'s balance changed"

        # 3. deposit references: chain == model, never released, one mint per reference
        used_now = {r for r, used in now["refs"].items() if used}
        used_before = {r for r, used in last["refs"].items() if used}
        assert used_now == self.used_refs, f"{where}: used deposit references differ from the model"
        assert used_before <= used_now, f"{where}: a deposit reference was released"
        assert used_now - used_before == self.step_new_refs, f"{where}: a reference was used by no mint of this step"
        if now["supply"] > last["supply"]:
            assert "mint" in steps and self.step_new_refs, f"{where}: supply grew without a new deposit reference"

        # 4. nothing moves through the transfer paths while transfers are paused
        if steps <= TRANSFER_STEPS and last["paused"] & PAUSE_TRANSFERS:
            assert now["balance"] == last["balance"], f"{where}: a balance moved while transfers were paused"

        self.last = now
        self.steps = set()
        self.step_new_refs = set()
        self.tally["(invariant checks)"] += 1


def test_kgst_stateful_invariants(
    state_machine, funded, manager, admin, alice, bob, carol, mallory, relayer, minter, burner, pauser, compliance,
    seize_approver, rescuer,
):  # fmt: skip
    roles = {
        "admin": admin,
        "minter": minter,
        "burner": burner,
        "pauser": pauser,
        "compliance": compliance,
        "seize_approver": seize_approver,
        "rescuer": rescuer,
    }
    users = {"alice": alice, "bob": bob, "carol": carol, "mallory": mallory, "relayer": relayer}
    state_machine(KgstMachine, funded, roles, users, manager, settings=SETTINGS)
