"""The lab's fork server: makes every node's namespaces and mounts, from one small process.

Run as ``python -I forkserver.py`` by :mod:`scamperlab.emulation.holders`,
which writes one JSON request a line to its stdin and reads JSON lines from
its stdout. Standard library only, like the delay daemon.

Why a process of its own: starting ``mnexec -cdnp sleep infinity`` per node
from the lab's process cost about 4 ms of the lab's one thread each (the
spawn, then two ``exec``), 0.5 s of a 100-VP start-up and over 4 s at
1,000; a ``mount --bind`` per node for its resolv.conf cost as much again.
Here a small single-threaded process makes each node's namespaces itself
(``unshare``, private mounts, its sysctls), ``posix_spawn``s ``sleep`` in
them and comes back (a forked Python holder would keep 0.6 MiB of its own
per node, ``sleep`` 0.1 MiB). Mounts in a node's mount namespace need
``setns``, which a thread sharing its filesystem context with others (any
thread of the lab's process but its spawner, see
:mod:`scamperlab.emulation.spawner`) may not do: this process, and a
forked worker of it, may.

Holders are not this server's to keep: it lets the kernel reap them
(``SIGCHLD`` ignored), and the lab kills them through pidfds. When the lab
goes, stdin ends and the server exits; the holders stay, as ``mnexec -d``'s
did, for the lab's cleanup to find by PID and start time.

Requests and replies (one line each):

* ``{"op": "holders", "nodes": [[name, {sysctl: value}], ...]}``: one
  ``{"name": ..., "pid": ...}`` (or ``{"name": ..., "error": ...}``) per
  node, written by that node's holder once its namespaces are ready.
* ``{"op": "mount", "mounts": [[pid, file, over], ...]}``: bind-mount each
  file over a path in the mount namespace of process ``pid``; one
  ``{"mounted": n}`` or ``{"error": ...}``.
* ``{"op": "run", "width": w, "jobs": [[pid, argv, stdin], ...]}``: run each
  command in the network and mount namespaces of process ``pid`` (as
  ``mnexec -a pid`` does), ``w`` at a time, with ``stdin`` as its input; one
  ``{"job": i, "code": status, "output": text}`` per job as it ends. After
  the first failure no more start: the rest are ``{"job": i, "skipped": true}``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _say(reply: dict[str, Any]) -> None:
    # One write of a short line: atomic on a pipe, whoever else writes to it.
    os.write(1, (json.dumps(reply) + "\n").encode())


_KINDS = {"net": _CLONE_NEWNET, "mnt": _CLONE_NEWNS}


class _Stranded(BaseException):
    """The server could not come back from a node's namespaces.

    Not an ``OSError``: no handler of a request's errors may catch it, so the
    server dies (the lab sees its stdout end) rather than serve the next
    request from inside a node.
    """


def _setns(pid: int | str, kinds: tuple[str, ...], what: str) -> None:
    """Move this (single-threaded) process into namespaces ``kinds`` of process ``pid``."""
    for kind in kinds:
        fd = os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_libc.setns(fd, _KINDS[kind]), what)
        finally:
            os.close(fd)


class _Home:
    """This server's own namespaces and directory, to come back to after making a node's."""

    def __init__(self) -> None:
        self.fds = [(os.open(f"/proc/self/ns/{ns}", os.O_RDONLY), _KINDS[ns]) for ns in _KINDS]
        self.cwd = os.open(".", os.O_RDONLY)

    def enter(self) -> None:
        try:
            for fd, kind in self.fds:
                _check(_libc.setns(fd, kind), "coming back to the fork server's namespaces")
            os.fchdir(self.cwd)  # entering a mount namespace moved us to its root
        except OSError as exc:
            raise _Stranded(str(exc)) from exc


@contextlib.contextmanager
def _visiting(home: _Home, pid: int | None = None, kinds: tuple[str, ...] = ()) -> Iterator[None]:
    """Run the body in namespaces ``kinds`` of process ``pid`` (None: in those the body
    makes), then come back to ``home`` whatever happens."""
    try:
        if pid is not None:
            _setns(pid, kinds, f"entering the namespaces of {pid}")
        yield
    finally:
        home.enter()


_HOLDER_SIGNALS = (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)


def _hold(name: str, sysctls: dict[str, str], sleep: str, home: _Home) -> None:
    """Make node ``name``'s namespaces here, start its holder (``sleep``) in them, come back.

    The server enters each new namespace itself and ``posix_spawn``s the
    holder there (``vfork``, then ``exec``) rather than forking a child that
    unshares and then ``exec``s: the forked copy of this Python process and
    its teardown at ``exec`` cost twice the CPU (0.32 s against 0.15 s for
    117 namespaces, measured on 2 cores), and start-up is CPU-bound. Only a
    thread with a filesystem context of its own may enter mount namespaces:
    this single-threaded process has one.
    """
    try:
        with _visiting(home):
            _check(_libc.unshare(_CLONE_NEWNET | _CLONE_NEWNS), "unshare")
            # The node's mounts (its resolv.conf) must not propagate to the host.
            _check(_libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "private mounts")
            # A sysfs of its own shows the node's interfaces under /sys/class/net.
            _check(_libc.mount(b"sysfs", b"/sys", b"sysfs", 0, None), "mounting /sys")
            # /proc/sys/net shows the namespace of whoever opens it: this one's now, and
            # before any link exists, so each link's own settings come from these defaults.
            for key, value in sysctls.items():
                with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                    f.write(value)
            pid = os.posix_spawn(
                sleep,
                [sleep, "infinity"],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDWR, 0),
                    (os.POSIX_SPAWN_DUP2, 0, 1),
                    (os.POSIX_SPAWN_DUP2, 0, 2),
                ],
                setsid=True,
                setsigdef=_HOLDER_SIGNALS,
            )
    except OSError as exc:
        _say({"name": name, "error": str(exc)})
        return
    _say({"name": name, "pid": pid})


def _mount(mounts: list[list[Any]], home: _Home) -> None:
    """Each bind mount, in its node's mount namespace, from this process (no fork)."""
    done = 0
    try:
        for pid, source, over in mounts:
            with _visiting(home, int(pid), ("mnt",)):
                what = f"mounting {source} over {over} for {pid}"
                _check(_libc.mount(source.encode(), over.encode(), None, _MS_BIND, None), what)
            done += 1
        _say({"mounted": done})
    except OSError as exc:
        _say({"error": str(exc), "mounted": done})


def _start(pid: int, argv: list[str], stdin: str, home: _Home) -> tuple[int, int]:
    """Start one job: its input and output are memory files, so no pipe can fill up.

    As for holders, the worker enters the node's namespaces, ``posix_spawn``s
    the command there and comes back: no fork of this Python process per job.
    """
    inp = os.memfd_create("stdin")
    os.write(inp, stdin.encode())
    os.lseek(inp, 0, os.SEEK_SET)
    out = os.memfd_create("output")
    try:
        with _visiting(home, pid, ("net", "mnt")):
            child = os.posix_spawnp(
                argv[0],
                argv,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, inp, 0),
                    (os.POSIX_SPAWN_DUP2, out, 1),
                    (os.POSIX_SPAWN_DUP2, out, 2),
                ],
                setsigdef=(signal.SIGPIPE, signal.SIGCHLD),  # as subprocess restores them
            )
    except BaseException:
        os.close(out)
        raise
    finally:
        os.close(inp)
    return child, out


def _run(jobs: list[list[Any]], width: int, home: _Home) -> NoReturn:
    """In a worker child: every job, ``width`` at a time, each reported as it ends."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # this worker waits for its jobs
    queue = list(enumerate(jobs))
    queue.reverse()
    running: dict[int, tuple[int, int]] = {}  # child pid -> (job, output file)
    failed = False
    while queue or running:
        while queue and len(running) < width and not failed:
            index, (pid, argv, stdin) = queue.pop()
            try:
                child, out = _start(int(pid), argv, stdin, home)
            except (OSError, _Stranded) as exc:
                # Stranded in a node, this worker starts nothing more: it only waits
                # for what runs and reports.
                _say({"job": index, "code": 127, "output": f"cannot start {argv[0]}: {exc}"})
                failed = True
                break
            running[child] = (index, out)
        if failed:
            for index, _ in queue:
                _say({"job": index, "skipped": True})
            queue.clear()
        if not running:
            break
        child, status = os.wait()
        index, out = running.pop(child)
        os.lseek(out, 0, os.SEEK_SET)
        output = os.read(out, 1 << 16).decode(errors="replace")
        os.close(out)
        code = os.waitstatus_to_exitcode(status)
        failed = failed or code != 0
        _say({"job": index, "code": code, "output": output[-2000:]})
    os._exit(0)


def _child(work: Callable[..., object], *args: Any) -> NoReturn:
    """Run a forked child's work and end it there, whatever happens: an exception
    (a lab gone mid-reply, its pipe closed) must never return a child to the
    server's loop, reading the server's requests."""
    try:
        work(*args)
    finally:
        os._exit(1)


def main() -> None:
    # Children are the kernel's to reap: holders outlive this server anyway.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sleep = shutil.which("sleep") or "/bin/sleep"
    home = _Home()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "holders":
            for name, sysctls in request["nodes"]:
                _hold(name, sysctls, sleep, home)
        elif request["op"] == "mount":
            _mount(request["mounts"], home)
        elif request["op"] == "run":
            try:
                if os.fork() == 0:
                    _child(_run, request["jobs"], int(request["width"]), home)
            except OSError as exc:
                for index in range(len(request["jobs"])):
                    _say({"job": index, "code": 127, "output": f"fork: {exc}"})
        else:
            _say({"error": f"unknown request {request['op']!r}"})


if __name__ == "__main__":
    main()
