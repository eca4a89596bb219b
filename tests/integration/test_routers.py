"""Routers behave like routers, measured by real scamper and checked against the ground truth.

One lab (``topologies/routers.yaml`` here) for silent hops, ICMP rate limits,
a small-MTU link and an asymmetric pair; ``topologies/loadbalanced.yaml`` for
ECMP diamonds. Every expectation comes from :mod:`scamperlab.topology.truth`,
computed from the plan, so these tests check that the lab is what its plan
says it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl, ScamperInst, ScamperTrace
from scamperlab.topology.fakeroute import import_fakeroute, labelled_edges, parse_edges
from scamperlab.topology.truth import path_truth
from tests.integration.conftest import ROOT

ROUTERS = Path(__file__).parent / "topologies" / "routers.yaml"
LOADBALANCED = ROOT / "topologies" / "loadbalanced.yaml"
# MDA's stopping rule is statistical: with flows it picks at random (scamper
# derives the source port from its pid) it misses a branch about once in a
# hundred decisions. Lab routers hash with fixed seeds, so with a fixed source
# port every flow takes the same path in every run and MDA's discovery is a
# fact of the topology, not a draw: the test checks that fact, exactly.
MDA_SPORT = 40000
FAR, LIMITED, BIG = "192.0.2.10", "192.0.2.20", "192.0.2.30"
WWW2, WWW4 = "192.0.2.2", "192.0.2.4"


def close(ctrl: ScamperCtrl) -> None:
    for inst in ctrl.instances():
        ctrl.remove(inst)
    for mux in ctrl._muxes:  # the real module has no public close either
        mux._transport.close()


@pytest.fixture(scope="module")
def routers_lab(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(ROUTERS, name="routers", state_dir=state_dir) as lab:
        yield lab


@pytest.fixture
def ctrl(routers_lab: Lab) -> Iterator[ScamperCtrl]:
    c = ScamperCtrl(mux=str(routers_lab.mux_path))
    yield c
    close(c)


def vp(ctrl: ScamperCtrl, name: str) -> ScamperInst:
    (inst,) = ctrl.add_vps([v for v in ctrl.vps() if v.name == name])
    return inst


def hop_addrs(trace: ScamperTrace) -> list[str | None]:
    return [None if hop is None else str(hop.src) for hop in trace.hops()]


def test_traceroute_shows_the_unresponsive_hop(routers_lab: Lab, ctrl: ScamperCtrl) -> None:
    truth = path_truth(routers_lab.plan, "vp1.test", FAR)
    assert truth.unresponsive == {2}
    trace = ctrl.do_trace(FAR, inst=vp(ctrl, "vp1.test"), wait_timeout=2, sync=True)
    seen = hop_addrs(trace)
    assert seen == [None if not h else next(iter(h)) for h in truth.hops], seen
    assert seen[1] is None  # * * *: the silent router sent nothing
    # The silent router still forwards, and still answers nothing when probed itself.
    quiet = routers_lab.node("quiet").interfaces[0].ipv4.ip
    ping = ctrl.do_ping(str(quiet), attempts=2, inst=vp(ctrl, "vp1.test"), sync=True)
    assert ping.nreplies == 0


def test_icmp_rate_limit_is_observable(routers_lab: Lab, ctrl: ScamperCtrl) -> None:
    """Fifty probes in about five seconds expire at the rate-limited router (2 ICMP
    errors per second, burst 2): it answers a fraction of them; the same probes
    expiring one hop earlier are all answered. scamper runs one task per
    destination at a time, so the ten concurrent pings go to ten addresses of
    the /64 behind the limited router. The bounds are loose on purpose: the
    kernel refills its bucket with some randomness, and a busy machine
    stretches the five seconds."""
    inst = vp(ctrl, "vp1.test")
    plan = routers_lab.plan
    slow_ttl = path_truth(plan, "vp1.test", LIMITED).routers[0].index("slow") + 1
    subnet = next(i for i in plan.nodes["limited"].interfaces).ipv6.network
    dsts = [str(subnet.network_address + 0x100 + i) for i in range(10)]
    answered = {}
    for ttl in (slow_ttl, slow_ttl - 1):
        for dst in dsts:
            ctrl.do_ping(dst, ttl=ttl, attempts=5, inst=inst)
        results = list(ctrl.responses(timeout=timedelta(seconds=60)))
        assert len(results) == 10 and list(ctrl.exceptions()) == []
        answered[ttl] = sum(len(list(p.replies())) for p in results)
        for ping in results:
            for reply in ping.replies():
                assert reply is not None and reply.is_icmp_ttl_exp()
    assert answered[slow_ttl - 1] == 50, answered
    assert 2 <= answered[slow_ttl] <= 30, answered


def test_too_big_packet_gets_fragmentation_needed(routers_lab: Lab, ctrl: ScamperCtrl) -> None:
    # scamper waits 5 s for each answer: a late one must not look like a PMTUD black hole.
    trace = ctrl.do_trace(BIG, pmtud=True, inst=vp(ctrl, "vp1.test"), sync=True)
    pmtud = trace.pmtud
    assert pmtud is not None
    assert pmtud.if_mtu == 1500
    notes = [(n.type_str, n.nhmtu) for n in pmtud.notes()]
    assert pmtud.path_mtu == 1280, notes
    core = routers_lab.node("core")
    core_addrs = {str(i.ipv4.ip) for i in core.interfaces}
    notes = list(pmtud.notes())
    assert notes, "no PMTUD note: fragmentation-needed never arrived"
    ptb = [n for n in notes if n.nhmtu == 1280]
    assert ptb, [(n.type_str, n.nhmtu) for n in notes]
    hop = ptb[0].hop()
    assert hop is not None and hop.is_icmp_ptb()
    assert str(hop.src) in core_addrs


def test_asymmetric_path_is_visible(routers_lab: Lab, ctrl: ScamperCtrl) -> None:
    plan = routers_lab.plan
    there = path_truth(plan, "vp1.test", "vp2.test")
    back = path_truth(plan, "vp2.test", "vp1.test")
    assert there.routers == [["edge", "up", "fe", "vp2.test"]]
    assert back.routers == [["fe", "down", "edge", "vp1.test"]]
    assert there.reverse == [["fe", "down", "edge"]]
    owner = {str(a.ipv4.ip): n.name for n in plan.nodes.values() for a in n.interfaces}
    for src, dst, truth in (("vp1.test", "vp2.test", there), ("vp2.test", "vp1.test", back)):
        dst_addr = str(plan.nodes[dst].ipv4)
        trace = ctrl.do_trace(dst_addr, inst=vp(ctrl, src), sync=True)
        seen = hop_addrs(trace)
        assert seen == [next(iter(h)) for h in truth.hops], (src, seen)
        assert [owner.get(a or "") for a in seen] == truth.routers[0]


# -- ECMP and MDA ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def lb_lab(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(LOADBALANCED, name="lb", state_dir=state_dir) as lab:
        yield lab


def mda_links(ctrl: ScamperCtrl, dst: str, inst: ScamperInst) -> set[tuple[str, str, int]]:
    """The links an MDA traceroute from ``inst`` finds towards ``dst``: (near, far, length)."""
    lb = ctrl.do_tracelb(
        dst,
        confidence=99,
        method="udp-dport",
        sport=MDA_SPORT,
        wait_probe=0.15,
        inst=inst,
        sync=True,
    )
    return {
        (str(link.near.src), str(link.far.src), link.length)
        for node in lb.nodes()
        for link in node.links()
        if link.near is not None and link.far is not None
    }


@pytest.mark.parametrize(("dst", "ways"), [(WWW2, 2), (WWW4, 4)])
def test_tracelb_finds_exactly_the_true_links(lb_lab: Lab, dst: str, ways: int) -> None:
    truth = path_truth(lb_lab.plan, "mda.example", dst)
    assert max(len(h) for h in truth.hops) == ways
    ctrl = ScamperCtrl(mux=str(lb_lab.mux_path))
    try:
        (inst,) = ctrl.add_vps(ctrl.vps())
        start = time.monotonic()
        found = mda_links(ctrl, dst, inst)
        want = {(link.near, link.far, link.length) for link in truth.links}
        assert found == want, (time.monotonic() - start, sorted(found ^ want))
        # A Paris traceroute keeps one flow, so it sees exactly one of the true paths.
        trace = ctrl.do_trace(dst, inst=inst, sync=True)
        seen = hop_addrs(trace)
        assert any(seen == [next(iter(h.addrs)) for h in path] for path in truth.paths), seen
    finally:
        close(ctrl)


def test_fakeroute_case_as_a_lab(state_dir: Path) -> None:
    """fakeroute's unbalanced diamond (branches of 3 and 2 hops), imported as a lab:
    MDA finds exactly fakeroute's edges, as routers."""
    case = ROOT / "topologies" / "fakeroute" / "asymmetric.txt"
    edges = labelled_edges(parse_edges(case.read_text()))
    with Lab(import_fakeroute(case), name="fakeroute", state_dir=state_dir) as lab:
        owner = {str(i.ipv4.ip): n.name for n in lab.plan.nodes.values() for i in n.interfaces}
        owner |= {str(n.ipv4): n.name for n in lab.plan.nodes.values()}
        truth = lab.ground_truth("dst")
        ctrl = ScamperCtrl(mux=str(lab.mux_path))
        try:
            (inst,) = ctrl.add_vps(ctrl.vps())
            found = mda_links(ctrl, lab.targets[0].ipv4, inst)
        finally:
            close(ctrl)
    assert found == {(x.near, x.far, x.length) for x in truth.links}
    routers = {(owner[a], owner[b]) for a, b, _ in found} - {
        (a, b) for a, b in truth.router_links if b == "dst"
    }
    assert routers == edges
