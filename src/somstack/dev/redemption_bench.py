"""Gas of KGST's redemption queue, beside KGST's own burn: `make bench` writes
benchmarks/results/redemption.md through :func:`run_redemption_bench`.

One anvil chain, the system deployed by the deployment plan. Each figure is one receipt's
``gasUsed`` (21,000 and calldata included). Requests come from distinct holders (fresh keys, as
in production), so a batch reads each holder's balance slot cold when it checks the blocklist.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from eth_account import Account
from web3 import Web3

from somstack.core.chain import LocalNode
from somstack.core.config import Network, load_settings
from somstack.core.format import utc
from somstack.core.signatures import Domain, sign_authorization
from somstack.dev.bench import Bench, _deploy_somstack
from somstack.system.deploy import resolve_holders

Log = Callable[[str], None]
UNIT = 10**18
BATCHES = (1, 50, 200)
OUT = Path("benchmarks") / "results" / "redemption.md"


def measure(bench: Bench, manifest: Any, log: Log) -> dict[str, int]:
    """Gas rows: {what: gas}."""
    w3 = bench.w3
    network = Network("local", bench.node.url, bench.node.url, w3.eth.chain_id, dev=True)
    holders = {r: [Web3.to_checksum_address(a) for a in accs] for r, accs in resolve_holders(bench.settings, network, w3).items()}
    role = {name: bench.node_sender(accs[0]) for name, accs in holders.items()}
    art = bench.artifacts
    token = art.get("Stablecoin").contract(w3, manifest.address("Stablecoin"))
    vault = art.get("ReserveVault").contract(w3, manifest.address("ReserveVault"))
    queue = art.get("RedemptionQueue").contract(w3, manifest.address("RedemptionQueue"))
    t, q = token.functions, queue.functions
    bench.gas(role["RATE_SETTER"], vault.functions.setRate(87_45 * 10**16), "setRate")
    bench.gas(role["ATTESTOR"], vault.functions.attest(10**13 * UNIT, bench.now() - 1, b"\x01" * 32, "bench"), "attest")
    bench.gas(role["MINTER_ADMIN"], t.configureMinter(holders["MINTER"][0], 10**12 * UNIT), "configureMinter")
    bench.gas(role["ADMIN"] if "ADMIN" in role else bench.node_sender(bench.dev[0]), q.setMinAmount(1), "setMinAmount")
    deposits = iter(range(10**9))

    def mint(to: str, amount: int) -> None:
        bench.gas(role["MINTER"], t.mint(to, amount, Web3.keccak(text=f"redeem-bench-{next(deposits)}")), "mint")

    domain = Domain.of(token)
    relayer = bench.node_sender(bench.dev[10])
    payouts = iter(range(10**9))
    amount = 100 * UNIT

    def relayed(holder: Any) -> tuple[int, int]:
        """(request id, gas) of a request signed by ``holder`` and sent by the relayer."""
        ref = Web3.keccak(text=f"bench-payout-{next(payouts)}")
        before = bench.now() + 3_600
        sig = sign_authorization(domain, holder.key, holder.address, queue.address, amount, 0, before, ref, receive=True)
        gas = bench.gas(relayer, q.requestRedemptionWithAuthorization(holder.address, amount, ref, 0, before, sig.packed), "relayed request")
        return int(q.requestCount().call()), gas

    rows: dict[str, int] = {}
    burner = role["BURNER"]
    mint(burner.signer.address, 10 * amount)
    bench.gas(burner, t.burn(amount, Web3.keccak(text="warm")), "burn")
    rows["KGST burn (BURNER, own balance, with a payout reference)"] = bench.gas(burner, t.burn(amount, Web3.keccak(text="b")), "burn")

    direct = bench.fresh()
    mint(direct.address, 10 * amount)
    sender = bench.key_sender(direct)
    rows["approve the queue (before a direct request)"] = bench.gas(sender, t.approve(queue.address, 10 * amount), "approve")
    rows["request, direct (requestRedemption, first)"] = bench.gas(sender, q.requestRedemption(amount, Web3.keccak(text="d1")), "request")
    rows["request, direct (requestRedemption, next)"] = bench.gas(sender, q.requestRedemption(amount, Web3.keccak(text="d2")), "request")

    log(f"redemption bench: {2 * sum(BATCHES) + 3} holders, each minted and each requesting through the relayer")
    people = [Account.create() for _ in range(2 * sum(BATCHES) + 3)]
    for person in people:
        mint(person.address, amount)
    pool = iter(people)
    first_id, rows["request, relayed (requestRedemptionWithAuthorization)"] = relayed(next(pool))
    pay_id, _ = relayed(next(pool))
    reject_id, _ = relayed(next(pool))
    redeemer = role["REDEEMER"]
    rows["payment of one request (pay, burns the escrow)"] = bench.gas(redeemer, q.pay([first_id], [Web3.keccak(text="bank")]), "pay")
    rows["refund of one request (reject)"] = bench.gas(redeemer, q.reject([reject_id], [1]), "reject")
    for size in BATCHES:
        for kind in ("pay", "reject"):
            ids = [relayed(next(pool))[0] for _ in range(size)]
            call = q.pay(ids, [Web3.keccak(text=f"bank-{i}") for i in ids]) if kind == "pay" else q.reject(ids, [1] * size)
            gas = bench.gas(redeemer, call, f"{kind} x{size}")
            rows[f"{'payment' if kind == 'pay' else 'refund'} in a batch of {size}, per request"] = gas // size
            rows[f"{'payment' if kind == 'pay' else 'refund'} batch of {size}, whole transaction"] = gas
    chain_ahead = int(q.serviceLevel().call()) + 1
    w3.provider.make_request("evm_increaseTime", [chain_ahead])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    rows["cancel after the deadline (a breach; holder, refund)"] = bench.gas(sender, q.cancel(2), "cancel")
    del pay_id
    return rows


def write(rows: dict[str, int], path: Path, meta: dict[str, str]) -> Path:
    lines = [
        "# Gas of the KGST redemption queue",
        "",
        f"Generated {meta['generated']} by `make bench` (src/somstack/dev/redemption_bench.py) on anvil, hardfork prague; "
        f"git {meta['commit']}. Each figure is one receipt's `gasUsed` (21,000 base and calldata included), through the "
        "proxies as users call them. Requests in batches come from distinct holders (cold balance slots).",
        "",
        "| operation | gas |",
        "|---|---:|",
        *[f"| {what} | {gas:,} |" for what, gas in rows.items()],
        "",
        "A direct request needs an `approve` first (two transactions); a relayed request is one transaction sent by "
        "the relayer, the holder only signs. A payment burns the escrow through KGST's `burn` once per batch.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def run_redemption_bench(log: Log = print, out: Path | None = None, port: int | None = None) -> Path:
    """Deploys on a fresh anvil, measures, writes the results file (default benchmarks/results/redemption.md)."""
    from somstack.core.manifest import git_commit

    settings = load_settings()
    started = time.monotonic()
    with LocalNode(settings, settings.network("local").chain_id, port=port) as node, tempfile.TemporaryDirectory() as folder:
        bench = Bench(settings, node, {}, log)
        result = _deploy_somstack(settings, bench.w3, node.url, Path(folder))
        rows = measure(bench, result.manifest, log)
    path = write(rows, out or settings.root / OUT, {"generated": utc(int(time.time())), "commit": git_commit(settings.root) or "-"})
    log(f"wrote {path} in {time.monotonic() - started:.0f} s")
    return path
