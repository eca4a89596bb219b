"""From a VP's pcap to what it sent: one record per packet, a measurement type each, totals.

Attribution is by what the packets look like, not by asking scamper: an
audit must hold even for traffic scamper did not mean to send. The rules
(see ``docs/audit.md``):

- a run of consecutive TTLs (or one probe at TTL 1) to one destination over
  one protocol is a ``trace``, whatever the protocol;
- otherwise ICMP echo/timestamp requests are ``ping``, UDP or TCP to port 53
  ``dns``, TCP to 80/443 ``http``, other UDP ``udp`` and other TCP ``tcp``;
- ARP and IPv6 neighbour discovery are the VP's kernel finding its next hop
  (``arp``, ``ndp``: link-layer housekeeping, exempt from policies and rates);
- ICMP errors and TCP resets are the VP's kernel answering packets it
  received, and a source address that is not the VP's cannot be scamper's:
  these, and any other protocol, are reported as *not attributable*.

scapy comes with the ``audit`` extra; without it, importing this module (which
every audit does before it builds a lab) raises an error that says how to install it.
The CLI imports it only when an audit runs, so other commands start fast.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scamperlab.errors import needs_extra

with needs_extra("audit", "scamperlab audit"):
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, Ether
    from scapy.utils import RawPcapReader

# Measurement types, in the order reports list them.
MEASUREMENTS = ("ping", "trace", "dns", "http", "udp", "tcp")
# Link-layer housekeeping by the VP's kernel: never a probe, never counted against a rate.
LINK_KINDS = ("arp", "ndp")
# Why a packet is not attributable to a scamper task.
UNATTRIBUTED = {
    "arp": "ARP: the VP's kernel resolving its next hop",
    "ndp": "IPv6 neighbour discovery or MLD: the VP's kernel",
    "icmp-error": "ICMP error: the VP's kernel answering a packet it received",
    "tcp-reset": "TCP reset: the VP's kernel refusing a reply to a raw-socket probe",
    "foreign-source": "source address is not the VP's measurement address",
    "other": "a protocol scamper does not measure with",
}

_ICMP4_QUERIES = {
    8: "echo-request",
    13: "timestamp-request",
    15: "info-request",
    17: "mask-request",
}
_ICMP6_QUERIES = {128: "echo-request"}
_ICMP4_ERRORS = {3, 4, 5, 11, 12}
_ICMP6_ERRORS = {1, 2, 3, 4}
_ICMP6_NDP = {130, 131, 132, 133, 134, 135, 136, 137, 143}
# A trace starts low; a ping's TTL (64 by default) never looks like a first hop.
_MAX_FIRST_HOP = 32


@dataclass(frozen=True)
class SentPacket:
    """One packet a VP put on a measurement interface."""

    frame: int  # 1-based position in the VP's pcap, as Wireshark numbers frames
    time: float  # seconds since the epoch
    length: int  # bytes on the wire, Ethernet header included
    protocol: str  # icmp, icmpv6, udp, tcp, arp or other
    src: str | None
    dst: str | None
    ttl: int | None  # hop limit for IPv6
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    tcp_flags: str | None = None
    kind: str = "other"  # a measurement type or a key of UNATTRIBUTED
    interface: str | None = None

    @property
    def attributed(self) -> bool:
        return self.kind in MEASUREMENTS

    @property
    def is_link(self) -> bool:
        return self.kind in LINK_KINDS

    def describe(self) -> str:
        """One line a site host can match against the pcap (``frame.number == N``)."""
        if self.protocol == "arp":
            what = f"ARP who-has {self.dst} tell {self.src}"
        else:
            name = "ICMPv6" if self.protocol == "icmpv6" else self.protocol.upper()
            what = f"{name} {self.src} > {self.dst}"
            if self.sport is not None or self.dport is not None:
                what = f"{name} {self.src}.{self.sport} > {self.dst}.{self.dport}"
            if self.icmp_type is not None:
                table = _ICMP4_QUERIES if self.protocol == "icmp" else _ICMP6_QUERIES
                what += f" {table.get(self.icmp_type, f'type {self.icmp_type}')}"
            if self.tcp_flags:
                what += f" [{self.tcp_flags}]"
            if self.ttl is not None:
                what += f" ttl={self.ttl}"
        return f"#{self.frame} {what} ({self.kind})"

    def to_json(self, t0: float | None = None) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if t0 is not None:
            data["offset"] = round(self.time - t0, 6)
        data["summary"] = self.describe()
        return data


def _dissect(frame: int, data: bytes, when: float, wirelen: int, interface: str) -> SentPacket:
    pkt = Ether(data)
    base: dict[str, Any] = {"frame": frame, "time": when, "length": wirelen, "interface": interface}
    if pkt.haslayer(ARP):
        arp = pkt[ARP]
        return SentPacket(
            protocol="arp", src=str(arp.psrc), dst=str(arp.pdst), ttl=None, kind="arp", **base
        )
    ip = pkt.getlayer(IP)
    if ip is not None:
        base.update(src=str(ip.src), dst=str(ip.dst), ttl=int(ip.ttl))
        proto, l4 = int(ip.proto), ip.payload
    else:
        ip6 = pkt.getlayer(IPv6)
        if ip6 is None:
            return SentPacket(protocol="other", src=None, dst=None, ttl=None, **base)
        base.update(src=str(ip6.src), dst=str(ip6.dst), ttl=int(ip6.hlim))
        proto, l4 = int(ip6.nh), ip6.payload
        # Hop-by-hop (MLD's router alert), routing, fragment, destination options.
        while proto in (0, 43, 44, 60) and hasattr(l4, "nh"):
            proto, l4 = int(l4.nh), l4.payload
    if proto == 1 and isinstance(l4, ICMP):
        return SentPacket(protocol="icmp", icmp_type=int(l4.type), icmp_code=int(l4.code), **base)
    if proto == 58 and hasattr(l4, "type"):
        return SentPacket(
            protocol="icmpv6",
            icmp_type=int(l4.type),
            icmp_code=int(getattr(l4, "code", 0) or 0),
            **base,
        )
    if proto == 17 and isinstance(l4, UDP):
        return SentPacket(protocol="udp", sport=int(l4.sport), dport=int(l4.dport), **base)
    if proto == 6 and isinstance(l4, TCP):
        return SentPacket(
            protocol="tcp",
            sport=int(l4.sport),
            dport=int(l4.dport),
            tcp_flags=str(l4.flags),
            **base,
        )
    return SentPacket(protocol="other", **base)


def _first_kind(p: SentPacket, own: frozenset[str]) -> str:
    """The kind a packet has on its own, before traces are looked for."""
    if p.protocol == "arp":
        return "arp"
    if p.protocol == "icmpv6" and p.icmp_type in _ICMP6_NDP:
        return "ndp"
    if p.src not in own:
        return "foreign-source"
    if p.protocol == "icmp":
        if p.icmp_type in _ICMP4_ERRORS:
            return "icmp-error"
        return "ping" if p.icmp_type in _ICMP4_QUERIES else "other"
    if p.protocol == "icmpv6":
        if p.icmp_type in _ICMP6_ERRORS:
            return "icmp-error"
        return "ping" if p.icmp_type in _ICMP6_QUERIES else "other"
    if p.protocol == "tcp":
        flags = p.tcp_flags or ""
        if "R" in flags and "S" not in flags:
            return "tcp-reset"
        if p.dport == 53:
            return "dns"
        return "http" if p.dport in (80, 443) else "tcp"
    if p.protocol == "udp":
        return "dns" if p.dport == 53 else "udp"
    return "other"


def _trace_ttls(ttls: Iterable[int]) -> set[int]:
    """The TTLs of a flow that form a trace's ladder: consecutive values from the lowest."""
    distinct = sorted(set(ttls))
    if not distinct or distinct[0] > _MAX_FIRST_HOP:
        return set()
    ladder = [distinct[0]]
    for ttl in distinct[1:]:
        if ttl != ladder[-1] + 1:
            break
        ladder.append(ttl)
    if len(ladder) >= 2 or ladder[0] == 1:
        return set(ladder)
    return set()


def classify(packets: Sequence[SentPacket], own: Iterable[str]) -> list[SentPacket]:
    """Give every packet its kind; ``own`` are the VP's measurement addresses."""
    mine = frozenset(own)
    first = [dataclasses.replace(p, kind=_first_kind(p, mine)) for p in packets]
    flows: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for i, p in enumerate(first):
        if p.attributed and p.ttl is not None:
            flows[(p.dst, p.protocol)].append(i)
    out = list(first)
    for members in flows.values():
        ladder = _trace_ttls(first[i].ttl or 0 for i in members)
        for i in members:
            if first[i].ttl in ladder:
                out[i] = dataclasses.replace(first[i], kind="trace")
    return out


def read_pcap(path: str | Path, interface: str = "") -> list[SentPacket]:
    """Every packet of a pcap, dissected but not yet classified."""
    packets: list[SentPacket] = []
    with RawPcapReader(str(path)) as reader:
        for frame, (data, meta) in enumerate(reader, start=1):
            when = meta.sec + meta.usec / 1e6
            packets.append(_dissect(frame, data, when, int(meta.wirelen), interface))
    return packets


def sent_packets(path: str | Path, own: Iterable[str], interface: str = "") -> list[SentPacket]:
    """What a VP sent, from its pcap: every packet, classified.

    ``own`` are the VP's measurement addresses (``LabVp.ipv4``, ``LabVp.ipv6``).
    This is the whole analysis for one VP, usable on any pcap a capture wrote.
    """
    return classify(read_pcap(path, interface), own)


# -- per-VP totals ---------------------------------------------------------------------


@dataclass
class Counts:
    packets: int = 0
    bytes: int = 0

    def add(self, p: SentPacket) -> None:
        self.packets += 1
        self.bytes += p.length


def _range(values: Iterable[int | None]) -> list[int] | None:
    present = [v for v in values if v is not None]
    return [min(present), max(present)] if present else None


@dataclass
class VpTraffic:
    """Everything one VP sent during an audit, and the figures a report shows."""

    name: str
    ipv4: str
    ipv6: str
    budget_pps: int
    interfaces: list[str]
    packets: list[SentPacket]
    started: float
    duration: float
    pcap: str | None = None
    dropped: int | None = None  # what the kernel dropped before tcpdump saw it
    by_protocol: dict[str, Counts] = field(default_factory=dict)
    by_measurement: dict[str, Counts] = field(default_factory=dict)
    unattributed: dict[str, Counts] = field(default_factory=dict)
    destinations: dict[str, int] = field(default_factory=dict)
    series: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for p in self.packets:
            self.by_protocol.setdefault(p.protocol, Counts()).add(p)
            if p.attributed:
                self.by_measurement.setdefault(p.kind, Counts()).add(p)
            else:
                self.unattributed.setdefault(p.kind, Counts()).add(p)
            if not p.is_link and p.dst is not None:
                self.destinations[p.dst] = self.destinations.get(p.dst, 0) + 1
        self.series = rate_series(self.probes, self.started, self.duration)

    @property
    def probes(self) -> list[SentPacket]:
        """Packets that count against a rate: all but link-layer housekeeping."""
        return [p for p in self.packets if not p.is_link]

    @property
    def total(self) -> Counts:
        c = Counts()
        for p in self.packets:
            c.add(p)
        return c

    @property
    def peak_pps(self) -> int:
        return max(self.series, default=0)

    @property
    def mean_pps(self) -> float:
        return len(self.probes) / self.duration if self.duration > 0 else 0.0

    @property
    def within_budget(self) -> bool:
        return self.peak_pps <= self.budget_pps

    def ranges(self) -> dict[str, list[int] | None]:
        probes = self.probes
        return {
            "ttl": _range(p.ttl for p in probes),
            "sport": _range(p.sport for p in probes),
            "dport": _range(p.dport for p in probes),
        }

    def to_json(self, t0: float, max_unattributed: int = 100) -> dict[str, Any]:
        odd = [p for p in self.packets if not p.attributed]
        return {
            "name": self.name,
            "ipv4": self.ipv4,
            "ipv6": self.ipv6,
            "interfaces": self.interfaces,
            "pcap": self.pcap,
            "dropped_by_kernel": self.dropped,
            "packets": len(self.packets),
            "bytes": self.total.bytes,
            "by_protocol": {k: dataclasses.asdict(v) for k, v in sorted(self.by_protocol.items())},
            "by_measurement": {
                k: dataclasses.asdict(self.by_measurement[k])
                for k in MEASUREMENTS
                if k in self.by_measurement
            },
            "destinations": {
                "count": len(self.destinations),
                "list": sorted(self.destinations, key=_addr_key),
                "packets": {
                    d: self.destinations[d] for d in sorted(self.destinations, key=_addr_key)
                },
            },
            "rate": {
                "window_s": 1.0,
                "peak_pps": self.peak_pps,
                "mean_pps": round(self.mean_pps, 3),
                "budget_pps": self.budget_pps,
                "within_budget": self.within_budget,
                "series": self.series,
            },
            "ranges": self.ranges(),
            "unattributed": {
                "packets": len(odd),
                "by_reason": {
                    k: {**dataclasses.asdict(v), "reason": UNATTRIBUTED[k]}
                    for k, v in sorted(self.unattributed.items())
                },
                "examples": [p.to_json(t0) for p in odd[:max_unattributed]],
            },
        }


def _addr_key(addr: str) -> tuple[int, int]:
    import ipaddress

    ip = ipaddress.ip_address(addr)
    return (ip.version, int(ip))


def rate_series(packets: Iterable[SentPacket], started: float, duration: float) -> list[int]:
    """Packets in each 1-s window from ``started``: the windows the plot and limits use."""
    windows = max(1, int(duration) + (0 if float(duration).is_integer() else 1))
    counts = Counter(max(0, int(p.time - started)) for p in packets)
    windows = max(windows, max(counts, default=-1) + 1)
    return [counts.get(i, 0) for i in range(windows)]


def window_members(packets: Iterable[SentPacket], started: float) -> dict[int, list[SentPacket]]:
    """Packets grouped by their 1-s window, in capture order."""
    out: dict[int, list[SentPacket]] = defaultdict(list)
    for p in packets:
        out[max(0, int(p.time - started))].append(p)
    return out
