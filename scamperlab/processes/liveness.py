"""Whether a VP that is not on sc_remoted is missing: checked, never guessed from a timer.

A VP's scamper is restarted for being missing only when the kernel says it
has no TCP connection to sc_remoted (read from the VP namespace's own
``/proc/PID/net/tcp``; a VP namespace holds nothing else that talks to the
controller's port) and has had none for :data:`CONNECT_GRACE` seconds *of its
own time*: wall-clock time minus the time the scheduler kept it waiting for a
CPU (``/proc/PID/schedstat``). On a machine whose cores are all busy a
starting scamper may wait seconds before it reaches ``connect()``; that wait
is the machine's, not the VP's, and does not count. A scamper that has lost its
connection (Debian's sleeps 30-61 s before it retries) or never got one
sleeps, and its own time runs at the speed of the wall clock.

One case needs no grace: a scamper whose namespace has opened a TCP
connection since it started (the namespace's ``ActiveOpens`` counter, in
``/proc/PID/net/snmp``) but has none now, and that never appeared on
sc_remoted. Its connection was refused, or taken and closed at once: sc_remoted
closes a newcomer whose 8-byte "magic" equals a connected VP's, and Debian's
scamper seeds that magic with ``srandom(tv_usec)``, so two scampers that reach
that line in the same microsecond (seen about once in ten 100-VP start-ups on
2 cores) collide. Such a scamper sleeps 30-61 s before it tries again; waiting
out the grace would only add 3 s to the start-up.

:class:`Watch` is the decision alone, over :class:`Sample`s, so that it can
be tested without processes; :func:`sample` reads them from ``/proc``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# Seconds of its own time a scamper may go without a TCP connection to sc_remoted.
CONNECT_GRACE = 3.0

Connection = Literal["none", "connecting", "established"]
Verdict = Literal["wait", "missing"]

# /proc/net/tcp states (include/net/tcp_states.h): 01 established, 02 SYN sent.
_STATES: dict[str, Connection] = {"01": "established", "02": "connecting"}


@dataclass(frozen=True)
class Sample:
    """What one look at a VP that sc_remoted has no socket for found."""

    at: float  # monotonic seconds
    queued: float  # seconds its scamper has spent waiting for a CPU, in total
    connection: Connection  # its scamper's TCP connection to sc_remoted
    opened: int | None = None  # TCP connections its namespace has opened, ever


@dataclass
class Watch:
    """One scamper's standing, from its start: judges each new :class:`Sample`."""

    # Seconds a connected scamper may wait for sc_remoted to make its socket:
    # the wait is sc_remoted's queue (about 33 ms a VP when 1,000 connect at once).
    patience: float
    grace: float = CONNECT_GRACE
    # Since when the VP has been in its current condition (None: up).
    since: Sample | None = None
    connected_once: bool = False
    # The namespace's count of opened TCP connections just before the start.
    opened_before: int | None = None
    appeared: bool = False  # on sc_remoted at least once since the start

    @classmethod
    def started(
        cls,
        at: float,
        patience: float,
        grace: float = CONNECT_GRACE,
        opened_before: int | None = None,
    ) -> Watch:
        """A scamper started at ``at``: unconnected, with no CPU wait yet."""
        return cls(patience, grace, Sample(at, 0.0, "none"), opened_before=opened_before)

    def arrived(self) -> None:
        """sc_remoted has a socket for the VP: it is up."""
        self.since, self.connected_once, self.appeared = None, True, True

    def judge(self, now: Sample) -> tuple[Verdict, str]:
        """Whether a VP that sc_remoted has no socket for may still come or is missing (why)."""
        connected = now.connection != "none"
        if self.since is None or (self.since.connection != "none") != connected:
            self.since = now  # a new condition starts now
        if connected:
            self.connected_once = True
            waited = now.at - self.since.at
            if waited > self.patience:
                return "missing", (
                    f"connected but never appeared on sc_remoted within {self.patience:g} s"
                )
            return "wait", f"connected {waited:.1f} s, sc_remoted has no socket yet"
        if (
            not self.appeared
            and self.opened_before is not None
            and now.opened is not None
            and now.opened > self.opened_before
        ):
            return "missing", (
                "scamper's connection to sc_remoted ended before sc_remoted had a socket"
                " for it (refused, or closed at once)"
            )
        own = (now.at - self.since.at) - max(0.0, now.queued - self.since.queued)
        if own <= self.grace:
            return "wait", f"no connection for {own:.1f} s of its own time"
        wall = now.at - self.since.at
        what = "lost its connection to" if self.connected_once else "never connected to"
        return "missing", (
            f"scamper {what} sc_remoted: none for {wall:.1f} s ({own:.1f} s not waiting for a CPU)"
        )


def connection(pid: int, port: int) -> Connection | None:
    """Process ``pid``'s namespace's TCP connection to ``port``; None when ``pid`` is gone."""
    suffix = f":{port:04X}"
    try:
        lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    found: Connection = "none"
    # Field 2 is the remote address:port in hex, field 3 the state.
    for fields in (line.split() for line in lines):
        if fields[2].endswith(suffix) and (state := _STATES.get(fields[3])) is not None:
            if state == "established":
                return state
            found = state
    return found


def listening(pid: int, port: int) -> bool:
    """Whether anything in ``pid``'s network namespace listens on TCP ``port``."""
    suffix = f":{port:04X}"
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            # Field 1 is local address:port in hex, field 3 the state (0A = LISTEN).
            fields = line.split()
            if fields[1].endswith(suffix) and fields[3] == "0A":
                return True
    return False


def opened(pid: int) -> int | None:
    """TCP connections ``pid``'s network namespace has opened (``ActiveOpens``); None if unknown."""
    try:
        rows = [line.split() for line in Path(f"/proc/{pid}/net/snmp").read_text().splitlines()]
        names, values = (row for row in rows if row and row[0] == "Tcp:")
        return int(values[names.index("ActiveOpens")])
    except (OSError, ValueError, IndexError):
        return None


def cpu_wait(pid: int) -> float | None:
    """Seconds ``pid`` has spent runnable but waiting for a CPU; None when unknown.

    ``/proc/PID/schedstat`` is: time on a CPU, time waiting on a run queue
    (nanoseconds), timeslices.
    """
    try:
        fields = Path(f"/proc/{pid}/schedstat").read_text().split()
        return int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def sample(pid: int, port: int, opened_before: int | None = None) -> Sample | None:
    """A look at scamper ``pid`` now; None when it is gone (its pidfd reports the death).

    With ``opened_before`` (its namespace's count when it started), a namespace
    that has opened nothing since has no connection: its ``/proc/PID/net/tcp``
    (a walk of the host's whole TCP table) is not read.
    """
    # The counter first: a connection it counts has then either ended or shows
    # in the table read after it, never neither.
    count = opened(pid)
    if count is not None and count == opened_before:
        conn: Connection | None = "none"
    else:
        conn = connection(pid, port)
    queued = cpu_wait(pid)
    if conn is None:
        return None
    # Without schedstats (a kernel built without them) the grace is wall-clock time.
    return Sample(time.monotonic(), queued or 0.0, conn, count)
