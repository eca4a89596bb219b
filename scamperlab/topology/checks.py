"""Checks that span several entries of a topology (names, references, addresses).

Each problem carries the location of the offending field as a path
(``("vps", 3, "uplink", "router")``) so the loader can name its line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from scamperlab.topology.model import Router, Target, Topology, VantagePoint
from scamperlab.topology.services import check_services

Loc = tuple[str | int, ...]

# Lab addresses come from ranges that can never be someone else's network.
ALLOWED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in ("198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
ALLOWED_V6 = (ipaddress.IPv6Network("2001:db8::/32"),)
# The management network (VPs to sc_remoted) is carved out of 198.19.0.0/16.
MANAGEMENT_V4 = ipaddress.IPv4Network("198.19.240.0/20")


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
    problems.extend(check_services(topo))
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
