"""fakeroute's edge lists as lab topologies.

fakeroute (the libparistraceroute project's traceroute simulator) describes
a destination's load-balanced paths as a text file of edges between hop
labels: ``start X`` names the first hop, ``A B`` says B can follow A, and
``Z end`` names the last router before the destination. ``# DESC ...`` is a
description; other ``#`` lines are comments. Here a label starting with
``*`` (``*1``, ``*a``...) is a hop that never answers, an extension of ours.

Each label becomes a router; the VP hangs off the first hop and the
destination off the last. fakeroute's load balancers are per-flow and may
have branches of different lengths, so the lab turns ECMP on and gives each
edge ``u -> v`` the cost ``L(u) - L(v)``, where ``L`` is the longest hop
count from a label to ``end``: every path from ``u`` to the destination then
costs exactly ``L(u)``, so the routes keep all of fakeroute's paths and no
other. The labels themselves are not used as addresses: lab routers answer
from their own interfaces, one address per ingress link, as real ones do;
compare at the level of routers (``PathTruth.router_links``) or keep the
label of each router from :func:`router_name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from scamperlab.errors import TopologyError
from scamperlab.topology.loader import load_topology, parse_topology
from scamperlab.topology.model import Topology

VP_NAME = "vp.fakeroute"
TARGET_NAME = "dst"


@dataclass(frozen=True)
class EdgeList:
    description: str
    edges: tuple[tuple[str, str], ...]  # (from, to), "start" and "end" included


def parse_edges(text: str, filename: str = "<fakeroute>") -> EdgeList:
    description = ""
    edges: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if "DESC" in line:
                description = line.split("DESC", 1)[1].strip()
            continue
        parts = line.split()
        if len(parts) != 2:
            raise TopologyError(filename, number, None, f"expected 'FROM TO', got {line!r}")
        a, b = parts
        if b == "start" or a == "end":
            raise TopologyError(filename, number, None, "'start' only begins, 'end' only ends")
        edges.append((a, b))
    return EdgeList(description, tuple(edges))


def router_name(label: str) -> str:
    """The lab router standing for fakeroute hop ``label``."""
    if label.startswith("*"):
        return "silent-" + (re.sub(r"[^A-Za-z0-9._-]", "-", label[1:]) or "0")
    return "r-" + re.sub(r"[^A-Za-z0-9._-]", "-", label)


def to_topology_dict(
    edges: EdgeList, name: str, filename: str = "<fakeroute>"
) -> dict[str, object]:
    succ: dict[str, list[str]] = {}
    for a, b in edges.edges:
        if b not in succ.setdefault(a, []):
            succ[a].append(b)
    first = succ.get("start", [])
    last = [a for a, b in edges.edges if b == "end"]
    if len(first) != 1 or len(set(last)) != 1:
        raise TopologyError(
            filename, None, None, "a fakeroute file needs exactly one 'start X' and one 'Z end'"
        )

    visiting: set[str] = set()

    @cache
    def longest(label: str) -> int:
        if label == "end":
            return 0
        if label in visiting:
            raise TopologyError(filename, None, None, f"the edges loop through {label!r}")
        visiting.add(label)
        nexts = succ.get(label, [])
        if not nexts:
            raise TopologyError(filename, None, None, f"{label!r} never reaches 'end'")
        result = 1 + max(longest(n) for n in nexts)
        visiting.discard(label)
        return result

    labels = [a for a in succ if a != "start"]
    routers = [
        {"name": router_name(label), **({"unresponsive": True} if label.startswith("*") else {})}
        for label in labels
    ]
    links = []
    for a, b in edges.edges:
        if a == "start" or b == "end":
            continue
        cost = longest(a) - longest(b)
        links.append({"ends": [router_name(a), router_name(b)], "cost": cost})
    longest(first[0])
    return {
        "name": name,
        "description": edges.description or "imported from a fakeroute edge list",
        "ecmp": True,
        "routers": routers,
        "links": links,
        "vps": [{"name": VP_NAME, "uplink": {"router": router_name(first[0])}}],
        "targets": [{"name": TARGET_NAME, "uplink": {"router": router_name(last[0])}}],
    }


def import_fakeroute(path: str | Path, name: str | None = None) -> Topology:
    """A validated lab topology from fakeroute file ``path``."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lab_name = name or re.sub(r"[^A-Za-z0-9._-]", "-", path.stem)[:63].strip("-.") or "fakeroute"
    doc = to_topology_dict(parse_edges(text, str(path)), lab_name, str(path))
    return parse_topology(yaml.safe_dump(doc, sort_keys=False), str(path))


def fakeroute_yaml(path: str | Path, name: str | None = None) -> str:
    """The topology file an import amounts to, to keep and edit."""
    path = Path(path)
    lab_name = name or re.sub(r"[^A-Za-z0-9._-]", "-", path.stem)[:63].strip("-.") or "fakeroute"
    doc = to_topology_dict(parse_edges(path.read_text(), str(path)), lab_name, str(path))
    return f"# imported from fakeroute file {path.name}\n" + yaml.safe_dump(doc, sort_keys=False)


def is_fakeroute(path: str | Path) -> bool:
    return Path(path).suffix.lower() not in (".yaml", ".yml")


def load_any(path: str | Path) -> Topology:
    """A topology file, or a fakeroute edge list (anything not named ``.yaml``/``.yml``)."""
    return import_fakeroute(path) if is_fakeroute(path) else load_topology(path)


def labelled_edges(edges: EdgeList) -> set[tuple[str, str]]:
    """fakeroute's edges as lab router names (start and end left out)."""
    return {(router_name(a), router_name(b)) for a, b in edges.edges if a != "start" and b != "end"}
