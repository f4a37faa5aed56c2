"""The package's log: every module below the CLI logs to ``logging.getLogger(__name__)``, under
the ``somstack`` logger, and the CLI's ``main`` runs each command inside :func:`to_stderr`,
which writes each message alone on stderr (INFO; DEBUG with -v), as the operator reads it.

A library caller that configures nothing sees the warnings only (logging's last resort);
one that wants the operator lines calls :func:`configure` (the `brownie run` scripts do), or
adds its own handler.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

ROOT = "somstack"


class _ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler on whatever ``sys.stderr`` (or ``sys.stdout``) is when a record is
    written: pytest's capsys and click's runner replace it after the handler is made."""

    def __init__(self, name: str = "stderr") -> None:
        logging.Handler.__init__(self)
        self.name_of_stream = name

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return getattr(sys, self.name_of_stream)

    @stream.setter
    def stream(self, _value: TextIO) -> None:  # setStream: the stream is looked up at emit time
        pass


class _Formatter(logging.Formatter):
    """The message alone, except for the loggers given a format of their own (the relayer's
    service log carries a time and a level: :func:`use_format`)."""

    def __init__(self) -> None:
        super().__init__("%(message)s")
        self.formats: dict[str, logging.Formatter] = {}

    def format(self, record: logging.LogRecord) -> str:
        own = self.formats.get(record.name)
        return own.format(record) if own is not None else super().format(record)


def _handler() -> _ConsoleHandler | None:
    return next((h for h in logging.getLogger(ROOT).handlers if isinstance(h, _ConsoleHandler)), None)


def configure(verbose: bool = False, stream: str = "stderr") -> logging.Handler:
    """One handler on the ``somstack`` logger writing to ``sys.<stream>`` (made again on every
    call: the CLI's main runs many times in one test process), at INFO, or DEBUG when
    ``verbose``. The `brownie run` scripts write theirs on stdout, as brownie prints."""
    logger = logging.getLogger(ROOT)
    old = _handler()
    if old is not None:
        logger.removeHandler(old)
    if stream not in ("stderr", "stdout"):
        raise ValueError(f"stream must be stderr or stdout, got {stream!r}")
    handler = _ConsoleHandler(stream)
    handler.setFormatter(_Formatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler


@contextmanager
def to_stderr(verbose: bool = False) -> Iterator[logging.Handler]:
    """:func:`configure` for the body only: the handler and the level are gone after it (the
    CLI's main, run many times in one test process, leaves no handler behind)."""
    logger = logging.getLogger(ROOT)
    level, before = logger.level, _handler()
    handler = configure(verbose)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        if before is not None:  # configured by the caller (a script): left as it was
            logger.addHandler(before)
        logger.setLevel(level)


def use_format(name: str, fmt: str) -> None:
    """Records of the logger ``name`` itself (not its children) are written with ``fmt``
    (a :class:`logging.Formatter` format), the others still as the message alone."""
    handler = _handler() or configure()
    formatter = handler.formatter
    if isinstance(formatter, _Formatter):
        formatter.formats[name] = logging.Formatter(fmt)


@contextmanager
def silenced(name: str = ROOT, below: int = logging.WARNING) -> Iterator[None]:
    """The records of logger ``name`` (and its children) under level ``below`` are dropped in
    the body: a command drawing a progress bar, or a demo printing its own summary, keeps the
    per-transaction lines off the terminal; warnings still show."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(below, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(level)
