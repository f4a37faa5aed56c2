"""``--json`` of the reading commands: the same dataclasses the text screens are formatted from,
as JSON. Amounts stay integers in their base units (as the dataclasses hold them: token units,
[wad], [bps], unix seconds), bytes are 0x-hex, and a field's name is the dataclass field's."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses (their fields and nothing else) become objects,
    tuples lists, dict keys strings; an object may give its own form with ``__json__()``."""
    if hasattr(value, "__json__"):
        return jsonable(value.__json__())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, (Decimal, Path)):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"no JSON form for {type(value).__name__}")


def dumps(value: Any) -> str:
    """``value`` as indented JSON text (one document)."""
    return json.dumps(jsonable(value), indent=2)
