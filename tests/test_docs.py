"""The README and the pages of docs/ stay true to the repository: every relative link reaches a file
(and a heading, for a link with an anchor), the README's map lists every page of docs/, every
`make` target the README names is one of the Makefile's, and its Layout has a line for every
package of src/somstack (tools/layout_lines.py fills their line counts)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, ROOT / "security" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _links(page: Path) -> list[str]:
    return [t for t in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_reach_their_file_and_heading(page):
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md":
            if anchor not in {_slug(h) for h in re.findall(r"^#+ (.*)$", dest.read_text(), re.M)}:
                broken.append(target)
    assert broken == []


def test_readme_map_lists_every_docs_page():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _links(README)}
    assert [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked] == []


def test_readme_make_targets_exist():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", README.read_text()))
    assert named and named - targets == set()


def test_readme_layout_has_every_package():
    spec = importlib.util.spec_from_file_location("layout_lines", ROOT / "tools" / "layout_lines.py")
    layout_lines = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layout_lines)
    counts = layout_lines.counts()
    assert set(layout_lines.ORDER) <= set(counts)
    try:
        layout_lines.rewrite(README.read_text(), counts)
    except SystemExit as missing:  # names the packages without a line
        pytest.fail(str(missing))
