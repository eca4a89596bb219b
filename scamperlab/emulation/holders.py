"""Every node's namespace holder, and every bind mount in a node, made by one fork server.

A node is a ``sleep`` process holding its network and mount namespaces (as
Mininet's ``mnexec -cdn`` holds them). They are started by one small server
(:mod:`scamperlab.emulation.forkserver`) rather than spawned one by one from
the lab's process: the lab's thread then waits for one reply a node instead
of a spawn and two ``exec`` a node, while the server makes each node's
namespaces (``unshare``, its sysctls) and starts its ``sleep`` there.

The holders are not the lab's children, so the lab holds a pidfd to each,
opened as soon as it learns the PID (while the holder sleeps, so it is that
process): killing and waiting through it can never hit a process that
reused the PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scamperlab.emulation import forkserver
from scamperlab.errors import LabStartError


@dataclass
class NodeNamespace:
    """A node's namespaces, held by one ``sleep`` process: the PID is what ``mnexec -a`` joins."""

    name: str
    pid: int
    pidfd: int

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def wait(self, timeout: float) -> bool:
        """Whether the holder has exited within ``timeout`` seconds."""
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.pidfd)


class ForkServer:
    """The lab's one fork server (see :mod:`scamperlab.emulation.forkserver`)."""

    def __init__(self, log_path: Path | None = None) -> None:
        # -I: the server needs only the standard library; nothing on the caller's path.
        # A session of its own: Ctrl-C is the lab's to handle, not the server's. Its
        # stderr is never the caller's: a child still running would keep that open.
        log = subprocess.DEVNULL
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", forkserver.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            if log != subprocess.DEVNULL:
                os.close(log)
        self._buf = b""
        self._pending: list[dict[str, Any]] = []

    def _send(self, request: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise LabStartError(f"the lab's fork server is gone ({exc})") from None

    def _replies(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """The next ``count`` reply lines, as they come (in whatever order)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        # poll, not select: a lab of 1,000 VPs has descriptors above select's 1,024.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while len(self._pending) < count:
            if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
                raise LabStartError(
                    f"the lab's fork server gave {len(self._pending)}/{count} replies in time"
                )
            chunk = os.read(fd, 65536)
            if not chunk:
                raise LabStartError("the lab's fork server exited (see the lab's stderr)")
            *lines, self._buf = (self._buf + chunk).split(b"\n")
            self._pending += [json.loads(line) for line in lines if line]
        got, self._pending = self._pending[:count], self._pending[count:]
        return got

    def holders(
        self,
        nodes: Sequence[tuple[str, dict[str, str]]],
        on_spawned: Callable[[NodeNamespace], None],
        timeout: float = 60.0,
    ) -> None:
        """One holder per (name, sysctls), each reported to ``on_spawned`` once it is ready.

        Every holder that started is reported, even when another failed, so
        that the caller's cleanup knows them all; then the first failure is raised.
        """
        self._send({"op": "holders", "nodes": [[name, dict(values)] for name, values in nodes]})
        errors = []
        for reply in self._replies(len(nodes), timeout):
            if "error" in reply:
                errors.append(f"{reply['name']}: {reply['error']}")
                continue
            pid = int(reply["pid"])
            try:
                pidfd = os.pidfd_open(pid)
            except OSError as exc:
                errors.append(f"{reply['name']}: holder {pid} is gone ({exc})")
                continue
            on_spawned(NodeNamespace(reply["name"], pid, pidfd))
        if errors:
            raise LabStartError(f"namespace set-up failed: {'; '.join(errors[:5])}")

    def bind_mounts(self, mounts: Sequence[tuple[int, str, str]], timeout: float = 60.0) -> None:
        """Bind-mount each (pid, file, over) in the mount namespace of process ``pid``."""
        if not mounts:
            return
        self._send({"op": "mount", "mounts": [list(m) for m in mounts]})
        (reply,) = self._replies(1, timeout)
        if "error" in reply:
            raise LabStartError(f"bind mount failed: {reply['error']}")

    def run(
        self,
        jobs: Sequence[tuple[int, Sequence[str], str, str, Callable[[], None] | None]],
        width: int,
        timeout: float = 120.0,
    ) -> None:
        """Run each (pid, argv, stdin, what, on_done) in the namespaces of process ``pid``,
        ``width`` at a time; call ``on_done`` in this thread as each succeeds (e.g. start
        a VP as soon as its node is ready). Raise on the first failure, once the
        commands already running have ended."""
        if not jobs:
            return
        self._send(
            {
                "op": "run",
                "width": width,
                "jobs": [[pid, list(argv), stdin] for pid, argv, stdin, _, _ in jobs],
            }
        )
        failure: str | None = None
        deadline = time.monotonic() + timeout
        for _ in jobs:
            (reply,) = self._replies(1, deadline - time.monotonic())
            if reply.get("skipped"):
                continue
            _, _, _, what, on_done = jobs[int(reply["job"])]
            if reply["code"] != 0:
                failure = failure or f"{what} failed: {reply['output'].strip()[-500:]}"
            elif on_done is not None and failure is None:
                on_done()
        if failure is not None:
            raise LabStartError(failure)

    def close(self) -> None:
        """End the server (its holders stay until killed through their pidfds)."""
        # Its stdout too: a worker still replying (to a start-up interrupted mid-run)
        # then ends on the closed pipe instead of waiting for a reader.
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
