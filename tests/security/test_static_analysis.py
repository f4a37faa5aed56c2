"""Static analysis and ERC conformance of every production contract (contracts/ without the
mocks of contracts/test/), run by `make test` on every submission.

The project has one compile path: brownie's artifacts and brownie-config.yaml's settings, through
the solc-js shim in .solcx. `somstack.system.verify.analysis_input` turns them into one solc standard JSON
input (the optimizer off: it changes no AST, and was half the compile); crytic-compile compiles
it once with that shim (its solc-json mode, the only mode the shim answers) and exports the result, which slither and slither-check-erc then read without compiling
again. All three are the venv's own (slither-analyzer in pyproject.toml, pinned in constraints.txt).

- slither: no medium or high impact finding outside security/slither-triage.md, and no entry there
  that no longer matches a finding (each entry: detector, contract.function, how many findings).
- slither-check-erc: ERC20 and ERC2612 for Stablecoin, ERC20 for DigitalCurrency, nothing
  missing or wrong (its checks, run for the three on one loaded analysis: erc_checks.py).
"""

import json
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from somstack.system.verify import analysis_input, production_contracts

BIN = Path(sys.executable).parent  # the venv that runs the tests holds slither and crytic-compile
TRIAGE = "security/slither-triage.md"
GATED_IMPACTS = ("High", "Medium")
ERC_CHECKS = [("Stablecoin", "erc20"), ("Stablecoin", "erc2612"), ("DigitalCurrency", "erc20")]
TIMEOUT = 900  # [s] a hung tool fails the test instead of the CI run


def _run(args, cwd):
    """Runs a tool of the venv; returns (exit code, stdout + stderr)."""
    done = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def compiled(settings, tmp_path_factory):
    """The crytic-compile export of every production contract, compiled once."""
    solc = settings.root / ".solcx" / f"solc-v{settings.compiler.version}"
    assert solc.exists(), f"{solc} is missing: run `make install`"
    folder = tmp_path_factory.mktemp("slither")
    target = folder / "somstack"
    target.write_text(json.dumps(analysis_input(settings)))
    code, out = _run(
        ["crytic-compile", str(target), "--compile-force-framework", "solc-json", "--solc", str(solc),
         "--export-format", "standard", "--export-dir", str(folder / "export")],
        settings.root,
    )
    exported = sorted((folder / "export").glob("*.json"))
    assert code == 0 and len(exported) == 1, f"crytic-compile failed ({code}):\n{out[-4000:]}"
    # crytic-compile reads a file back as its own export only under a name ending in _export.json
    return exported[0].rename(folder / "somstack_export.json")


@pytest.fixture(scope="module")
def reports(compiled, settings):
    """slither's and slither-check-erc's JSON reports, the four runs side by side."""
    folder = compiled.parent
    jobs = {
        "slither": ["slither", str(compiled), "--filter-paths", "node_modules",
                    "--exclude-low", "--exclude-informational", "--exclude-optimization",
                    "--json", str(folder / "slither.json")],
    }
    outputs = {"slither": folder / "slither.json"}
    outputs.update({(contract, erc): folder / f"{contract}-{erc}.json" for contract, erc in ERC_CHECKS})
    # slither-check-erc's checks of the three pairs in one process: one load of the analysis
    jobs["ercs"] = ["python", str(Path(__file__).with_name("erc_checks.py")), str(compiled),
                    *(f"{contract}:{erc}:{outputs[(contract, erc)]}" for contract, erc in ERC_CHECKS)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        runs = dict(zip(jobs, pool.map(lambda args: _run(args, settings.root), jobs.values())))
    found = {}
    for key, report in outputs.items():
        run = runs["slither" if key == "slither" else "ercs"]
        assert report.exists(), f"{key} wrote no report ({run[0]}):\n{run[1][-4000:]}"
        found[key] = json.loads(report.read_text())
        assert found[key]["success"] and not found[key]["error"], f"{key}: {found[key]['error']}"
    return found


# --- Finding ids ---


def _function_of(element):
    """(contract, function) of a slither result element (a function, or a node in one)."""
    fields = element.get("type_specific_fields", {})
    if element["type"] == "node":
        element = fields["parent"]
        fields = element.get("type_specific_fields", {})
    if element["type"] == "function":
        return fields["parent"]["name"], element["name"]
    if element["type"] == "contract":
        return element["name"], "-"
    return fields.get("parent", {}).get("name", "-"), element["name"]


def finding_id(result):
    """The stable id of a finding: detector · Contract.function."""
    contract, function = _function_of(result["elements"][0])
    return f"{result['check']} · {contract}.{function}"


def triaged():
    """Counter of finding ids listed in security/slither-triage.md: `### <detector> · C.f (×N)`."""
    text = (Path(__file__).resolve().parents[2] / TRIAGE).read_text()
    entries = Counter()
    for detector, where, count in re.findall(r"^### `([\w-]+)` · `([\w$]+\.[\w$-]+)`(?: \(×(\d+)\))?\s*$", text, re.M):
        entries[f"{detector} · {where}"] += int(count or 1)
    return entries


def gated(reports):
    return [r for r in reports["slither"]["results"].get("detectors", []) if r["impact"] in GATED_IMPACTS]


# --- Tests ---


def _exported(compiled):
    """{source path: contract names} of the crytic-compile export."""
    export = json.loads(compiled.read_text())
    return {path: set(source.get("contracts", {}))
            for unit in export["compilation_units"].values() for path, source in unit["source_units"].items()}


def test_analysis_covers_every_production_contract(settings, compiled):
    analysed = set().union(*_exported(compiled).values())
    missing = set(production_contracts(settings)) - analysed
    assert not missing, f"not analysed: {sorted(missing)}"


def test_analysis_covers_every_production_source(settings, compiled):
    on_disk = {str(path.relative_to(settings.root)) for path in (settings.root / "contracts").rglob("*.sol")}
    missing = {path for path in on_disk if not path.startswith("contracts/test/")} - set(_exported(compiled))
    assert not missing, f"not analysed: {sorted(missing)}"


def test_analysis_leaves_out_the_mocks(compiled):
    assert not [path for path in _exported(compiled) if path.startswith("contracts/test/")]


def test_triage_file_lists_entries():
    assert triaged(), f"{TRIAGE} has no entries in the `### `detector` · `Contract.function`` form"


def test_slither_medium_and_high_findings_are_all_triaged(reports):
    found = gated(reports)
    untriaged = Counter(finding_id(r) for r in found) - triaged()
    details = [r["description"].strip() for r in found if finding_id(r) in untriaged]
    assert not untriaged, f"fix these or explain them in {TRIAGE}:\n" + "\n\n".join(details)


def test_slither_triage_has_no_stale_entries(reports):
    stale = triaged() - Counter(finding_id(r) for r in gated(reports))
    assert not stale, f"{TRIAGE} explains findings slither no longer reports, remove them: {dict(stale)}"


@pytest.mark.parametrize("contract,erc", ERC_CHECKS, ids=[f"{c}-{e}" for c, e in ERC_CHECKS])
def test_erc_conformance(reports, contract, erc):
    problems = {kind: [item.get("description", item) for item in items]
                for kind, items in reports[(contract, erc)]["results"]["erc-conformance"].items() if items}
    assert not problems, f"slither-check-erc {contract} --erc {erc}: {problems}"
