"""The reorganisations' reconciler: after a bureau's merger (机构改革), each open duty it held is
handed over to its successor on the duty's own proposal (banli.domain.reorganisation), so that
reports after the merger count the duty under the successor. The projections say which duties
are still owed (ReportingStore.owed_handovers); each is sent as its command, with an id derived
from the merger and the proposal, through the same command path as everything else.

Sent again (after a crash, or while a handover is on its way), a command is answered from its
record; a proposal decided on meanwhile has had its handover recorded by that decision (the
kernel hands a merged bureau's duties over before deciding anything on them), and the command
is refused as handed over already. So the reconciler only ever completes what a merger implies,
and may run any number of times: it runs when the projections take in a merger, or a new duty
of a merged bureau (a duty assigned before the merger, projected after it: another partition),
and once on start."""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Sequence

from banli.domain.commands import Command

from .projections.duty_table import ASSIGNMENT_COLUMNS

log = logging.getLogger("banli.reorganisation")

_BUREAU = ASSIGNMENT_COLUMNS.index("bureau")  # in a duty version's row
Send = Callable[[Sequence[Command]], Any]  # decide these commands (their outcomes unread)


class Reconciler:
    """Sends the handovers the projections show owed, in a thread of its own, whenever woken
    (`wake`, a projection listener) and on start."""

    def __init__(self, store: Any, send: Send, batch: int = 500):
        self.store, self.send, self.batch = store, send, batch
        self.merged: set[str] = set()  # the merged bureaus the projections hold
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Send every handover owed now; how many were sent."""
        owed = self.store.owed_handovers()
        self.merged = {b for b, n in self.store.bureau_names().items() if n["merged_into"]}
        for start in range(0, len(owed), self.batch):
            self.send(owed[start:start + self.batch])
        if owed:
            log.info("recorded %d handovers of merged bureaus' duties", len(owed))
        return len(owed)

    def wake(self, rows: Any, states: Any = None) -> None:
        """A projection listener: wake on a merger, or on a duty of a merged bureau."""
        if any(row[4] == "BureauMerged" for row in rows.history) or (
                self.merged and any(row[_BUREAU] in self.merged for row in rows.assignments)):
            with self._idle:
                self._busy = True
            self._wake.set()

    def start(self) -> "Reconciler":
        self._stop.clear()
        self._busy = True
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="reorganisation", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            if self._stop.is_set():
                break
            if not self._wake.is_set():
                continue
            self._wake.clear()
            try:
                self.run_once()
            except Exception:  # the store or the log away for a while: try at the next wake
                log.exception("recording the handovers of merged bureaus")
                self._wake.set()
                self._stop.wait(1.0)
                continue
            with self._idle:
                if not self._wake.is_set():
                    self._busy = False
                    self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is waiting to be reconciled (or the timeout passes)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._idle:
            self._busy = False
            self._idle.notify_all()


