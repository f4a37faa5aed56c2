"""Faults for the resumability tests: a sender interrupted in the middle of a run."""

from somstack.core.chain import Sender


class Interrupt(Exception):
    """Stands for a crash, a Ctrl-C or a lost connection in the middle of a run."""


class FlakySender(Sender):
    """A Sender interrupted on its n-th transaction: before sending it, or after sending it but
    before its receipt is awaited (its hash is then kept in `unawaited`)."""

    def __init__(self, *args, fail_at: int, after_send: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fail_at, self.after_send, self.count = fail_at, after_send, 0
        self.unawaited: str | None = None

    def submit(self, tx, what):
        self.count += 1
        if self.count == self.fail_at and not self.after_send:
            raise Interrupt(what)
        tx_hash = super().submit(tx, what)
        if self.count == self.fail_at:
            self.unawaited = tx_hash
            raise Interrupt(what)
        return tx_hash


class CtrlC:
    """Presses Ctrl-C (KeyboardInterrupt) before the `at`-th transaction any Sender submits,
    for as long as `monkeypatch` holds (`monkeypatch.undo()` lifts it)."""

    def __init__(self, monkeypatch, at):
        self.count, self.at = 0, at
        original = Sender.submit

        def submit(sender, tx, what):
            self.count += 1
            if self.count == self.at:
                raise KeyboardInterrupt
            return original(sender, tx, what)

        monkeypatch.setattr(Sender, "submit", submit)
