"""The one orchestrator: topology -> namespaces -> sc_remoted and VPs -> mux -> teardown.

``Lab`` runs in the calling process (``with Lab.from_file(path) as lab:``);
:mod:`scamperlab.lab.lifecycle` runs one in a detached daemon for
``scamperlab up``. Whatever happens during start-up (an error, Ctrl-C,
SIGTERM), everything made so far is removed before the exception propagates.

The parts of a running lab live in one :class:`RunningLab`, made by
:meth:`Lab.start` and gone after :meth:`Lab.stop`; a method that needs them
gets them from :meth:`Lab._running`, which raises :class:`LabStateError` on a
lab that is not running (an ``assert`` would vanish under ``python -O``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from scamperlab.emulation.delay import shaping_summary
from scamperlab.emulation.faults import LinkChange, LinkFaults
from scamperlab.emulation.netns import deferred_signals
from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.emulation.services import LabServices
from scamperlab.errors import LabStartError, LabStateError, ScamperlabError
from scamperlab.lab.access import Access
from scamperlab.lab.loopthread import LoopThread
from scamperlab.lab.owner import OwnerSignals, raise_fd_limit
from scamperlab.lab.presence import Presence
from scamperlab.lab.sshd import LabSshd, SshEndpoint
from scamperlab.lab.standins import lab_standins, standins_info, standins_summary
from scamperlab.lab.state import MAX_SOCKET_PATH, LabState, state_root
from scamperlab.lab.status import StatusWriter, vp_rows
from scamperlab.lab.views import LabEvent, LabNode, LabVp, nodes_of, vps_of
from scamperlab.mux.metadata import metadata_file, vp_attrs
from scamperlab.mux.recorder import Recorder
from scamperlab.mux.registry import VpRegistry
from scamperlab.mux.server import MuxServer
from scamperlab.processes.binaries import ScamperInstall, check_host_tools, find_scamper
from scamperlab.processes.remoted import Remoted
from scamperlab.processes.vantage import VpSupervisor
from scamperlab.shim import ImportChoice, choices_here, on_choice, read_choices
from scamperlab.topology.loader import load_topology
from scamperlab.topology.model import LinkParams, Topology
from scamperlab.topology.plan import LabPlan, LinkPlan, NodePlan, make_plan
from scamperlab.topology.truth import PathTruth
from scamperlab.wire.mux import Attr, vp_update

if TYPE_CHECKING:
    from scamperlab.lab.cluster import Shard

log = logging.getLogger(__name__)
#: event kinds logged as warnings (every event goes to events.log and ``status`` alike)
_TROUBLE = frozenset({"vp-died", "vp-missing", "vp-restarted"})

#: threads that start VPs' scampers (see Lab._bring_up)
VP_SPAWNERS = 4

# (phase, done, total): e.g. ("VPs on the mux", 57, 120)
Progress = Callable[[str, int, int], None]


@dataclass
class RunningLab:
    """The parts of a started lab: made together by :meth:`Lab.start`, removed by :meth:`Lab.stop`.

    ``teardown`` holds each part's stop, pushed as the part starts, so a
    start-up that fails halfway removes exactly what it made, in reverse.
    """

    install: ScamperInstall
    net: EmulatedNetwork
    services: LabServices
    remoted: Remoted
    supervisor: VpSupervisor
    loop: LoopThread
    presence: Presence
    links: LinkFaults
    started_at: float
    mux: MuxServer | None  # None where sc_remoted serves the mux itself (-M)
    sshd: LabSshd | None = None  # only for a lab with a controller host
    teardown: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


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
        group: str | None = None,
        recorder: Recorder | None = None,
        standins: bool | None = None,
        shard: Shard | None = None,
    ) -> None:
        # A lab host of a cluster (scamperlab.lab.cluster): its own VPs of the one plan.
        self.shard = shard
        if shard is not None:
            topology = shard.plan.topology
        self.topology = topology
        # Perform what the VPs' scamper lacks (scamperlab.mux.standin), unless turned off.
        self.standins = topology.defaults.standins if standins is None else standins
        self.name = name or topology.name
        self.plan: LabPlan = make_plan(topology) if shard is None else shard.plan
        self.source = Path(source) if source else None
        self.scamper_prefix = scamper_prefix
        self.appear_timeout = appear_timeout
        self.state = LabState(self.name, Path(state_dir) if state_dir else state_root())
        self.events: list[LabEvent] = []
        self.warnings: list[str] = []
        # What `import scamper` gave each Python process of the lab (this one included).
        self.imports: list[ImportChoice] = []
        self._imports_read = 0
        self._stop_listening: Callable[[], None] | None = None
        # An "Ark controller" host with sshd (scamperlab.lab.sshd), on request.
        self.ssh = ssh or topology.controller.ssh
        # Who may connect: the caller (sudo's, through sudo) and, if named, one group.
        self.access = Access.for_caller(group or topology.controller.group)
        # What every mux session carries, for ``run --record`` (scamperlab's mux only).
        self.recorder = recorder
        self._parts: RunningLab | None = None
        self._status = StatusWriter(self.state)
        self._signals = OwnerSignals()

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> Lab:
        return cls(load_topology(path), source=path, **kwargs)

    def _running(self) -> RunningLab:
        """The running lab's parts; the one check that a call needs a running lab."""
        if self._parts is None:
            raise LabStateError(
                f"lab {self.name} is not running: start it first (lab.start() or 'with lab:')"
            )
        return self._parts

    @property
    def running(self) -> bool:
        return self._parts is not None

    # -- what a script needs -------------------------------------------------

    @property
    def mux_path(self) -> Path:
        return self.state.path("mux")

    @property
    def socket_dir(self) -> Path:
        return self.state.path("vps")

    @property
    def net(self) -> EmulatedNetwork:
        """The lab's namespaces (running labs only)."""
        return self._running().net

    @property
    def services(self) -> LabServices:
        """The targets' servers and resolv.conf files (running labs only)."""
        return self._running().services

    @property
    def install(self) -> ScamperInstall:
        """The scamper and sc_remoted the lab runs (running labs only)."""
        return self._running().install

    @property
    def started_at(self) -> float:
        return self._running().started_at

    @property
    def vps(self) -> list[LabVp]:
        return vps_of(self.topology, self.plan)

    @property
    def targets(self) -> list[LabNode]:
        return nodes_of(self.plan, "target")

    @property
    def routers(self) -> list[LabNode]:
        return nodes_of(self.plan, "router")

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
        net = self._running().net
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(net.in_node(node, argv), check=False, **kwargs)

    @property
    def ssh_endpoint(self) -> SshEndpoint | None:
        """How to log in to the lab's controller host (None unless a running lab has one)."""
        parts = self._parts
        return parts.sshd.endpoint if parts is not None and parts.sshd is not None else None

    def vp_pid(self, name: str) -> int | None:
        return self._running().supervisor.vps[name].pid

    @property
    def present_vps(self) -> frozenset[str]:
        """The VPs connected to sc_remoted right now."""
        return self._running().presence.present

    # -- faults, for tests (see scamperlab.pytest_plugin) ---------------------

    def kill_vp(self, name: str, timeout: float = 30.0) -> None:
        """Kill a VP's scamper and keep it down until :meth:`restart_vp`.

        Returns once sc_remoted has dropped the VP, so the mux has announced
        its departure and open channels to it are closed, as on Ark.
        """
        parts = self._running()
        self._check_vp(name)
        parts.loop.call(_in_loop(lambda: parts.supervisor.hold(name)))
        self._wait_presence(parts, name, False, timeout)

    def restart_vp(self, name: str, timeout: float = 30.0) -> None:
        """Start a VP that :meth:`kill_vp` stopped; returns once it is on the mux again."""
        parts = self._running()
        self._check_vp(name)
        parts.loop.call(_in_loop(lambda: parts.supervisor.release(name)))
        self._wait_presence(parts, name, True, timeout)

    def _check_vp(self, name: str) -> None:
        if name not in self.plan.nodes or self.plan.nodes[name].kind != "vp":
            raise KeyError(f"no VP named {name!r} in lab {self.name!r}")

    def _wait_presence(self, parts: RunningLab, name: str, present: bool, timeout: float) -> None:
        if not parts.presence.wait_for(lambda vps: (name in vps) == present, timeout):
            what = "back on" if present else "gone from"
            raise LabStateError(f"VP {name} not {what} sc_remoted after {timeout:g} s")

    def link(self, a: str, b: str) -> LinkPlan:
        """The link between nodes ``a`` and ``b`` (in either order)."""
        for link in self.plan.links:
            if {link.a.node, link.b.node} == {a, b}:
                return link
        raise KeyError(f"no link between {a!r} and {b!r} in lab {self.name!r}")

    def cut_link(self, a: str, b: str) -> None:
        """Drop every packet on the link between ``a`` and ``b``, both ways, until restored."""
        self._running().links.cut(self.link(a, b))

    def restore_link(self, a: str, b: str) -> None:
        self._running().links.restore(self.link(a, b))

    def set_link(self, a: str, b: str, **changes: Any) -> LinkChange:
        """Change ``delay``, ``jitter``, ``loss`` or ``bandwidth`` of a link (others unchanged).

        Where the kernel cannot apply a parameter, the returned change says so
        in ``unapplied`` and ``reason``, and the reason joins :attr:`warnings`.
        """
        links = self._running().links
        link = self.link(a, b)
        current = links.current(link)
        fields = {k: getattr(current, k) for k in LinkParams.model_fields}
        change = links.shape(link, LinkParams.model_validate(fields | changes))
        if change.reason is not None:
            self._warn(change.reason)
        return change

    def reset_faults(self) -> None:
        """Undo every fault: links as in the topology file, killed VPs back on the mux.

        A lab that is not running has no faults: nothing to do.
        """
        parts = self._parts
        if parts is None:
            return
        parts.links.reset(self.plan.links)
        for name in sorted(parts.supervisor.held):
            self.restart_vp(name)
        # A VP killed from outside (os.kill) is restarted by the supervisor: wait for it too.
        for vp in self.topology.vps:
            self._wait_presence(parts, vp.name, True, 30.0)

    # -- bring-up ------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, progress: Progress | None = None, timeout: float | None = None) -> None:
        if self._parts is not None:
            raise LabStateError(f"lab {self.name} is already running in this process")
        report: Progress = progress or (lambda _p, _d, _t: None)
        check_host_tools()
        if self.shard is not None:
            self.shard.check()
        install = find_scamper(self.scamper_prefix)
        self._check_socket_paths()
        need = 64 + 8 * len(self.topology.vps)
        hard = raise_fd_limit(need)
        if hard is not None:
            self._warn(
                f"could only raise the open-file limit to {hard}, and {len(self.topology.vps)}"
                f" VPs need about {need}: some VPs may fail to connect"
            )
        self._signals.catch_sigterm()
        try:
            for line in self.state.acquire():
                self._event("cleanup", "-", line)
            self.access.own_dir(self.state.dir)
            self.state.info["access"] = self.access.as_dict()
            self._parts = self._make_parts(install)
            self._bring_up(self._parts, report, timeout)
            self._listen_for_imports()
        except BaseException as exc:
            self.stop()
            if isinstance(exc, ScamperlabError | KeyboardInterrupt | SystemExit):
                raise
            raise LabStartError(f"lab {self.name!r} failed to start: {exc!r}") from exc

    def _check_socket_paths(self) -> None:
        longest = max(len(vp.name) for vp in self.topology.vps)
        length = len(str(self.socket_dir)) + 1 + longest + len("-255.255.255.255:65535")
        if length > MAX_SOCKET_PATH or len(str(self.mux_path)) > MAX_SOCKET_PATH:
            raise LabStateError(
                f"socket paths under {self.state.dir} would be {length} bytes, over the"
                f" {MAX_SOCKET_PATH}-byte limit of unix sockets: use a shorter lab name,"
                " shorter VP names, or a shorter SCAMPERLAB_STATE_DIR"
            )

    def _make_parts(self, install: ScamperInstall) -> RunningLab:
        """Every part of the lab, none started yet (constructors only record their inputs)."""
        serve_mux_ourselves = not install.remoted_has_mux
        attrs = self._vp_attrs()
        net = EmulatedNetwork(
            self.plan,
            log_dir=self.state.path("logs"),
            on_event=self._event,
            on_pid=lambda old, new: self._on_pid("delayd", CONTROLLER, old, new),
            gateway=self.shard is not None,
            # Each holder is tracked at once: VPs start before the network is complete.
            on_holder=lambda node, pid: self.state.track("shell", node, pid),
        )
        supervisor = VpSupervisor(
            net,
            install,
            f"{self.plan.controller_ipv4}:{self.topology.controller.port}",
            self.state.path("logs", "vps"),
            on_event=self._event,
            on_pid=lambda vp, old, new: self._on_pid("scamper", vp, old, new),
            appear_timeout=self.appear_timeout,
        )
        registry, mux, metadata = None, None, None
        if self.recorder is not None and not serve_mux_ourselves:
            raise LabStartError(
                f"cannot record: this machine's sc_remoted ({install.version}) serves the mux"
                " itself (-M), and --record taps scamperlab's own mux server; record through"
                " a proxy instead: scamperlab up, then scamperlab record FILE --mux MUX -- ..."
            )
        if self.shard is not None:
            pass  # the cluster's controller host serves the mux
        elif serve_mux_ourselves:
            registry = VpRegistry(attrs)
            legacy = None if install.emits_task_ids else install.version
            mux = MuxServer(self.mux_path, registry, legacy_version=legacy, recorder=self.recorder)
        else:
            metadata = self.state.path("metadata.txt")
            metadata.write_text(metadata_file((vp, attrs[vp.name]) for vp in self.topology.vps))
        remoted = Remoted(
            net,
            install,
            self.socket_dir,
            self.state.path("logs", "sc_remoted.log"),
            self.topology.controller.port,
            mux_path=None if serve_mux_ourselves else self.mux_path,
            metadata_path=metadata,
        )
        parts = RunningLab(
            install=install,
            net=net,
            services=LabServices(net, self.state.path("services"), self.name, self.state.track),
            remoted=remoted,
            supervisor=supervisor,
            loop=LoopThread(f"scamperlab-{self.name}"),
            presence=Presence(
                self.socket_dir,
                supervisor,
                registry,
                self._save_status,
                None if self.shard is None else self.shard.scanner(supervisor),
            ),
            links=LinkFaults(net),
            started_at=time.time(),
            mux=mux,
        )
        if mux is not None and mux.legacy_version is not None and self.standins:
            mux.standins = lab_standins(self.topology, self.plan, net, parts.services)
        # Pushed now, these run last: the namespaces go after everything inside them.
        parts.teardown.callback(net.stop)
        parts.teardown.callback(parts.services.stop)
        parts.teardown.callback(parts.loop.stop)
        return parts

    def _bring_up(self, parts: RunningLab, report: Progress, timeout: float | None) -> None:
        self.state.info.update(
            topology=str(self.source.resolve()) if self.source else None,
            # A cluster's lab host serves no mux: the controller host does.
            mux=str(self.mux_path) if self.shard is None else None,
            started_at=parts.started_at,
            scamper_version=parts.install.version,
            mux_server="scamperlab" if parts.mux is not None else "sc_remoted",
            standins=standins_info(
                parts.install.version,
                self.standins,
                parts.mux is not None and parts.mux.legacy_version is not None,
            ),
        )
        if (said := standins_summary(self.state.info["standins"])) is not None:
            self._event("standins", "-", said)
        total_nodes = len(self.plan.nodes) + 1
        report("namespaces", 0, total_nodes)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.state.path("logs").mkdir(exist_ok=True)
        rates = {vp.name: self.topology.vp_rate(vp) for vp in self.topology.vps}
        ready = 0

        # A VP's scamper needs only its own node: it starts while the rest is built,
        # from a few threads, as the wait for each spawn's exec (1-5 ms, most of a
        # VP's start in this process) then overlaps the others'.
        spawner = ThreadPoolExecutor(VP_SPAWNERS, thread_name_prefix="scamperlab-vp-start")
        spawns: list[Future[None]] = []

        def node_ready(name: str) -> None:
            nonlocal ready
            ready += 1
            report("nodes configured", ready, total_nodes - 1)
            if name in rates:
                spawns.append(spawner.submit(parts.supervisor.start_one, name, rates[name]))

        def before_nodes() -> None:
            self._start_controller(parts)
            # Each node's resolv.conf, before any scamper reads it.
            parts.services.mount_resolv_confs()

        self.state.path("logs", "vps").mkdir(parents=True, exist_ok=True)
        # Saving state.json after every PID is quadratic in the lab's size: at
        # most a few saves a second while hundreds of processes start.
        with self.state.throttled():
            try:
                parts.net.start(
                    lambda msg: report(msg, 0, total_nodes),
                    before_nodes=before_nodes,
                    on_node_ready=node_ready,
                )
            except BaseException:
                spawner.shutdown(wait=True, cancel_futures=True)
                raise
            # Every spawn done (and its PID tracked) before anything may tear down.
            spawner.shutdown(wait=True)
        for spawn in spawns:
            spawn.result()
        report("namespaces", total_nodes, total_nodes)
        self.state.info["links"] = parts.net.link_report()
        self._event("links", "-", shaping_summary(parts.net.mechanisms.values()))
        parts.services.start(report)
        parts.loop.call(_attach(parts))

        total = len(self.topology.vps)
        wanted = parts.supervisor.vps.keys()

        def all_present(present: frozenset[str]) -> bool:
            return len(present & wanted) >= total

        # Woken by the socket watcher each time the set of VPs on the mux changes.
        if not parts.presence.wait_for(
            all_present,
            timeout if timeout is not None else 60.0 + 0.1 * total,
            lambda present: report("VPs on the mux", len(present & wanted), total),
        ):
            missing = sorted(wanted - parts.presence.present)
            raise LabStartError(
                f"{len(missing)} VP(s) never reached sc_remoted: {', '.join(missing[:10])}"
                f" (see {self.state.path('logs', 'vps')})"
            )
        report("VPs on the mux", total, total)
        if self.ssh:
            report("controller sshd", 0, 1)
            parts.sshd = LabSshd(parts.net, self.state, self.mux_path, parts.loop)
            parts.teardown.callback(parts.sshd.stop)
            self.state.info["ssh"] = parts.sshd.start().as_dict()
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

    def _start_controller(self, parts: RunningLab) -> None:
        """sc_remoted, the mux and the VP supervisor: ready before the first VP's node is."""
        if self.shard is not None:  # sc_remoted is on the controller host: a gateway to it
            self.shard.open(parts.net, self.state, parts.teardown)
            self.state.info["cluster"] = self.shard.describe()
            parts.teardown.callback(self._stop_vps, parts.supervisor)
            parts.teardown.callback(_detach_quietly, parts)
            return
        parts.teardown.callback(parts.remoted.stop)
        self.state.track("sc_remoted", CONTROLLER, parts.remoted.start())
        # VPs stop before sc_remoted, and only once nothing restarts them any more.
        parts.teardown.callback(self._stop_vps, parts.supervisor)
        parts.teardown.callback(_detach_quietly, parts)
        if parts.mux is not None:
            parts.loop.call(parts.mux.start())
        self.access.own_socket(self.mux_path)  # scamperlab's mux, or sc_remoted's own

    def _stop_vps(self, supervisor: VpSupervisor) -> None:
        with self.state.throttled():
            supervisor.stop_all()

    def _on_pid(self, kind: str, name: str, old: int | None, new: int | None) -> None:
        """A process of the lab was replaced (old -> new; either may be None): track it."""
        if old is not None:
            self.state.processes.pop(old, None)
        if new is not None:
            self.state.track(kind, name, new)
        else:
            self.state.save()

    def _event(self, kind: str, vp: str, message: str) -> None:
        event = LabEvent(time.time(), kind, vp, message)
        self.events.append(event)
        # A VP that died, went missing or was restarted is news; the rest is the record.
        level = logging.WARNING if kind in _TROUBLE else logging.INFO
        log.log(level, "%s %s: %s", kind, vp, message)
        with contextlib.suppress(OSError), open(self.state.path("events.log"), "a") as f:
            f.write(f"{event.time:.3f} {kind} {vp} {message}\n")
        if kind != "cleanup":
            self._save_status()

    # -- which scamper module the lab's Python processes imported -------------

    @property
    def import_log(self) -> Path:
        """Where the lab's commands record what ``import scamper`` gave them."""
        return self.state.path("imports.log")

    def _listen_for_imports(self) -> None:
        """This process's choices (a pytest run's, a script's) are the lab's too."""
        for choice in choices_here():
            self._imported(choice)
        self._stop_listening = on_choice(self._imported)

    def note_imports(self) -> list[ImportChoice]:
        """Record (as ``import`` events) the choices the lab's commands made since last time."""
        choices, self._imports_read = read_choices(self.import_log, self._imports_read)
        for choice in choices:
            self._imported(choice)
        return choices

    def _imported(self, choice: ImportChoice) -> None:
        self.imports.append(choice)
        self._event(
            "import",
            "-",
            f"import scamper in pid {choice.pid} ({choice.python}): {choice.describe()}",
        )

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self.state.info.setdefault("warnings", []).append(message)
        log.warning("%s", message)

    def vp_status(self) -> list[dict[str, Any]]:
        """What ``scamperlab status`` shows of each VP (all ``stopped`` unless running)."""
        parts = self._parts
        return vp_rows(self.vps, parts.supervisor if parts is not None else None)

    def _save_status(self) -> None:
        self._status.save(self.vp_status(), self.targets)

    # -- teardown ------------------------------------------------------------

    def stop(self) -> None:
        """Remove every process, namespace, socket and file of the lab. Safe to call twice."""
        # Ctrl-C pressed again meanwhile waits for the teardown to finish.
        try:
            with deferred_signals():
                if self._stop_listening is not None:
                    self._stop_listening()
                    self._stop_listening = None
                parts, self._parts = self._parts, None
                if parts is not None:
                    parts.teardown.close()
                self.state.release()
        finally:
            self._signals.release()


async def _in_loop(call: Callable[[], None]) -> None:
    call()


async def _attach(parts: RunningLab) -> None:
    """Watch VP processes and the socket directory (in the loop's thread)."""
    parts.supervisor.attach(asyncio.get_running_loop())
    parts.presence.start()


async def _detach(parts: RunningLab) -> None:
    await parts.presence.stop()
    parts.supervisor.detach()
    if parts.mux is not None:
        await parts.mux.close()


def _detach_quietly(parts: RunningLab) -> None:
    """Stop watching, restarting and serving; a wedged loop must not stop the teardown."""
    with contextlib.suppress(Exception):
        parts.loop.call(_detach(parts), timeout=10)
