"""SomStack: contracts and operator harness for a sovereign digital-money system on BNB Chain.

The package is the one place that compiles (through brownie's artifacts and settings), deploys
(one plan, recorded in ``deployments/<chain-id>.json``) and operates the system. ``scripts/``,
the ``somstack`` CLI and the tests call it; none of them repeats its logic.
"""

__version__ = "0.1.0"
