"""A cluster is planned once: every host gets the same split, the same addresses, its own VPs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from scamperlab.emulation.tunnel import controller_config, gateway_config
from scamperlab.errors import ClusterError
from scamperlab.topology import load_topology
from scamperlab.topology.addresses import MANAGEMENT_V4
from scamperlab.topology.cluster import (
    TRANSIT_V4,
    ClusterFile,
    load_cluster,
    make_cluster_plan,
    vni_for,
)

ROOT = Path(__file__).resolve().parents[2]
SYNTH = ROOT / "topologies" / "synth-30vp-6as.yaml"
THREE = {
    "controller": "192.0.2.1",
    "hosts": {
        "h1": {"address": "192.0.2.11"},
        "h2": {"address": "192.0.2.12"},
        "h3": {"address": "192.0.2.13"},
    },
}


def cluster(**changes: object) -> ClusterFile:
    return ClusterFile.model_validate(THREE | changes)


def test_vps_are_split_evenly_in_topology_order_and_every_host_computes_the_same() -> None:
    topo = load_topology(SYNTH)
    plan = make_cluster_plan(topo, cluster())
    again = make_cluster_plan(load_topology(SYNTH), cluster())
    names = [vp.name for vp in topo.vps]
    assert [len(h.vps) for h in plan.hosts.values()] == [10, 10, 10]
    assert sorted(n for h in plan.hosts.values() for n in h.vps) == sorted(names)
    assert {h: p.vps for h, p in plan.hosts.items()} == {h: p.vps for h, p in again.hosts.items()}
    assert plan.hosts["h1"].vps[:2] == (names[0], names[3])


def test_a_pinned_vp_stays_on_its_host_and_the_rest_fill_the_others() -> None:
    topo = load_topology(SYNTH)
    first, second = topo.vps[0].name, topo.vps[1].name
    hosts = dict(THREE["hosts"])  # type: ignore[call-overload]
    hosts["h3"] = {"address": "192.0.2.13", "vps": [first, second]}
    plan = make_cluster_plan(topo, cluster(hosts=hosts))
    assert plan.host_of(first).name == plan.host_of(second).name == "h3"
    assert [len(h.vps) for h in plan.hosts.values()] == [10, 10, 10]


@pytest.mark.parametrize(
    ("pins", "message"),
    [
        ({"h1": ["no-such-vp"]}, "no VP named 'no-such-vp'"),
        ({"h1": ["X"], "h2": ["X"]}, "pinned to both h1 and h2"),
    ],
)
def test_pins_to_unknown_vps_or_to_two_hosts_are_refused(
    pins: dict[str, list[str]], message: str
) -> None:
    topo = load_topology(SYNTH)
    vp = topo.vps[0].name
    hosts = {
        h: {"address": f"192.0.2.{11 + i}", "vps": [vp if p == "X" else p for p in pins.get(h, [])]}
        for i, h in enumerate(("h1", "h2", "h3"))
    }
    with pytest.raises(ClusterError, match=message):
        make_cluster_plan(topo, cluster(hosts=hosts))


def test_each_shard_has_the_whole_network_and_only_its_vps_at_the_one_plans_addresses() -> None:
    plan = make_cluster_plan(load_topology(SYNTH), cluster())
    whole = plan.lab
    for host in plan.hosts.values():
        shard = plan.shard(host.name)
        vps = {n.name for n in shard.of_kind("vp")}
        assert vps == set(host.vps)
        assert [vp.name for vp in shard.topology.vps] == list(host.vps)
        others = {n for n in whole.nodes if n not in shard.nodes}
        assert others == {n.name for n in whole.of_kind("vp")} - vps
        for name, node in shard.nodes.items():
            full = whole.nodes[name]
            assert node.ipv4 == full.ipv4 and node.ipv6 == full.ipv6
            devs = {i.name for i in node.interfaces}
            assert devs <= {i.name for i in full.interfaces}
            for route in node.routes:
                assert route in full.routes
                assert {dev for dev, _via in route.nexthops} <= devs
        # Links keep their numbers (so their MACs) and never lead to an absent VP.
        for link in shard.links:
            assert whole.links[link.index] is link
            assert link.a.node in shard.nodes and link.b.node in shard.nodes
        routers = {r.name for r in whole.of_kind("router")}
        assert routers <= shard.nodes.keys()
        assert {t.name for t in whole.of_kind("target")} <= shard.nodes.keys()
        # Between routers, a shard routes exactly as the whole lab does.
        for name in routers:
            kept = [r for r in whole.nodes[name].routes if r in shard.nodes[name].routes]
            lost = [r for r in whole.nodes[name].routes if r not in kept]
            absent = {i.ipv4.network for n in others for i in whole.nodes[n].interfaces} | {
                ipaddress.IPv4Network(whole.nodes[n].ipv4) for n in others
            }
            absent |= {i.ipv6.network for n in others for i in whole.nodes[n].interfaces}
            assert all(r.prefix in absent for r in lost)
    # The whole plan is untouched by cutting shards from it.
    assert len(whole.of_kind("vp")) == 30


def test_the_tunnel_has_its_own_addresses_and_macs_in_the_management_range() -> None:
    plan = make_cluster_plan(load_topology(SYNTH), cluster())
    ends = [plan.controller, *(h.end for h in plan.hosts.values())]
    assert TRANSIT_V4.subnet_of(MANAGEMENT_V4)
    assert plan.lab.controller_ipv4 not in TRANSIT_V4
    assert str(plan.controller.transit) == "198.19.255.1/24"
    assert [str(e.transit.ip) for e in ends[1:]] == ["198.19.255.2", "198.19.255.3", "198.19.255.4"]
    assert len({e.mac for e in ends}) == len({e.underlay for e in ends}) == 4
    assert plan.hosts["h2"].end.underlay == ipaddress.IPv4Address("192.0.2.12")


def test_the_vni_follows_the_lab_name_unless_the_file_sets_it() -> None:
    topo = load_topology(SYNTH)
    assert make_cluster_plan(topo, cluster()).vni == vni_for(topo.name)
    assert make_cluster_plan(topo, cluster(), name="other").vni == vni_for("other")
    assert vni_for("a") != vni_for("b") and 1 <= vni_for("a") < 2**24
    assert make_cluster_plan(topo, cluster(vni=42)).vni == 42


def test_hosts_must_have_addresses_of_their_own_and_vps_to_run() -> None:
    topo = load_topology(SYNTH)
    with pytest.raises(ClusterError, match="address of its own"):
        make_cluster_plan(topo, cluster(controller="192.0.2.11"))
    many = {f"h{i}": {"address": f"192.0.2.{100 + i}"} for i in range(31)}
    plan = make_cluster_plan(topo, cluster(hosts=many))
    with pytest.raises(ClusterError, match="no VP to run"):
        plan.shard("h30")
    with pytest.raises(ClusterError, match="no lab host named 'h99'"):
        plan.shard("h99")


def test_a_cluster_file_is_read_and_its_errors_name_it(tmp_path: Path) -> None:
    good = tmp_path / "cluster.yaml"
    good.write_text(
        "controller: 192.0.2.1\nhosts:\n  h1: {address: 192.0.2.11}\n"
        "  h2: {address: 192.0.2.12, vps: [a.example]}\n"
    )
    loaded = load_cluster(good)
    assert loaded.hosts["h2"].vps == ["a.example"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("controller: 192.0.2.1\nhost: {}\n")
    with pytest.raises(ClusterError, match=r"bad\.yaml: not a valid cluster file"):
        load_cluster(bad)
    with pytest.raises(ClusterError, match="cannot read cluster file"):
        load_cluster(tmp_path / "missing.yaml")


def test_the_tunnel_is_all_static_routes_neighbours_and_one_fdb_entry_per_peer() -> None:
    plan = make_cluster_plan(load_topology(SYNTH), cluster(vni=77, encryption="none"))
    ctl = controller_config(plan, 4242)
    assert ctl.create == (
        "link add vx0 netns 4242 address 02:5c:10:00:00:00 mtu 1450"
        " type vxlan id 77 local 192.0.2.1 dstport 4789 nolearning\n"
    )
    assert ctl.fdb.splitlines() == [
        f"fdb add {h.end.mac} dev vx0 dst {h.end.underlay} self permanent"
        for h in plan.hosts.values()
    ]
    routes = [line for line in ctl.inside.splitlines() if line.startswith("route ")]
    assert sorted(routes) == sorted(
        f"route add {plan.lab.nodes[vp].ipv4}/32 via {plan.host_of(vp).end.transit.ip} dev vx0"
        for vp in plan.lab.nodes
        if plan.lab.nodes[vp].kind == "vp"
    )
    h2 = gateway_config(plan, "h2", 99)
    assert "local 192.0.2.12 " in h2.create and "netns 99 " in h2.create
    assert h2.fdb == "fdb add 02:5c:10:00:00:00 dev vx0 dst 192.0.2.1 self permanent\n"
    assert h2.inside.splitlines() == [
        "link set vx0 up",
        "addr add 198.19.255.3/24 dev vx0",
        "neigh replace 198.19.255.1 lladdr 02:5c:10:00:00:00 dev vx0 nud permanent",
        "route add 198.19.240.1/32 via 198.19.255.1 dev vx0",
    ]


def test_encrypted_the_stunnels_get_the_answers_to_the_addresses_they_borrow() -> None:
    """Controller: sc_remoted's packets go to its stunnel; lab host: 198.19.240.1 is its own
    (its stunnel's) and the controller's TLS to VP addresses is delivered there, not to VPs."""
    plan = make_cluster_plan(load_topology(SYNTH), cluster())
    assert plan.encrypted and plan.tls_dir("h2") == Path("/etc/scamperlab/cluster/tls")
    port = plan.lab.topology.controller.port
    ctl = controller_config(plan, 4242).inside.splitlines()
    assert ctl[-2:] == [
        f"rule add from 198.19.240.1 ipproto tcp sport {port} lookup 100 pref 100",
        "route add local 0.0.0.0/0 dev lo table 100",
    ]
    assert sum(line.startswith("route add 198.") for line in ctl) == len(plan.lab.topology.vps)
    h2 = gateway_config(plan, "h2", 99).inside.splitlines()
    assert h2[3:] == [
        "addr add 198.19.240.1/32 dev lo",
        f"rule add from 198.19.255.1 iif vx0 ipproto tcp sport {port} lookup 100 pref 100",
        "route add local 0.0.0.0/0 dev lo table 100",
    ]
    # Nothing is routed to the controller's address any more: it ends here.
    assert not any("198.19.240.1/32 via" in line for line in h2)


def test_a_tls_directory_per_host_and_no_lab_host_called_controller() -> None:
    plan = make_cluster_plan(load_topology(SYNTH), cluster(tls="/srv/tls/{host}"))
    assert plan.tls_dir("h1") == Path("/srv/tls/h1")
    assert plan.tls_dir("controller") == Path("/srv/tls/controller")
    named = THREE | {"hosts": {"controller": {"address": "192.0.2.50"}}}
    with pytest.raises(ClusterError, match="names the controller host"):
        make_cluster_plan(load_topology(SYNTH), ClusterFile.model_validate(named))
    with pytest.raises(ValidationError):
        cluster(encryption="wireguard")
