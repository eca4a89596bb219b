"""Stand-ins on the distribution's scamper: UDP probes (20211212 has no ``udpprobe``).

Everything goes through the lab's mux with scamperlab's module, as a script
would: from every VP of ark-mini to the UDP echo service of far.example
(ns2's target, 192.0.2.7 and 2001:db8:7::7, port 7), the payload comes back;
``attempts`` is the number of datagrams sent, ``wait_probe`` apart; the RTT
matches scamper's own ping across the same delayed links; the audit of the
VP's namespace counts every datagram, and a burst over the VP's ``-p`` rate
is paced, not refused. The record's layout is modern scamper's (the golden
corpus's ``sc_warts2json`` output: the same keys).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl, ScamperFile
from scamperlab.scamper.results.udpprobe import ScamperUdpprobe
from scamperlab.scamper.warts import WartsDecoder
from tests.integration.conftest import ARK_MINI, scamper_has
from tests.integration.test_standins import (
    PLAN,
    VP_NAMES,
    configured_rtt_ms,
    within_delay_tolerance,
)

FAR = ("192.0.2.7", "2001:db8:7::7")
PORT = 7
SILENT = "192.0.2.99"  # no node has it: probes to it go unanswered
GOLDEN_JSON = Path("/work/shared/reference/golden/results.sc_warts2json.jsonl")

pytestmark = pytest.mark.skipif(
    scamper_has("udpprobe"), reason="the installed scamper probes UDP itself: no stand-in to test"
)


@pytest.fixture(scope="module")
def ark(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(ARK_MINI, name="stud", state_dir=state_dir) as lab:
        yield lab


def _vp_inst(ctrl: ScamperCtrl, vp: str) -> Any:
    return ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]


def _golden_keys() -> dict[int, list[str]]:
    """The keys of modern sc_warts2json's udpprobe objects, by probe count."""
    out = {}
    for line in GOLDEN_JSON.read_text().splitlines():
        j = json.loads(line)
        if j.get("type") == "udpprobe":
            out[j["probe_count"]] = list(j)
    return out


def test_every_vp_gets_its_payload_echoed_over_ipv4_and_ipv6(ark: Lab, tmp_path: Path) -> None:
    """One probe per VP and family; the result decoded live and from the file the module
    wrote alike, its JSON with the keys modern scamper's has."""
    warts = tmp_path / "udp.warts"
    out = ScamperFile(str(warts), "w")
    asked: dict[int, tuple[str, str, bytes]] = {}
    with ScamperCtrl(mux=str(ark.mux_path), outfile=out) as ctrl:
        insts = {i.name: i for i in ctrl.add_vps(ctrl.vps())}
        for n, (vp, dst) in enumerate(((vp, d) for vp in VP_NAMES for d in FAR), start=1):
            payload = f"hello {vp} {n}".encode()
            asked[n] = (vp, dst, payload)
            ctrl.do_udpprobe(dst, PORT, payload, userid=n, inst=insts[vp])
        results = {r.userid: r for r in ctrl.responses(timeout=timedelta(seconds=30))}
        assert not list(ctrl.exceptions())
        ctrl.done()
    out.close()
    assert sorted(results) == sorted(asked)
    for n, (vp, dst, payload) in asked.items():
        r = results[n]
        assert isinstance(r, ScamperUdpprobe) and r.inst.name == vp
        node = PLAN.nodes[vp]
        own = str(node.ipv6) if ":" in dst else str(node.ipv4)
        assert (str(r.src), str(r.dst), r.dport) == (own, dst, PORT)
        assert r.stop_reason_str == "done" and r.probe_sent == 1
        replies = list(r.replies())
        assert [x.payload for x in replies] == [payload], r.to_json()
        assert replies[0].ifname is not None and replies[0].ifname != "lo"
        probe = r.probe(0)
        assert probe is not None and r.sport == probe.sport > 0  # one probe: its port
    keys = _golden_keys()[1]
    decoded = [
        u for u in WartsDecoder().decode(warts.read_bytes()) if isinstance(u, ScamperUdpprobe)
    ]
    assert len(decoded) == len(asked)
    for u in decoded:
        live = json.loads(results[n := _userid_of(u, asked)].to_json() or "{}")
        mine = json.loads(u.to_json() or "{}")
        mine.pop("userid"), live.pop("userid")  # the module writes its wire tag to files
        assert mine == live, n
        assert list(mine) == [k for k in keys if k != "userid"], mine


def _userid_of(u: ScamperUdpprobe, asked: dict[int, tuple[str, str, bytes]]) -> int:
    return next(n for n, (_vp, dst, payload) in asked.items() if u.payload == payload)


def test_attempts_are_datagrams_sent_wait_probe_apart_and_stop_count_is_recorded(
    ark: Lab,
) -> None:
    """Three attempts, stop count one: three probes a second apart, each echoed on its
    own source port, as modern scamper does (it sends them all: golden corpus)."""
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = _vp_inst(ctrl, "ams-nl.example")
        start = time.monotonic()
        r = ctrl.do_udpprobe(FAR[0], PORT, b"three", attempts=3, stop_count=1, inst=inst, sync=True)
        elapsed = time.monotonic() - start
        inst.done()
    assert (r.attempts, r.stop_count, r.probe_sent, r.sport) == (3, 1, 3, 0)
    probes = list(r)
    assert [p.reply_count for p in probes] == [1, 1, 1], r.to_json()
    assert len({p.sport for p in probes}) == 3
    gaps = [(b.tx - a.tx).total_seconds() for a, b in itertools.pairwise(probes)]
    assert all(0.99 <= g < 1.5 for g in gaps), gaps
    assert elapsed >= 2 + 2.0  # two gaps of wait_probe, then the wait for the last
    assert list(json.loads(r.to_json() or "{}")) == _golden_keys()[2]


def test_no_reply_is_no_reply_block(ark: Lab) -> None:
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = _vp_inst(ctrl, "lhr-gb.example")
        r = ctrl.do_udpprobe(SILENT, PORT, b"anyone?", attempts=2, inst=inst, sync=True)
        inst.done()
    assert r.stop_reason_str == "done" and r.probe_sent == 2
    assert list(r.replies()) == []


def test_a_halted_udp_probe_still_reports_halted(ark: Lab) -> None:
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = _vp_inst(ctrl, "lhr-gb.example")
        start = time.monotonic()
        task = ctrl.do_udpprobe(SILENT, PORT, b"halt", attempts=5, inst=inst)
        task.halt()
        results = list(ctrl.responses(timeout=timedelta(seconds=20)))
        elapsed = time.monotonic() - start
        assert not list(ctrl.exceptions())
        inst.done()
    assert len(results) == 1 and results[0].stop_reason_str == "halted", results
    assert results[0].probe_sent < 5
    assert elapsed < 4.0, elapsed  # five probes would take 4 s, and 2 s more of waiting


def test_a_stand_in_rtt_is_a_pings_across_delayed_links(ark: Lab) -> None:
    """To far.example from syd-au (long delayed links), against scamper's own ping."""
    vp = "syd-au.example"
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = _vp_inst(ctrl, vp)
        r = ctrl.do_udpprobe(FAR[0], PORT, b"rtt", attempts=2, inst=inst, sync=True)
        ping = ctrl.do_ping(FAR[0], attempts=3, inst=inst, sync=True)
        inst.done()
    rtts = [(rep.rx - p.tx).total_seconds() * 1000 for p in r for rep in p]
    assert len(rtts) == 2 and ping.min_rtt is not None, r.to_json()
    udp_ms, ping_ms = min(rtts), ping.min_rtt.total_seconds() * 1000
    expected = configured_rtt_ms(PLAN, vp, FAR[0])
    assert within_delay_tolerance(ping_ms, expected), (ping_ms, expected)
    assert within_delay_tolerance(udp_ms, expected), (udp_ms, expected)
    assert abs(udp_ms - ping_ms) < max(15.0, 0.1 * expected), (udp_ms, ping_ms)


def test_an_audit_counts_every_stand_in_packet_and_a_burst_keeps_the_vp_rate(
    ark: Lab, tmp_path: Path
) -> None:
    """UDP probes and DNS queries from one VP's stand-ins, 1.5 s worth of its -p rate asked
    for at once: all answered, no faster than the rate, and the audit's capture in the VP's
    namespace counts exactly the datagrams and queries the results say were sent."""
    from scamperlab.audit import audit

    vp = "fra-de.example"
    rate = PLAN.topology.vp_rate(next(v for v in PLAN.topology.vps if v.name == vp))
    count = 3 * rate // 2
    policy = tmp_path / "policy.yaml"
    policy.write_text("max_rate: budget\n")
    with (
        audit(ark, policy=policy, out_dir=tmp_path / "audit", draw=False) as session,
        ScamperCtrl(mux=str(ark.mux_path)) as ctrl,
    ):
        inst = _vp_inst(ctrl, vp)
        start = time.monotonic()
        for i in range(count):
            if i % 3 == 2:
                ctrl.do_dns(f"n{i}.lab.example", qtype="TXT", wait_timeout=1, inst=inst)
            else:
                ctrl.do_udpprobe(FAR[i % 2], PORT, b"budget %d" % i, inst=inst)
        results = list(ctrl.responses(timeout=timedelta(seconds=60)))
        elapsed = time.monotonic() - start
        assert not list(ctrl.exceptions())
        inst.done()
    assert len(results) == count
    probes = [r for r in results if isinstance(r, ScamperUdpprobe)]
    udp_sent = sum(r.probe_sent for r in probes)
    dns_sent = sum(len(h._d.queries) for h in results if not isinstance(h, ScamperUdpprobe))
    assert all(len(list(r.replies())) == 1 for r in probes)
    hosts = [h._d for h in results if not isinstance(h, ScamperUdpprobe)]
    sent = sorted(
        [tv[0] + tv[1] / 1e6 for r in probes for p in r._d.probes if (tv := p.tx)]
        + [tv[0] + tv[1] / 1e6 for h in hosts for q in h.queries if (tv := q.tx)]
    )
    assert len(sent) == udp_sent + dns_sent == count
    # paced at the VP's -p rate: the first packet to the last, by their transmit times
    # (each probe's wait alone would make the whole take longer than that)
    assert sent[-1] - sent[0] >= (count - 1) / rate * 0.99, (sent[-1] - sent[0], count, rate)
    assert (count - 1) / rate <= elapsed, elapsed
    report = session.report
    assert report is not None
    counted = report.vps[vp].by_measurement
    assert counted["udp"].packets == udp_sent, (counted, udp_sent)
    assert counted["dns"].packets == dns_sent, (counted, dns_sent)
    assert report.ok, report.violations


def test_status_and_the_events_say_the_lab_performs_udp_probes(ark: Lab) -> None:
    info = ark.state.info["standins"]
    assert info["enabled"] is True
    assert any(line.startswith("UDP probe: udpprobe") for line in info["gives"]), info
    assert any(e.kind == "standins" and "UDP probe: udpprobe" in e.message for e in ark.events)
