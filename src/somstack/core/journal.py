"""What this process sent, for the words of an interrupt: every transaction a
:class:`~somstack.core.chain.Sender` submits is noted here as sent, then as mined (or reverted) when
its receipt is seen. On Ctrl-C the CLI prints what was mined, what is pending (sent, receipt not
seen: it may still be mined) and the command that resumes (:func:`interrupt_lines`).

One journal per process; :func:`reset` starts a new one (each CLI run)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Entry:
    what: str
    tx_hash: str
    state: str = "sent"  # sent (no receipt seen yet), mined, reverted
    block: int | None = None


@dataclass
class Journal:
    entries: list[Entry] = field(default_factory=list)
    by_hash: dict[str, Entry] = field(default_factory=dict)

    def sent(self, what: str, tx_hash: str) -> None:
        if tx_hash in self.by_hash:
            return
        entry = Entry(what, tx_hash)
        self.entries.append(entry)
        self.by_hash[tx_hash] = entry

    def seen(self, tx_hash: str, block: int | None, ok: bool) -> None:
        entry = self.by_hash.get(tx_hash)
        if entry is not None:
            entry.state, entry.block = ("mined" if ok else "reverted"), block

    def of_state(self, state: str) -> list[Entry]:
        return [e for e in self.entries if e.state == state]


_current = Journal()
SHOWN = 20  # entries listed per state; the rest are counted


def current() -> Journal:
    return _current


def reset() -> Journal:
    global _current
    _current = Journal()
    return _current


def interrupt_lines(resume: str, journal: Journal | None = None) -> list[str]:
    """What an interrupt says: mined, reverted and pending transactions of this run (the first
    :data:`SHOWN` of each, then a count) and how to resume."""
    journal = journal or _current
    mined, reverted, pending = (journal.of_state(s) for s in ("mined", "reverted", "sent"))
    out = [f"Interrupted: this run sent {len(journal.entries):,} transaction(s): {len(mined):,} mined, "
           f"{len(reverted):,} reverted, {len(pending):,} pending (sent, not yet seen mined)"]
    for title, entries in (("mined", mined), ("reverted", reverted), ("pending", pending)):
        for e in entries[:SHOWN]:
            out.append(f"  {title}: {e.what}: {e.tx_hash}" + (f" (block {e.block:,})" if e.block is not None else ""))
        if len(entries) > SHOWN:
            out.append(f"  ... and {len(entries) - SHOWN:,} more {title}")
    if pending:
        out.append("  a pending transaction may still be mined; a rerun looks on chain first and does not send what was mined")
    if not journal.entries:
        out.append("  nothing was sent")
    out.append(f"resume with: {resume}")
    return out
