"""One real ``scamper -R controller:port -M name`` per VP, kept alive.

A VP is restarted when its scamper dies, and when it is missing from
sc_remoted: it has no connection, checked in the kernel's tables (seen with
Debian's scamper at ~1,000 VPs: one VP never connected and never retried), or
it has one that sc_remoted never turns into a VP (see
:mod:`scamperlab.processes.liveness`). Deaths are noticed through pidfds on
the lab's event loop, not by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.processes import terminate
from scamperlab.processes.binaries import ScamperInstall
from scamperlab.processes.liveness import Watch, opened, sample

log = logging.getLogger(__name__)

# A VP with a live connection may wait this many appearance timeouts for sc_remoted.
CONNECTED_PATIENCE = 6.0
# A VP that was up this long before it died is not in a crash loop (VpProcess.next_delay).
STABLE_S = 60.0

VpState = Literal["starting", "up", "restarting", "stopped"]
EventSink = Callable[[str, str, str], None]  # (kind, vp name, message)


@dataclass
class VpProcess:
    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    state: VpState = "starting"
    # Whether it is missing, judged from the kernel's view of it (see liveness).
    watch: Watch = field(default_factory=lambda: Watch.started(time.monotonic(), 0.0))
    up_since: float | None = None  # wall clock, for status
    restarts: int = 0  # all of them, for status
    failures: int = 0  # in a row: what the back-off counts (next_delay)
    spawned_at: float = 0.0  # monotonic
    was_up: bool = False  # reached sc_remoted since it was last spawned
    last_problem: str | None = None
    # Sockets that belonged to an earlier scamper of this VP: not proof that it is up.
    stale_sockets: frozenset[Path] = frozenset()
    _pidfd: int | None = None
    _restart_handle: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def next_delay(self, now: float) -> float:
        """Seconds to wait before restarting it after a failure at ``now`` (monotonic).

        The back-off keeps a broken binary from spinning, so it counts failures
        in a row only: a scamper that reached sc_remoted and lived
        :data:`STABLE_S` starts afresh, or a VP that crashes now and then would
        soon wait 30 s each time, however long it ran between.
        """
        if self.was_up and now - self.spawned_at >= STABLE_S:
            self.failures = 0
        delay = 0.0 if self.failures == 0 else min(30.0, 0.5 * 2 ** min(self.failures, 6))
        self.failures += 1
        return delay


@dataclass
class VpSupervisor:
    net: EmulatedNetwork
    install: ScamperInstall
    controller: str  # "addr:port"
    log_dir: Path
    on_event: EventSink
    on_pid: Callable[[str, int | None, int | None], None]  # (vp, old pid, new pid)
    appear_timeout: float = 20.0
    vps: dict[str, VpProcess] = field(default_factory=dict)
    sockets: dict[str, set[Path]] = field(default_factory=dict)  # latest scan, by VP name
    loop: asyncio.AbstractEventLoop | None = None
    stopping: bool = False
    # VPs a test has killed on purpose: not restarted until released.
    held: set[str] = field(default_factory=set)

    def start_one(self, name: str, rate: int) -> None:
        """Start one VP's scamper: called as soon as its node is ready, not after all are."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(self.install.scamper), "-p", str(rate), "-R", self.controller, "-M", name]
        vp = VpProcess(name, argv, self.log_dir / f"{name}.log")
        self.vps[name] = vp
        self._spawn(vp)

    def _spawn(self, vp: VpProcess) -> None:
        old = vp.pid
        # Read before the start, from the namespace's holder: after it, the count
        # might already hold this scamper's own connection.
        before = opened(self.net.pid(vp.name))
        with open(vp.log_path, "ab") as logf:
            vp.proc = self.net.popen(vp.name, vp.argv, stdout=logf, stderr=logf)
        vp.spawned_at = time.monotonic()
        vp.was_up = False
        vp.watch = Watch.started(
            vp.spawned_at, self.appear_timeout * CONNECTED_PATIENCE, opened_before=before
        )
        vp.stale_sockets = frozenset(self.sockets.get(vp.name, ()))
        vp.state = "starting" if vp.restarts == 0 else "restarting"
        vp.up_since = None
        self.on_pid(vp.name, old, vp.proc.pid)
        if self.loop is not None:
            self._watch(vp)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching every VP's process from ``loop`` (called in the loop's thread)."""
        self.loop = loop
        for vp in self.vps.values():
            self._watch(vp)

    def _watch(self, vp: VpProcess) -> None:
        assert self.loop is not None and vp.proc is not None
        try:
            vp._pidfd = os.pidfd_open(vp.proc.pid)
        except ProcessLookupError:
            self.loop.call_soon(self._exited, vp)
            return
        self.loop.add_reader(vp._pidfd, self._exited, vp)

    def _unwatch(self, vp: VpProcess) -> None:
        if vp._pidfd is not None:
            if self.loop is not None:
                self.loop.remove_reader(vp._pidfd)
            os.close(vp._pidfd)
            vp._pidfd = None

    def _exited(self, vp: VpProcess) -> None:
        self._unwatch(vp)
        if vp.proc is None or self.stopping:
            return
        code = vp.proc.wait()
        tail = _tail(vp.log_path)
        how = f"exited with status {code}" if code >= 0 else f"was killed by signal {-code}"
        vp.last_problem = f"scamper {how}" + (f": {tail}" if tail else "")
        self.on_event("vp-died", vp.name, vp.last_problem)
        if vp.name in self.held:
            vp.state = "stopped"
            return
        self._schedule_restart(vp)

    def _schedule_restart(self, vp: VpProcess) -> None:
        assert self.loop is not None
        vp.state = "restarting"
        vp.up_since = None
        delay = vp.next_delay(time.monotonic())
        vp.restarts += 1
        vp._restart_handle = self.loop.call_later(delay, self._restart, vp)

    def _restart(self, vp: VpProcess) -> None:
        vp._restart_handle = None
        if self.stopping:
            return
        self.on_event("vp-restarted", vp.name, f"restart #{vp.restarts}")
        self._spawn(vp)

    def hold(self, name: str) -> None:
        """Kill a VP and keep it down until :meth:`release` (called in the loop's thread)."""
        vp = self.vps[name]
        self.held.add(name)
        if vp._restart_handle is not None:
            vp._restart_handle.cancel()
            vp._restart_handle = None
        if vp.proc is not None and vp.proc.poll() is None:
            # _exited() notices the death through the pidfd, as for any crash.
            vp.proc.kill()
        else:
            vp.state = "stopped"

    def release(self, name: str) -> None:
        """Start a held VP again (called in the loop's thread)."""
        vp = self.vps[name]
        self.held.discard(name)
        if vp.proc is None or vp.proc.poll() is not None:
            self._unwatch(vp)
            vp.restarts += 1
            self.on_event("vp-restarted", vp.name, f"restart #{vp.restarts}")
            self._spawn(vp)

    def fresh_sockets(self, name: str) -> set[Path]:
        """Sockets of ``name`` that the VP's current scamper may own."""
        vp = self.vps.get(name)
        current = self.sockets.get(name, set())
        return current - vp.stale_sockets if vp is not None else current

    def check(self, sockets: dict[str, set[Path]], judge: bool = True) -> set[str]:
        """Mark VPs that reached sc_remoted; restart those that have not in time
        (only when ``judge``: that reads the kernel's tables for each absent VP).

        Returns the names of the VPs that are up.
        """
        self.sockets = sockets
        present = {name for name in sockets if self.fresh_sockets(name)}
        for vp in self.vps.values():
            if vp.name in self.held:
                vp.state, vp.up_since = "stopped", None
                continue
            if vp.name in present:
                vp.watch.arrived()
                vp.was_up = True
                if vp.state != "up":
                    vp.state = "up"
                    vp.up_since = time.time()
                continue
            if vp.state == "up":
                vp.state = "restarting" if vp._restart_handle else "starting"
                vp.up_since = None
            if not judge or vp.proc is None or vp.proc.poll() is not None:
                continue
            if vp._restart_handle is not None:
                continue
            seen = sample(vp.proc.pid, self.port, vp.watch.opened_before)
            if seen is None:
                continue  # gone: its death is handled through its pidfd
            verdict, why = vp.watch.judge(seen)
            if verdict != "missing":
                continue
            vp.last_problem = why
            self.on_event("vp-missing", vp.name, vp.last_problem)
            self._unwatch(vp)
            terminate(vp.proc)
            self._schedule_restart(vp)
        return present

    @property
    def port(self) -> int:
        """sc_remoted's TCP port, which every VP connects to."""
        return int(self.controller.rpartition(":")[2])

    def detach(self) -> None:
        """Stop watching and restarting (called in the loop's thread, before it stops)."""
        self.stopping = True
        for vp in self.vps.values():
            if vp._restart_handle is not None:
                vp._restart_handle.cancel()
                vp._restart_handle = None
            self._unwatch(vp)
        self.loop = None

    def stop_all(self) -> None:
        self.stopping = True
        for vp in self.vps.values():
            if vp.proc is not None and vp.proc.poll() is None:
                vp.proc.terminate()
        for vp in self.vps.values():
            if vp.proc is not None:
                terminate(vp.proc)
                self.on_pid(vp.name, vp.proc.pid, None)
            vp.state = "stopped"


def _tail(path: Path, limit: int = 200) -> str:
    with contextlib.suppress(OSError):
        lines = path.read_text(errors="replace").strip().splitlines()
        return lines[-1][-limit:] if lines else ""
    return ""
