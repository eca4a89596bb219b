"""From a validated topology to a concrete plan: interfaces, addresses and routes.

The plan is what the emulation layer realises, line for line. Keeping it a
pure function of the topology makes addressing and routing testable without
root, and makes two ``up`` of one file produce the same lab.

Addressing: every link gets a /30 from 198.18.0.0/16 and a /64 from
2001:db8:1000::/48 (skipping any that holds an address the file fixes
itself); the router end takes the first address, the other end the second.
A host with an explicit ``ipv4``/``ipv6`` carries it on its loopback and
uses it as the source of everything it sends, like a server's service
address. Routing: shortest paths by link delay (then hop count) among
routers, installed as static routes; hosts have one default route.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from scamperlab.topology.addresses import MANAGEMENT_V4
from scamperlab.topology.model import Link, LinkParams, Topology, Uplink

IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NodeKind = Literal["router", "vp", "target"]

LINK_POOL_V4 = ipaddress.IPv4Network("198.18.0.0/16")
LINK_POOL_V6 = ipaddress.IPv6Network("2001:db8:1000::/48")
# Weight added per hop so that, between equal-delay paths, the shorter one wins.
_HOP_PENALTY_MS = 1e-3


@dataclass(frozen=True)
class Route:
    prefix: Network
    dev: str
    via: IPv4 | IPv6 | None = None
    # Further equal-cost next hops (dev, via): with them, a multipath (ECMP) route.
    also: tuple[tuple[str, IPv4 | IPv6], ...] = ()

    @property
    def nexthops(self) -> list[tuple[str, IPv4 | IPv6 | None]]:
        return [(self.dev, self.via), *self.also]


@dataclass
class Interface:
    node: str
    name: str
    ipv4: ipaddress.IPv4Interface
    ipv6: ipaddress.IPv6Interface


@dataclass
class LinkPlan:
    index: int
    a: Interface
    b: Interface
    params: LinkParams
    mtu: int | None = None
    # Routing cost a->b and b->a when the file sets one (otherwise the delay decides).
    cost: tuple[float, float] | None = None


@dataclass
class NodePlan:
    name: str
    kind: NodeKind
    short: str  # the Mininet node name: short, unique, safe in interface names
    interfaces: list[Interface] = field(default_factory=list)
    service_ipv4: IPv4 | None = None
    service_ipv6: IPv6 | None = None
    routes: list[Route] = field(default_factory=list)

    @property
    def ipv4(self) -> IPv4:
        """The address this node is known by: its service address or its first interface's."""
        return self.service_ipv4 or self.interfaces[0].ipv4.ip

    @property
    def ipv6(self) -> IPv6:
        return self.service_ipv6 or self.interfaces[0].ipv6.ip


@dataclass
class LabPlan:
    topology: Topology
    nodes: dict[str, NodePlan]
    links: list[LinkPlan]
    management: ipaddress.IPv4Network = MANAGEMENT_V4

    @property
    def controller_ipv4(self) -> IPv4:
        return next(self.management.hosts())

    def of_kind(self, kind: NodeKind) -> list[NodePlan]:
        return [n for n in self.nodes.values() if n.kind == kind]


def _subnets(pool: Network, prefixlen: int, taken: set[IPv4 | IPv6]) -> Iterator[Network]:
    for net in pool.subnets(new_prefix=prefixlen):
        if not any(addr in net for addr in taken):
            yield net


def make_plan(topo: Topology) -> LabPlan:
    nodes: dict[str, NodePlan] = {}
    for i, r in enumerate(topo.routers):
        nodes[r.name] = NodePlan(r.name, "router", f"r{i}")
    for i, vp in enumerate(topo.vps):
        nodes[vp.name] = NodePlan(
            vp.name, "vp", f"v{i}", service_ipv4=vp.ipv4, service_ipv6=vp.ipv6
        )
    for i, t in enumerate(topo.targets):
        nodes[t.name] = NodePlan(
            t.name, "target", f"t{i}", service_ipv4=t.ipv4, service_ipv6=t.ipv6
        )

    taken: set[IPv4 | IPv6] = {
        a for n in nodes.values() for a in (n.service_ipv4, n.service_ipv6) if a is not None
    }
    pool4 = _subnets(LINK_POOL_V4, 30, taken)
    pool6 = _subnets(LINK_POOL_V6, 64, taken)

    pairs: list[tuple[str, str, Link | Uplink]] = [
        (link.ends[0], link.ends[1], link) for link in topo.links
    ]
    pairs += [(h.uplink.router, h.name, h.uplink) for h in [*topo.vps, *topo.targets]]
    links: list[LinkPlan] = []
    for index, (a, b, params) in enumerate(pairs):
        net4, net6 = next(pool4), next(pool6)
        ends = []
        for offset, name in ((1, a), (2, b)):
            node = nodes[name]
            intf = Interface(
                node=name,
                name=f"eth{len(node.interfaces)}",
                ipv4=ipaddress.IPv4Interface((net4.network_address + offset, net4.prefixlen)),
                ipv6=ipaddress.IPv6Interface((net6.network_address + offset, net6.prefixlen)),
            )
            node.interfaces.append(intf)
            ends.append(intf)
        links.append(
            LinkPlan(
                index,
                ends[0],
                ends[1],
                LinkParams.model_validate(params.model_dump(include=set(LinkParams.model_fields))),
                mtu=params.mtu,
                cost=params.cost if isinstance(params, Link) else None,
            )
        )

    plan = LabPlan(topo, nodes, links)
    _plan_routes(plan)
    return plan


def routing_graph(plan: LabPlan) -> nx.DiGraph:
    """Every link as two directed edges weighted by their routing cost.

    The cost is the link's ``cost`` when the file sets one (per direction, which
    is what makes asymmetric paths), otherwise its delay plus a tiny per-hop
    penalty, so that between paths of equal delay the one with fewer hops wins.
    An explicit cost gets no penalty: equal costs must stay exactly equal for
    ECMP to keep paths of different lengths (an unbalanced diamond).
    """
    graph: nx.DiGraph = nx.DiGraph()
    for link in plan.links:
        a, b = link.a.node, link.b.node
        if link.cost is not None:
            forward, back = link.cost
        else:
            forward = back = link.params.delay + _HOP_PENALTY_MS
        graph.add_edge(a, b, weight=forward)
        graph.add_edge(b, a, weight=back)
    return graph


def _plan_routes(plan: LabPlan) -> None:
    graph = routing_graph(plan)
    # (node, neighbour) -> (local interface, neighbour's interface)
    adjacency: dict[tuple[str, str], tuple[Interface, Interface]] = {}
    for link in plan.links:
        a, b = link.a.node, link.b.node
        adjacency[(a, b)] = (link.a, link.b)
        adjacency[(b, a)] = (link.b, link.a)

    # Hosts are leaves: one default route towards their router.
    for node in plan.nodes.values():
        if node.kind == "router":
            continue
        uplink = node.interfaces[0]
        router_end = adjacency[(node.name, next(iter(graph.successors(node.name))))][1]
        node.routes.append(
            Route(ipaddress.IPv4Network("0.0.0.0/0"), uplink.name, router_end.ipv4.ip)
        )
        node.routes.append(Route(ipaddress.IPv6Network("::/0"), uplink.name, router_end.ipv6.ip))

    # Every prefix lives on one link (both ends) or behind one host (service address).
    destinations: list[tuple[Network, tuple[str, ...]]] = []
    for link in plan.links:
        ends = (link.a.node, link.b.node)
        destinations.append((link.a.ipv4.network, ends))
        destinations.append((link.a.ipv6.network, ends))
    for node in plan.nodes.values():
        if node.service_ipv4 is not None:
            destinations.append((ipaddress.IPv4Network(node.service_ipv4), (node.name,)))
        if node.service_ipv6 is not None:
            destinations.append((ipaddress.IPv6Network(node.service_ipv6), (node.name,)))

    routers = plan.of_kind("router")
    names = {r.name for r in routers}
    ecmp = {name for name in names if plan.topology.ecmp_at(name)}
    dists: dict[str, dict[str, float]] = {}
    for router in routers:
        dist, paths = nx.single_source_dijkstra(graph, router.name)
        dists[router.name] = dist
        for prefix, owners in destinations:
            if router.name in owners:
                continue  # directly connected: the kernel adds that route itself
            owner = min(owners, key=lambda o: (dist[o], o))
            hops = [paths[owner][1]]
            if router.name in ecmp:
                hops += _equal_cost_hops(graph, dists, router.name, owners, hops[0], names)
            nexthops = []
            for next_hop in hops:
                local, remote = adjacency[(router.name, next_hop)]
                nexthops.append(
                    (local.name, remote.ipv4.ip if prefix.version == 4 else remote.ipv6.ip)
                )
            (dev, via), *also = nexthops
            router.routes.append(Route(prefix, dev, via, tuple(also)))


# Costs within this of each other are equal (well below the per-hop penalty).
_TIE = 1e-7


def _equal_cost_hops(
    graph: nx.DiGraph,
    dists: dict[str, dict[str, float]],
    router: str,
    owners: tuple[str, ...],
    first: str,
    routers: set[str],
) -> list[str]:
    """Neighbours other than ``first`` that start a path to ``owners`` as cheap as the best."""

    def to_owners(node: str) -> float:
        if node in owners:
            return 0.0
        if node not in dists:
            dists[node] = nx.single_source_dijkstra_path_length(graph, node)
        return min(dists[node].get(o, float("inf")) for o in owners)

    best = to_owners(router)
    more = []
    for neighbour in graph.successors(router):
        if neighbour == first:
            continue
        if neighbour not in owners and neighbour not in routers:
            continue  # a host is a leaf: it carries no transit traffic
        cost = graph[router][neighbour]["weight"] + to_owners(neighbour)
        if abs(cost - best) <= _TIE:
            more.append(neighbour)
    return sorted(more)


def path_between(plan: LabPlan, src: str, dst: str) -> list[str]:
    """The nodes a packet from ``src`` to ``dst`` crosses, ends included.

    The same shortest-path rule the routes were computed with, so tests and
    users can predict a traceroute or the RTT a link delay should give. With
    ECMP this is one of the equal-cost paths; :mod:`scamperlab.topology.truth`
    has them all.
    """
    path: list[str] = nx.dijkstra_path(routing_graph(plan), src, dst)
    return path


def link_graph(plan: LabPlan) -> nx.Graph:
    """Every node and link, undirected, weighted by delay then hops (nearest server)."""
    graph: nx.Graph = nx.Graph()
    for link in plan.links:
        graph.add_edge(link.a.node, link.b.node, weight=link.params.delay + _HOP_PENALTY_MS)
    return graph


def link_between(plan: LabPlan, a: str, b: str) -> LinkPlan:
    for link in plan.links:
        if {link.a.node, link.b.node} == {a, b}:
            return link
    raise KeyError(f"no link between {a} and {b}")
