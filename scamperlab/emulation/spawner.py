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

Entering a node and coming back is the fork server's own mechanism
(:mod:`scamperlab.emulation.forkserver`: ``_Home``, ``_visiting``), used
here as it is; its home is the process's namespaces, which the lab's
threads never leave.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from scamperlab.emulation.forkserver import _check, _Home, _libc, _Stranded, _visiting

_CLONE_FS = 0x00000200


class SpawnerUnavailable(OSError):
    """The spawner thread could not be set up, or can no longer come back home."""


_Job = tuple[int, list[str], dict[str, Any], "Future[subprocess.Popen[bytes]]"]


def _popen(argv: list[str], kwargs: dict[str, Any]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, start_new_session=True, close_fds=True, **kwargs)


class NodeSpawner:
    """One thread that starts programs in nodes' namespaces (see the module's docstring)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: str | None = None
        self._thread = threading.Thread(target=self._serve, name="node-spawner", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise SpawnerUnavailable(self._error)

    def popen(self, pid: int, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the network and mount namespaces of process ``pid``."""
        if self._error is not None:
            raise SpawnerUnavailable(self._error)
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
            home = _Home()
        except OSError as exc:
            self._error = str(exc)
            return
        finally:
            self._ready.set()
        while (job := self._jobs.get()) is not None:
            pid, argv, kwargs, done = job
            started: subprocess.Popen[bytes] | None = None
            try:
                with _visiting(home, pid, ("net", "mnt")):
                    # As mnexec -a leaves it: the working directory is the node's root.
                    started = _popen(argv, kwargs)
            except _Stranded as exc:
                # Never start the next program from inside this node: stop serving.
                self._error = str(exc)
            except BaseException as exc:  # the caller's to handle, in its thread
                done.set_exception(exc)  # answered once home (_visiting came back)
                continue
            # Answered once home: whoever waits may rely on this thread being back.
            if started is not None:
                done.set_result(started)
            if self._error is not None:
                self._fail_pending(done)
                return

    def _fail_pending(self, current: Future[subprocess.Popen[bytes]]) -> None:
        """Stranded: fail this job (if it did not start) and every queued one."""
        error = SpawnerUnavailable(self._error or "stranded")
        if not current.done():
            current.set_exception(error)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[3].set_exception(error)
