"""The Jinja2 environment of the report's templates (``report/templates``, package data).

Every value a template prints is escaped (autoescape: token symbols and names, attestation
URIs and references come from the chain, so from whoever can write to it); a name the
template does not receive is an error (``StrictUndefined``), not an empty string.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

# A report link the page makes live: http(s) or ipfs, and nothing a browser would strip or
# read differently (no space or control character anywhere); anything else stays text.
_LINK = re.compile(r"(?:https?|ipfs)://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)


def is_link(value: Any) -> bool:
    """True for a URI the page may link to: http://, https:// or ipfs://."""
    return isinstance(value, str) and _LINK.fullmatch(value) is not None


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("somstack.report", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, extensions=["jinja2.ext.do"])
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["g"] = lambda x: f"{x:g}"
    env.tests["link"] = is_link
    return env


ENV = _environment()


def render(name: str, **context: Any) -> str:
    """The template ``name`` rendered with ``context``."""
    return ENV.get_template(name).render(**context)
