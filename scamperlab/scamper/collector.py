"""What one controller gathers from its instances: results, errors, callbacks, end of stream.

A ``ScamperCtrl`` creates one :class:`Collector` and hands it to every
instance it attaches. Instances report to it (a result, an error, ``MORE``,
a task finished, end of stream) and the controller takes from it in
``poll()``/``responses()``. It is the whole interface between the two
sides: an instance never sees the controller, and the controller never
sees an instance's protocol state.

Callbacks, their ``param`` and the outfile are read from the controller's
public attributes when used, because scripts may reassign them at any time.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from scamperlab.scamper.results import ScamperCycle, ScamperList


class Owner(Protocol):
    """The controller's public attributes a collector reads (CAIDA's names)."""

    morecb: Callable[..., Any] | None
    eofcb: Callable[..., Any] | None
    param: Any
    outfile: Any


class Tally:
    """One instance's account with its collector.

    ``resultc`` counts its results not yet taken by the user: its ``eofcb``
    is due only once the user has seen all of them (``eof_pending`` until then).
    """

    __slots__ = ("eof_pending", "handle", "inst", "resultc")

    def __init__(self, inst: Any, handle: int) -> None:
        self.inst = inst  # the ScamperInst callbacks and results name
        self.handle = handle
        self.resultc = 0
        self.eof_pending = False


class Collector:
    """Results, exceptions, the open task count and the attached instances of one controller."""

    def __init__(self, owner: Owner, meta: bool) -> None:
        self.owner = owner
        self.meta = meta  # whether list and cycle records reach the user
        self.attached: dict[int, Any] = {}  # handle -> ScamperInst, in attach order
        self.results: deque[tuple[Any, Tally]] = deque()
        self.exceptions: deque[BaseException] = deque()
        self.taskc = 0  # asynchronous tasks not yet answered
        self.eof_waiting: list[Tally] = []  # ended instances whose eofcb is due

    # -- what instances report ----------------------------------------------------

    def attach(self, tally: Tally) -> None:
        self.attached[tally.handle] = tally.inst

    def detach(self, tally: Tally) -> None:
        """The user removed the instance: no eofcb, it is simply gone."""
        del self.attached[tally.handle]

    def ended(self, tally: Tally) -> None:
        """The instance reached end of stream; its eofcb waits for its last result."""
        self.attached.pop(tally.handle, None)
        if tally.resultc > 0:
            tally.eof_pending = True
        else:
            self.eof_waiting.append(tally)

    def task_started(self) -> None:
        self.taskc += 1

    def task_ended(self) -> None:
        self.taskc -= 1

    def result(self, obj: Any, tally: Tally) -> None:
        tally.resultc += 1
        self.results.append((obj, tally))

    def error(self, exc: BaseException) -> None:
        self.exceptions.append(exc)

    def more(self, inst: Any) -> None:
        """The instance said ``MORE``: it wants commands."""
        morecb = self.owner.morecb
        if morecb is not None:
            try:
                morecb(self.owner, inst, self.owner.param)
            except Exception as exc:
                self.exceptions.append(exc)

    def record(self, obj: Any, record: bytes) -> None:
        """Every record received, decoded or not, goes to the outfile as it came."""
        outfile = self.owner.outfile
        if outfile is None:
            return
        with contextlib.suppress(Exception):  # the real module swallows write errors too
            outfile._write_record(obj, record)  # ScamperFile's writer for controllers

    # -- what the controller takes ----------------------------------------------------

    def raise_pending(self) -> None:
        """Raise the oldest exception not yet raised, if any."""
        if self.exceptions:
            raise self.exceptions.popleft()

    def pop_result(self) -> Any:
        """The next result for the user, or None; meta records are skipped unless asked for."""
        while self.results:
            obj, tally = self.results.popleft()
            tally.resultc -= 1
            if tally.eof_pending and tally.resultc == 0:
                self.eof_waiting.append(tally)
            if not self.meta and isinstance(obj, ScamperList | ScamperCycle):
                continue
            return obj
        return None

    def run_eofcbs(self, raise_direct: bool) -> None:
        """Call the eofcb of every instance whose end is due, raising or queueing its errors."""
        while self.eof_waiting:
            tally = self.eof_waiting.pop(0)
            tally.eof_pending = False
            eofcb = self.owner.eofcb
            if eofcb is None:
                continue
            if raise_direct:
                eofcb(self.owner, tally.inst, self.owner.param)
            else:
                try:
                    eofcb(self.owner, tally.inst, self.owner.param)
                except Exception as exc:
                    self.exceptions.append(exc)

    def is_done(self) -> bool:
        return not self.results and not self.attached and not self.eof_waiting
