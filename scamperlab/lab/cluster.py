"""A lab over several hosts: a lab host's shard, and the controller host.

sc_remoted is the distributed engine, as on Ark: every VP runs ``scamper -R``
towards one controller, and the management network between hosts is a
VXLAN tunnel (:mod:`scamperlab.emulation.tunnel`), so sc_remoted sees each
VP connect from its own measurement address.

- A lab host runs an ordinary :class:`~scamperlab.lab.Lab` given a
  :class:`Shard`: the whole emulated network, only its own VPs, and a
  ``controller`` namespace that forwards to the controller host instead of
  running sc_remoted. Its VPs count as present while their scamper holds a
  TCP connection to sc_remoted (the kernel's table in the VP's namespace):
  the per-VP sockets that say so on one host are on another host here.
- The controller host runs a :class:`ClusterController`: one namespace with
  sc_remoted at the lab's controller address, the tunnel to every lab host,
  and the mux with every VP's metadata from the topology. A VP appears on
  the mux when it connects and departs when it (or its host) goes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scamperlab.emulation import tunnel
from scamperlab.emulation.netns import deferred_signals
from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.errors import LabStartError, LabStateError, ScamperlabError
from scamperlab.lab.access import Access
from scamperlab.lab.hostwatch import HostWatch
from scamperlab.lab.loopthread import LoopThread
from scamperlab.lab.owner import OwnerSignals, raise_fd_limit
from scamperlab.lab.presence import Presence
from scamperlab.lab.state import LabState, state_root
from scamperlab.lab.status import vp_rows
from scamperlab.lab.views import LabEvent, LabVp, vps_of
from scamperlab.mux.metadata import metadata_file, vp_attrs
from scamperlab.mux.registry import VpRegistry
from scamperlab.mux.server import MuxServer
from scamperlab.processes.binaries import ScamperInstall, check_host_tools, find_scamper
from scamperlab.processes.liveness import connection
from scamperlab.processes.remoted import Remoted, VpSocket
from scamperlab.processes.stunnel import Stunnel, check_tls_dir, find_stunnel
from scamperlab.processes.vantage import VpSupervisor
from scamperlab.topology.cluster import CONTROLLER_HOST, ClusterPlan
from scamperlab.topology.plan import LabPlan

log = logging.getLogger(__name__)

# (phase, done, total), as for a Lab.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Shard:
    """What makes a :class:`~scamperlab.lab.Lab` lab host ``host`` of ``cluster``."""

    cluster: ClusterPlan
    host: str

    @functools.cached_property
    def plan(self) -> LabPlan:
        return self.cluster.shard(self.host)

    def check(self) -> None:
        """What an encrypted cluster needs here, before anything is built."""
        if self.cluster.encrypted:
            find_stunnel()
            check_tls_dir(self.cluster.tls_dir(self.host), self.host)

    def open(self, net: EmulatedNetwork, state: LabState, teardown: contextlib.ExitStack) -> None:
        """The gateway to the controller host, once ``net``'s controller namespace exists."""
        handle = state.path(tunnel.HANDLE)
        teardown.callback(tunnel.close, handle)
        tunnel.open_gateway(net, self.cluster, self.host, handle)
        if not self.cluster.encrypted:
            return
        port = self.plan.topology.controller.port
        end = Stunnel(
            net,
            CONTROLLER,
            client=True,
            accept=(str(self.cluster.lab.controller_ipv4), port),
            connect=(str(self.cluster.controller.transit.ip), port),
            tls_dir=self.cluster.tls_dir(self.host),
            peer_addresses=[str(self.cluster.controller.underlay)],
        )
        teardown.callback(end.stop)
        pid = end.start(state.path("stunnel.conf"), state.path("logs", "stunnel.log"))
        state.track("stunnel", CONTROLLER, pid)

    def scanner(self, supervisor: VpSupervisor) -> Callable[[], list[VpSocket]]:
        """The VPs connected to sc_remoted, as if read from its socket directory.

        Each connected scamper stands for one socket named by its PID, so a
        restarted scamper is a new VP, as with sc_remoted's sockets.
        """
        addresses = {name: str(node.ipv4) for name, node in self.plan.nodes.items()}

        def scan() -> list[VpSocket]:
            found = []
            for name, vp in supervisor.vps.items():
                pid = vp.pid
                if pid is None or connection(pid, supervisor.port) != "established":
                    continue
                found.append(VpSocket(name, addresses[name], 0, Path(f"/proc/{pid}")))
            return found

        return scan

    def describe(self) -> dict[str, Any]:
        """What ``status`` says of this host's place in the cluster."""
        host = self.cluster.host(self.host)
        return {
            "role": "lab host",
            "host": self.host,
            "controller": str(self.cluster.controller.underlay),
            "underlay": str(host.end.underlay),
            "vni": self.cluster.vni,
            "encryption": self.cluster.encryption,
            "vps": len(host.vps),
        }


class _RemoteVps:
    """The controller's view of VPs that run elsewhere: present while they have a socket.

    None is expected (``vps``): lab hosts come when they come, so the socket
    directory is scanned at the normal pace, never the fast one of a start-up.
    """

    def __init__(self) -> None:
        self.sockets: dict[str, set[Path]] = {}
        self.vps: dict[str, object] = {}
        self.held: set[str] = set()

    def check(self, sockets: dict[str, set[Path]], judge: bool = True) -> set[str]:
        self.sockets = sockets
        return set(sockets)

    def fresh_sockets(self, name: str) -> set[Path]:
        return self.sockets.get(name, set())


def controller_plan(plan: LabPlan) -> LabPlan:
    """A plan of nothing but the controller namespace: the controller host builds no nodes."""
    empty = plan.topology.model_copy(update={"routers": [], "vps": [], "targets": [], "links": []})
    return LabPlan(empty, {}, [], plan.management)


class ClusterController:
    """The controller host of a cluster: sc_remoted, the tunnel to every lab host, the mux."""

    def __init__(
        self,
        cluster: ClusterPlan,
        *,
        name: str | None = None,
        scamper_prefix: str | Path | None = None,
        state_dir: str | Path | None = None,
        source: str | Path | None = None,
        group: str | None = None,
    ) -> None:
        self.cluster = cluster
        self.topology = cluster.lab.topology
        self.name = name or self.topology.name
        self.scamper_prefix = scamper_prefix
        self.source = Path(source) if source else None
        self.state = LabState(self.name, Path(state_dir) if state_dir else state_root())
        self.access = Access.for_caller(group or self.topology.controller.group)
        self.events: list[LabEvent] = []
        self.warnings: list[str] = []
        self.presence: Presence | None = None
        self.watch: HostWatch | None = None
        self._teardown: contextlib.ExitStack | None = None
        self._signals = OwnerSignals()

    @property
    def mux_path(self) -> Path:
        return self.state.path("mux")

    @property
    def socket_dir(self) -> Path:
        return self.state.path("vps")

    @property
    def vps(self) -> list[LabVp]:
        return vps_of(self.topology, self.cluster.lab)

    @property
    def present_vps(self) -> frozenset[str]:
        if self.presence is None:
            raise LabStateError(f"cluster controller {self.name} is not running")
        return self.presence.present

    def start(self, progress: Progress | None = None) -> None:
        """Start sc_remoted and the mux; lab hosts may come (and go) any time after."""
        if self._teardown is not None:
            raise LabStateError(f"cluster controller {self.name} is already running")
        report: Progress = progress or (lambda _p, _d, _t: None)
        check_host_tools()
        if self.cluster.encrypted:
            find_stunnel()
            check_tls_dir(self.cluster.tls_dir(CONTROLLER_HOST), CONTROLLER_HOST)
        install = find_scamper(self.scamper_prefix)
        total = len(self.topology.vps)
        hard = raise_fd_limit(64 + 8 * total)
        if hard is not None:
            self.warnings.append(f"could only raise the open-file limit to {hard}")
        self._signals.catch_sigterm()
        self._teardown = stack = contextlib.ExitStack()
        try:
            for line in self.state.acquire():
                self._event("cleanup", "-", line)
            self.access.own_dir(self.state.dir)
            self.socket_dir.mkdir(parents=True, exist_ok=True)
            self.state.path("logs").mkdir(exist_ok=True)
            report("controller namespace", 0, 1)
            net = EmulatedNetwork(controller_plan(self.cluster.lab), self_check=False)
            stack.callback(net.stop)
            try:
                net.start()
            finally:
                for n, h in net.hosts.items():
                    self.state.track("shell", n, int(h.pid))
            handle = self.state.path(tunnel.HANDLE)
            stack.callback(tunnel.close, handle)
            tunnel.open_controller(net, self.cluster, handle)
            self._watch(stack, net)
            self._serve(stack, net, install)
            if self.cluster.encrypted:
                self._tls(stack, net)
            self.state.info.update(
                topology=str(self.source.resolve()) if self.source else None,
                mux=str(self.mux_path),
                started_at=time.time(),
                scamper_version=install.version,
                mux_server="sc_remoted" if install.remoted_has_mux else "scamperlab",
                access=self.access.as_dict(),
                cluster=self.describe(),
            )
            self._save_status()
            report("controller namespace", 1, 1)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, ScamperlabError | KeyboardInterrupt | SystemExit):
                raise
            raise LabStartError(f"cluster controller {self.name!r} failed: {exc!r}") from exc

    def _serve(
        self, stack: contextlib.ExitStack, net: EmulatedNetwork, install: ScamperInstall
    ) -> None:
        """sc_remoted, the mux (ours, or sc_remoted's own with a metadata file), presence."""
        attrs = {
            vp.name: vp_attrs(vp, str(self.cluster.lab.nodes[vp.name].ipv6))
            for vp in self.topology.vps
        }
        registry, mux, metadata = None, None, None
        if install.remoted_has_mux:
            metadata = self.state.path("metadata.txt")
            metadata.write_text(metadata_file((vp, attrs[vp.name]) for vp in self.topology.vps))
        else:
            registry = VpRegistry(attrs)
            legacy = None if install.emits_task_ids else install.version
            mux = MuxServer(self.mux_path, registry, legacy_version=legacy)
        remoted = Remoted(
            net,
            install,
            self.socket_dir,
            self.state.path("logs", "sc_remoted.log"),
            self.topology.controller.port,
            mux_path=None if mux is not None else self.mux_path,
            metadata_path=metadata,
        )
        stack.callback(remoted.stop)
        self.state.track("sc_remoted", CONTROLLER, remoted.start())
        loop = LoopThread(f"scamperlab-{self.name}")
        stack.callback(loop.stop)
        self.presence = presence = Presence(self.socket_dir, _RemoteVps(), registry, self._changed)

        async def attach() -> None:
            if mux is not None:
                await mux.start()
            presence.start()

        async def detach() -> None:
            await presence.stop()
            if mux is not None:
                await mux.close()

        stack.callback(_quietly, lambda: loop.call(detach(), timeout=10))
        loop.call(attach())
        self.access.own_socket(self.mux_path)

    def _tls(self, stack: contextlib.ExitStack, net: EmulatedNetwork) -> None:
        """The lab hosts' TLS ends here, and goes on to sc_remoted from each VP's address."""
        port = self.topology.controller.port
        end = Stunnel(
            net,
            CONTROLLER,
            client=False,
            accept=(str(self.cluster.controller.transit.ip), port),
            connect=(str(self.cluster.lab.controller_ipv4), port),
            tls_dir=self.cluster.tls_dir(CONTROLLER_HOST),
            peer_names=list(self.cluster.hosts),
        )
        stack.callback(end.stop)
        pid = end.start(self.state.path("stunnel.conf"), self.state.path("logs", "stunnel.log"))
        self.state.track("stunnel", CONTROLLER, pid)

    def _watch(self, stack: contextlib.ExitStack, net: EmulatedNetwork) -> None:
        """Ping every lab host over the tunnel; a silent one's VPs are let go at once."""
        lab = self.cluster.lab
        self.watch = HostWatch(
            net.pid(CONTROLLER),
            {name: str(host.end.transit.ip) for name, host in self.cluster.hosts.items()},
            {
                name: [str(lab.nodes[vp].ipv4) for vp in host.vps]
                for name, host in self.cluster.hosts.items()
            },
            self.topology.controller.port,
            self._host_event,
        )
        self.watch.start()
        stack.callback(self.watch.stop)

    def _host_event(self, host: str, message: str) -> None:
        log.warning("lab host %s %s", host, message)
        self._event("host", host, message)
        self._changed()

    def describe(self) -> dict[str, Any]:
        """Each lab host and its VPs, for ``status`` (with how many are on the mux)."""
        present = self.presence.present if self.presence is not None else frozenset()
        silent = self.watch.silent if self.watch is not None else frozenset()
        return {
            "role": "controller",
            "vni": self.cluster.vni,
            "encryption": self.cluster.encryption,
            "underlay": str(self.cluster.controller.underlay),
            "hosts": [
                {
                    "host": host.name,
                    "underlay": str(host.end.underlay),
                    "vps": len(host.vps),
                    "up": len(present & set(host.vps)),
                    "tunnel": "silent" if host.name in silent else "answers",
                }
                for host in self.cluster.hosts.values()
            ],
        }

    def _changed(self) -> None:
        self.state.info["cluster"] = self.describe()
        self._save_status()

    def _save_status(self) -> None:
        present = self.presence.present if self.presence is not None else frozenset()
        rows = vp_rows(self.vps, None)
        for row in rows:
            row["state"] = "up" if row["name"] in present else "absent"
            row["host"] = self.cluster.host_of(row["name"]).name
        self.state.info["vps"] = rows
        self.state.info["targets"] = []
        self.state.save()

    def _event(self, kind: str, vp: str, message: str) -> None:
        self.events.append(LabEvent(time.time(), kind, vp, message))
        log.info("%s %s: %s", kind, vp, message)

    def stop(self) -> None:
        """Stop the mux and sc_remoted (every VP departs), remove the namespace and state."""
        try:
            with deferred_signals():
                stack, self._teardown = self._teardown, None
                try:
                    if stack is not None:
                        stack.close()
                finally:
                    self.presence = None
                    self.state.release()
        finally:
            self._signals.release()

    def __enter__(self) -> ClusterController:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _quietly(call: Callable[[], None]) -> None:
    """Stop watching and serving; a wedged loop must not stop the teardown (as in a Lab)."""
    try:
        call()
    except Exception:
        log.exception("cluster controller: stopping the mux and the socket watcher failed")
