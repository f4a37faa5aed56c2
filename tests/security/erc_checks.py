"""slither-check-erc's checks of several (contract, ERC) pairs on one loaded analysis.

`slither-check-erc EXPORT CONTRACT --erc ERC --json OUT` loads the whole compilation (about 6 s of
CPU here) for one pair; this runs the same checks, through the functions that command calls
(slither.tools.erc_conformance), for every pair given, after one load, and writes each pair's
JSON report as the command does. Run by tests/security/test_static_analysis.py with the venv's
Python: python erc_checks.py EXPORT CONTRACT:ERC:OUT [CONTRACT:ERC:OUT ...]
"""

import sys
from collections import defaultdict

from slither import Slither
from slither.tools.erc_conformance.__main__ import ADDITIONAL_CHECKS
from slither.tools.erc_conformance.erc.ercs import generic_erc_checks
from slither.utils.erc import ERCS
from slither.utils.output import output_to_json


def main(export: str, pairs: list[str]) -> int:
    slither = Slither(export)
    for pair in pairs:
        name, erc, out = pair.split(":", 2)
        contracts = slither.get_contract_from_name(name)
        if len(contracts) != 1 or erc.upper() not in ERCS:
            output_to_json(out, f"Contract not found: {name}" if len(contracts) != 1 else f"Incorrect ERC selected {erc}",
                           {"erc-conformance": []})
            continue
        found: dict[str, list] = defaultdict(list)
        functions, events = ERCS[erc.upper()]
        generic_erc_checks(contracts[0], functions, events, found)
        if erc.upper() in ADDITIONAL_CHECKS:
            ADDITIONAL_CHECKS[erc.upper()](contracts[0], found)
        output_to_json(out, None, {"erc-conformance": found})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
