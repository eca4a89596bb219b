"""Router options, ECMP and costs, the ground truth, fakeroute import, IP-ID rewriting."""

from __future__ import annotations

import itertools
import random
import struct
from pathlib import Path

import pytest

from scamperlab.emulation import routers as behaviour
from scamperlab.emulation.delayd import Rewriter, ipv4_checksum
from scamperlab.errors import TopologyError
from scamperlab.topology import load_topology, parse_topology
from scamperlab.topology.fakeroute import import_fakeroute, labelled_edges, parse_edges
from scamperlab.topology.plan import make_plan, path_between
from scamperlab.topology.truth import alias_sets, lab_truth, path_truth

ROOT = Path(__file__).resolve().parents[2]
LOADBALANCED = ROOT / "topologies" / "loadbalanced.yaml"
ROUTERS = ROOT / "tests" / "integration" / "topologies" / "routers.yaml"
FAKEROUTE = sorted((ROOT / "topologies" / "fakeroute").glob("*.txt"))

DIAMOND = """\
name: d
ecmp: {ecmp}
routers: [{{name: a}}, {{name: b}}, {{name: c}}, {{name: d}}]
links:
  - {{ends: [a, b]}}
  - {{ends: [a, c]}}
  - {{ends: [b, d]}}
  - {{ends: [c, d]}}
vps: [{{name: vp.test, uplink: {{router: a}}}}]
targets: [{{name: t, ipv4: 192.0.2.9, uplink: {{router: d}}}}]
"""


def route_to(plan, router: str, prefix: str):  # type: ignore[no-untyped-def]
    return next(r for r in plan.nodes[router].routes if str(r.prefix) == prefix)


def test_ecmp_keeps_every_equal_cost_next_hop() -> None:
    plan = make_plan(parse_topology(DIAMOND.format(ecmp="true")))
    route = route_to(plan, "a", "192.0.2.9/32")
    assert len(route.nexthops) == 2
    assert {dev for dev, _ in route.nexthops} == {"eth0", "eth1"}
    single = route_to(make_plan(parse_topology(DIAMOND.format(ecmp="false"))), "a", "192.0.2.9/32")
    assert single.also == ()
    assert (single.dev, single.via) == route.nexthops[0]  # the same primary either way


def test_router_option_overrides_the_topology_ecmp() -> None:
    text = DIAMOND.format(ecmp="true").replace("{name: a}", "{name: a, ecmp: false}")
    plan = make_plan(parse_topology(text))
    assert route_to(plan, "a", "192.0.2.9/32").also == ()


def test_per_direction_cost_makes_an_asymmetric_path() -> None:
    plan = make_plan(load_topology(ROUTERS))
    assert path_between(plan, "vp1.test", "vp2.test") == [
        "vp1.test",
        "edge",
        "up",
        "fe",
        "vp2.test",
    ]
    assert path_between(plan, "vp2.test", "vp1.test") == [
        "vp2.test",
        "fe",
        "down",
        "edge",
        "vp1.test",
    ]


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (
            "- {ends: [a, b]}",
            "- {ends: [a, b], mtu: 1000}",
            "links[0].mtu",
            "greater than or equal to 1280",
        ),
        (
            "- {ends: [a, b]}",
            "- {ends: [a, b], cost: [1, 0]}",
            "links[0].cost[1]",
            "greater than 0",
        ),
        ("{name: a}", "{name: a, ipid: counter}", "routers[0].ipid", "'kernel'"),
        (
            "{name: a}",
            "{name: a, icmp_rate_limit: {rate: 0}}",
            "routers[0].icmp_rate_limit.rate",
            ">= 1",
        ),
        ("{name: a}", "{name: a, unresponsive: maybe}", "routers[0].unresponsive", "boolean"),
    ],
)
def test_router_and_link_options_are_validated(old: str, new: str, field: str, words: str) -> None:
    text = DIAMOND.format(ecmp="true").replace(old, new)
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "lab.yaml")
    message = str(info.value)
    assert "lab.yaml:" in message and field in message, message
    assert words.replace(">= ", "greater than or equal to ") in message or words in message, message


def test_truth_of_the_loadbalanced_topology() -> None:
    plan = make_plan(load_topology(LOADBALANCED))
    two = path_truth(plan, "mda.example", "192.0.2.2")
    four = path_truth(plan, "mda.example", "www4")
    assert len(two.paths) == 2 and len(four.paths) == 8
    # mid and exit answer from each ingress interface: two and four addresses.
    assert [len(h) for h in four.hops] == [1, 1, 2, 2, 4, 4, 1]
    assert len(four.links) == 1 + 2 + 2 + 2 * 4 + 4 + 4
    # mid is reached through two ingress interfaces: two addresses of one router.
    mid = {str(i.ipv4.ip) for i in plan.nodes["mid"].interfaces}
    assert any(a <= mid and len(a) == 2 for a in two.aliases)
    assert all(r[-1] == "www4" for r in four.routers)
    six = path_truth(plan, "mda.example", "2001:db8:4::4")
    assert len(six.paths) == 8 and all(":" in a for h in six.hops for a in h)
    doc = lab_truth(plan, "192.0.2.4")
    assert doc["from"]["mda.example"]["dst_node"] == "www4"
    assert sorted(doc["alias_sets"]) == sorted(r.name for r in plan.of_kind("router"))


def test_truth_marks_silent_hops_and_gapped_links() -> None:
    plan = make_plan(load_topology(ROUTERS))
    truth = path_truth(plan, "vp1.test", "192.0.2.10")
    assert truth.unresponsive == {2}
    assert {link.length for link in truth.links} == {1, 2}
    assert truth.reverse == [["core", "quiet", "edge"]]
    assert alias_sets(plan, 4)["quiet"] == {str(i.ipv4.ip) for i in plan.nodes["quiet"].interfaces}


@pytest.mark.parametrize("path", FAKEROUTE, ids=lambda p: p.stem)
def test_fakeroute_cases_become_labs_with_exactly_their_paths(path: Path) -> None:
    topo = import_fakeroute(path)
    assert topo.ecmp
    truth = path_truth(make_plan(topo), "vp.fakeroute", "dst")
    edges = labelled_edges(parse_edges(path.read_text()))
    assert {link for link in truth.router_links if link[1] != "dst"} == edges
    silent = {r.name for r in topo.routers if r.unresponsive}
    assert bool(silent) == (path.stem == "unresponsive")


def test_fakeroute_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("start a\na b\nb a\nb end\n")
    with pytest.raises(TopologyError, match="loop"):
        import_fakeroute(bad)
    bad.write_text("start a\nstart b\na end\nb end\n")
    with pytest.raises(TopologyError, match="exactly one"):
        import_fakeroute(bad)


def test_router_sysctls_and_rules() -> None:
    topo = load_topology(ROUTERS)
    slow = topo.router("slow")
    quiet = topo.router("quiet")
    assert slow is not None and quiet is not None
    assert behaviour.router_sysctls(topo, slow)["net.ipv4.icmp_msgs_per_sec"] == "2"
    rules = behaviour.filter_rules(quiet, 4, ["198.18.0.1"])
    assert rules is not None
    lines = rules.splitlines()
    assert lines[1].endswith("echo-reply -d 198.18.0.1 -j ACCEPT")
    assert lines.index(
        "-A OUTPUT -p icmp --icmp-type fragmentation-needed -j ACCEPT"
    ) < lines.index("-A OUTPUT -p icmp --icmp-type destination-unreachable -j DROP")
    assert behaviour.filter_rules(slow, 4) is None
    lb = load_topology(LOADBALANCED)
    seeds = {
        behaviour.router_sysctls(lb, r)["net.ipv4.fib_multipath_hash_seed"] for r in lb.routers
    }
    assert len(seeds) == len(lb.routers), "every router hashes flows with its own seed"


def _packet(src: str, ipid: int = 7) -> bytearray:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        28,
        ipid,
        0,
        64,
        1,
        0,
        bytes(map(int, src.split("."))),
        b"\xc6\x12\x00\x01",
    )
    header = header[:10] + struct.pack("!H", ipv4_checksum(header)) + header[12:]
    return bytearray(header + b"\x00" * 8)


@pytest.mark.parametrize("policy", ["shared", "per-interface", "random", "zero"])
def test_rewriter_stamps_ids_and_keeps_the_checksum_valid(policy: str) -> None:
    rewriter = Rewriter("r", 1000, None, policy, random.Random(1), counter=100)  # type: ignore[arg-type]
    ids = []
    for src in ["198.18.0.1", "198.18.0.5", "198.18.0.1", "198.18.0.5"]:
        packet = _packet(src)
        assert rewriter.rewrite(packet)
        assert ipv4_checksum(packet[:20]) == 0, "header checksum no longer valid"
        ids.append(struct.unpack_from("!H", packet, 4)[0])
    if policy == "shared":
        assert ids == [101, 102, 103, 104]
    elif policy == "per-interface":
        assert ids[2] == ids[0] + 1 and ids[3] == ids[1] + 1 and abs(ids[1] - ids[0]) != 1
    elif policy == "zero":
        assert ids == [0, 0, 0, 0]
    else:
        assert len(set(ids)) > 1
    assert not rewriter.rewrite(bytearray(b"\x60" + b"\x00" * 39)), "IPv6 is left alone"


def test_per_interface_counters_never_start_within_allys_fudge_of_each_other() -> None:
    """Ally takes interleaved IDs within its fudge (200 by default) for one counter:
    independent random starts gave a false alias once in a few hundred routers."""
    for seed in range(2000):
        rewriter = Rewriter("r", 1000, None, "per-interface", random.Random(seed))  # type: ignore[arg-type]
        starts = []
        for n in range(8):
            packet = _packet(f"198.18.{n}.1")
            rewriter.rewrite(packet)
            starts.append(struct.unpack_from("!H", packet, 4)[0])
        gaps = [min((a - b) % 65536, (b - a) % 65536) for a, b in itertools.combinations(starts, 2)]
        assert min(gaps) > 2000, (seed, starts)
