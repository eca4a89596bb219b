"""The lab's DNS: zone files for NSD, a configuration for Unbound, and resolv.conf.

NSD (authoritative) and Unbound (recursive), both from NLnet Labs and both
in Debian, are what many real operators run; they start in milliseconds,
need no database, and read one plain configuration file each, which makes
them easy to confine to a lab's state directory. dnsmasq was not chosen
because it cannot serve a real delegation tree (it answers authoritatively
only for zones it invents), and Knot Resolver needs a cache directory and
a Lua configuration for what Unbound does with ten lines.

Everything here is a pure function of the plan, so the zones a lab serves
can be read and tested without root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from scamperlab.topology.plan import LabPlan, NodePlan, link_graph
from scamperlab.topology.services import (
    DnsAuthoritative,
    DnsResolver,
    Record,
    Zone,
    absolute,
    closest_zone,
    is_within,
    parent_zone,
)

SOA_TIMERS = "3600 600 86400 300"  # refresh retry expire negative-TTL, as RFC 1912 suggests
HINTS_TTL = 3600000


@dataclass(frozen=True)
class Nameserver:
    hostname: str
    target: str
    ipv4: str
    ipv6: str


def nameservers(plan: LabPlan) -> dict[str, list[Nameserver]]:
    """Each zone's nameservers, with the addresses of the targets they run on."""
    out: dict[str, list[Nameserver]] = {}
    for zone, servers in plan.topology.zone_servers().items():
        out[zone] = [
            Nameserver(
                svc.hostname,
                target,
                str(plan.nodes[target].ipv4),
                str(plan.nodes[target].ipv6),
            )
            for target, svc in servers
        ]
    return out


def zone_file_name(zone: str) -> str:
    return "root.zone" if zone == "." else zone.rstrip(".") + ".zone"


def _txt(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rdata(record: Record, origin: str) -> str:
    values = list(record.rdata)
    if record.rtype in ("CNAME", "PTR"):
        values = [absolute(values[0], origin)]
    elif record.rtype == "MX":
        values = [values[0], absolute(values[1], origin)]
    elif record.rtype == "SRV":
        values = [*values[:3], absolute(values[3], origin)]
    elif record.rtype == "TXT":
        values = [_txt(v) for v in values]
    return " ".join(values)


def zone_text(plan: LabPlan, zone: Zone) -> str:
    """The zone file NSD loads: the zone's records plus what the lab derives.

    Derived: the SOA (primary = the first server listed for the zone), the
    apex NS records, an NS set for each child zone (the delegation) and the
    address of every nameserver name inside the zone, authoritative or glue.
    """
    servers = nameservers(plan)
    zones = [z.name for z in plan.topology.zones]
    origin = zone.name
    own = servers[origin]
    lines = [
        f"; zone {origin} of lab topology {plan.topology.name}, written by scamperlab",
        f"$ORIGIN {origin}",
        f"$TTL {zone.ttl}",
        f"{origin} IN SOA {own[0].hostname} hostmaster.{origin if origin != '.' else ''}"
        f" 1 {SOA_TIMERS}",
    ]
    lines += [f"{origin} IN NS {ns.hostname}" for ns in own]

    ns_targets = list(own)
    children = [z for z in zones if parent_zone(z, zones) == origin]
    for child in children:
        lines.append(f"; delegation of {child}")
        for ns in servers.get(child, []):
            lines.append(f"{child} IN NS {ns.hostname}")
            ns_targets.append(ns)

    # Addresses of nameservers: those named inside this zone, whether the name's
    # data is ours (authoritative) or lies below a cut (glue).
    every_ns = {ns.hostname: ns for group in servers.values() for ns in group}
    needed = {ns.hostname for ns in ns_targets if is_within(ns.hostname, origin)}
    needed |= {h for h in every_ns if closest_zone(h, zones) == origin}
    for hostname in sorted(needed):
        ns = every_ns[hostname]
        lines.append(f"{hostname} IN A {ns.ipv4}")
        lines.append(f"{hostname} IN AAAA {ns.ipv6}")

    records = zone.parsed()
    if records:
        lines.append("; records from the topology file")
    for record in records:
        ttl = f" {record.ttl}" if record.ttl is not None else ""
        owner = absolute(record.owner, origin)
        lines.append(f"{owner}{ttl} IN {record.rtype} {_rdata(record, origin)}")
    return "\n".join(lines) + "\n"


def root_hints(plan: LabPlan) -> str:
    """The resolver's starting point: the lab's root servers, never the Internet's."""
    lines = ["; the lab's root servers (scamperlab)"]
    for ns in nameservers(plan).get(".", []):
        lines.append(f". {HINTS_TTL} IN NS {ns.hostname}")
        lines.append(f"{ns.hostname} {HINTS_TTL} IN A {ns.ipv4}")
        lines.append(f"{ns.hostname} {HINTS_TTL} IN AAAA {ns.ipv6}")
    return "\n".join(lines) + "\n"


def resolvers(plan: LabPlan) -> list[NodePlan]:
    return [
        plan.nodes[t.name]
        for t in plan.topology.targets
        if any(isinstance(s, DnsResolver) for s in t.services)
    ]


def resolver_of(plan: LabPlan) -> dict[str, NodePlan | None]:
    """The resolver each VP and target uses: the nearest one, as ISPs place them.

    Nearest means the smallest total link delay (then fewest hops), the same
    metric routes follow; between equals, the one listed first.
    """
    hosts = [n for n in plan.nodes.values() if n.kind in ("vp", "target")]
    candidates = resolvers(plan)
    if not candidates:
        return {h.name: None for h in hosts}
    graph = link_graph(plan)
    distances = [nx.single_source_dijkstra_path_length(graph, r.name) for r in candidates]
    chosen: dict[str, NodePlan | None] = {}
    for host in hosts:
        best = min(
            range(len(candidates)),
            key=lambda i: (distances[i].get(host.name, float("inf")), i),
        )
        chosen[host.name] = candidates[best]
    return chosen


def resolv_conf(lab: str, resolver: NodePlan | None) -> str:
    """The /etc/resolv.conf of the nodes that use ``resolver``: a lab resolver, never the host's.

    It names no node: every node with the same resolver gets the same file
    (one bind-mount source, not one file per node: a 1,000-VP start-up
    creates 1,000 fewer files).
    """
    if resolver is None:
        # scamper refuses to start without a nameserver line; loopback keeps
        # every lookup inside the node, where nothing answers.
        return (
            f"# scamperlab lab {lab}: no resolver here (the topology declares no\n"
            "# dns-resolver service), so names do not resolve.\n"
            "nameserver 127.0.0.1\n"
        )
    return (
        f"# scamperlab lab {lab}: the lab resolver on {resolver.name}\n"
        f"nameserver {resolver.ipv4}\n"
        f"nameserver {resolver.ipv6}\n"
        "options timeout:2 attempts:2\n"
    )


def nsd_conf(
    node: NodePlan, service: DnsAuthoritative, directory: Path, zone_dir: Path, log: Path
) -> str:
    """NSD in the foreground, as root, with every file in ``directory``."""
    zones = "".join(
        f'zone:\n  name: "{zone}"\n  zonefile: "{zone_dir / zone_file_name(zone)}"\n'
        for zone in service.zones
    )
    return f"""# NSD for {service.hostname} on {node.name} (scamperlab)
server:
  ip-address: {node.ipv4}
  ip-address: {node.ipv6}
  port: 53
  server-count: 1
  tcp-count: 32
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{directory}"
  zonelistfile: "{directory / "zone.list"}"
  xfrdfile: "{directory / "xfrd.state"}"
  xfrdir: "{directory}"
  pidfile: "{directory / "nsd.pid"}"
  logfile: "{log}"
  verbosity: 1
  identity: "{service.hostname}"
  nsid: "ascii_{service.hostname}"
  hide-version: no
  reuseport: no
remote-control:
  control-enable: no
{zones}"""


# RFC 5737 / RFC 3849 reverse zones that Unbound answers locally by default;
# in a lab they are ordinary zones that a topology may serve.
_DOC_REVERSE_ZONES = (
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
)


def unbound_conf(node: NodePlan, directory: Path, hints: Path, log: Path) -> str:
    """Unbound as a plain iterative resolver of the lab's tree.

    No DNSSEC validation (the lab's zones are unsigned), and full responses
    (``minimal-responses: no``): answers carry the zone's NS set and the
    nameservers' addresses, as many ISP resolvers' do.
    """
    local = "".join(f'  local-zone: "{z}" nodefault\n' for z in _DOC_REVERSE_ZONES)
    return f"""# Unbound on {node.name} (scamperlab)
server:
  interface: {node.ipv4}
  interface: {node.ipv6}
  port: 53
  do-ip4: yes
  do-ip6: yes
  do-udp: yes
  do-tcp: yes
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  username: ""
  chroot: ""
  directory: "{directory}"
  pidfile: "{directory / "unbound.pid"}"
  use-syslog: no
  logfile: "{log}"
  log-time-ascii: yes
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  msg-cache-size: 4m
  rrset-cache-size: 8m
  root-hints: "{hints}"
  module-config: "iterator"
  minimal-responses: no
  unblock-lan-zones: yes
  insecure-lan-zones: yes
{local}  hide-identity: no
  identity: "{node.name}"
remote-control:
  control-enable: no
"""
