"""The audit's analysis, policy and manifest on pcaps written here (no root, no lab).

The packets are built with scapy exactly as a VP would put them on the wire,
written to a real pcap and read back through the same path a capture takes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

from scamperlab.audit.analyse import VpTraffic, sent_packets
from scamperlab.audit.manifest import manifest
from scamperlab.audit.policy import PolicyError, check, parse_policy
from scamperlab.audit.report import AuditReport

VP4, VP6 = "198.18.0.6", "2001:db8:1000:1::2"
HOP = "198.18.0.5"
T0 = 1_800_000_000.0


def eth(pkt: Packet) -> Packet:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt


def write(tmp_path: Path, packets: list[tuple[float, Packet]]) -> Path:
    frames = []
    for offset, pkt in packets:
        frame = eth(pkt)
        frame.time = T0 + offset
        frames.append(frame)
    path = tmp_path / "vp.pcap"
    wrpcap(str(path), frames)
    return path


def traffic(path: Path, duration: float = 10.0, budget: int = 100) -> VpTraffic:
    return VpTraffic(
        name="vp1.test",
        ipv4=VP4,
        ipv6=VP6,
        budget_pps=budget,
        interfaces=["eth0"],
        packets=sent_packets(path, (VP4, VP6), "eth0"),
        started=T0,
        duration=duration,
        pcap=str(path),
    )


def test_every_kind_of_packet_is_attributed_or_explained(tmp_path: Path) -> None:
    www, dns = "203.0.113.80", "198.51.100.53"
    packets = [
        (0.00, ARP(op=1, psrc=VP4, pdst=HOP)),
        (0.01, IP(src=VP4, dst=www, ttl=64) / ICMP(type=8, id=1, seq=0)),
        (0.02, IP(src=VP4, dst=www, ttl=1) / UDP(sport=5000, dport=33435) / Raw(b"x" * 12)),
        (0.03, IP(src=VP4, dst=www, ttl=2) / UDP(sport=5000, dport=33435) / Raw(b"x" * 12)),
        (0.04, IP(src=VP4, dst=www, ttl=3) / UDP(sport=5000, dport=33435) / Raw(b"x" * 12)),
        (0.05, IP(src=VP4, dst=dns, ttl=64) / UDP(sport=5001, dport=53) / Raw(b"q")),
        (0.06, IP(src=VP4, dst=www, ttl=64) / TCP(sport=5002, dport=443, flags="S")),
        (0.07, IP(src=VP4, dst=www, ttl=64) / TCP(sport=5002, dport=443, flags="R")),
        (
            0.08,
            IP(src=VP4, dst=dns, ttl=64)
            / ICMP(type=3, code=3)
            / IPerror(src=dns, dst=VP4)
            / UDPerror(sport=53, dport=5001),
        ),
        (0.09, IP(src="192.0.2.99", dst=www, ttl=64) / ICMP(type=8)),
        (0.10, IPv6(src=VP6, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="2001:db8::1")),
        (0.11, IPv6(src=VP6, dst="2001:db8:80::80", hlim=64) / ICMPv6EchoRequest()),
        (0.12, IP(src=VP4, dst=www, ttl=64, proto=47) / Raw(b"gre")),
    ]
    sent = sent_packets(write(tmp_path, packets), (VP4, VP6))
    kinds = [p.kind for p in sent]
    assert kinds == [
        "arp",
        "ping",
        "trace",
        "trace",
        "trace",
        "dns",
        "http",
        "tcp-reset",
        "icmp-error",
        "foreign-source",
        "ndp",
        "ping",
        "other",
    ]
    assert [p.frame for p in sent] == list(range(1, len(packets) + 1))
    assert sent[1].describe() == "#2 ICMP 198.18.0.6 > 203.0.113.80 echo-request ttl=64 (ping)"
    assert sent[2].length == 14 + 20 + 8 + 12  # bytes on the wire, Ethernet included
    assert sent[11].protocol == "icmpv6" and sent[11].dst == "2001:db8:80::80"


def test_a_trace_is_a_ladder_of_ttls_and_a_ping_beside_it_stays_a_ping(tmp_path: Path) -> None:
    far = "192.0.2.7"
    packets = [(i * 0.01, IP(src=VP4, dst=far, ttl=ttl) / ICMP(type=8)) for i, ttl in
               enumerate([1, 2, 2, 3, 4, 64, 64])]  # fmt: skip
    # An ICMP ping at TTL 64 and an ICMP-paris trace to the same destination.
    packets.append((0.5, IP(src=VP4, dst="203.0.113.80", ttl=5) / ICMP(type=8)))
    sent = sent_packets(write(tmp_path, packets), (VP4, VP6))
    assert [p.kind for p in sent] == ["trace"] * 5 + ["ping"] * 3


def test_rates_destinations_and_ranges(tmp_path: Path) -> None:
    packets: list[tuple[float, Packet]] = [(0.0, ARP(psrc=VP4, pdst=HOP))]
    packets += [(0.1 * i, IP(src=VP4, dst="203.0.113.80") / ICMP(type=8)) for i in range(8)]
    packets += [(2.5, IP(src=VP4, dst="198.51.100.53") / UDP(sport=4000, dport=53))]
    vp = traffic(write(tmp_path, packets), duration=3.2)
    assert vp.series == [8, 0, 1, 0]  # ARP is not a probe
    assert vp.peak_pps == 8
    assert vp.mean_pps == pytest.approx(9 / 3.2)
    assert vp.destinations == {"203.0.113.80": 8, "198.51.100.53": 1}
    assert vp.ranges() == {"ttl": [64, 64], "sport": [4000, 4000], "dport": [53, 53]}
    assert vp.by_measurement["ping"].packets == 8
    assert vp.unattributed["arp"].packets == 1
    data = vp.to_json(T0)
    assert data["destinations"]["count"] == 2
    assert data["destinations"]["list"] == ["198.51.100.53", "203.0.113.80"]
    assert data["rate"]["within_budget"] is True


def test_policy_names_exactly_the_offending_packets(tmp_path: Path) -> None:
    packets: list[tuple[float, Packet]] = [(0.0, ARP(psrc=VP4, pdst=HOP))]
    packets += [(0.05 * i, IP(src=VP4, dst="203.0.113.80") / ICMP(type=8)) for i in range(7)]
    packets += [(1.5, IP(src=VP4, dst="192.0.2.7") / ICMP(type=8))]
    packets += [(1.6, IP(src=VP4, dst="203.0.113.80") / TCP(dport=80, flags="S"))]
    vp = traffic(write(tmp_path, packets))
    policy = parse_policy(
        "destinations: [203.0.113.0/24, 192.0.2.0/24]\n"
        "forbidden_destinations: [192.0.2.0/25]\n"
        "protocols: [icmp]\n"
        "max_rate: 5\n"
        "max_packets_per_destination: 6\n"
    )
    found = {v.rule: v for v in check(policy, vp)}
    assert set(found) == {
        "forbidden_destinations",
        "protocols",
        "max_rate",
        "max_packets_per_destination",
    }
    # Frames: 1 ARP, 2-8 pings in window 0, 9 forbidden ping, 10 TCP.
    assert [p.frame for p in found["forbidden_destinations"].packets] == [9]
    assert [p.frame for p in found["protocols"].packets] == [10]
    assert [p.frame for p in found["max_rate"].packets] == [7, 8]  # the 6th and 7th in 1 s
    assert [p.frame for p in found["max_packets_per_destination"].packets] == [8, 10]
    assert "up to 7 packets in a 1-s window, over 5 pkt/s" in found["max_rate"].message

    budget = parse_policy("max_rate: budget\n")
    assert check(budget, traffic(write(tmp_path, packets), budget=6))[0].rule == "max_rate"
    assert check(budget, traffic(write(tmp_path, packets), budget=7)) == []


def test_a_strict_policy_refuses_what_no_task_explains(tmp_path: Path) -> None:
    packets = [
        (0.0, ARP(psrc=VP4, pdst=HOP)),
        (0.1, IP(src=VP4, dst="203.0.113.80") / TCP(dport=80, flags="R")),
    ]
    vp = traffic(write(tmp_path, packets))
    (violation,) = check(parse_policy("allow_unattributed: false\n"), vp)
    assert [p.kind for p in violation.packets] == ["tcp-reset"]  # ARP is exempt


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("destinations: [203.0.113.0/24, 192.0.2.7/24]\n", "<policy>:1: destinations[1]:"),
        ("max_rate: 10\nprotocols:\n  - icmp\n  - sctp\n", "<policy>:4: protocols[1]:"),
        ("max_rate: fast\n", "<policy>:1: max_rate: expected packets per second"),
        ("max_rate: 0\n", "<policy>:1: max_rate:"),
        ("\nmax_rates: 5\n", "<policy>:2: max_rates: unknown field"),
        ("max_rate: 5\nmax_rate: 6\n", "<policy>:2: not valid YAML: duplicate key"),
        ("- 1\n", "<policy>:1: a policy file is a mapping"),
    ],
)
def test_policy_errors_name_line_and_field(text: str, where: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert str(info.value).startswith(where), str(info.value)


def test_manifest_says_what_was_sent_and_what_is_not_covered(tmp_path: Path) -> None:
    packets: list[tuple[float, Packet]] = [(0.0, ARP(psrc=VP4, pdst=HOP))]
    packets += [(i * 1.0, IP(src=VP4, dst="203.0.113.80") / ICMP(type=8)) for i in range(5)]
    packets += [(5.0 + i * 0.01, IP(src=VP4, dst="192.0.2.7", ttl=i + 1) / UDP(dport=33435))
                for i in range(4)]  # fmt: skip
    vp = traffic(write(tmp_path, packets))
    report = AuditReport("tiny", T0, 10.0, {vp.name: vp}, command=["python3", "x.py"])
    text = manifest(report)
    assert "On 1 VP of 1 (vp1.test):" in text
    assert "ping: ICMP echo to 1 destination (203.0.113.80), 5 packets from 1 VP" in text
    assert "trace: UDP to port 33435, TTL 1-4 to 1 destination (192.0.2.7), 4 packets" in text
    assert "1 ARP" in text
    assert "controller" in text
    assert report.measurement_packets("ping") == 5
