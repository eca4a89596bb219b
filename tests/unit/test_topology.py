"""Topology files: validation messages name file, line and field; plans are sound."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from scamperlab.errors import TopologyError
from scamperlab.topology import load_topology, parse_topology
from scamperlab.topology.plan import link_between, make_plan, path_between
from scamperlab.topology.units import parse_duration_ms, parse_percent, parse_rate_mbit

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name: t
routers:
  - name: r1
  - name: r2
vps:
  - name: vp1.example
    cc: nz
    latlong: "-37.7,175.2"
    uplink: {router: r1, delay: 2ms}
targets:
  - name: tgt
    ipv4: 192.0.2.5
    uplink: {router: r2}
links:
  - ends: [r1, r2]
    delay: 10ms
"""


def error_for(text: str) -> TopologyError:
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "lab.yaml")
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("    delay: 10ms\n", "    delay: 10 parsecs\n", 16, "links[0].delay", "duration"),
        ("    delay: 10ms\n", "    dleay: 10ms\n", 16, "links[0].dleay", "unknown field"),
        (
            "{router: r1, delay: 2ms}",
            "{router: r9}",
            9,
            "vps[0].uplink.router",
            "no router named 'r9'",
        ),
        ("ends: [r1, r2]", "ends: [r1, vp1.example]", 15, "links[0].ends", "links join routers"),
        ("ipv4: 192.0.2.5", "ipv4: 10.0.0.1", 12, "targets[0].ipv4", "outside the lab ranges"),
        ("ipv4: 192.0.2.5", "ipv4: 198.19.240.9", 12, "targets[0].ipv4", "management"),
        ("name: tgt", "name: r1", 11, "targets[0].name", "already the name of a router"),
        ("name: vp1.example", "name: vp_1", 6, "vps[0].name", "monitor name"),
        ('latlong: "-37.7,175.2"', 'latlong: "-97.7,175.2"', 8, "vps[0].latlong", "latitude"),
        ("    cc: nz\n", "    cc: nzl\n", 7, "vps[0].cc", "pattern"),
        ("  - name: r2\n", "  - name: r2\n  - name: r3\n", None, "links", "not connected"),
    ],
)
def test_errors_name_file_line_and_field(
    old: str, new: str, line: int | None, field: str, words: str
) -> None:
    assert old in GOOD
    err = error_for(GOOD.replace(old, new))
    assert err.path == "lab.yaml"
    if line is not None:
        assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert words in err.message
    assert str(err).startswith(f"lab.yaml:{err.line}: {field}: ")


def test_yaml_syntax_and_duplicate_keys_are_reported_with_their_line() -> None:
    assert error_for(GOOD.replace("  - name: r2", "  - name: [r2")).line is not None
    err = error_for(GOOD.replace("    cc: nz\n", "    cc: nz\n    cc: au\n"))
    assert err.line == 8 and "duplicate key 'cc'" in err.message


def test_missing_file_is_a_topology_error(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "nope.yaml")


def test_units() -> None:
    assert parse_duration_ms("1.5s") == 1500
    assert parse_duration_ms("250us") == 0.25
    assert parse_duration_ms(3) == 3
    assert parse_rate_mbit("1Gbit") == 1000
    assert parse_rate_mbit("512kbit") == 0.512
    assert parse_percent("0.5%") == 0.5
    for bad in ("-1ms", "fast", True):
        with pytest.raises(ValueError):
            parse_duration_ms(bad)
    with pytest.raises(ValueError):
        parse_percent(101)


def test_plan_addresses_are_unique_and_in_lab_ranges() -> None:
    plan = make_plan(load_topology(ROOT / "topologies" / "ark-mini.yaml"))
    addrs = [i.ipv4.ip for n in plan.nodes.values() for i in n.interfaces]
    addrs += [i.ipv6.ip for n in plan.nodes.values() for i in n.interfaces]
    assert len(addrs) == len(set(addrs))
    for addr in addrs:
        net = "198.18.0.0/15" if addr.version == 4 else "2001:db8::/32"
        assert addr in ipaddress.ip_network(net)
        assert addr not in plan.management
    for link in plan.links:
        assert link.a.ipv4.network == link.b.ipv4.network


def test_plan_routes_follow_the_shortest_delay_path() -> None:
    text = GOOD.replace("  - name: r2\n", "  - name: r2\n  - name: r3\n")
    detour = "  - ends: [r1, r3]\n    delay: 1ms\n  - ends: [r3, r2]\n    delay: 1ms\n"
    plan = make_plan(parse_topology(text + detour))
    assert path_between(plan, "vp1.example", "tgt") == ["vp1.example", "r1", "r3", "r2", "tgt"]
    r1 = plan.nodes["r1"]
    to_target = next(r for r in r1.routes if str(r.prefix) == "192.0.2.5/32")
    r3_end = link_between(plan, "r1", "r3")
    assert to_target.via == (r3_end.b.ipv4.ip if r3_end.b.node == "r3" else r3_end.a.ipv4.ip)
    vp = plan.nodes["vp1.example"]
    assert [str(r.prefix) for r in vp.routes] == ["0.0.0.0/0", "::/0"]


def test_every_router_can_route_to_every_prefix() -> None:
    plan = make_plan(load_topology(ROOT / "topologies" / "ark-mini.yaml"))
    prefixes = {link.a.ipv4.network for link in plan.links} | {
        link.a.ipv6.network for link in plan.links
    }
    for router in plan.of_kind("router"):
        connected = {i.ipv4.network for i in router.interfaces} | {
            i.ipv6.network for i in router.interfaces
        }
        routed = {r.prefix for r in router.routes}
        assert prefixes <= connected | routed, router.name


def test_default_topology_is_ark_like() -> None:
    topo = load_topology(ROOT / "topologies" / "ark-mini.yaml")
    assert len(topo.vps) >= 12
    assert len({vp.cc for vp in topo.vps}) >= 10
    assert all(vp.latlong and vp.asn4 and vp.iata and vp.place for vp in topo.vps)


def test_controller_is_a_reserved_node_name() -> None:
    err = error_for(
        GOOD.replace("name: r2", "name: controller").replace("[r1, r2]", "[r1, controller]")
    )
    assert err.field == "routers[1].name" and "reserved" in err.message
