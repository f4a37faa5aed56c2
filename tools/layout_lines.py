#!/usr/bin/env python3
"""Lines of Python in each package of src/somstack (every .py file under it, blank lines and
comments included, as `wc -l` counts them).

    python tools/layout_lines.py           # prints one line per package, lowest layer first
    python tools/layout_lines.py --write   # refreshes the "(N lines)" counts in README.md's Layout

--write touches only the package lines between README's `<!-- package-lines` and
`<!-- /package-lines -->` markers (lines like `  core/     (1,234 lines)  ...`); the words after
the count are the README's own. Standard library only: it runs before `make install`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "somstack"
README = ROOT / "README.md"
# the layers of tests/test_layers.py, lowest first (relay, report and monitor are one layer)
ORDER = ["core", "system", "ops", "relay", "report", "monitor", "cli", "dev"]
BEGIN, END = "<!-- package-lines", "<!-- /package-lines -->"
LINE = re.compile(r"^(\s+)([a-z_]+)/(\s+)(\((?:N|[\d,]+) lines\)\s*)")


def counts() -> dict[str, int]:
    """Package name -> lines of its .py files; packages not in ORDER come after, by name."""
    packages = sorted((p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()),
                      key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))
    return {name: sum(len(f.read_text().splitlines()) for f in (PKG / name).rglob("*.py")) for name in packages}


def rewrite(text: str, lines: dict[str, int]) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {BEGIN!r} ... {END!r} block")
    seen = set()

    def fill(match: re.Match) -> str:
        indent, name, gap, old = match.groups()
        if name not in lines:
            return match.group(0)
        seen.add(name)
        count = f"({lines[name]:,} lines)"
        # the words after the count keep their column while the count fits in the old one
        return f"{indent}{name}/{gap}{count.ljust(len(old)) if len(count) < len(old) else count + ' '}"

    block = "\n".join(LINE.sub(fill, row) for row in text[start:end].split("\n"))
    missing = [name for name in lines if name not in seen]
    if missing:
        raise SystemExit(f"README.md's Layout has no line for: {', '.join(missing)}")
    return text[:start] + block + text[end:]


def main(argv: list[str]) -> int:
    lines = counts()
    if argv == ["--write"]:
        README.write_text(rewrite(README.read_text(), lines))
    elif argv:
        print("usage: python tools/layout_lines.py [--write]", file=sys.stderr)
        return 2
    width = max(map(len, lines))
    for name, n in lines.items():
        print(f"src/somstack/{name + '/':<{width + 1}} {n:>7,} lines")
    print(f"{'total':<{width + 14}} {sum(lines.values()):>7,} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
