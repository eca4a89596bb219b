"""Link delay, jitter and loss without ``sch_netem``: NFQUEUE rules and their daemon.

Where the kernel has netem, :mod:`scamperlab.emulation.shaping` does all the
work in ``tc``. Where it does not, each delayed interface gets one iptables
and one ip6tables rule in its node, sending what arrives on it to an
NFQUEUE (see :func:`queue_rules` for why ingress), and one process for the
whole lab (:mod:`scamperlab.emulation.delayd`) holds each packet for the
link's delay. Bandwidth stays with ``tbf``, which every kernel has.

The rules use ``--queue-bypass``: if the daemon dies, packets flow undelayed
rather than being dropped, and :class:`DelayDaemon` reports the death (an
event, and a warning in the lab's state) and restarts it. A lab must never
silently lose its traffic, nor silently lose its delays.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import select
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from scamperlab.emulation import delayd
from scamperlab.errors import LabStartError
from scamperlab.topology.model import LinkParams

log = logging.getLogger(__name__)

Mechanism = Literal["netem", "nfqueue", "tbf", "none"]
EventSink = Callable[[str, str, str], None]  # (kind, subject, message), as Lab._event
PidSink = Callable[[int | None, int | None], None]  # (old pid, new pid)
NodeRunner = Callable[[str, Sequence[str], str, str | None], None]

DESCRIPTIONS: dict[str, str] = {
    "netem": "shaped by the kernel's netem",
    "nfqueue": "delayed by scamperlab's userspace NFQUEUE holder (this kernel has no sch_netem)",
    "tbf": "rate-limited only (tbf)",
    "none": "unshaped",
}


def mechanism(params: LinkParams, netem: bool) -> Mechanism:
    """Which mechanism realises a link's params on this kernel."""
    if params.needs_netem:
        return "netem" if netem else "nfqueue"
    return "tbf" if params.bandwidth else "none"


@functools.cache
def fallback_problem() -> str | None:
    """Why the NFQUEUE fallback cannot work here, or None; probed in a throwaway namespace."""
    for tool in ("iptables-restore", "ip6tables-restore"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (apt-get install iptables)"
    rule = "*mangle\n-A PREROUTING -i lo -j NFQUEUE --queue-num 0 --queue-bypass\nCOMMIT\n"
    script = f"printf '{rule}' | iptables-restore -n && printf '{rule}' | ip6tables-restore -n"
    try:
        done = subprocess.run(
            ["unshare", "--net", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot probe NFQUEUE support: {exc}"
    if done.returncode != 0:
        return f"this kernel rejects NFQUEUE rules: {done.stderr.strip()}"
    return None


def queue_rules(queues: Sequence[tuple[str, int]]) -> str:
    """``iptables-restore --noflush`` input queueing what arrives on each (interface, queue).

    The delay is applied where a packet *enters* the far end of the link, not
    where it leaves the near end: the time it crosses the link is the same,
    but a packet arriving from a veth no longer belongs to a local socket.
    Held at the sender's egress, locally generated packets stay charged to
    their socket's send buffer while they wait, and the kernel's own ICMP
    socket (echo replies, time exceeded) runs out of buffer at about 150
    packets in flight: replies are then silently not sent. netem avoids that
    by orphaning the packets it delays; a userspace holder cannot.
    """
    lines = ["*mangle"]
    for dev, number in queues:
        lines.append(f"-A PREROUTING -i {dev} -j NFQUEUE --queue-num {number} --queue-bypass")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def install_rules(run: NodeRunner, node: str, queues: Sequence[tuple[str, int]]) -> None:
    rules = queue_rules(queues)
    for tool in ("iptables-restore", "ip6tables-restore"):
        run(node, [tool, "--noflush"], "delay rules", rules)


def _wire(params: LinkParams) -> dict[str, float]:
    return {"delay": params.delay, "jitter": params.jitter, "loss": params.loss}


@dataclass
class DelayDaemon:
    """One :mod:`delayd` process for a lab, restarted if it dies.

    ``popen`` starts a program in the controller's namespace; ``netns`` maps a
    node to its network namespace path. Every queue bound is remembered, with
    its current params, so a restarted daemon picks up exactly where the dead
    one was.
    """

    popen: Callable[..., subprocess.Popen[bytes]]
    netns: Callable[[str], str]
    log_path: Path | None = None
    on_event: EventSink | None = None
    on_pid: PidSink | None = None
    queues: dict[str, dict[int, LinkParams]] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    realtime: bool = False
    restarts: int = 0
    deaths: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: bool = False
    _watcher: threading.Thread | None = None
    _log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="delayd-watch", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        if self.log_path is not None and self._log is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the daemon
        # -I: the daemon needs only the standard library; nothing on the caller's path.
        proc = self.popen(
            [sys.executable, "-I", delayd.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
        )
        old = self.pid
        self.proc = proc
        if self.on_pid is not None:
            self.on_pid(old, proc.pid)
        hello = self._reply(10.0)
        self.realtime = bool(hello.get("realtime"))
        for node, queues in self.queues.items():
            self._bind(node, queues)

    def _bind(self, node: str, queues: dict[int, LinkParams]) -> None:
        reply = self._call_locked(
            {
                "op": "bind",
                "node": node,
                "netns": self.netns(node),
                "queues": {str(q): _wire(p) for q, p in queues.items()},
            }
        )
        if "error" in reply:
            raise LabStartError(f"delay daemon cannot bind {node}'s queues: {reply['error']}")

    def add(self, node: str, queues: dict[int, LinkParams]) -> None:
        """Bind new queues (all of a node's, or ones added at run time)."""
        with self._lock:
            self.queues.setdefault(node, {}).update(queues)
            if self.proc is not None:
                self._bind(node, queues)

    def set(self, node: str, queue: int, params: LinkParams) -> None:
        with self._lock:
            self.queues[node][queue] = params
            reply = self._call_locked({"op": "set", "node": node, "queue": queue, **_wire(params)})
        if "error" in reply:
            raise LabStartError(f"delay daemon: {reply['error']}")

    def has(self, node: str, queue: int) -> bool:
        return queue in self.queues.get(node, {})

    def stats(self) -> dict[str, Any]:
        with self._lock:
            reply = self._call_locked({"op": "stats"})
        stats: dict[str, Any] = reply.get("stats", {})
        return stats

    def _call_locked(self, request: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            return {"error": "the delay daemon is not running"}
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
        except OSError as exc:
            return {"error": f"the delay daemon is gone ({exc})"}
        return self._reply(timeout)

    def _reply(self, timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        line = out.readline() if ready else b""
        if not line:
            return {"error": "the delay daemon did not answer (see its log)"}
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _watch(self) -> None:
        """Report a dead daemon at once and restart it, backing off if it keeps dying."""
        backoff = 0.2
        while True:
            proc = self.proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping:
                return
            self.deaths += 1
            self._event(
                "delay-died",
                f"the delay daemon (pid {proc.pid}) exited with status {code}: delayed links"
                " pass traffic UNDELAYED until it is back",
            )
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            with self._lock:
                if self._stopping:
                    return
                try:
                    self._spawn()
                except (OSError, LabStartError) as exc:
                    self._event("delay-restart-failed", str(exc))
                    continue
            self.restarts += 1
            backoff = 0.2
            self._event("delay-restarted", f"the delay daemon is back (pid {self.pid})")

    def _event(self, kind: str, message: str) -> None:
        log.warning("%s: %s", kind, message)
        if self.on_event is not None:
            self.on_event(kind, "-", message)

    def stop(self) -> None:
        self._stopping = True
        with self._lock:
            proc = self.proc
            if proc is not None:
                # EOF on stdin is the daemon's cue to exit.
                with contextlib.suppress(OSError):
                    if proc.stdin is not None:
                        proc.stdin.close()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
                if self.on_pid is not None:
                    self.on_pid(proc.pid, None)
            self.proc = None
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


def shaping_summary(mechanisms: Iterable[str]) -> str:
    """One line for ``up``: how many links each mechanism shapes."""
    counts = Counter(mechanisms)
    parts = [f"{counts[m]} {DESCRIPTIONS[m]}" for m in DESCRIPTIONS if counts[m]]
    return "links: " + (", ".join(parts) or "none") + " (per link: scamperlab status)"
