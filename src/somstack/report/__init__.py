"""`somstack report`: a static transparency page (proof of reserves, supplies, compliance
actions, governance) built from the deployment manifest and the chain, with no private key.

:mod:`.events` reads logs over block ranges through a disk cache, :mod:`.build` gathers the
figures (reusing :mod:`somstack.ops.reserve` and :mod:`somstack.system.governance`), :mod:`.html` and
:mod:`.svg` write the page, its CSS, its charts and report.json.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from somstack.core.session import Session, session_manifest
from somstack.report.build import Options, ReportError, build_report, default_explorer
from somstack.report.html import write_site

__all__ = ["Options", "ReportError", "build_report", "cache_dir", "default_explorer", "write_report", "write_site"]


def cache_dir(session: Session) -> Path:
    """build/report-cache/<chain-id>-<network>/ under the project root."""
    return session.settings.root / "build" / "report-cache" / f"{session.w3.eth.chain_id}-{session.network.name}"


def check_writable(out_dir: Path) -> None:
    """Raises :class:`ReportError` unless ``out_dir`` exists or can be made, and can be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
    if not out_dir.is_dir() or not os.access(out_dir, os.W_OK | os.X_OK):
        raise ReportError(f"cannot write to the output folder {out_dir}")


def write_report(session: Session, out_dir: Path, options: Options) -> dict[str, Any]:
    """Builds the report of the session's deployment and writes the site into ``out_dir``."""
    check_writable(out_dir)
    manifest = session_manifest(session)
    if options.cache_dir is None:
        options.cache_dir = cache_dir(session)
    options.dev = bool(session.network.dev)
    report = build_report(session.w3, manifest, session.artifacts, session.network.name, options, decoder=session.sender.decoder)
    try:
        write_site(report, out_dir)
    except OSError as exc:
        raise ReportError(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    return report



