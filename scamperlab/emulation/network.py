"""Realising a :class:`LabPlan` as network namespaces and veth links.

Namespaces are held as Mininet holds them (``mnexec``), but made in bulk
(:mod:`scamperlab.emulation.netns`): Mininet's per-node shells and
per-command round trips cost about 0.1 s a node, most of a 1,000-VP
start-up. Addresses and routes are one ``ip -batch`` per node, many nodes
at a time, and sysctls are written without a process per node. Every link is a point-to-point veth
between two lab namespaces: no switch, no Open vSwitch, nothing in the host's
own namespace, so a crashed lab leaves nothing that outlives its processes.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scamperlab.emulation import delay as fallback
from scamperlab.emulation import holders, netns
from scamperlab.emulation import routers as behaviour
from scamperlab.emulation.selfcheck import (
    cancel_checks,
    finish_checks,
    link_name,
    raise_failures,
    start_checks,
    verify_links,
)
from scamperlab.emulation.shaping import kernel_has_netem, tc_lines
from scamperlab.emulation.spawner import NodeSpawner, SpawnerUnavailable
from scamperlab.errors import LabStartError
from scamperlab.topology.model import LinkParams
from scamperlab.topology.plan import Interface, LabPlan, LinkPlan, NodePlan, link_between

Progress = Callable[[str], None]
log = logging.getLogger(__name__)

CONTROLLER = "controller"
MGMT_VP_IF = "mgmt0"

_COMMON_SYSCTLS = {
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    # Links come up at once: no duplicate address detection holding addresses tentative.
    "net.ipv6.conf.all.accept_dad": "0",
    "net.ipv6.conf.default.accept_dad": "0",
    "net.ipv6.conf.default.dad_transmits": "0",
    "net.ipv6.conf.all.accept_ra": "0",
    "net.ipv6.conf.default.accept_ra": "0",
    # Reproducible ICMP: kernel rate limits would drop replies to concurrent probing.
    "net.ipv4.icmp_ratelimit": "0",
    "net.ipv4.icmp_msgs_per_sec": "100000",
    "net.ipv6.icmp.ratelimit": "0",
}
_ROUTER_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    # Answer from the interface the probe came in on, as routers do in traceroutes.
    "net.ipv4.icmp_errors_use_inbound_ifaddr": "1",
}


# Which end of which kind of veth a MAC address is for (see link_mac).
_SIDE_A, _SIDE_B, _MGMT_VP, _MGMT_CONTROLLER = range(4)


def link_mac(side: int, index: int) -> str:
    """A locally administered unicast MAC, unique within a lab, for one veth end.

    Chosen rather than random so that each end's neighbour can be written in
    advance (:func:`_permanent_neighbours`).
    """
    return f"02:5c:{side:02x}:{index >> 16 & 0xFF:02x}:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"


def _link_macs(link: LinkPlan) -> tuple[str, str]:
    """The MACs of a measurement link's two ends (a, b)."""
    return link_mac(_SIDE_A, link.index), link_mac(_SIDE_B, link.index)


def _permanent_neighbours(dev: str, mac: str, *addresses: object) -> list[str]:
    """Neighbour entries that never need ARP or neighbour discovery.

    The kernel's neighbour tables are shared by every namespace and hold 1,024
    resolved entries (``gc_thresh3``): when a thousand VPs connect at once,
    ARP on both ends of the management links overflows them ("neighbor table
    overflow"), the connections fail and Debian's scamper waits 30-61 s
    before it tries again. Permanent entries are not counted against that
    limit, and they spare every first packet the wait for ARP. Changing the
    host-wide limit instead would outlive the lab and affect other labs.
    """
    return [f"neigh replace {a} lladdr {mac} dev {dev} nud permanent" for a in addresses]


def _run(argv: Sequence[str], what: str, stdin: str | None = None) -> None:
    done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise LabStartError(f"{what} failed: {detail}")


@dataclass
class EmulatedNetwork:
    """The running namespaces of one lab; :meth:`stop` leaves nothing behind."""

    plan: LabPlan
    netem: bool = field(default_factory=kernel_has_netem)
    hosts: dict[str, holders.NodeNamespace] = field(default_factory=dict)
    forks: holders.ForkServer | None = None
    # Link index -> what applies its params ("netem", "nfqueue", "tbf", "none").
    mechanisms: dict[int, str] = field(default_factory=dict)
    delayd: fallback.DelayDaemon | None = None
    # Where the delay daemon logs, and whom it tells about its deaths and PIDs.
    log_dir: Path | None = None
    on_event: fallback.EventSink | None = None
    on_pid: fallback.PidSink | None = None
    # Told each node's holder (node, pid) as soon as it exists, for the lab's cleanup.
    on_holder: Callable[[str, int], None] | None = None
    self_check: bool = True
    # A lab host of a cluster (emulation/tunnel.py): the controller namespace only
    # forwards to sc_remoted on another host, so it must not hold sc_remoted's address.
    gateway: bool = False
    # (node, interface) -> the interface at the other end of its link, and that end's MAC.
    _peers: dict[tuple[str, str], tuple[Interface, str]] = field(init=False, repr=False)
    # VP name -> the number of its management port (``m<n>``) on the controller.
    _mgmt_ports: dict[str, int] = field(init=False, repr=False)
    # Starts node programs (popen); None until first needed, or where it cannot be had.
    _spawner: NodeSpawner | None = field(default=None, init=False, repr=False)
    _no_spawner: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self._peers = {}
        for ln in self.plan.links:
            mac_a, mac_b = _link_macs(ln)
            self._peers[ln.a.node, ln.a.name] = (ln.b, mac_b)
            self._peers[ln.b.node, ln.b.name] = (ln.a, mac_a)
        self._mgmt_ports = {vp.name: i for i, vp in enumerate(self.plan.of_kind("vp"))}

    def host(self, name: str) -> holders.NodeNamespace:
        return self.hosts[name]

    def pid(self, name: str) -> int:
        return int(self.hosts[name].pid)

    def in_node(self, name: str, argv: Sequence[str]) -> list[str]:
        """The argv that runs ``argv`` inside node ``name``'s namespaces."""
        return ["mnexec", "-a", str(self.pid(name)), *argv]

    def popen(self, name: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a long-lived process in a node, in a session of its own.

        The returned PID is the program's own, which is what supervision and
        cleanup kill. The lab's spawner thread starts it (see
        :mod:`scamperlab.emulation.spawner`); ``mnexec -a``, which execs the
        command, where that thread cannot be had.
        """
        if self._spawner is None and not self._no_spawner:
            try:
                self._spawner = NodeSpawner()
            except SpawnerUnavailable as exc:
                log.info("starting node programs with mnexec: %s", exc)
                self._no_spawner = True
        if self._spawner is not None:
            try:
                return self._spawner.popen(self.pid(name), argv, **kwargs)
            except SpawnerUnavailable as exc:
                log.warning("starting node programs with mnexec from now on: %s", exc)
                self._spawner, self._no_spawner = None, True
        return subprocess.Popen(
            self.in_node(name, argv), start_new_session=True, close_fds=True, **kwargs
        )

    def run(self, name: str, argv: Sequence[str], what: str, stdin: str | None = None) -> None:
        _run(self.in_node(name, argv), f"{what} in {name}", stdin)

    # -- bring-up ---------------------------------------------------------

    def start(
        self,
        progress: Progress | None = None,
        before_nodes: Callable[[], None] | None = None,
        on_node_ready: Callable[[str], None] | None = None,
    ) -> None:
        """Build the lab's network.

        ``before_nodes`` runs once the controller's namespace is configured
        (where sc_remoted goes); ``on_node_ready(name)`` as soon as each node
        has its addresses and routes (routers and targets, then VPs), so a
        VP's scamper can start while the rest of the network is still being built.
        """
        report = progress or (lambda _msg: None)
        nodes = list(self.plan.nodes.values())
        report(f"creating {len(nodes) + 1} namespaces")
        self.forks = holders.ForkServer(self.log_dir / "forkserver.log" if self.log_dir else None)
        # A cluster's lab host forwards between its VPs and the tunnel (emulation/tunnel.py).
        gateway = {"net.ipv4.ip_forward": "1"} if self.gateway else {}
        sysctls = [(CONTROLLER, _COMMON_SYSCTLS | gateway)]
        for n in nodes:
            values = dict(_COMMON_SYSCTLS)
            router = self.plan.topology.router(n.name)
            if n.kind == "router" and router is not None:
                values |= _ROUTER_SYSCTLS | behaviour.router_sysctls(self.plan.topology, router)
            sysctls.append((n.name, values))
        # A signal between a holder's start and its registration would orphan a
        # namespace that the caller's cleanup cannot see: hold signals meanwhile.
        with netns.deferred_signals():
            self.forks.holders(sysctls, self._add_holder)
        vps = self.plan.of_kind("vp")
        report(f"creating {len(self.plan.links) + len(vps)} links")
        pairs = [
            netns.Veth(
                ln.a.name, self.pid(ln.a.node), ln.b.name, self.pid(ln.b.node), *_link_macs(ln)
            )
            for ln in self.plan.links
        ]
        pairs += [
            netns.Veth(
                MGMT_VP_IF,
                self.pid(vp.name),
                f"m{i}",
                self.pid(CONTROLLER),
                link_mac(_MGMT_VP, i),
                link_mac(_MGMT_CONTROLLER, i),
            )
            for i, vp in enumerate(vps)
        ]
        if self._needs_daemon():
            self._delay_daemon(wait=False)
        netns.run_batch(["ip", "-batch", "-"], netns.veth_batch(pairs), "veth creation")
        report("configuring addresses and routes")
        self._build_management()
        if before_nodes is not None:
            before_nodes()
        # Routers and targets first, shaped, and their links' self-check started: its
        # pings (0.2 s at least) then run while the VPs are configured and their
        # scampers start, instead of after them.
        vp_nodes = [n for n in nodes if n.kind == "vp"]
        self._configure([n for n in nodes if n.kind != "vp"], on_node_ready)
        report("shaping links")
        self._shape()
        self._router_behaviour()
        early = [ln for ln in self.plan.links if self._no_vp_on(ln)]
        pings = start_checks(self.in_node, early) if self.self_check else []
        try:
            self._configure(vp_nodes, on_node_ready)
        except BaseException:
            cancel_checks(pings)
            raise
        checks = finish_checks(pings)
        if self.self_check:
            report("measuring link delay and loss")
            late = [ln for ln in self.plan.links if not self._no_vp_on(ln)]
            checks += finish_checks(start_checks(self.in_node, late))
            raise_failures(checks, self.mechanisms)

    def _add_holder(self, holder: holders.NodeNamespace) -> None:
        self.hosts[holder.name] = holder
        if self.on_holder is not None:
            self.on_holder(holder.name, holder.pid)

    def _no_vp_on(self, link: LinkPlan) -> bool:
        return all(self.plan.nodes[end.node].kind != "vp" for end in (link.a, link.b))

    def _configure(
        self, nodes: Sequence[NodePlan], on_node_ready: Callable[[str], None] | None
    ) -> None:
        """Each node's interfaces, addresses and routes: one ``ip -batch`` a node, many at once."""
        self._forks().run(
            [
                (
                    self.pid(node.name),
                    ["ip", "-batch", "-"],
                    "\n".join(self._config_lines(node)) + "\n",
                    f"address and route set-up in {node.name}",
                    None if on_node_ready is None else functools.partial(on_node_ready, node.name),
                )
                for node in nodes
            ],
            netns.PARALLEL,
        )

    def _config_lines(self, node: NodePlan) -> list[str]:
        """``ip -batch`` lines for a node's interfaces, addresses and routes (and, for a VP,
        its management link)."""
        lines = ["link set lo up"]
        mtus = {
            end.name: link.mtu
            for link in self.plan.links
            for end in (link.a, link.b)
            if end.node == node.name and link.mtu is not None
        }
        for intf in node.interfaces:
            if intf.name in mtus:
                lines.append(f"link set {intf.name} mtu {mtus[intf.name]}")
            lines += [
                f"link set {intf.name} up",
                f"addr add {intf.ipv4} dev {intf.name}",
                f"addr add {intf.ipv6} dev {intf.name} nodad",
            ]
            peer, mac = self._peers[node.name, intf.name]
            lines += _permanent_neighbours(intf.name, mac, peer.ipv4.ip, peer.ipv6.ip)
        if node.service_ipv4 is not None:
            lines.append(f"addr add {node.service_ipv4}/32 dev lo")
        if node.service_ipv6 is not None:
            lines.append(f"addr add {node.service_ipv6}/128 dev lo nodad")
        for route in node.routes:
            src = ""
            if node.kind != "router" and route.prefix.prefixlen == 0:
                # Hosts speak from their service address when they have one.
                src = f" src {node.ipv4 if route.prefix.version == 4 else node.ipv6}"
            if route.also:  # equal-cost multipath
                hops = " ".join(f"nexthop via {via} dev {dev}" for dev, via in route.nexthops)
                lines.append(f"route add {route.prefix} {hops}")
            else:
                lines.append(f"route add {route.prefix} via {route.via} dev {route.dev}{src}")
        if node.kind == "vp":
            port = self._mgmt_ports[node.name]
            lines += [
                f"link set {MGMT_VP_IF} up",
                f"route add {self.plan.controller_ipv4}/32 dev {MGMT_VP_IF} src {node.ipv4}",
                *_permanent_neighbours(
                    MGMT_VP_IF, link_mac(_MGMT_CONTROLLER, port), self.plan.controller_ipv4
                ),
            ]
        return lines

    def _build_management(self) -> None:
        """One veth from the controller's namespace to each VP, routed, not bridged.

        Each VP reaches sc_remoted from its measurement address (so sc_remoted
        sees the address Ark would), over a link that carries nothing else and
        leads nowhere else: a /32 route each way, no forwarding in the controller.
        The controller's address is on its loopback, which answers ARP on every
        port. (A bridge here floods every VP's ARP and first packets to every
        other VP: a million frames while 1,000 VPs connect, enough to overflow
        the kernel's backlog and lose a VP's connection attempt.) The VP ends
        are configured with the rest of each VP (:meth:`_config_lines`).
        """
        controller = self.plan.controller_ipv4
        ctl_lines = ["link set lo up"]
        if not self.gateway:
            ctl_lines.append(f"addr add {controller}/32 dev lo")
        src = "" if self.gateway else f" src {controller}"
        for i, vp in enumerate(self.plan.of_kind("vp")):
            port = f"m{i}"
            ctl_lines += [
                f"link set {port} up",
                f"route add {vp.ipv4}/32 dev {port}{src}",
                *_permanent_neighbours(port, link_mac(_MGMT_VP, i), vp.ipv4),
            ]
        self.run(
            CONTROLLER,
            ["ip", "-batch", "-"],
            "management network set-up",
            "\n".join(ctl_lines) + "\n",
        )

    def _in_parallel(self, record: Callable[[fallback.NodeRunner], None]) -> None:
        """Run the commands ``record`` asks of nodes: at once across nodes, in order in each.

        One ``mnexec`` and ``tc`` or ``iptables-restore`` after another cost about
        12 ms a command, 0.1 s of a ring's start-up; a node's own commands still run
        in the order asked, so its chains read as they would have.
        """
        calls: dict[str, list[tuple[list[str], str, str | None]]] = {}

        def note(node: str, argv: Sequence[str], what: str, stdin: str | None) -> None:
            calls.setdefault(node, []).append((list(argv), what, stdin))

        record(note)
        for wave in itertools.count():
            jobs: list[tuple[int, Sequence[str], str, str, Callable[[], None] | None]] = [
                (
                    self.pid(node),
                    todo[wave][0],
                    todo[wave][2] or "",
                    f"{todo[wave][1]} in {node}",
                    None,
                )
                for node, todo in calls.items()
                if wave < len(todo)
            ]
            if not jobs:
                return
            self._forks().run(jobs, netns.PARALLEL)

    def _forks(self) -> holders.ForkServer:
        if self.forks is None:
            raise LabStartError("the lab's network is not running: no node to run in")
        return self.forks

    def _shape(self) -> None:
        queued: dict[str, list[fallback.QueuedInterface]] = {}

        def record(run: fallback.NodeRunner) -> None:
            for link in self.plan.links:
                self.mechanisms[link.index] = fallback.mechanism(link.params, self.netem)
                for end in (link.a, link.b):
                    lines = tc_lines(end.name, link.params, self.netem)
                    if lines:
                        run(
                            end.node, ["tc", "-batch", "-"], "link shaping", "\n".join(lines) + "\n"
                        )
                    if self.mechanisms[link.index] == "nfqueue":
                        queued.setdefault(end.node, []).append(self._queued(end))
            for node, queues in queued.items():
                fallback.install_rules(run, node, queues)

        self._in_parallel(record)
        if queued:
            daemon = self._delay_daemon()
            for node, queues in queued.items():
                daemon.add(node, {q.number: self._link_at(node, q.dev).params for q in queues})

    def _router_behaviour(self) -> None:
        """Silent routers' filters and IP-ID rewriters (see emulation/routers.py)."""
        rewriters = [r for r in self.plan.topology.routers if behaviour.needs_rewriter(r)]

        def record(run: fallback.NodeRunner) -> None:
            for router in self.plan.topology.routers:
                if router.unresponsive:
                    peers = [self._peer(link, router.name) for link in self.plan.links]
                    neighbours = {
                        4: [str(p.ipv4.ip) for p in peers if p is not None],
                        6: [str(p.ipv6.ip) for p in peers if p is not None],
                    }
                    behaviour.install_filter_rules(run, router, neighbours)
                if router in rewriters:
                    behaviour.install_ipid_rules(run, router)

        self._in_parallel(record)
        for router in rewriters:
            seed = behaviour.hash_seed(router.name)
            self._delay_daemon().add_ipid(router.name, behaviour.IPID_QUEUE, router.ipid, seed)

    def _needs_daemon(self) -> bool:
        """Whether the delay daemon will be wanted: a link netem cannot shape here, or a
        router whose IP-IDs it rewrites."""
        return any(
            fallback.mechanism(link.params, self.netem) == "nfqueue" for link in self.plan.links
        ) or any(behaviour.needs_rewriter(r) for r in self.plan.topology.routers)

    @staticmethod
    def _peer(link: LinkPlan, node: str) -> Interface | None:
        if link.a.node == node:
            return link.b
        return link.a if link.b.node == node else None

    def _queue(self, node: str, dev: str) -> int:
        """An interface's NFQUEUE number in its node: its index, unique per namespace."""
        return [i.name for i in self.plan.nodes[node].interfaces].index(dev)

    def _queued(self, end: Interface) -> fallback.QueuedInterface:
        link = self._link_at(end.node, end.name)
        peer = self.plan.nodes[link.b.node if link.a is end else link.a.node]
        v4 = [str(i.ipv4.ip) for i in peer.interfaces] + [str(peer.service_ipv4 or "")]
        v6 = [str(i.ipv6.ip) for i in peer.interfaces] + [str(peer.service_ipv6 or "")]
        return fallback.QueuedInterface(
            end.name,
            self._queue(end.node, end.name),
            tuple(a for a in v4 if a),
            tuple(a for a in v6 if a),
        )

    def _link_at(self, node: str, dev: str) -> LinkPlan:
        return next(
            link
            for link in self.plan.links
            if (link.a.node, link.a.name) == (node, dev)
            or (link.b.node, link.b.name) == (node, dev)
        )

    def _delay_daemon(self, wait: bool = True) -> fallback.DelayDaemon:
        """The delay daemon, started if need be; ``wait=False`` only launches its process."""
        if self.delayd is None:
            problem = fallback.fallback_problem()
            if problem is not None:
                raise LabStartError(
                    "this kernel has no sch_netem and the userspace delay fallback cannot run:"
                    f" {problem}"
                )
            self.delayd = fallback.DelayDaemon(
                popen=lambda argv, **kw: self.popen(CONTROLLER, argv, **kw),
                netns=lambda node: f"/proc/{self.pid(node)}/ns/net",
                log_path=self.log_dir / "delayd.log" if self.log_dir else None,
                on_event=self.on_event,
                on_pid=self.on_pid,
            )
        if not wait:
            self.delayd.launch()
        elif not self.delayd.started:
            self.delayd.start()
        return self.delayd

    def verify_links(self, links: list[LinkPlan] | None = None) -> None:
        """Measure every delayed or lossy link; raise LabStartError if one is not in effect."""
        verify_links(self.in_node, self.plan.links if links is None else links, self.mechanisms)

    def link_report(self) -> list[dict[str, object]]:
        """Each link, its params and the mechanism applying them: for status and tests."""
        return [
            {
                "link": link_name(link),
                "delay_ms": link.params.delay,
                "jitter_ms": link.params.jitter,
                "loss_pct": link.params.loss,
                "bandwidth_mbit": link.params.bandwidth,
                "mechanism": self.mechanisms.get(link.index, "none"),
            }
            for link in self.plan.links
        ]

    # -- run time -----------------------------------------------------------

    def set_link_params(self, a: str, b: str, params: LinkParams, verify: bool = False) -> str:
        """Change the delay, jitter, loss and bandwidth of the link between nodes ``a`` and
        ``b`` while the lab runs, in both directions; returns the mechanism now applying it.

        This is the one entry point for run-time link changes (fault injection):
        it keeps the plan, the kernel and the delay daemon in agreement.
        """
        link = link_between(self.plan, a, b)
        link.params = params
        kind = fallback.mechanism(params, self.netem)
        for end in (link.a, link.b):
            if kind == "nfqueue" or self.mechanisms.get(link.index) == "nfqueue":
                daemon = self._delay_daemon()
                queue = self._queue(end.node, end.name)
                if daemon.has(end.node, queue):
                    # An undelayed link keeps its (now zero) queue: cheaper than re-plumbing.
                    daemon.set(end.node, queue, params)
                else:
                    daemon.add(end.node, {queue: params})
                    fallback.install_rules(self.run, end.node, [self._queued(end)])
            lines = tc_lines(end.name, params, self.netem)
            script = "\n".join(lines) + "\n" if lines else f"qdisc del dev {end.name} root\n"
            # Deleting a root qdisc that is not there fails: harmless, so not checked.
            subprocess.run(
                self.in_node(end.node, ["tc", "-force", "-batch", "-"]),
                input=script,
                capture_output=True,
                text=True,
                check=not script.startswith("qdisc del"),
            )
        if kind == "none" and self.mechanisms.get(link.index) == "nfqueue":
            kind = "nfqueue"  # still queued, at zero delay
        self.mechanisms[link.index] = kind
        if verify:
            self.verify_links([link])
        return kind

    # -- teardown -----------------------------------------------------------

    def namespace_ids(self) -> dict[str, int]:
        """Inode of each node's network namespace: how tests prove they are gone."""
        ids = {}
        for name, host in self.hosts.items():
            try:
                ids[name] = os.stat(f"/proc/{host.pid}/ns/net").st_ino
            except OSError:
                continue
        return ids

    def stop(self) -> None:
        """Kill every node's shell and anything else still inside a lab namespace; with
        no process left inside, each namespace and its veth ends are freed by the kernel."""
        if self.delayd is not None:
            self.delayd.stop()
            self.delayd = None
        with netns.pinned_namespaces(host.pid for host in self.hosts.values()) as namespaces:
            for host in self.hosts.values():
                host.terminate()
            deadline = time.monotonic() + 5
            for host in self.hosts.values():
                host.wait(deadline - time.monotonic())
                host.close()
            self.hosts.clear()
            _kill_inside(namespaces)
        if self.forks is not None:
            self.forks.close()
            self.forks = None
        if self._spawner is not None:
            self._spawner.close()
            self._spawner = None

    def bind_mounts(self, mounts: Sequence[tuple[str, str, str]]) -> None:
        """Bind-mount each (node, file, over) in that node's private mount namespace."""
        if self.forks is None:
            raise LabStartError("the lab's network is not running: no node to mount in")
        self.forks.bind_mounts([(self.pid(node), path, over) for node, path, over in mounts])


def _kill_inside(namespaces: set[int]) -> None:
    """SIGKILL every process whose network namespace is one of the lab's.

    Such processes are the lab's by construction (scamper's privilege-separation
    children, or whatever a user ran in a node), so this is never collateral:
    the caller holds the namespaces open, so their numbers cannot be reused.
    """
    deadline = time.monotonic() + 5.0
    while namespaces and time.monotonic() < deadline:
        inside = netns.processes_in(namespaces)
        if not inside:
            return
        for pid in inside:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
