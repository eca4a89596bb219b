"""The one orchestrator: topology -> namespaces -> sc_remoted and VPs -> mux -> teardown.

``Lab`` runs in the calling process (``with Lab.from_file(path) as lab:``);
``scamperlab up`` runs one in a detached daemon. Whatever happens during
start-up (an error, Ctrl-C, SIGTERM), everything made so far is removed
before the exception propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from scamperlab.emulation.delay import shaping_summary
from scamperlab.emulation.faults import LinkChange, LinkFaults
from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.emulation.services import LabServices
from scamperlab.errors import LabStartError, LabStateError, ScamperlabError
from scamperlab.loopthread import LoopThread
from scamperlab.mux.metadata import metadata_file, vp_attrs
from scamperlab.mux.registry import VpRegistry
from scamperlab.mux.server import MuxServer
from scamperlab.processes.binaries import ScamperInstall, check_host_tools, find_scamper
from scamperlab.processes.remoted import Remoted, scan_vp_sockets
from scamperlab.processes.vantage import VpSupervisor
from scamperlab.state import MAX_SOCKET_PATH, LabState, state_root
from scamperlab.topology.loader import load_topology
from scamperlab.topology.model import LinkParams, Topology, VantagePoint
from scamperlab.topology.plan import LabPlan, LinkPlan, NodePlan, make_plan
from scamperlab.topology.truth import PathTruth
from scamperlab.wire.mux import Attr, vp_update

if TYPE_CHECKING:
    from scamperlab.deploy.labsshd import LabSshd, SshEndpoint

log = logging.getLogger(__name__)

# (phase, done, total): e.g. ("VPs on the mux", 57, 120)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LabNode:
    """A node of a running lab, with the addresses a script would aim at."""

    name: str
    kind: str
    ipv4: str
    ipv6: str


@dataclass(frozen=True)
class LabVp(LabNode):
    metadata: VantagePoint


@dataclass(frozen=True)
class LabEvent:
    time: float
    kind: str
    vp: str
    message: str


class Lab:
    """An emulated Ark: build it with :meth:`start` (or ``with``), remove it with :meth:`stop`."""

    def __init__(
        self,
        topology: Topology,
        *,
        name: str | None = None,
        scamper_prefix: str | Path | None = None,
        state_dir: str | Path | None = None,
        source: str | Path | None = None,
        appear_timeout: float = 20.0,
        ssh: bool = False,
    ) -> None:
        self.topology = topology
        self.name = name or topology.name
        self.plan: LabPlan = make_plan(topology)
        self.source = Path(source) if source else None
        self.scamper_prefix = scamper_prefix
        self.appear_timeout = appear_timeout
        self.state = LabState(self.name, Path(state_dir) if state_dir else state_root())
        self.events: list[LabEvent] = []
        self.warnings: list[str] = []
        self.install: ScamperInstall | None = None
        self.net: EmulatedNetwork | None = None
        self.services: LabServices | None = None
        self._remoted: Remoted | None = None
        self._supervisor: VpSupervisor | None = None
        self._loop: LoopThread | None = None
        self._mux: MuxServer | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._registry: VpRegistry | None = None
        self._present: set[str] = set()
        self._status_lock = threading.Lock()
        self._presence = threading.Condition()
        self._old_sigterm: Any = None
        self._link_faults: LinkFaults | None = None
        self.started_at: float | None = None
        # An "Ark controller" host with sshd (scamperlab.deploy.labsshd), on request.
        self.ssh = ssh or topology.controller.ssh
        self._sshd: LabSshd | None = None

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Lab:
        return cls(load_topology(path), source=path, **kwargs)

    # -- what a script needs -------------------------------------------------

    @property
    def mux_path(self) -> Path:
        return self.state.path("mux")

    @property
    def socket_dir(self) -> Path:
        return self.state.path("vps")

    def _nodes(self, kind: str) -> list[NodePlan]:
        return [n for n in self.plan.nodes.values() if n.kind == kind]

    @property
    def vps(self) -> list[LabVp]:
        meta = {vp.name: vp for vp in self.topology.vps}
        return [
            LabVp(n.name, n.kind, str(n.ipv4), str(n.ipv6), meta[n.name]) for n in self._nodes("vp")
        ]

    @property
    def targets(self) -> list[LabNode]:
        return [LabNode(n.name, n.kind, str(n.ipv4), str(n.ipv6)) for n in self._nodes("target")]

    @property
    def routers(self) -> list[LabNode]:
        return [LabNode(n.name, n.kind, str(n.ipv4), str(n.ipv6)) for n in self._nodes("router")]

    def node(self, name: str) -> NodePlan:
        return self.plan.nodes[name]

    def ground_truth(self, dst: str, src: str | None = None) -> PathTruth:
        """What a perfect traceroute/MDA from VP ``src`` (the only or first VP when
        omitted) towards address or node ``dst`` would see; see topology/truth.py."""
        from scamperlab.topology.truth import path_truth

        return path_truth(self.plan, src or self.topology.vps[0].name, dst)

    def run_in(
        self, node: str, argv: Sequence[str], **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside a node's namespace (``controller`` is sc_remoted's)."""
        assert self.net is not None, "the lab is not running"
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.net.in_node(node, argv), check=False, **kwargs)

    @property
    def ssh_endpoint(self) -> SshEndpoint | None:
        """How to log in to the lab's controller host (None unless the lab has one)."""
        return self._sshd.endpoint if self._sshd is not None else None

    def vp_pid(self, name: str) -> int | None:
        assert self._supervisor is not None
        return self._supervisor.vps[name].pid

    # -- faults, for tests (see scamperlab.pytest_plugin) ---------------------

    def kill_vp(self, name: str, timeout: float = 30.0) -> None:
        """Kill a VP's scamper and keep it down until :meth:`restart_vp`.

        Returns once sc_remoted has dropped the VP, so the mux has announced
        its departure and open channels to it are closed, as on Ark.
        """
        assert self._loop is not None and self._supervisor is not None, "the lab is not running"
        self._check_vp(name)
        supervisor = self._supervisor
        self._loop.call(_in_loop(lambda: supervisor.hold(name)))
        self._wait_presence(name, False, timeout)

    def restart_vp(self, name: str, timeout: float = 30.0) -> None:
        """Start a VP that :meth:`kill_vp` stopped; returns once it is on the mux again."""
        assert self._loop is not None and self._supervisor is not None, "the lab is not running"
        self._check_vp(name)
        supervisor = self._supervisor
        self._loop.call(_in_loop(lambda: supervisor.release(name)))
        self._wait_presence(name, True, timeout)

    def _check_vp(self, name: str) -> None:
        if name not in self.plan.nodes or self.plan.nodes[name].kind != "vp":
            raise KeyError(f"no VP named {name!r} in lab {self.name!r}")

    def _wait_presence(self, name: str, present: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._presence:
            while (name in self._present) != present:
                if time.monotonic() > deadline:
                    what = "back on" if present else "gone from"
                    raise LabStateError(f"VP {name} not {what} sc_remoted after {timeout:g} s")
                self._presence.wait(0.5)

    def link(self, a: str, b: str) -> LinkPlan:
        """The link between nodes ``a`` and ``b`` (in either order)."""
        for link in self.plan.links:
            if {link.a.node, link.b.node} == {a, b}:
                return link
        raise KeyError(f"no link between {a!r} and {b!r} in lab {self.name!r}")

    @property
    def _links(self) -> LinkFaults:
        assert self.net is not None, "the lab is not running"
        if self._link_faults is None:
            self._link_faults = LinkFaults(self.net)
        return self._link_faults

    def cut_link(self, a: str, b: str) -> None:
        """Drop every packet on the link between ``a`` and ``b``, both ways, until restored."""
        self._links.cut(self.link(a, b))

    def restore_link(self, a: str, b: str) -> None:
        self._links.restore(self.link(a, b))

    def set_link(self, a: str, b: str, **changes: Any) -> LinkChange:
        """Change ``delay``, ``jitter``, ``loss`` or ``bandwidth`` of a link (others unchanged).

        Where the kernel cannot apply a parameter, the returned change says so
        in ``unapplied`` and ``reason``, and the reason joins :attr:`warnings`.
        """
        link = self.link(a, b)
        current = self._links.current(link)
        fields = {k: getattr(current, k) for k in LinkParams.model_fields}
        change = self._links.shape(link, LinkParams.model_validate(fields | changes))
        if change.reason is not None:
            self._warn(change.reason)
        return change

    def reset_faults(self) -> None:
        """Undo every fault: links as in the topology file, killed VPs back on the mux."""
        if self._link_faults is not None:
            self._link_faults.reset(self.plan.links)
        if self._supervisor is not None:
            for name in sorted(self._supervisor.held):
                self.restart_vp(name)
            # A VP killed from outside (os.kill) is restarted by the supervisor: wait for it too.
            for vp in self.topology.vps:
                self._wait_presence(vp.name, True, 30.0)

    # -- bring-up ------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, progress: Progress | None = None, timeout: float | None = None) -> None:
        report: Progress = progress or (lambda _p, _d, _t: None)
        check_host_tools()
        self.install = find_scamper(self.scamper_prefix)
        self._check_socket_paths()
        # sc_remoted (inheriting our limit) holds two descriptors per VP, and the
        # lab one pidfd per VP plus two per open mux channel.
        self._raise_fd_limit(64 + 8 * len(self.topology.vps))
        self._catch_sigterm()
        try:
            for line in self.state.acquire():
                self._event("cleanup", "-", line)
            self._start(report, timeout)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, ScamperlabError | KeyboardInterrupt | SystemExit):
                raise
            raise LabStartError(f"lab {self.name!r} failed to start: {exc!r}") from exc

    def _raise_fd_limit(self, need: int) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft >= need:
            return
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            self._warn(
                f"could only raise the open-file limit to {hard}, and {len(self.topology.vps)}"
                f" VPs need about {need}: some VPs may fail to connect"
            )

    def _check_socket_paths(self) -> None:
        longest = max(len(vp.name) for vp in self.topology.vps)
        length = len(str(self.socket_dir)) + 1 + longest + len("-255.255.255.255:65535")
        if length > MAX_SOCKET_PATH or len(str(self.mux_path)) > MAX_SOCKET_PATH:
            raise LabStateError(
                f"socket paths under {self.state.dir} would be {length} bytes, over the"
                f" {MAX_SOCKET_PATH}-byte limit of unix sockets: use a shorter lab name,"
                " shorter VP names, or a shorter SCAMPERLAB_STATE_DIR"
            )

    def _start(self, report: Progress, timeout: float | None) -> None:
        assert self.install is not None
        self.started_at = time.time()
        self.state.info.update(
            topology=str(self.source.resolve()) if self.source else None,
            mux=str(self.mux_path),
            started_at=self.started_at,
            scamper_version=self.install.version,
            mux_server="sc_remoted" if self.install.remoted_has_mux else "scamperlab",
        )
        self.net = EmulatedNetwork(
            self.plan,
            log_dir=self.state.path("logs"),
            on_event=self._event,
            on_pid=lambda old, new: self._on_helper_pid("delayd", old, new),
        )
        total_nodes = len(self.plan.nodes) + 1
        report("namespaces", 0, total_nodes)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.state.path("logs").mkdir(exist_ok=True)
        attrs = self._vp_attrs()
        serve_mux_ourselves = not self.install.remoted_has_mux
        rates = {vp.name: self.topology.vp_rate(vp) for vp in self.topology.vps}
        ready = 0

        def node_ready(name: str) -> None:
            nonlocal ready
            ready += 1
            report("nodes configured", ready, total_nodes - 1)

        # Saving state.json after every PID is quadratic in the lab's size: at
        # most a few saves a second while hundreds of processes start.
        with self.state.throttled():
            try:
                self.net.start(
                    lambda msg: report(msg, 0, total_nodes),
                    before_nodes=lambda: self._start_controller(attrs, serve_mux_ourselves),
                    on_node_ready=node_ready,
                )
            finally:
                self.state.track_many(
                    ("shell", node, int(host.pid)) for node, host in self.net.hosts.items()
                )
        report("namespaces", total_nodes, total_nodes)
        self.state.info["links"] = self.net.link_report()
        self._event("links", "-", shaping_summary(self.net.mechanisms.values()))
        assert self._loop is not None and self._supervisor is not None
        # Servers and each node's resolv.conf, before any scamper reads it.
        self.services = LabServices(
            self.net, self.state.path("services"), self.name, self.state.track
        )
        self.services.start(report)
        with self.state.throttled():
            for name, rate in rates.items():
                self._supervisor.start_one(name, rate)
        self._loop.call(self._attach(self._registry))

        total = len(self.topology.vps)
        deadline = time.monotonic() + (timeout if timeout is not None else 60.0 + 0.1 * total)
        with self._presence:
            # Woken by the socket watcher each time the set of VPs on the mux changes.
            while (count := len(self._present & self._supervisor.vps.keys())) < total:
                report("VPs on the mux", count, total)
                if time.monotonic() > deadline:
                    missing = sorted(self._supervisor.vps.keys() - self._present)
                    raise LabStartError(
                        f"{len(missing)} VP(s) never reached sc_remoted: {', '.join(missing[:10])}"
                        f" (see {self.state.path('logs', 'vps')})"
                    )
                self._presence.wait(0.5)
        report("VPs on the mux", total, total)
        if self.ssh:
            from scamperlab.deploy.labsshd import LabSshd

            report("controller sshd", 0, 1)
            self._sshd = LabSshd(self.net, self.state, self.mux_path, self._loop)
            self.state.info["ssh"] = self._sshd.start().as_dict()
        self._save_status()

    def _vp_attrs(self) -> dict[str, list[tuple[Attr, str]]]:
        attrs = {
            vp.name: vp_attrs(vp, str(self.plan.nodes[vp.name].ipv6)) for vp in self.topology.vps
        }
        for vp_name, vp_meta in attrs.items():
            try:
                vp_update(
                    1,
                    [
                        (Attr.NAME, vp_name),
                        (Attr.ARRIVAL, "0" * 17),
                        (Attr.IPV4, "0" * 15),
                        *vp_meta,
                    ],
                )
            except ValueError as exc:
                raise LabStartError(
                    f"VP {vp_name}: its metadata is too large for the mux ({exc})"
                ) from None
        return attrs

    def _start_controller(
        self, attrs: dict[str, list[tuple[Attr, str]]], serve_mux_ourselves: bool
    ) -> None:
        """sc_remoted, the mux and the VP supervisor: ready before the first VP's node is."""
        assert self.install is not None and self.net is not None
        metadata_path = None
        if not serve_mux_ourselves:
            metadata_path = self.state.path("metadata.txt")
            metadata_path.write_text(
                metadata_file((vp, attrs[vp.name]) for vp in self.topology.vps)
            )
        self._remoted = Remoted(
            self.net,
            self.install,
            self.socket_dir,
            self.state.path("logs", "sc_remoted.log"),
            self.topology.controller.port,
            mux_path=None if serve_mux_ourselves else self.mux_path,
            metadata_path=metadata_path,
        )
        self.state.track("sc_remoted", CONTROLLER, self._remoted.start())

        self._loop = LoopThread(f"scamperlab-{self.name}")
        self._registry = VpRegistry(attrs) if serve_mux_ourselves else None
        if self._registry is not None:
            legacy = None if self.install.emits_task_ids else self.install.version
            self._mux = MuxServer(self.mux_path, self._registry, legacy_version=legacy)
            self._loop.call(self._mux.start())

        self._supervisor = VpSupervisor(
            self.net,
            self.install,
            f"{self.plan.controller_ipv4}:{self.topology.controller.port}",
            self.state.path("logs", "vps"),
            on_event=self._event,
            on_pid=self._on_vp_pid,
            appear_timeout=self.appear_timeout,
        )

    async def _attach(self, registry: VpRegistry | None) -> None:
        assert self._supervisor is not None
        self._supervisor.attach(asyncio.get_running_loop())
        self._watch_task = asyncio.create_task(self._watch_sockets(registry))

    async def _watch_sockets(self, registry: VpRegistry | None) -> None:
        # sc_remoted has no way to tell us about VP sockets, and inotify is not in the
        # standard library: a listdir five times a second costs nothing at 1,000 VPs.
        assert self._supervisor is not None
        while True:
            by_name: dict[str, set[Path]] = {}
            address: dict[Path, str] = {}
            for sock in scan_vp_sockets(self.socket_dir):
                assert sock.monitor is not None
                by_name.setdefault(sock.monitor, set()).add(sock.path)
                address[sock.path] = sock.address
            present = self._supervisor.check(by_name)
            if registry is not None:
                announce = {}
                for name in by_name:
                    # Announce the current scamper's socket (a name unknown to the
                    # supervisor is announced as it is).
                    fresh = self._supervisor.fresh_sockets(name)
                    if fresh:
                        path = max(fresh, key=lambda p: p.stat().st_mtime if p.exists() else 0)
                        announce[name] = (path, address[path])
                registry.sync(announce)
            if present != self._present:
                with self._presence:
                    self._present = present
                    self._presence.notify_all()
                self._save_status()
            await asyncio.sleep(0.2)

    def _on_vp_pid(self, vp: str, old: int | None, new: int | None) -> None:
        if old is not None:
            self.state.processes.pop(old, None)
        if new is not None:
            self.state.track("scamper", vp, new)
        else:
            self.state.save()

    def _on_helper_pid(self, kind: str, old: int | None, new: int | None) -> None:
        if old is not None:
            self.state.processes.pop(old, None)
        if new is not None:
            self.state.track(kind, CONTROLLER, new)
        else:
            self.state.save()

    def _event(self, kind: str, vp: str, message: str) -> None:
        event = LabEvent(time.time(), kind, vp, message)
        self.events.append(event)
        log.warning("%s %s: %s", kind, vp, message)
        with contextlib.suppress(OSError), open(self.state.path("events.log"), "a") as f:
            f.write(f"{event.time:.3f} {kind} {vp} {message}\n")
        if kind != "cleanup":
            self._save_status()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self.state.info.setdefault("warnings", []).append(message)
        log.warning("%s", message)

    def vp_status(self) -> list[dict[str, Any]]:
        rows = []
        sup = self._supervisor
        for vp in self.vps:
            proc = sup.vps.get(vp.name) if sup else None
            rows.append(
                {
                    "name": vp.name,
                    "state": proc.state if proc else "stopped",
                    "pid": proc.pid if proc else None,
                    "ipv4": vp.ipv4,
                    "ipv6": vp.ipv6,
                    "restarts": proc.restarts if proc else 0,
                    "up_since": proc.up_since if proc else None,
                    "problem": proc.last_problem if proc else None,
                    "cc": vp.metadata.cc,
                    "place": vp.metadata.place,
                    "asn4": vp.metadata.asn4,
                    "tags": vp.metadata.tags,
                }
            )
        return rows

    def _save_status(self) -> None:
        with self._status_lock:
            self.state.info["vps"] = self.vp_status()
            self.state.info["targets"] = [t.__dict__ for t in self.targets]
            self.state.save()

    # -- teardown ------------------------------------------------------------

    def stop(self) -> None:
        """Remove every process, namespace, socket and file of the lab. Safe to call twice."""
        blocked = self._block_signals()
        try:
            if self._sshd is not None:
                self._sshd.stop()
                self._sshd = None
            if self._loop is not None:
                with contextlib.suppress(Exception):
                    self._loop.call(self._detach(), timeout=10)
                self._loop.stop()
                self._loop = None
            if self._supervisor is not None:
                with self.state.throttled():
                    self._supervisor.stop_all()
                self._supervisor = None
            if self._remoted is not None:
                self._remoted.stop()
                self._remoted = None
            if self.services is not None:
                self.services.stop()
                self.services = None
            if self.net is not None:
                self.net.stop()
                self.net = None
            self._link_faults = None
            self.state.release()
        finally:
            self._restore_signals(blocked)

    async def _detach(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self._supervisor is not None:
            self._supervisor.detach()
        if self._mux is not None:
            await self._mux.close()

    # -- signals ---------------------------------------------------------------

    def _catch_sigterm(self) -> None:
        """Turn SIGTERM into SystemExit, so ``with Lab(...)`` tears down on ``kill`` too."""
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._old_sigterm = signal.signal(
                signal.SIGTERM, exit_on_first_sigterm(128 + signal.SIGTERM)
            )

    def _block_signals(self) -> bool:
        """Teardown must run to the end even if Ctrl-C is pressed again meanwhile."""
        if threading.current_thread() is not threading.main_thread():
            return False
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        return True

    def _restore_signals(self, blocked: bool) -> None:
        if not blocked:
            return
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


async def _in_loop(call: Callable[[], None]) -> None:
    call()


def exit_on_first_sigterm(code: int) -> Callable[[int, FrameType | None], None]:
    """A SIGTERM handler that raises ``SystemExit(code)`` once and ignores repeats.

    Killers often signal twice at once (``timeout`` signals its child and then
    the child's process group): a second ``SystemExit`` raised while the first
    unwinds towards ``stop()``, before it blocks signals, would abandon the
    teardown and leave the lab's processes running.
    """
    fired = False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise SystemExit(code)

    return on_sigterm


@contextlib.contextmanager
def running_lab(path: str | Path, **kwargs: Any) -> Iterator[Lab]:
    with Lab.from_file(path, **kwargs) as lab:
        yield lab


def lab_environment(lab: Lab) -> dict[str, str]:
    """Environment for a user's command run against ``lab``."""
    env = dict(os.environ)
    env["SCAMPERLAB_MUX"] = str(lab.mux_path)
    env["SCAMPERLAB_LAB"] = lab.name
    return env
