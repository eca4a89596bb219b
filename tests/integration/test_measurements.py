"""Every measurement of the ``scamper`` API the lab's scamper supports, against the aliases lab.

ping, trace and the control patterns are in test_scamper_api.py, tracelb in
test_routers.py, ally and radargun in test_aliases.py; this file covers the
rest of dealias (prefixscan, mercator) and sniff, and names, for each
measurement the installed scamper cannot run, the release it needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl, ScamperInst
from scamperlab.scamper.versions import FEATURES
from tests.integration.test_aliases import lab  # noqa: F401 - the module-scoped lab fixture


@pytest.fixture
def ctrl(lab: Lab) -> Iterator[ScamperCtrl]:  # noqa: F811
    c = ScamperCtrl(mux=str(lab.mux_path))
    yield c
    for inst in c.instances():
        c.remove(inst)
    for mux in c._muxes:  # the real module has no public close either
        mux._transport.close()


def inst_of(ctrl: ScamperCtrl) -> ScamperInst:
    (inst,) = ctrl.add_vps(ctrl.vps())
    return inst


def addrs(lab: Lab, router: str) -> list[str]:  # noqa: F811
    return [str(i.ipv4.ip) for i in lab.node(router).interfaces]


def test_prefixscan_finds_the_alias_in_the_far_prefix(lab: Lab, ctrl: ScamperCtrl) -> None:  # noqa: F811
    """r1's address towards the VP, and the /30 of the r1--r2 link seen from r2's end:
    prefixscan must pick r1's end of that link, the one sharing r1's IP-ID counter."""
    near = addrs(lab, "r1")[0]
    link = next(x for x in lab.plan.links if {x.a.node, x.b.node} == {"r1", "r2"})
    r1_end, r2_end = (link.a, link.b) if link.a.node == "r1" else (link.b, link.a)
    result = ctrl.do_prefixscan(
        near,
        str(r2_end.ipv4.ip),
        30,
        method="icmp-echo",
        wait_probe=0.2,
        inst=inst_of(ctrl),
        sync=True,
    )
    assert result.is_prefixscan()
    assert result.has_aliases()
    found = result.aliases()
    assert found is not None
    assert {str(a) for a in found} == {near, str(r1_end.ipv4.ip)}


def test_mercator_sees_no_alias_where_linux_answers_from_the_probed_address(
    lab: Lab,  # noqa: F811
    ctrl: ScamperCtrl,
) -> None:
    """Mercator finds an alias when a router answers a UDP probe from another
    address; Linux answers for its own address from that address, so the
    lab's routers (like many real ones) give mercator nothing."""
    target = addrs(lab, "r2")[1]
    result = ctrl.do_mercator(target, inst=inst_of(ctrl), sync=True)
    assert result.is_mercator()
    replies = [r for i in range(result.probe_count) for r in result.probe(i).replies()]  # type: ignore[union-attr]
    assert replies, "the router did not answer"
    assert all(str(r.src) == target and r.is_icmp_unreach_port() for r in replies)
    assert not result.has_aliases()


def test_sniff_captures_the_echo_replies_of_a_ping(lab: Lab, ctrl: ScamperCtrl) -> None:  # noqa: F811
    inst = inst_of(ctrl)
    vp = lab.vps[0]
    icmp_id = 4242
    ctrl.do_sniff(vp.ipv4, icmp_id, limit_pkt_count=3, limit_time=20, inst=inst)
    time.sleep(1.0)  # let the capture start before the replies come back
    done = threading.Event()

    def ping() -> None:
        other = ScamperCtrl(mux=str(lab.mux_path))
        try:
            (i,) = other.add_vps(other.vps())
            other.do_ping(addrs(lab, "r1")[0], attempts=3, icmp_id=icmp_id, inst=i, sync=True)
        finally:
            for x in other.instances():
                other.remove(x)
            for mux in other._muxes:
                mux._transport.close()
            done.set()

    threading.Thread(target=ping, daemon=True).start()
    results = list(ctrl.responses(timeout=30))
    assert done.wait(30)
    assert len(results) == 1
    sniff = results[0]
    assert sniff.pkt_count == 3, sniff.pkt_count
    assert sniff.icmp_id == icmp_id
    for pkt in sniff:
        data = pkt.data
        assert data is not None and data[:1] == b"\x45"  # IPv4 headers, as captured
        assert data[20] == 0  # ICMP echo reply


_NEEDS = {
    "http": "http",
    "udpprobe": "udpprobe",
    "owamp": "owamp",
    "midarest": "dealias -m midarest",
    "midardisc": "dealias -m midardisc",
}


def _http_by_a_stand_in(lab: Lab, ctrl: ScamperCtrl) -> None:  # noqa: F811
    """No web server here: the SYN to r1's port 80 is answered by a reset, noconn, and the
    result is an http record from the VP's own address, as modern scamper's."""
    inst = inst_of(ctrl)
    dst = addrs(lab, "r1")[0]
    http = ctrl.do_http(dst, f"http://{dst}/", limit_time=5, inst=inst, sync=True)
    assert type(http).__name__ == "ScamperHttp" and http.stop_reason_str == "noconn"
    assert str(http.dst) == dst and str(http.src) == str(lab.plan.nodes[inst.name].ipv4)


def _udpprobe_by_a_stand_in(lab: Lab, ctrl: ScamperCtrl) -> None:  # noqa: F811
    """No echo service here: r1 answers port 7 with an ICMP error, which is no reply. The
    stand-in sends both probes from the VP's address and says so, as modern scamper does."""
    target = addrs(lab, "r1")[0]
    r = ctrl.do_udpprobe(target, 7, b"x", attempts=2, inst=inst_of(ctrl), sync=True)
    assert (r.stop_reason_str, r.probe_sent, list(r.replies())) == ("done", 2, [])
    assert (str(r.src), str(r.dst)) == (lab.vps[0].ipv4, target)


# What the lab's stand-ins (docs/standins.md) perform where the installed scamper cannot.
_STANDINS = {"http": _http_by_a_stand_in, "udpprobe": _udpprobe_by_a_stand_in}


@pytest.mark.parametrize("measurement", sorted(_NEEDS))
def test_measurements_the_installed_scamper_lacks(
    lab: Lab,  # noqa: F811
    ctrl: ScamperCtrl,
    measurement: str,
) -> None:
    release = next(f.release for f in FEATURES if f.name == _NEEDS[measurement])
    assert lab.install is not None
    installed = lab.install.version
    if int(installed[:8]) < release and measurement in _STANDINS:
        assert lab.state.info["standins"]["enabled"], "stand-ins are on by default"
        _STANDINS[measurement](lab, ctrl)
        return
    if int(installed[:8]) < release:
        pytest.skip(f"{measurement} needs scamper {release} or newer; the lab runs {installed}")
    pytest.skip(f"{measurement}: scamper {installed} supports it, but no lab test covers it yet")
