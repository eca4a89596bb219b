"""Which VPs are on the mux: watching sc_remoted's socket directory.

sc_remoted makes one unix socket per connected VP and has no other way to
tell anyone about VPs; :class:`Presence` turns that directory into the set of
present VPs, feeds the VP supervisor (which restarts a VP that never shows
up) and scamperlab's mux registry (which announces and withdraws VPs), and
lets the lab's callers wait for a VP to come or go.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Protocol

from scamperlab.mux.registry import VpRegistry
from scamperlab.processes.remoted import VpSocket, scan_vp_sockets


class Supervision(Protocol):
    """Who is told which VPs have sockets: the VP supervisor, or (on a cluster's
    controller, whose VPs run elsewhere) a plain list (:mod:`scamperlab.lab.cluster`)."""

    @property
    def vps(self) -> Mapping[str, object]:
        """The VPs expected to come (scanned for fast while some are absent)."""
        ...

    @property
    def held(self) -> AbstractSet[str]:
        """Those of them stopped on purpose, not expected."""
        ...

    def check(self, sockets: dict[str, set[Path]], judge: bool = True) -> set[str]:
        """The VPs that are up, given each VP's sockets (``judge``: also act on the absent)."""
        ...

    def fresh_sockets(self, name: str) -> set[Path]:
        """The sockets of ``name`` its current scamper may own."""
        ...


# Seconds between two scans of the socket directory, and between two looks at
# the kernel's view of each absent VP (see VpSupervisor.check).
SCAN_INTERVAL = 0.2
# Seconds between two scans while a VP is absent (starting, or restarted), per
# VP of the lab: a scan costs some tens of microseconds a VP, so a 100-VP lab
# sees a VP within 20 ms of its arrival, not 200 (a tenth of its start-up),
# and a 1,000-VP lab scans as before.
FAST_SCAN_PER_VP = 0.0002


class Presence:
    """The VPs present on sc_remoted, kept current by :meth:`watch` on the lab's loop."""

    def __init__(
        self,
        socket_dir: Path,
        supervisor: Supervision,
        registry: VpRegistry | None,
        on_change: Callable[[], None],
        scan: Callable[[], list[VpSocket]] | None = None,
    ) -> None:
        self.socket_dir = socket_dir
        # Where the sockets are learnt from: sc_remoted's directory unless told otherwise
        # (a cluster's lab host, whose sc_remoted is on another host).
        self.scan = scan or (lambda: scan_vp_sockets(socket_dir))
        self.supervisor = supervisor
        self.registry = registry  # None where sc_remoted serves the mux itself
        self.on_change = on_change
        self._present: frozenset[str] = frozenset()
        self._changed = threading.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def present(self) -> frozenset[str]:
        return self._present

    def wait_for(
        self,
        done: Callable[[frozenset[str]], bool],
        timeout: float,
        tick: Callable[[frozenset[str]], None] = lambda _present: None,
    ) -> bool:
        """Wait until ``done(present)``; False after ``timeout`` s. ``tick`` sees each change."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self._present):
                tick(self._present)
                if time.monotonic() > deadline:
                    return False
                self._changed.wait(0.5)
        return True

    def start(self) -> None:
        """Start watching (called in the loop's thread)."""
        self._task = asyncio.create_task(self.watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def watch(self) -> None:
        # inotify is not in the standard library: a listdir five times a second
        # costs nothing at 1,000 VPs, and more often while some are absent little more.
        judged = 0.0
        while True:
            now = time.monotonic()
            judge = now - judged >= SCAN_INTERVAL
            if judge:
                judged = now
            self._scan(judge)
            vps = self.supervisor.vps
            wanted = len(vps) - len(self.supervisor.held)
            fast = max(0.02, FAST_SCAN_PER_VP * len(vps))
            await asyncio.sleep(fast if len(self._present) < wanted else SCAN_INTERVAL)

    def _scan(self, judge: bool = True) -> None:
        by_name: dict[str, set[Path]] = {}
        address: dict[Path, str] = {}
        for sock in self.scan():
            if sock.monitor is None:
                continue
            by_name.setdefault(sock.monitor, set()).add(sock.path)
            address[sock.path] = sock.address
        present = frozenset(self.supervisor.check(by_name, judge))
        if self.registry is not None:
            announce = {}
            for name in by_name:
                # Announce the current scamper's socket (a name unknown to the
                # supervisor is announced as it is).
                fresh = self.supervisor.fresh_sockets(name)
                if fresh:
                    path = max(fresh, key=_mtime)
                    announce[name] = (path, address[path])
            self.registry.sync(announce)
        if present != self._present:
            with self._changed:
                self._present = present
                self._changed.notify_all()
            self.on_change()


def _mtime(path: Path) -> float:
    """A socket's age, 0 when it is gone: sc_remoted removes a departed VP's socket at any
    moment, even between two looks at it (seen as 300 VPs departed at once), and an
    error here would end the watch, and with it every later arrival and departure."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
