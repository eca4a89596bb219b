"""Where a lab keeps its state, and how a crashed lab is cleaned up.

A lab owns a directory ``<root>/<lab name>/`` (``/run/scamperlab`` unless
``SCAMPERLAB_STATE_DIR`` says otherwise) holding its sockets, logs, a lock
and ``state.json``: every process it started, by PID *and* start time, so a
later ``up``/``down`` can kill exactly those processes (never others that
reused a PID, never anything by name) when the owner died without tearing
down. The lock is held by the owning process for the lab's lifetime; a lock
that can be taken means the owner is gone and the state is stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scamperlab.emulation import tunnel
from scamperlab.emulation.netns import pinned_namespaces, processes_in
from scamperlab.errors import LabStateError

# sockaddr_un.sun_path holds 108 bytes including the NUL.
MAX_SOCKET_PATH = 107


def state_root() -> Path:
    return Path(os.environ.get("SCAMPERLAB_STATE_DIR", "/run/scamperlab"))


def process_starttime(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it is gone.

    A zombie counts as gone: it has exited, and only its parent can reap it.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces; fields follow the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def kill_process(pid: int, starttime: int | None, timeout: float = 5.0) -> bool:
    """SIGTERM then SIGKILL ``pid``, but only if it is still the process we started."""
    if starttime is None or process_starttime(pid) != starttime:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_starttime(pid) != starttime:
            return True
        _reap(pid)
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        _reap(pid)
        if process_starttime(pid) != starttime:
            break
        time.sleep(0.02)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


@dataclass
class TrackedProcess:
    pid: int
    starttime: int | None
    kind: str
    name: str


_LAB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def check_lab_name(name: str) -> str:
    """A lab name becomes a directory name: nothing that could point elsewhere."""
    if not _LAB_NAME_RE.match(name):
        raise LabStateError(
            f"invalid lab name {name!r}: use letters, digits, '.', '_' and '-'"
            " (starting with a letter or digit, at most 63 characters)"
        )
    return name


@dataclass
class LabState:
    """The on-disk record of one running lab, owned by the process that holds its lock."""

    name: str
    root: Path = field(default_factory=state_root)
    processes: dict[int, TrackedProcess] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    _lock_fd: int | None = None
    # The loop thread (VP supervision) and the main thread (start-up, audits)
    # both record processes: one writer at a time, or a save can be lost.
    _save_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _throttle: float = 0.0
    _saved_at: float = 0.0

    def __post_init__(self) -> None:
        check_lab_name(self.name)

    @property
    def dir(self) -> Path:
        return self.root / self.name

    def path(self, *parts: str) -> Path:
        return self.dir.joinpath(*parts)

    def acquire(self) -> list[str]:
        """Take ownership of the lab's directory, cleaning a crashed predecessor's state.

        Returns what was cleaned, for the user to see.
        """
        cleaned: list[str] = []
        if self.dir.exists():
            fd = self._try_lock()
            if fd is None:
                owner = read_state(self.name, self.root) or {}
                raise LabStateError(
                    f"lab {self.name!r} is already running (pid {owner.get('owner_pid', '?')});"
                    f" run 'scamperlab down {self.name}' first, or pick another name with --name"
                )
            os.close(fd)
            cleaned = cleanup_stale(self.dir)
        self.dir.mkdir(parents=True, mode=0o755)
        fd = self._try_lock()
        if fd is None:  # pragma: no cover - another up raced us between mkdir and lock
            raise LabStateError(f"lab {self.name!r} is being started by another process")
        self._lock_fd = fd
        self.info.update(owner_pid=os.getpid(), owner_starttime=process_starttime(os.getpid()))
        self.save()
        return cleaned

    def _try_lock(self) -> int | None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def track(self, kind: str, name: str, pid: int) -> None:
        with self._save_lock:
            self.processes[pid] = TrackedProcess(pid, process_starttime(pid), kind, name)
            self.save()

    @contextlib.contextmanager
    def throttled(self, interval: float = 0.5) -> Iterator[None]:
        """Save at most every ``interval`` seconds inside the block, and once at its end.

        Each save writes every process and VP, so saving after each of a
        thousand VPs' PIDs is quadratic (seconds at 1,000 VPs). A crash inside
        the block can lose at most ``interval`` seconds of PIDs from the file.
        """
        with self._save_lock:
            self._throttle = interval
        try:
            yield
        finally:
            with self._save_lock:
                self._throttle = 0.0
                self.save()

    def untrack(self, pid: int) -> None:
        with self._save_lock:
            if self.processes.pop(pid, None) is not None:
                self.save()

    def save(self) -> None:
        with self._save_lock:
            now = time.monotonic()
            if self._throttle and now - self._saved_at < self._throttle:
                return
            self._saved_at = now
            if not self.dir.exists():
                return
            data = dict(
                self.info,
                name=self.name,
                processes=[dict(vars(p)) for p in list(self.processes.values())],
            )
            tmp = self.dir / "state.json.tmp"
            try:
                # No indent: only the C encoder is fast enough for a 1,000-VP lab's state.
                tmp.write_text(json.dumps(data, default=str))
                tmp.replace(self.dir / "state.json")
            except FileNotFoundError:
                pass  # the directory went away: the lab is being removed

    def release(self) -> None:
        """Remove the lab's directory (sockets, logs, state) and give up the lock.

        Only the owner does this: a lab that never got the lock must not remove
        the directory of the lab that has it.
        """
        if self._lock_fd is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            os.close(self._lock_fd)
            self._lock_fd = None


def read_state(name: str, root: Path | None = None) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(
            ((root or state_root()) / name / "state.json").read_text()
        )
    except (OSError, ValueError):
        return None
    return data


def list_labs(root: Path | None = None) -> list[str]:
    base = root or state_root()
    if not base.is_dir():
        return []
    return sorted(
        p.name for p in base.iterdir() if (p / "lock").exists() or (p / "state.json").exists()
    )


def is_running(name: str, root: Path | None = None) -> bool:
    directory = (root or state_root()) / name
    if not (directory / "lock").exists():
        return False
    try:
        fd = os.open(directory / "lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def cleanup_stale(directory: Path, term_timeout: float = 2.0) -> list[str]:
    """Kill what a dead lab's state says it started, then remove its directory.

    One parallel sweep, whatever the lab's size: SIGTERM to every recorded
    program at once and one wait for all of them, then SIGKILL to what is
    left, to the namespace holders (``sleep``, for which SIGTERM means
    nothing) and to every other process inside the lab's namespaces (scamper's
    privilege-separation children, servers' workers), and one wait for all.
    A cluster's tunnel device is deleted first, through the handle on its
    namespace that outlives the lab's processes (:func:`tunnel.pin`), so its
    UDP socket on the host is gone when this returns.
    Signalling one process at a time and waiting for each took 96 s for 14 VPs.
    """
    try:
        data = json.loads((directory / "state.json").read_text())
    except (OSError, ValueError):
        data = {}
    ours = [
        (int(proc["pid"]), proc.get("starttime"), proc)
        for proc in data.get("processes", [])
        if proc.get("starttime") is not None
        and process_starttime(int(proc["pid"])) == proc.get("starttime")
    ]
    holders = [(pid, start) for pid, start, proc in ours if proc.get("kind") == "shell"]
    # A cluster's tunnel goes now, not when the kernel destroys the namespace.
    tunnel.close(directory / tunnel.HANDLE)
    programs = [(pid, start) for pid, start, proc in ours if proc.get("kind") != "shell"]
    inside: set[int] = set()
    with pinned_namespaces(pid for pid, _ in holders) as namespaces:
        _signal_all(programs, signal.SIGTERM)
        _wait_gone(programs, term_timeout)
        _signal_all(programs + holders, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while (left := processes_in(namespaces)) and time.monotonic() < deadline:
            inside.update(left)
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        _wait_gone(programs + holders, 5.0)
    recorded = {pid for pid, _, _ in ours}
    cleaned = [
        f"killed leftover {proc.get('kind')} {proc.get('name')} (pid {pid})"
        for pid, _, proc in ours
    ]
    if inside - recorded:
        cleaned.append(
            f"killed {len(inside - recorded)} other process(es) left in the lab's namespaces"
        )
    shutil.rmtree(directory, ignore_errors=True)
    cleaned.append(f"removed stale state in {directory}")
    return cleaned


def _signal_all(procs: Iterable[tuple[int, int | None]], signum: int) -> None:
    """Signal each process that is still the one recorded (PID and start time)."""
    for pid, start in procs:
        if start is not None and process_starttime(pid) == start:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


def _wait_gone(procs: Iterable[tuple[int, int | None]], timeout: float) -> None:
    """Wait (once, for all) until none of ``procs`` runs, or ``timeout`` passes."""
    waiting = {pid: start for pid, start in procs if start is not None}
    deadline = time.monotonic() + timeout
    while waiting:
        for pid, start in list(waiting.items()):
            _reap(pid)
            if process_starttime(pid) != start:
                del waiting[pid]
        if not waiting or time.monotonic() > deadline:
            return
        time.sleep(0.02)
