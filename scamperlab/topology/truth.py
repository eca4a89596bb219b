"""Ground truth: what a perfect traceroute, MDA or alias resolution would find in a lab.

Computed from the plan alone (no root, nothing running), by walking the very
routes the emulation installs, so a test can compare a real measurement
against it: ``tracelb`` must find exactly :attr:`PathTruth.links`, alias
resolution exactly :func:`alias_sets`. The walk models the kernel's choices:

- a router forwards along every next hop of its (multipath) route for the
  destination: with ECMP each flow takes one, and MDA should find them all;
- an IPv4 router answers from the interface the probe came in on
  (``icmp_errors_use_inbound_ifaddr``); an IPv6 router from the interface
  its route back to the prober leaves by (so with a multipath route back,
  any of those interfaces' addresses may answer);
- the destination answers from the probed address itself;
- an ``unresponsive`` router is a hop that never answers (``*``).
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import Any

from scamperlab.topology.plan import Interface, LabPlan, NodePlan

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A diamond of diamonds multiplies paths; beyond this the walk stops enumerating.
MAX_PATHS = 10_000


@dataclass(frozen=True, order=True)
class TruthLink:
    """Two consecutive responsive hops; ``length`` > 1 when silent hops lie between."""

    near: str
    far: str
    length: int = 1


@dataclass(frozen=True)
class TruthHop:
    """One hop of one path: the node, and the addresses it may answer from (none: ``*``)."""

    node: str
    addrs: frozenset[str]

    @property
    def responsive(self) -> bool:
        return bool(self.addrs)


@dataclass
class PathTruth:
    """Everything a perfect measurement from ``src`` towards ``dst`` would see."""

    src: str
    src_addr: str
    dst: str
    dst_node: str | None
    # Every forwarding path (one per combination of ECMP choices), hop by hop from TTL 1.
    paths: list[list[TruthHop]] = field(default_factory=list)
    # The router sequences back from the destination to ``src``.
    reverse: list[list[str]] = field(default_factory=list)
    truncated: bool = False

    @property
    def hops(self) -> list[frozenset[str]]:
        """The addresses that may answer at each TTL (index 0 is TTL 1), over all paths."""
        depth = max((len(p) for p in self.paths), default=0)
        return [
            frozenset(a for p in self.paths if i < len(p) for a in p[i].addrs) for i in range(depth)
        ]

    @property
    def links(self) -> set[TruthLink]:
        """The links between interface addresses that MDA traceroute would report."""
        found: set[TruthLink] = set()
        for path in self.paths:
            last: TruthHop | None = None
            gap = 1
            for hop in path:
                if not hop.responsive:
                    gap += 1
                    continue
                if last is not None:
                    found |= {TruthLink(n, f, gap) for n in last.addrs for f in hop.addrs}
                last, gap = hop, 1
        return found

    @property
    def router_links(self) -> set[tuple[str, str]]:
        """The same links as router names: independent of which interface answered."""
        return {(a.node, b.node) for p in self.paths for a, b in itertools.pairwise(p)}

    @property
    def routers(self) -> list[list[str]]:
        """Each path as node names (the destination included when it is a host)."""
        return [[hop.node for hop in path] for path in self.paths]

    @property
    def unresponsive(self) -> set[int]:
        """TTLs at which some path has a silent hop."""
        return {i + 1 for p in self.paths for i, hop in enumerate(p) if not hop.responsive}

    @property
    def aliases(self) -> list[frozenset[str]]:
        """Addresses seen on these paths that belong to one router (two or more)."""
        by_node: dict[str, set[str]] = {}
        for path in self.paths:
            for hop in path:
                by_node.setdefault(hop.node, set()).update(hop.addrs)
        return sorted((frozenset(a) for a in by_node.values() if len(a) > 1), key=sorted)

    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.src,
            "src_addr": self.src_addr,
            "dst": self.dst,
            "dst_node": self.dst_node,
            "hops": [sorted(h) for h in self.hops],
            "paths": [
                [{"node": h.node, "addrs": sorted(h.addrs)} for h in path] for path in self.paths
            ],
            "links": [
                {"near": link.near, "far": link.far, "length": link.length}
                for link in sorted(self.links)
            ],
            "router_links": sorted(list(pair) for pair in self.router_links),
            "aliases": [sorted(a) for a in self.aliases],
            "reverse": self.reverse,
            "unresponsive_ttls": sorted(self.unresponsive),
            "truncated": self.truncated,
        }


def alias_sets(plan: LabPlan, family: int | None = None) -> dict[str, frozenset[str]]:
    """Each router's interface addresses: the true alias sets of the whole lab."""
    sets = {}
    for node in plan.of_kind("router"):
        addrs: set[str] = set()
        for intf in node.interfaces:
            if family in (None, 4):
                addrs.add(str(intf.ipv4.ip))
            if family in (None, 6):
                addrs.add(str(intf.ipv6.ip))
        sets[node.name] = frozenset(addrs)
    return sets


def owner_of(plan: LabPlan, addr: str | Address) -> str | None:
    """The node that holds ``addr`` (an interface or a service address), if any."""
    ip = ipaddress.ip_address(addr)
    for node in plan.nodes.values():
        if ip in (node.service_ipv4, node.service_ipv6):
            return node.name
        for intf in node.interfaces:
            if ip in (intf.ipv4.ip, intf.ipv6.ip):
                return node.name
    return None


def _addrs(node: NodePlan) -> set[Address]:
    found: set[Address] = {a for a in (node.service_ipv4, node.service_ipv6) if a is not None}
    for intf in node.interfaces:
        found |= {intf.ipv4.ip, intf.ipv6.ip}
    return found


class _Walker:
    def __init__(self, plan: LabPlan) -> None:
        self.plan = plan
        # (node, dev) -> the interface at the other end of that device's link
        self.peer: dict[tuple[str, str], Interface] = {}
        for link in plan.links:
            self.peer[(link.a.node, link.a.name)] = link.b
            self.peer[(link.b.node, link.b.name)] = link.a

    def next_hops(self, node: NodePlan, dst: Address) -> list[Interface]:
        """Where ``node`` sends a packet for ``dst``: the ingress interfaces of the next nodes."""
        for intf in node.interfaces:
            net = intf.ipv4.network if dst.version == 4 else intf.ipv6.network
            if dst in net:
                peer = self.peer[(node.name, intf.name)]
                peer_ip = peer.ipv4.ip if dst.version == 4 else peer.ipv6.ip
                return [peer] if peer_ip == dst else []
        best = None
        for route in node.routes:
            longer = best is None or route.prefix.prefixlen > best.prefix.prefixlen
            if route.prefix.version == dst.version and dst in route.prefix and longer:
                best = route
        if best is None:
            return []
        return [self.peer[(node.name, dev)] for dev, _ in best.nexthops]

    def reply_addrs(self, node: NodePlan, ingress: Interface, src: Address) -> frozenset[str]:
        """The addresses a transit router's time-exceeded may come from."""
        router = self.plan.topology.router(node.name)
        if router is not None and router.unresponsive:
            return frozenset()
        if src.version == 4:
            return frozenset({str(ingress.ipv4.ip)})
        back = self.next_hops(node, src)
        local = [self.peer[(p.node, p.name)] for p in back]
        return frozenset(str(i.ipv6.ip) for i in local)

    def forward(
        self, src_node: str, src: Address, dst: Address
    ) -> tuple[list[list[TruthHop]], bool]:
        dst_owner = owner_of(self.plan, dst)
        paths: list[list[TruthHop]] = []
        truncated = False

        def walk(node: NodePlan, ingress: Interface | None, so_far: list[TruthHop]) -> None:
            nonlocal truncated
            if len(paths) >= MAX_PATHS:
                truncated = True
                return
            if ingress is not None:
                if node.name == dst_owner:
                    router = self.plan.topology.router(node.name)
                    silent = router is not None and router.unresponsive
                    paths.append(
                        [
                            *so_far,
                            TruthHop(node.name, frozenset() if silent else frozenset({str(dst)})),
                        ]
                    )
                    return
                if node.kind != "router" or len(so_far) > 255:
                    return  # a host that is not the destination: nowhere to go
                so_far = [*so_far, TruthHop(node.name, self.reply_addrs(node, ingress, src))]
            for peer in self.next_hops(node, dst):
                walk(self.plan.nodes[peer.node], peer, so_far)

        walk(self.plan.nodes[src_node], None, [])
        return paths, truncated

    def reverse(self, start: str, dst: Address) -> list[list[str]]:
        """Router sequences from node ``start`` back to address ``dst``."""
        out: list[list[str]] = []
        owner = owner_of(self.plan, dst)

        def walk(node: NodePlan, so_far: list[str]) -> None:
            if len(out) >= MAX_PATHS or len(so_far) > 255:
                return
            if node.name == owner:
                out.append(so_far)
                return
            if node.kind == "router":
                so_far = [*so_far, node.name]
            for peer in self.next_hops(node, dst):
                walk(self.plan.nodes[peer.node], so_far)

        walk(self.plan.nodes[start], [])
        return out


def path_truth(plan: LabPlan, src: str, dst: str | Address, family: int | None = None) -> PathTruth:
    """The ground truth from VP (or any node) ``src`` towards address ``dst``.

    ``dst`` may also name a node, whose address of ``family`` (4 unless given)
    is used.
    """
    if src not in plan.nodes:
        raise KeyError(f"no node named {src!r}")
    try:
        dst_ip: Address = ipaddress.ip_address(dst)
    except ValueError:
        if str(dst) not in plan.nodes:
            raise KeyError(f"{dst!r} is neither an address nor a node") from None
        target = plan.nodes[str(dst)]
        dst_ip = target.ipv6 if family == 6 else target.ipv4
    source = plan.nodes[src]
    src_ip: Address = source.ipv4 if dst_ip.version == 4 else source.ipv6
    walker = _Walker(plan)
    paths, truncated = walker.forward(src, src_ip, dst_ip)
    owner = owner_of(plan, dst_ip)
    reverse = walker.reverse(owner, src_ip) if owner is not None else []
    return PathTruth(src, str(src_ip), str(dst_ip), owner, paths, reverse, truncated)


def lab_truth(plan: LabPlan, dst: str, src: str | None = None) -> dict[str, Any]:
    """The JSON document of ``scamperlab truth``: every VP's (or one node's) view of ``dst``."""
    sources = [src] if src is not None else [vp.name for vp in plan.of_kind("vp")]
    per_src = {name: path_truth(plan, name, dst).to_json() for name in sources}
    dst_addr = str(next(iter(per_src.values()))["dst"])
    family = 6 if ":" in dst_addr else 4
    return {
        "topology": plan.topology.name,
        "dst": dst_addr,
        "from": per_src,
        "alias_sets": {r: sorted(a) for r, a in alias_sets(plan, family).items()},
    }


def owners(plan: LabPlan) -> dict[str, str]:
    """Every address of the lab and the node holding it."""
    return {str(a): node.name for node in plan.nodes.values() for a in _addrs(node)}
