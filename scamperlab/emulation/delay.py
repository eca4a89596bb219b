"""Link delay, jitter and loss without ``sch_netem``: NFQUEUE rules and their daemon.

Where the kernel has netem, :mod:`scamperlab.emulation.shaping` does all the
work in ``tc``. Where it does not, each delayed interface gets one iptables
and ip6tables rules in its node sending what crosses it to an NFQUEUE
(:func:`queue_rules` says which packets, and why), and one process for the
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
    probe = [QueuedInterface("lo", 0, ("127.0.0.2",), ("::2",))]
    script = (
        f"set -e\niptables-restore -n <<'E4'\n{queue_rules(probe, 4)}E4\n"
        f"ip6tables-restore -n <<'E6'\n{queue_rules(probe, 6)}E6\n"
    )
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


@dataclass(frozen=True)
class QueuedInterface:
    """A delayed interface of a node, its queue, and the addresses of the node at the
    other end of its link (its "peer")."""

    dev: str
    number: int
    peer_v4: tuple[str, ...]
    peer_v6: tuple[str, ...]


def queue_rules(queues: Sequence[QueuedInterface], family: int) -> str:
    """``iptables-restore --noflush`` input for one node: which packets its queues hold.

    Each packet crossing a link must be held exactly once, and where no local
    socket owns it and no local receiver has timestamped it yet:

    - a packet held at its sender's egress stays charged to the sending
      socket's buffer while it waits; the kernel's own ICMP socket (echo
      replies, time exceeded) runs out of buffer at about 150 packets in
      flight and then silently sends nothing (netem avoids this by orphaning
      what it delays; a userspace holder cannot);
    - a packet held at its receiver's ingress has already been timestamped
      (``SO_TIMESTAMP``, which scamper and ping use), so the delay would be
      invisible in the receiver's RTTs.

    So: what this node *forwards* out of the link is held here on its way out
    (FORWARD ``-o``); what the peer *sends itself* and this node forwards is
    held here on its way in (PREROUTING ``-i``, matched by the peer's source
    addresses and a destination that is not local); only what this node
    sends to the peer itself is held at egress (OUTPUT ``-d`` the peer), the
    one case with no better place. The inbound hold is in PREROUTING, not
    FORWARD, because a verdict ends its chain: a packet held on its way in
    must still meet the FORWARD rule of the link it leaves by.
    """
    lines = ["*mangle"]
    for q in queues:
        addrs = list(q.peer_v4 if family == 4 else q.peer_v6)
        target = f"-j NFQUEUE --queue-num {q.number} --queue-bypass"
        lines.append(f"-A FORWARD -o {q.dev} {target}")
        # A peer router with hundreds of VP interfaces has too many addresses for
        # one iptables argument: a rule per 16 (a verdict ends the chain, so a
        # packet is still held once).
        for i in range(0, len(addrs), 16):
            peer = ",".join(addrs[i : i + 16])
            not_local = "-m addrtype ! --dst-type LOCAL"
            lines.append(f"-A PREROUTING -i {q.dev} -s {peer} {not_local} {target}")
            lines.append(f"-A OUTPUT -o {q.dev} -d {peer} {target}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def install_rules(run: NodeRunner, node: str, queues: Sequence[QueuedInterface]) -> None:
    for tool, family in (("iptables-restore", 4), ("ip6tables-restore", 6)):
        run(node, [tool, "--noflush"], "delay rules", queue_rules(queues, family))


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
    # node -> (queue, policy, seed) of its IP-ID rewriter (emulation/routers.py)
    rewriters: dict[str, tuple[int, str, int]] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    realtime: bool = False
    restarts: int = 0
    # Seconds before the first restart (tests lengthen it to observe the fail-open state).
    restart_delay: float = 0.2
    health_interval: float = 1.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: bool = False
    _watcher: threading.Thread | None = None
    _old_pid: int | None = None  # of the daemon a restart replaces
    _log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has run (a launched daemon is not started yet)."""
        return self._watcher is not None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def launch(self) -> None:
        """Start the daemon's process, not waiting for it: :meth:`start` waits. Its Python
        start-up (about 0.1 s) then overlaps whatever the caller does meanwhile."""
        with self._lock:
            if self.proc is None:
                self._launch()

    def start(self) -> None:
        with self._lock:
            if self.proc is None:
                self._launch()
            self._greet()
        self._watcher = threading.Thread(target=self._watch, name="delayd-watch", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        self._launch()
        self._greet()

    def _launch(self) -> None:
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
        self._old_pid = self.pid
        self.proc = proc

    def _greet(self) -> None:
        """Wait for the launched daemon's hello, then give it every queue it must hold."""
        assert self.proc is not None
        old, proc = self._old_pid, self.proc
        hello = self._reply(10.0)
        # Recorded once it has said hello: only then has mnexec moved it into the
        # controller's namespace, where cleanup looks for it.
        if self.on_pid is not None:
            self.on_pid(old, proc.pid)
        self.realtime = bool(hello.get("realtime"))
        for node, queues in self.queues.items():
            self._bind(node, queues)
        for node, rewriter in self.rewriters.items():
            self._bind_ipid(node, *rewriter)

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

    def _bind_ipid(self, node: str, queue: int, policy: str, seed: int) -> None:
        request = {"op": "ipid", "node": node, "netns": self.netns(node), "queue": queue}
        reply = self._call_locked({**request, "policy": policy, "seed": seed})
        if "error" in reply:
            raise LabStartError(f"packet daemon cannot bind {node}'s IP-ID queue: {reply['error']}")

    def add_ipid(self, node: str, queue: int, policy: str, seed: int) -> None:
        """Give router ``node`` an IP-ID rewriter; the same process holds delayed packets."""
        with self._lock:
            self.rewriters[node] = (queue, policy, seed)
            if self.proc is not None:
                self._bind_ipid(node, queue, policy, seed)

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
        # poll, not select: the daemon is started after the 1,000 pidfds of a
        # 1,000-VP lab's holders, so its pipe's descriptor is above select's 1,024.
        poller = select.poll()
        poller.register(out, select.POLLIN)
        line = out.readline() if poller.poll(timeout * 1000) else b""
        if not line:
            return {"error": "the delay daemon did not answer (see its log)"}
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _watch(self) -> None:
        """Report a dead or hung daemon at once and restart it, backing off if it keeps dying.

        Dead is safe (``--queue-bypass`` lets traffic through) but must be said;
        hung is not (its queues fill and hold everything), so every
        ``health_interval`` the daemon must answer a request or be killed.
        """
        backoff = self.restart_delay
        while True:
            proc = self.proc
            if proc is None:
                return
            try:
                code = proc.wait(timeout=self.health_interval)
            except subprocess.TimeoutExpired:
                with self._lock:
                    reply = self._call_locked({"op": "stats"}, timeout=self.health_interval * 3)
                if "error" in reply and not self._stopping and proc.poll() is None:
                    self._event(
                        "delay-hung",
                        f"the delay daemon (pid {proc.pid}) stopped answering: killing it",
                    )
                    proc.kill()
                continue
            if self._stopping:
                return
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
                    if self.proc is not None and self.proc.poll() is None:
                        self.proc.kill()  # half bound: the next round starts afresh
                    continue
            self.restarts += 1
            backoff = self.restart_delay
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
