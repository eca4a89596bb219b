"""Checks that span several entries of a topology (names, references, addresses, services).

Each problem carries the location of the offending field as a path
(``("vps", 3, "uplink", "router")``) so the loader can name its line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from scamperlab.topology.addresses import ALLOWED_V4, ALLOWED_V6, MANAGEMENT_V4
from scamperlab.topology.model import Router, Target, Topology, VantagePoint
from scamperlab.topology.services import (
    DnsAuthoritative,
    DnsResolver,
    absolute,
    closest_zone,
    is_within,
    service_ports,
)

Loc = tuple[str | int, ...]


# Node names scamperlab uses for nodes of its own.
RESERVED_NAMES = frozenset({"controller"})


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str


def fmt_loc(loc: Loc) -> str:
    """``("vps", 3, "uplink")`` -> ``vps[3].uplink``: the field as a user would name it."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def check_topology(topo: Topology) -> list[Problem]:
    problems: list[Problem] = []
    kinds: dict[str, str] = {}
    entries: list[tuple[str, Sequence[Router | VantagePoint | Target]]] = [
        ("routers", topo.routers),
        ("vps", topo.vps),
        ("targets", topo.targets),
    ]
    for section, items in entries:
        for i, item in enumerate(items):
            if item.name in RESERVED_NAMES:
                problems.append(
                    Problem((section, i, "name"), f"{item.name!r} is reserved by scamperlab")
                )
            elif item.name in kinds:
                problems.append(
                    Problem(
                        (section, i, "name"),
                        f"{item.name!r} is already the name of a {kinds[item.name]}",
                    )
                )
            else:
                kinds[item.name] = section[:-1]

    for section, hosts in (("vps", topo.vps), ("targets", topo.targets)):
        for i, host in enumerate(hosts):
            if kinds.get(host.uplink.router) != "router":
                problems.append(
                    Problem(
                        (section, i, "uplink", "router"), f"no router named {host.uplink.router!r}"
                    )
                )

    seen_pairs: dict[frozenset[str], int] = {}
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(r.name for r in topo.routers)
    for i, link in enumerate(topo.links):
        a, b = link.ends
        for end in (a, b):
            if kinds.get(end) != "router":
                what = f"a {kinds[end]}" if end in kinds else "not defined"
                problems.append(
                    Problem(
                        ("links", i, "ends"),
                        f"{end!r} is {what}; links join routers (hosts use 'uplink')",
                    )
                )
        if a == b:
            problems.append(Problem(("links", i, "ends"), "a link needs two different routers"))
        pair = frozenset((a, b))
        if pair in seen_pairs:
            problems.append(
                Problem(
                    ("links", i, "ends"),
                    f"duplicate of links[{seen_pairs[pair]}] between {a} and {b}",
                )
            )
        seen_pairs.setdefault(pair, i)
        graph.add_edge(a, b)

    if not problems and nx.number_connected_components(graph) > 1:
        parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=len, reverse=True)
        problems.append(
            Problem(("links",), f"routers {', '.join(parts[1])} are not connected to {parts[0][0]}")
        )

    problems.extend(_check_addresses(topo))
    problems.extend(_check_services(topo))
    return problems


def _check_addresses(topo: Topology) -> list[Problem]:
    problems: list[Problem] = []
    used: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {}
    for section, hosts in (("vps", topo.vps), ("targets", topo.targets)):
        for i, host in enumerate(hosts):
            for family, addr in (("ipv4", host.ipv4), ("ipv6", host.ipv6)):
                if addr is None:
                    continue
                loc = (section, i, family)
                allowed = ALLOWED_V4 if family == "ipv4" else ALLOWED_V6
                if not any(addr in net for net in allowed):
                    ranges = ", ".join(str(n) for n in allowed)
                    problems.append(Problem(loc, f"{addr} is outside the lab ranges ({ranges})"))
                elif isinstance(addr, ipaddress.IPv4Address) and addr in MANAGEMENT_V4:
                    problems.append(
                        Problem(
                            loc,
                            f"{addr} is in {MANAGEMENT_V4}, reserved for the management network",
                        )
                    )
                elif addr in used:
                    problems.append(Problem(loc, f"{addr} is already the address of {used[addr]}"))
                else:
                    used[addr] = host.name
    return problems


def _check_services(topo: Topology) -> list[Problem]:
    """Cross-checks of services and zones; each problem names the field at fault."""
    problems: list[Problem] = []
    zone_names = [z.name for z in topo.zones]
    for i, zone in enumerate(topo.zones):
        if zone.name in zone_names[:i]:
            problems.append(Problem(("zones", i, "name"), f"zone {zone.name} is defined twice"))

    servers = topo.zone_servers()
    hostnames: dict[str, str] = {}
    resolvers = []
    for t, target in enumerate(topo.targets):
        ports: dict[tuple[str, int], str] = {}
        for s, service in enumerate(target.services):
            loc: tuple[str | int, ...] = ("targets", t, "services", s)
            for proto_port in service_ports(service):
                if proto_port in ports:
                    problems.append(
                        Problem(
                            loc,
                            f"{service.kind} and {ports[proto_port]} both use"
                            f" {proto_port[0].upper()} port {proto_port[1]} on {target.name}",
                        )
                    )
                    break
                ports[proto_port] = service.kind
            if isinstance(service, DnsResolver):
                resolvers.append(target.name)
            if isinstance(service, DnsAuthoritative):
                if service.hostname in hostnames:
                    problems.append(
                        Problem(
                            (*loc, "hostname"),
                            f"{service.hostname} is already the name of the nameserver"
                            f" on {hostnames[service.hostname]}",
                        )
                    )
                hostnames.setdefault(service.hostname, target.name)
                for z, zone_name in enumerate(service.zones):
                    if zone_name not in zone_names:
                        problems.append(
                            Problem(
                                (*loc, "zones", z),
                                f"no zone {zone_name} under 'zones' (define its records there)",
                            )
                        )
                    elif zone_name in service.zones[:z]:
                        problems.append(Problem((*loc, "zones", z), f"{zone_name} is listed twice"))
                if closest_zone(service.hostname, zone_names) is None:
                    problems.append(
                        Problem(
                            (*loc, "hostname"),
                            f"{service.hostname} is in no zone of this file, so nothing"
                            " could answer for its address",
                        )
                    )

    for i, zone in enumerate(topo.zones):
        if zone.name not in servers:
            problems.append(
                Problem(
                    ("zones", i, "name"),
                    f"no dns-authoritative service serves {zone.name}",
                )
            )
        children = [z for z in zone_names if z != zone.name and is_within(z, zone.name)]
        for j, record in enumerate(zone.parsed()):
            rloc: tuple[str | int, ...] = ("zones", i, "records", j)
            try:
                owner = absolute(record.owner, zone.name)
            except ValueError as exc:
                problems.append(Problem(rloc, str(exc)))
                continue
            if not is_within(owner, zone.name):
                problems.append(Problem(rloc, f"{owner} is not in zone {zone.name}"))
                continue
            below = [c for c in children if is_within(owner, c)]
            if below:
                problems.append(
                    Problem(rloc, f"{owner} belongs in zone {max(below, key=len)}, not here")
                )
            elif owner in hostnames and record.rtype in ("A", "AAAA", "CNAME"):
                problems.append(
                    Problem(
                        rloc,
                        f"{owner} is the nameserver on {hostnames[owner]}: its addresses"
                        " are that target's, added automatically",
                    )
                )

    if resolvers and "." not in zone_names:
        problems.append(
            Problem(
                ("zones",),
                f"{resolvers[0]} runs a dns-resolver, which needs the root zone '.' to be"
                " defined and served in the lab",
            )
        )
    return problems
