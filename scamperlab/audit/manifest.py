"""A few lines a site host can read: what a script made the VPs send.

Written from what was captured, not from what the script claims, so it is
as trustworthy as the capture. It says how many VPs sent what kind of probe
to how many destinations and how fast, what the VPs' kernels sent on their
own, and what the capture does not cover.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from scamperlab.audit.analyse import MEASUREMENTS, UNATTRIBUTED, SentPacket
from scamperlab.audit.report import AuditReport

_LABELS = {"arp": "ARP", "ndp": "IPv6 neighbour discovery"}


def _names(names: list[str], n: int = 3) -> str:
    shown = ", ".join(names[:n])
    return f"{shown} and {len(names) - n} more" if len(names) > n else shown


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _ports(values: Iterable[int | None]) -> str:
    ports = sorted({v for v in values if v is not None})
    if not ports:
        return ""
    if len(ports) == 1:
        return f" port {ports[0]}"
    if len(ports) <= 3:
        return " ports " + ", ".join(map(str, ports))
    return f" ports {ports[0]}-{ports[-1]}"


def _how(kind: str, packets: list[SentPacket]) -> str:
    """'ICMP echo', 'UDP to port 53', 'UDP to ports 33435-33440 with TTL 1-8'..."""
    parts = []
    for proto in ("icmp", "icmpv6", "udp", "tcp"):
        mine = [p for p in packets if p.protocol == proto]
        if not mine:
            continue
        if proto.startswith("icmp"):
            types = {p.icmp_type for p in mine}
            name = "ICMP echo" if types <= {8, 128} else "ICMP queries"
            parts.append(name if proto == "icmp" else f"{name} (IPv6)")
        else:
            parts.append(f"{proto.upper()} to{_ports(p.dport for p in mine)}")
    how = " and ".join(parts)
    if kind == "trace":
        ttls = [p.ttl for p in packets if p.ttl is not None]
        how += f", TTL {min(ttls)}-{max(ttls)}" if ttls else ""
    return how


def manifest(report: AuditReport) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(report.started))
    lines = [f"scamperlab audit of lab {report.lab}, {when}, {report.duration:.1f} s"]
    if report.command:
        lines.append(f"Command: {' '.join(report.command)}")
    active = [vp for vp in report.vps.values() if any(p.attributed for p in vp.packets)]
    lines.append("")
    if not active:
        lines.append(f"No measurement traffic from any of the {len(report.vps)} VPs captured.")
    else:
        lines.append(
            f"On {_plural(len(active), 'VP')} of {len(report.vps)}"
            f" ({_names([vp.name for vp in active])}):"
        )
    for kind in MEASUREMENTS:
        packets = [p for vp in active for p in vp.packets if p.kind == kind]
        if not packets:
            continue
        vps = sorted({vp.name for vp in active if kind in vp.by_measurement})
        dsts = sorted({str(p.dst) for p in packets})
        lines.append(
            f"  - {kind}: {_how(kind, packets)} to {_plural(len(dsts), 'destination')}"
            f" ({_names(dsts)}), {_plural(len(packets), 'packet')} from {_plural(len(vps), 'VP')}"
        )
    if active:
        peak = max(vp.peak_pps for vp in active)
        mean = max(vp.mean_pps for vp in active)
        budgets = sorted({vp.budget_pps for vp in active})
        lines.append(
            f"Rate: at most {peak} pkt/s from any one VP (mean {mean:.1f} pkt/s at the busiest);"
            f" scamper budget (-p) {', '.join(map(str, budgets))} pkt/s."
        )
        total = sum(len(vp.probes) for vp in active)
        octets = sum(p.length for vp in active for p in vp.probes)
        dsts_all = {p.dst for vp in active for p in vp.probes}
        lines.append(
            f"In all: {_plural(total, 'packet')}, {octets / 1000:.1f} kB,"
            f" to {_plural(len(dsts_all), 'destination')}."
        )
    odd: dict[str, int] = {}
    for vp in report.vps.values():
        for kind, counts in vp.unattributed.items():
            odd[kind] = odd.get(kind, 0) + counts.packets
    if odd:
        parts = [f"{n} {_LABELS.get(k, k)}" for k, n in sorted(odd.items())]
        lines.append(f"Not from a measurement task: {', '.join(parts)}.")
        for k in sorted(odd):
            lines.append(f"  - {UNATTRIBUTED[k]}")
    lines.append(
        "Not included: each VP's scamper connection to the controller, which uses a"
        " separate management link."
    )
    if report.policy is not None:
        verdict = "ok" if report.ok else f"VIOLATED ({len(report.violations)} violation(s))"
        lines.append(f"Policy {report.policy_file or ''}: {verdict}")
    return "\n".join(lines) + "\n"
