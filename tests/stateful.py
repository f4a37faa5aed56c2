"""Settings shared by the hypothesis stateful tests (brownie's `state_machine`)."""

import os


def stateful_settings(default_examples: int, default_steps: int = 20) -> dict:
    """Fixed-seed settings for CI; SOMSTACK_STATEFUL_EXAMPLES / SOMSTACK_STATEFUL_STEPS deepen a run."""
    return {
        "max_examples": int(os.environ.get("SOMSTACK_STATEFUL_EXAMPLES", default_examples)),
        "stateful_step_count": int(os.environ.get("SOMSTACK_STATEFUL_STEPS", default_steps)),
        "deadline": None,  # a step is a chain transaction: no per-example time limit
        "derandomize": True,  # the same examples on every run (CI reproducibility)
        "database": None,  # no replay of examples saved by earlier runs on this machine
        "report_multiple_bugs": False,
    }
