"""Start long-lived programs inside a node's namespaces from the lab's own process.

``mnexec -a PID prog`` enters a node's network and mount namespaces and then
execs the program: two ``exec``s per program, and the first (mnexec's own
start, its dynamic linking) cost about 1.2 ms of CPU per VP on a start-up that
is CPU-bound (0.12 s of CPU for 100 VPs, measured with ``perf``).

Here one dedicated thread of the lab's process enters the node's namespaces
itself, starts the program with :class:`subprocess.Popen` (a ``vfork``: the
child inherits the namespaces of the thread that made it, and is the lab's own
child, so its exit status and pidfd are the lab's), and comes back. A thread
may enter another mount namespace only with a filesystem context of its own
(``unshare(CLONE_FS)``): this thread makes one once, and it does nothing
else, so nothing else ever runs in a node's namespaces or sees its working
directory move. Where the thread cannot be made (no ``CAP_SYS_ADMIN``),
callers fall back to ``mnexec``.
"""

from __future__ import annotations

import ctypes
import os
import queue
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

_CLONE_FS = 0x00000200
_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_KINDS = (("net", _CLONE_NEWNET), ("mnt", _CLONE_NEWNS))

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


class SpawnerUnavailable(OSError):
    """The spawner thread could not be set up, or can no longer come back home."""


_Job = tuple[int, list[str], dict[str, Any], "Future[subprocess.Popen[bytes]]"]


class NodeSpawner:
    """One thread that starts programs in nodes' namespaces (see the module's docstring)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._serve, name="node-spawner", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise SpawnerUnavailable(self._error.errno, str(self._error))

    def popen(self, pid: int, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the network and mount namespaces of process ``pid``."""
        if self._error is not None:
            raise SpawnerUnavailable(self._error.errno, str(self._error))
        done: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((pid, list(argv), kwargs, done))
        while True:
            try:
                return done.result(timeout=1.0)
            except TimeoutError:
                if not self._thread.is_alive():  # stranded after this job was queued
                    raise SpawnerUnavailable("the node spawner has stopped") from None

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(5)

    def _serve(self) -> None:
        try:
            _check(_libc.unshare(_CLONE_FS), "a filesystem context of its own")
            home = [(os.open(f"/proc/thread-self/ns/{ns}", os.O_RDONLY), k) for ns, k in _KINDS]
            cwd = os.open(".", os.O_RDONLY)
        except OSError as exc:
            self._error = exc
            return
        finally:
            self._ready.set()
        while (job := self._jobs.get()) is not None:
            pid, argv, kwargs, done = job
            result: subprocess.Popen[bytes] | None = None
            error: BaseException | None = None
            try:
                result = self._start(pid, argv, kwargs)
            except BaseException as exc:  # the caller's to handle, in its thread
                error = exc
            try:
                for fd, kind in home:
                    _check(_libc.setns(fd, kind), "coming back to the lab's namespaces")
                os.fchdir(cwd)  # entering a mount namespace moved us to its root
            except OSError as exc:
                # Never start the next program from inside this node: stop serving.
                self._error = exc
            # Answered once home: whoever waits may rely on this thread being back.
            if result is not None:
                done.set_result(result)
            else:
                done.set_exception(error or RuntimeError("no program started"))
            if self._error is not None:
                self._fail_pending(self._error)
                return

    def _start(self, pid: int, argv: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
        for ns, kind in _KINDS:
            fd = os.open(f"/proc/{pid}/ns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _check(_libc.setns(fd, kind), f"entering the namespaces of {pid}")
            finally:
                os.close(fd)
        # As mnexec -a leaves it: the working directory is the node's root.
        return subprocess.Popen(argv, start_new_session=True, close_fds=True, **kwargs)

    def _fail_pending(self, exc: OSError) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[3].set_exception(SpawnerUnavailable(exc.errno, str(exc)))
