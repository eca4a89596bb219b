"""Namespaces, veth pairs and per-node set-up in bulk, for labs of a thousand nodes.

Mininet's ``Host`` starts an interactive shell per node and talks to it
through a pty, and its ``Link`` runs several commands per veth through those
shells: about 0.1 s of round trips per node, most of a 1,000-VP start-up.
Here a node is only what the lab needs of it: a process holding its network
(and mount) namespaces, as ``mnexec -cdn`` holds Mininet's, but ``sleep``
instead of a shell (less memory per node, no pty), forked with its sysctls
by one server (:mod:`scamperlab.emulation.holders`). Every veth is made by
one ``ip -batch`` in the host's namespace (each end created directly inside
its node, never visible outside it), and per-node commands run many at a
time.

Killing a holder (and whatever else runs inside) frees its namespace and
its veth ends, as with Mininet: nothing is named or mounted on the host.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import select
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import NamedTuple

from scamperlab.errors import LabStartError

_CLONE_NEWNET = 0x40000000
# Many at once keeps both cores busy without a fork storm on a shared machine.
PARALLEL = 16


class Veth(NamedTuple):
    name: str
    pid: int  # of the namespace holder
    peer: str
    peer_pid: int
    mac: str
    peer_mac: str


def veth_batch(pairs: Iterable[Veth]) -> str:
    """``ip -batch`` lines making each veth pair in place, with the MACs chosen for it."""
    return "".join(
        f"link add name {v.name} address {v.mac} netns {v.pid}"
        f" type veth peer name {v.peer} address {v.peer_mac} netns {v.peer_pid}\n"
        for v in pairs
    )


def run_batch(argv: Sequence[str], script: str, what: str) -> None:
    done = subprocess.run(list(argv), input=script, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabStartError(f"{what} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def _enter_netns(pid: int) -> str | None:
    """Move the calling thread into the network namespace of ``pid``: an error, or None."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        return f"namespace of {pid}: {exc}"
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            return f"setns({pid}): {os.strerror(ctypes.get_errno())}"
    finally:
        os.close(fd)
    return None


def _in_a_throwaway_thread(work: Callable[[], None], name: str) -> None:
    """Run ``work`` in a thread of its own that then ends: a thread that entered
    another namespace is never reused, so no other work runs in the wrong one."""
    thread = threading.Thread(target=work, name=name)
    thread.start()
    thread.join()


@dataclass
class Job:
    argv: list[str]
    stdin: str
    what: str
    on_done: Callable[[], None] | None = None


def run_many(jobs: Iterable[Job], width: int = PARALLEL) -> None:
    """Run commands ``width`` at a time; call each job's ``on_done`` in this thread as it
    succeeds (e.g. start a VP as soon as its node is ready). Raise on the first failure,
    after the commands already running have finished."""
    queue = list(jobs)
    queue.reverse()
    # Exits are waited for through pidfds: a blanket wait() would also reap the
    # lab's other children (a scamper started by an earlier on_done).
    poller = select.poll()
    running: dict[int, tuple[Job, subprocess.Popen[str]]] = {}
    failure: str | None = None
    try:
        while queue or running:
            while queue and len(running) < width and failure is None:
                job = queue.pop()
                proc = subprocess.Popen(
                    job.argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    close_fds=True,
                )
                assert proc.stdin is not None
                # Scripts are a few KiB at most: the pipe buffer holds them.
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.write(job.stdin)
                    proc.stdin.close()
                pidfd = os.pidfd_open(proc.pid)
                poller.register(pidfd, select.POLLIN)
                running[pidfd] = (job, proc)
            if not running:
                break
            for pidfd, _ in poller.poll():
                job, proc = running.pop(pidfd)
                poller.unregister(pidfd)
                os.close(pidfd)
                assert proc.stdout is not None
                output = proc.stdout.read()
                proc.stdout.close()
                proc.wait()
                if proc.returncode != 0:
                    failure = failure or f"{job.what} failed: {output.strip()[-500:]}"
                    queue.clear()
                elif job.on_done is not None and failure is None:
                    job.on_done()
    finally:
        for pidfd, (_, proc) in running.items():
            proc.kill()
            proc.wait()
            os.close(pidfd)
    if failure is not None:
        raise LabStartError(failure)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM (main thread only) until the block is done, then deliver them.

    Held in Python, by handlers that note the signal, never by blocking it in the
    kernel: a blocked mask is inherited by every program started meanwhile and
    survives ``exec``, so namespace holders spawned under ``pthread_sigmask`` ignored
    SIGTERM for life (``SigBlk: 0x4002``), and cleaning up after a crashed lab of 14
    VPs waited 96 s for them.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            # None: a handler installed outside Python; the default is the honest stand-in.
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


def _not_lab_namespaces() -> set[int]:
    """The network namespaces that are never a lab's: this process's and init's.

    A node's holder that has not yet left its parent's namespace (interrupted
    between fork and ``unshare``, or recorded by a lab that was killed right
    then) is in the host's namespace; a sweep of "the lab's namespaces" that
    took that one in would kill every process on the machine.
    """
    never = set()
    for pid in ("self", "1"):
        with contextlib.suppress(OSError):
            never.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
    return never


def processes_in(namespaces: set[int]) -> list[int]:
    """Live processes whose network namespace is one of ``namespaces`` (zombies have none),
    never those of the host's namespace (:func:`_not_lab_namespaces`)."""
    namespaces = namespaces - _not_lab_namespaces()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(f"/proc/{entry.name}/ns/net").st_ino in namespaces:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@contextlib.contextmanager
def pinned_namespaces(pids: Iterable[int]) -> Iterator[set[int]]:
    """The network namespaces (inode numbers) of ``pids``, held open for the block;
    never the host's (a holder still there is not a lab namespace yet).

    An open namespace file keeps that namespace, and so its inode number, from
    being freed and reused (by another lab starting meanwhile) while a sweep
    looks for processes inside it by inode: without it, the sweep of a lab whose
    last process just left could kill another lab's processes.
    """
    pids = list(pids)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < len(pids) + 64:  # one descriptor per namespace of a 1,000-VP lab
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, len(pids) + 64), hard))
    fds: list[int] = []
    found: set[int] = set()
    never = _not_lab_namespaces()
    try:
        for pid in pids:
            with contextlib.suppress(OSError):
                fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
                fds.append(fd)
                found.add(os.fstat(fd).st_ino)
        yield found - never
    finally:
        for fd in fds:
            os.close(fd)


def socket_in(pid: int, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket in the network namespace of process ``pid`` (a node's holder).

    A socket belongs to the namespace it was made in, whichever thread uses
    it later: so a throwaway thread enters the namespace, makes the socket and
    ends, and the caller (an asyncio loop, say) sends and receives on it from
    the node's interfaces and addresses. The thread is never reused, so no
    other work runs in the wrong namespace (a pool thread would keep it).
    """
    made: list[socket.socket] = []
    errors: list[str] = []

    def make() -> None:
        if (error := _enter_netns(pid)) is not None:
            errors.append(error)
            return
        try:
            made.append(socket.socket(family, kind, proto))
        except OSError as exc:
            errors.append(f"socket in the namespace of {pid}: {exc}")

    _in_a_throwaway_thread(make, "scamperlab-netns-socket")
    if errors or not made:
        raise OSError("; ".join(errors) or f"no socket made in the namespace of {pid}")
    return made[0]


def default_ca_file() -> str | None:
    """The CA file OpenSSL's default verify paths name (what ``scamper``, ``curl`` and
    Python's ``ssl`` trust by default), its links resolved here, on the host: the same
    path names the file in a node's mount namespace, where the lab mounts its own
    bundle over it (through ``/proc/<pid>/root`` an absolute link would be resolved
    against the host's root, not the node's). None when there is no such file."""
    import ssl

    paths = ssl.get_default_verify_paths()
    for name in (paths.openssl_cafile, paths.cafile):
        if name and os.path.isfile(name):
            return os.path.realpath(name)
    return None
