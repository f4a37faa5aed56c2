"""`make bench`, HSM part: how fast keys in a PKCS#11 token sign, and what an HSM relayer key
costs the relayer. Writes benchmarks/results/hsm.md.

- Signatures per second through SoftHSM2 (a token of the bench's own, in a temporary folder):
  the token's raw ``CKM_ECDSA`` (``C_Sign`` over a digest) and a whole Ethereum transaction
  (:class:`somstack.core.hsm.HsmAccount`: C_Sign, low-s, ``v`` found, RLP by eth-account), in one
  process and in two at once (the machine's 2 cores; PKCS#11 sessions are per process).
- The relayer's 1,000-authorization load (100 senders, 32 requests at a time on the loopback,
  as tests/relay/test_relay_load.py): `somstack relay serve` as a process of its own, once with a
  plain key (--key-env) and once with an HSM key (--hsm-key), on one anvil.

Development tooling: nothing in the package imports it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from somstack.core.config import Settings

Log = Callable[[str], None]
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "somstack-bench"
PIN = "135790"
SIGN_SECONDS = 3.0
AUTHORIZATIONS, SENDERS, CONCURRENCY = 1000, 100, 32


def softhsm_env(folder: Path) -> dict[str, str]:
    """A fresh SoftHSM2 token in ``folder``; the variables that point SomStack at it."""
    (folder / "tokens").mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin_file = folder / "pin"
    pin_file.write_text(PIN + "\n")
    env = {"SOFTHSM2_CONF": str(conf), "SOMSTACK_PKCS11_MODULE": MODULE, "SOMSTACK_PKCS11_TOKEN": TOKEN,
           "SOMSTACK_PKCS11_PIN_FILE": str(pin_file)}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", PIN + "1"],
                   check=True, capture_output=True, env={**os.environ, **env})
    return env


# --- Signatures per second ---


def _sign_for(what: str, label: str, seconds: float, start_at: float) -> tuple[int, float]:
    """In a process of its own: signs for ``seconds`` from ``start_at``; (count, elapsed)."""
    from somstack.core import hsm

    for attempt in range(5):  # seen once under load: a fresh process found no token while its files were written
        try:
            account = hsm.account_of(hsm.HsmOptions(key=label))
            break
        except hsm.HsmError:
            if attempt == 4:
                raise
            hsm.forget_tokens()
            import pkcs11 as _p

            _p.lib(hsm.HsmOptions().module_path()).reinitialize()
            time.sleep(0.5)
    account.unsafe_sign_hash(b"\x01" * 32)  # the key's tables, the first operation
    import pkcs11

    while time.time() < start_at:
        time.sleep(0.01)
    count, started = 0, time.perf_counter()
    tx = {"to": "0x" + "11" * 20, "value": 1, "gas": 21_000, "gasPrice": 10**9, "chainId": 56, "nonce": 0}
    plain = None
    if what == "plain":
        from eth_account import Account

        plain = Account.create()
    while time.perf_counter() - started < seconds:
        if plain is not None:
            tx["nonce"] = count
            plain.sign_transaction(tx)
        elif what == "raw":
            account._private.sign(os.urandom(32), mechanism=pkcs11.Mechanism.ECDSA)
        else:
            tx["nonce"] = count
            account.sign_transaction(tx)
        count += 1
    return count, time.perf_counter() - started


def signatures_per_second(env: dict[str, str], label: str, log: Log) -> dict[str, dict[int, float]]:
    """{"raw"|"transaction"|"plain": {processes: signatures per second, all processes together}}."""
    context = multiprocessing.get_context("spawn")
    out: dict[str, dict[int, float]] = {}
    for what in ("raw", "transaction", "plain"):
        out[what] = {}
        for processes in (1, 2):
            with context.Pool(processes) as pool:
                start_at = time.time() + 2.0  # every process loaded and logged in first
                runs = pool.starmap(_sign_for, [(what, label, SIGN_SECONDS, start_at)] * processes)
            out[what][processes] = sum(count / elapsed for count, elapsed in runs)
            log(f"  {what}: {processes} process(es): {out[what][processes]:,.0f} signatures/s")
    return out


# --- The relayer under load: plain key against HSM key ---


def _post_all(url: str, bodies: list[dict[str, Any]]) -> list[int | None]:
    import aiohttp

    async def main() -> list[int | None]:
        gate = asyncio.Semaphore(CONCURRENCY)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:

            async def one(body: dict[str, Any]) -> int | None:
                async with gate:
                    try:
                        async with session.post(url + "/v1/transfers", json=body) as reply:
                            return reply.status
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        return None

            return list(await asyncio.gather(*(one(b) for b in bodies)))

    return asyncio.run(main())


def _cli(env: dict[str, str], *argv: str) -> None:
    done = subprocess.run([sys.executable, "-m", "somstack.cli", *argv], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"somstack {' '.join(argv)} failed: {done.stderr.strip().splitlines()[-1:]}")


def _serve_and_load(env: dict[str, str], key_args: list[str], bodies: list[dict[str, Any]], db: Path) -> dict[str, float]:
    from somstack.core.chain import free_port
    from somstack.dev.relaybench import relay_process
    from somstack.relay.store import CONFIRMED, Store

    port = free_port()
    args = ["--network", "local", *key_args, "--db", str(db), "--sender-burst", "100", "--global-burst", "5000",
            "--global-rate", "5000", "--client-burst", "5000", "--client-rate", "5000"]
    with relay_process(env, args, port, Path(str(db) + ".log"), probe="/healthz", timeout=60) as (url, _pid):
        started = time.monotonic()
        answers = _post_all(url, bodies)
        posted = time.monotonic() - started
        if answers.count(202) != len(bodies):
            raise RuntimeError(f"{len(bodies) - answers.count(202)} of {len(bodies)} authorizations not accepted")
        store = Store(db)
        try:
            deadline = time.monotonic() + 600
            while store.counts().get(CONFIRMED, 0) < len(bodies):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {store.counts().get(CONFIRMED, 0)} of {len(bodies)} confirmed in 600 s")
                time.sleep(0.2)
        finally:
            store.close()
        elapsed = time.monotonic() - started
        return {"accepted_per_s": len(bodies) / posted, "confirmed_per_s": len(bodies) / elapsed, "seconds": elapsed}


def relay_throughput(settings: Settings, env: dict[str, str], folder: Path, log: Log) -> dict[str, dict[str, float]]:
    """The load once with a plain relayer key and once with an HSM relayer key."""
    from eth_account import Account
    from web3 import Web3

    from somstack.core import hsm
    from somstack.core.artifacts import Artifacts
    from somstack.core.chain import LocalNode
    from somstack.core.manifest import Manifest
    from somstack.core.signatures import Domain
    from somstack.relay.client import authorization

    chain_id = settings.network("local").chain_id
    with LocalNode(settings, chain_id) as node:
        cli_env = {**os.environ, **env, "SOMSTACK_RPC_LOCAL": node.url, "SOMSTACK_DEPLOYMENTS_DIR": str(folder / "deployments")}
        log("  deploying on a fresh anvil; reserve, minter and holder as in the relayer tests")
        _cli(cli_env, "deploy", "--network", "local")
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        accounts = w3.eth.accounts
        holders = settings.deployment("local").dev_holders
        _cli(cli_env, "reserve", "set-rate", "--rate", "87.5")
        _cli(cli_env, "reserve", "deposit", "--asset", "BNB", "--amount", "1000")
        # BNB counts at most 60/40 of the rest of the reserve: som attested in banks beside it
        _cli(cli_env, "reserve", "attest", "--amount", "50000000", "--as-of", "now", "--report-hash", "0x" + "ab" * 32,
             "--uri", "ipfs://bench")
        _cli(cli_env, "minter", "set", accounts[holders["MINTER"][0]], "--allowance", "100000000")
        holder = accounts[25]
        _cli(cli_env, "mint", holder, "10000000", "--ref", "hsm-bench")
        manifest = Manifest.load(folder / "deployments" / f"{chain_id}.json", chain_id)
        kgst = Artifacts(settings.root).get("Stablecoin").contract(w3, manifest.address("Stablecoin"))
        domain = Domain.of(kgst)
        senders = [Account.create() for _ in range(SENDERS)]
        hashes = [kgst.functions.transfer(s.address, 1000 * 10**18).transact({"from": holder}) for s in senders]
        for tx_hash in hashes:
            w3.eth.wait_for_transaction_receipt(tx_hash)
        recipients = [Account.create().address for _ in range(50)]

        def bodies() -> list[dict[str, Any]]:
            per = AUTHORIZATIONS // SENDERS
            return [authorization(senders[j], domain, kgst.address, recipients[(i * SENDERS + j) % 50], 10**18 + i, 3600)
                    for i in range(per) for j in range(SENDERS)]

        plain = Account.create()
        hsm_address = hsm.generate_key(hsm.HsmOptions(), "bench-relayer")
        for address in (plain.address, hsm_address):
            w3.provider.make_request("anvil_setBalance", [address, hex(1000 * 10**18)])  # type: ignore[arg-type]
        out = {}
        for name, key_args, extra in (
            ("a plain key (--key-env)", ["--key-env", "BENCH_RELAYER_KEY"], {"BENCH_RELAYER_KEY": plain.key.hex()}),
            ("an HSM key (--hsm-key, SoftHSM2)", ["--hsm-key", "bench-relayer"], {}),
        ):
            log(f"  relayer with {name}: {AUTHORIZATIONS:,} authorizations from {SENDERS} senders")
            out[name] = _serve_and_load({**cli_env, **extra}, key_args, bodies(), folder / f"relay-{len(out)}.sqlite")
            log(f"    {out[name]['accepted_per_s']:.0f}/s accepted, {out[name]['confirmed_per_s']:.0f}/s confirmed "
                f"(all in {out[name]['seconds']:.1f} s)")
    return out


# --- The report ---


def write_hsm_report(path: Path, sigs: dict[str, dict[int, float]], relay: dict[str, dict[str, float]], meta: dict[str, str]) -> Path:
    lines = [
        "# HSM signing (PKCS#11): measured",
        "",
        f"Generated by `make bench` ({meta['generated']}, commit {meta['commit']}); {meta['machine']}. SoftHSM2 "
        f"{meta['softhsm']} (Debian `softhsm2`), python-pkcs11 {meta['pkcs11']}. The machine's 2 cores were shared "
        "with other work while measured: figures vary from run to run.",
        "",
        "## Signatures per second through SoftHSM2",
        "",
        "| what | 1 process | 2 processes (together) |",
        "|---|---:|---:|",
        f"| token's raw ECDSA (`C_Sign`, CKM_ECDSA over a 32-byte digest) | {sigs['raw'][1]:,.0f} | {sigs['raw'][2]:,.0f} |",
        f"| Ethereum transaction (`HsmAccount.sign_transaction`: C_Sign, low-s, v found, RLP) | "
        f"{sigs['transaction'][1]:,.0f} | {sigs['transaction'][2]:,.0f} |",
        f"| for comparison: the same transaction signed by a key in memory (eth-account, eth-keys' Python backend) | "
        f"{sigs['plain'][1]:,.0f} | {sigs['plain'][2]:,.0f} |",
        "",
        "`v` is found by one verification against the key's public point with fixed-base tables "
        "(somstack/_secp256k1.py): about 0.3 ms in Python (Jacobian coordinates, one inversion), where eth-keys' trial recoveries take 5 to 10 ms.",
        "",
        f"## The relayer: {AUTHORIZATIONS:,} authorizations from {SENDERS} senders, {CONCURRENCY} at a time",
        "",
        "`somstack relay serve` as a process of its own on a local anvil, the same load with each relayer key.",
        "",
        "| relayer key | accepted per s | confirmed per s | all confirmed in |",
        "|---|---:|---:|---:|",
    ]
    for name, figures in relay.items():
        lines.append(f"| {name} | {figures['accepted_per_s']:.0f} | {figures['confirmed_per_s']:.0f} | {figures['seconds']:.1f} s |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def run_hsm_bench(settings: Settings, folder: Path, log: Log = print, relay: bool = True) -> Path | None:
    """Measures and writes ``folder``/hsm.md; skipped (said) when SoftHSM2 is not installed."""
    import importlib.metadata
    import platform

    if not Path(MODULE).is_file():
        log(f"HSM bench skipped: SoftHSM2 is not installed ({MODULE}); `make install` installs it")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        env = softhsm_env(Path(tmp) / "softhsm")
        os.environ.update(env)  # for the signing processes and this one (the module reads it once per process)
        from somstack.core import hsm

        hsm.generate_key(hsm.HsmOptions(), "bench-signer")
        hsm.forget_tokens()  # logged out, the token's files written, before other processes open it
        log("HSM: signatures per second through SoftHSM2")
        sigs = signatures_per_second(env, "bench-signer", log)
        figures = relay_throughput(settings, env, Path(tmp), log) if relay else {}
        hsm.forget_tokens()
    softhsm = subprocess.run(["softhsm2-util", "--version"], capture_output=True, text=True).stdout.strip()
    meta = {"generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": _commit(settings.root),
            "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}",
            "softhsm": softhsm, "pkcs11": importlib.metadata.version("python-pkcs11")}
    path = write_hsm_report(folder / "hsm.md", sigs, figures, meta)
    log(f"wrote {path}")
    return path


def _commit(root: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"
