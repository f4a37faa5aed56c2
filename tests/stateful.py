"""Settings shared by the hypothesis stateful tests (brownie's `state_machine`)."""

import os
import time

import requests
from brownie import web3
from brownie.exceptions import TransactionError
from brownie.network.transaction import TransactionReceipt
from hypothesis import Phase

# Set by tests/conftest.py from pytest's `--long` option: deeper runs, same fixed seed.
LONG = False
LONG_EXAMPLES_FACTOR = 8
LONG_STEPS = 50
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


def stateful_settings(default_examples: int, default_steps: int = 20) -> dict:
    """Fixed-seed settings for CI. `pytest --long` takes 8x the examples and 50 steps each;
    SOMSTACK_STATEFUL_EXAMPLES / SOMSTACK_STATEFUL_STEPS set both explicitly (over --long).
    `LONG` is set in pytest_configure, before the test modules are imported and call this."""
    examples, steps = default_examples, default_steps
    if LONG:
        examples, steps = default_examples * LONG_EXAMPLES_FACTOR, max(default_steps, LONG_STEPS)
    return {
        "max_examples": int(os.environ.get("SOMSTACK_STATEFUL_EXAMPLES", examples)),
        "stateful_step_count": int(os.environ.get("SOMSTACK_STATEFUL_STEPS", steps)),
        "deadline": None,  # a step is a chain transaction: no per-example time limit
        "derandomize": True,  # the same examples on every run (CI reproducibility)
        "database": None,  # no replay of examples saved by earlier runs on this machine
        "report_multiple_bugs": False,
        # SOMSTACK_STATEFUL_NO_SHRINK=1 reports the first failing example as found (mutation runs)
        **({"phases": NO_SHRINK} if os.environ.get("SOMSTACK_STATEFUL_NO_SHRINK") else {}),
    }


def send_patiently(send):
    """Sends a transaction through brownie. On a loaded machine brownie may see the sender's
    nonce move before anvil has stored the receipt and call the mined transaction "dropped";
    then the receipt is fetched again (a reverted one comes back with status 0)."""
    try:
        return send()
    except TransactionError as exc:
        if "dropped without known replacement" not in str(exc):
            raise
        time.sleep(0.2)
        return TransactionReceipt(str(exc).split()[-1])


class BatchReader:
    """Reads many contract views in one JSON-RPC batch of eth_calls.

    `read({key: (contract, function name, args)})` -> {key: decoded value}; `block` and `time`
    evaluate them at a block, or with the block's timestamp overridden (anvil's eth_call block
    overrides), e.g. at the timestamp a pinned next block will have."""

    def __init__(self):
        self.session = requests.Session()
        self.url = web3.provider.endpoint_uri
        self._calldata = {}

    def _encode(self, contract, fn, args):
        key = (contract.address, fn, args)
        if key not in self._calldata:
            self._calldata[key] = getattr(contract, fn).encode_input(*args)
        return self._calldata[key]

    def raw(self, calls, block="latest", time=None):
        """{key: (contract, fn, args)} -> {key: ("ok", hex result) or ("revert", revert data)}."""
        keys = list(calls)
        batch = []
        for i, key in enumerate(keys):
            contract, fn, args = calls[key]
            params = [{"to": contract.address, "data": self._encode(contract, fn, args)}, block]
            if time is not None:
                params += [None, {"time": hex(time)}]
            batch.append({"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": params})
        answers = {a["id"]: a for a in self.session.post(self.url, json=batch, timeout=60).json()}
        out = {}
        for i, key in enumerate(keys):
            answer = answers[i]
            if "result" in answer:
                out[key] = ("ok", answer["result"])
            else:
                out[key] = ("revert", (answer.get("error") or {}).get("data"))
        return out

    def read(self, calls, block="latest", time=None):
        out = {}
        for key, (status, data) in self.raw(calls, block, time).items():
            assert status == "ok", f"eth_call {calls[key][1]}{calls[key][2]} reverted: {data}"
            contract, fn, _args = calls[key]
            out[key] = getattr(contract, fn).decode_output(data)
        return out
