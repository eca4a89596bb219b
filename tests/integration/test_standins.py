"""Stand-ins on the distribution's scamper: DNS the VP's 20211212 cannot do, done by the lab.

Everything goes through the lab's mux with scamperlab's module, as a script
would; the answers are compared with the lab's own zone file (read with
dnspython), the records with ``sc_warts2json``'s reading of the same file,
the RTTs with the topology's delays and with scamper's own pings. With
stand-ins off the same NS query is refused, naming NS, not the duration.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dns.rdatatype
import dns.zone
import pytest

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl, ScamperFile, ScamperInstError
from scamperlab.scamper.results.host import ScamperHost
from scamperlab.scamper.warts import WartsDecoder
from scamperlab.topology.loader import load_topology
from scamperlab.topology.plan import LabPlan, make_plan
from scamperlab.topology.truth import path_truth
from tests.integration.conftest import ARK_MINI, TINY, scamper_has
from tests.integration.test_examples import example
from tests.unit.scamper.wartsdump import wartsdump_block, wartsdump_hosts

PLAN = make_plan(load_topology(ARK_MINI))
VP_NAMES = sorted(vp.name for vp in PLAN.topology.vps)
ZONE = "lab.example"
NAMESERVERS = {
    "ns1.lab.example": ("203.0.113.80", "2001:db8:80::80"),
    "ns2.lab.example": ("192.0.2.7", "2001:db8:7::7"),
}
WAIT = timedelta(seconds=1)

pytestmark = pytest.mark.skipif(
    scamper_has("host -t NS (DNS NS queries)"),
    reason="the installed scamper queries NS itself: no stand-in to test",
)


def configured_rtt_ms(plan: LabPlan, src: str, dst: str) -> float:
    """Twice the configured one-way delay along the lab's path from node ``src`` to ``dst``."""
    truth = path_truth(plan, src, dst)
    nodes = [src, *truth.routers[0]]
    if truth.dst_node is not None and nodes[-1] != truth.dst_node:
        nodes.append(truth.dst_node)
    delays = {frozenset((link.a.node, link.b.node)): link.params.delay for link in plan.links}
    return 2 * sum(delays[frozenset(pair)] for pair in itertools.pairwise(nodes))


def within_delay_tolerance(rtt_ms: float, expected_ms: float) -> bool:
    """The bounds the lab's own link check uses (emulation.selfcheck.expected_rtt):
    tight below (load never removes delay), generous above."""
    return expected_ms * 0.97 - 0.05 <= rtt_ms <= expected_ms + max(15.0, 0.3 * expected_ms)


@pytest.fixture(scope="module")
def ark(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(ARK_MINI, name="stin", state_dir=state_dir) as lab:
        yield lab


def test_authns_delay_prints_both_nameservers_at_the_configured_delay(state_dir: Path) -> None:
    """The seed's authns-delay example, unchanged, on the distribution's scamper."""
    lines = example("exauthns", state_dir, "authns_delay.py", ZONE)
    head, *rows = lines
    assert head.startswith(f"{ZONE}: 2 nameservers from "), lines
    vp = head.split(" from ")[1].split(":")[0]
    assert vp in VP_NAMES and head.endswith(": ns1.lab.example, ns2.lab.example"), lines
    seen = {}
    for row in rows:
        name, addr, rtt, unit = row.split()
        assert unit == "ms", row
        seen[addr] = name
        expected = configured_rtt_ms(PLAN, vp, addr)
        assert within_delay_tolerance(float(rtt), expected), (row, expected)
    assert seen == {a: n for n, pair in NAMESERVERS.items() for a in pair}, lines


def _zone_answers(lab: Lab) -> dict[tuple[str, str], set[str]]:
    """(name, type) -> rdata texts, from the zone file the lab's NSD serves."""
    assert lab.services is not None
    path = lab.services.directory / "zones" / f"{ZONE}.zone"
    zone = dns.zone.from_file(str(path), origin=f"{ZONE}.", relativize=False)
    out: dict[tuple[str, str], set[str]] = {}
    for name, rdataset in zone.iterate_rdatasets():
        key = (name.to_text(omit_final_dot=True), dns.rdatatype.to_text(rdataset.rdtype))
        out[key] = {r.to_text() for r in rdataset}
    return out


def _texts(host: object, qtype: str) -> set[str]:
    """A result's answers of ``qtype`` as dnspython writes their rdata."""
    out = set()
    for rr in host.ans():  # type: ignore[attr-defined]
        if rr.rtype != dns.rdatatype.from_text(qtype):
            continue
        if qtype == "NS":
            out.add(f"{rr.ns}.")
        elif qtype == "CNAME":
            out.add(f"{rr.cname}.")
        elif qtype == "MX":
            out.add(f"{rr.mx.pref} {rr.mx.exch}.")
        elif qtype == "TXT":
            out.add(" ".join(f'"{s}"' for s in rr.txt))
        elif qtype == "SOA":
            s = rr.soa
            out.add(
                f"{s.mname}. {s.rname}. {s.serial} {s.refresh} {s.retry} {s.expire} {s.minimum}"
            )
    return out


QUERIES = [
    (ZONE, "NS"),
    (ZONE, "SOA"),
    (ZONE, "TXT"),
    (ZONE, "MX"),
    (f"alias.{ZONE}", "CNAME"),
]


def _ask(lab: Lab, vp: str, queries: list[tuple[str, str]], outfile: Path | None) -> list[Any]:
    """Each query from ``vp``, its results in query order (matched by userid)."""
    out = ScamperFile(str(outfile), "w") if outfile is not None else None
    with ScamperCtrl(mux=str(lab.mux_path), outfile=out) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]
        for userid, (name, qtype) in enumerate(queries, start=1):
            ctrl.do_dns(name, qtype=qtype, wait_timeout=WAIT, userid=userid, inst=inst)
        results = {h.userid: h for h in ctrl.responses(timeout=timedelta(seconds=30))}
        assert not list(ctrl.exceptions())
        inst.done()
    if out is not None:
        out.close()
    assert sorted(results) == list(range(1, len(queries) + 1)), vp
    return [results[i] for i in range(1, len(queries) + 1)]


def _without_userid(host: ScamperHost) -> dict[str, Any]:
    """A result's JSON but its userid: scamperlab's module writes its wire tag to files."""
    j: dict[str, Any] = json.loads(host.to_json())
    j.pop("userid", None)
    return j


def test_answers_from_every_vp_equal_the_zone_file_and_sc_wartsdump_agrees(
    ark: Lab, tmp_path: Path
) -> None:
    """One file per VP (the module writes each channel's records as they came, and a file
    of several VPs' lists, each its channel's list 1, is one real tools reject). TXT goes
    in no file: 20211212's sc_wartsdump stops at TXT data, a type it does not know."""
    expected = _zone_answers(ark)
    dumped = [q for q in QUERIES if q[1] != "TXT"]
    for vp in VP_NAMES:
        warts = tmp_path / f"{vp}.warts"
        results = _ask(ark, vp, dumped, warts) + _ask(ark, vp, [(ZONE, "TXT")], None)
        addresses = (str(PLAN.nodes[vp].ipv4), str(PLAN.nodes[vp].ipv6))
        for (name, qtype), host in zip([*dumped, (ZONE, "TXT")], results, strict=True):
            assert str(host.src) in addresses, (vp, host.src)
            assert host.rcode == "NoError" and host.stop_reason_str == "done", host.to_json()
            assert (host.qname, host.qtype) == (name, qtype)
            assert _texts(host, qtype) == expected[(name, qtype)], (vp, qtype, host.to_json())
        # The same records, read by the installed scamper's own tool from the file the
        # module wrote (20211212's sc_warts2json skips host records; sc_wartsdump prints them).
        blocks = wartsdump_hosts(warts)
        decoded = [
            h for h in WartsDecoder().decode(warts.read_bytes()) if isinstance(h, ScamperHost)
        ]
        assert len(blocks) == len(decoded) == len(dumped), vp
        live = {(h.qname, h.qtype): _without_userid(h) for h in results}
        for block, host in zip(blocks, decoded, strict=True):
            assert block == wartsdump_block(host), vp
            assert _without_userid(host) == live[(host.qname, host.qtype)], vp


def test_a_stand_in_rtt_is_a_pings_across_delayed_links(ark: Lab) -> None:
    """SOA straight from ns2 (far.example, 120 ms one way from most VPs) against
    scamper's own ping of the same address, from the same VP."""
    far = NAMESERVERS["ns2.lab.example"][0]
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == "syd-au.example"])[0]
        host = ctrl.do_dns(ZONE, qtype="SOA", server=far, rd=False, inst=inst, sync=True)
        ping = ctrl.do_ping(far, attempts=3, inst=inst, sync=True)
        inst.done()
    assert host.rtt is not None and ping.min_rtt is not None
    dns_ms, ping_ms = host.rtt.total_seconds() * 1000, ping.min_rtt.total_seconds() * 1000
    expected = configured_rtt_ms(PLAN, "syd-au.example", far)
    assert within_delay_tolerance(ping_ms, expected), (ping_ms, expected)
    assert within_delay_tolerance(dns_ms, expected), (dns_ms, expected)
    assert abs(dns_ms - ping_ms) < max(15.0, 0.1 * expected), (dns_ms, ping_ms)


def test_status_says_what_the_stand_ins_perform(ark: Lab) -> None:
    info = ark.state.info["standins"]
    assert info["enabled"] is True
    assert any(line.startswith("DNS: ") and "host -t NS" in line for line in info["gives"])
    assert any(e.kind == "standins" and "host -t NS" in e.message for e in ark.events)


def test_with_stand_ins_off_the_refusal_names_ns_not_the_duration(state_dir: Path) -> None:
    """``do_dns(zone, qtype='NS', wait_timeout=1)``: the ``-W 1.0s`` fits 20211212 (the
    mux translates it), the NS query does not, and the error says so."""
    with Lab.from_file(TINY, name="stoff", state_dir=state_dir, standins=False) as lab:
        assert lab.state.info["standins"]["enabled"] is False
        with ScamperCtrl(mux=str(lab.mux_path)) as ctrl:
            inst = ctrl.add_vps(ctrl.vps()[0])[0]
            with pytest.raises(ScamperInstError) as info:
                ctrl.do_dns(ZONE, qtype="NS", wait_timeout=1, inst=inst, sync=True)
            inst.done()
    message = str(info.value)
    assert "host -t NS (DNS NS queries) needs a scamper newer than 20211212" in message
    assert "20240117 has it" in message and "duration" not in message


def test_an_audit_counts_the_stand_in_packets_and_they_keep_the_vp_rate(
    ark: Lab, tmp_path: Path
) -> None:
    """Stand-in queries are packets leaving the VP's namespace: the audit's capture there
    counts each one, and 3x the VP's per-second rate of them is paced, not refused."""
    from scamperlab.audit import audit

    vp = "fra-de.example"
    rate = PLAN.topology.vp_rate(next(v for v in PLAN.topology.vps if v.name == vp))
    count = 3 * rate // 2  # one and a half seconds' worth, asked for at once
    policy = tmp_path / "policy.yaml"
    policy.write_text("max_rate: budget\n")
    with (
        audit(ark, policy=policy, out_dir=tmp_path / "audit", draw=False) as session,
        ScamperCtrl(mux=str(ark.mux_path)) as ctrl,
    ):
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]
        start = time.monotonic()
        for i in range(count):
            ctrl.do_dns(f"n{i}.{ZONE}", qtype="TXT", wait_timeout=WAIT, inst=inst)
        results = list(ctrl.responses(timeout=timedelta(seconds=60)))
        elapsed = time.monotonic() - start
        assert not list(ctrl.exceptions())
        inst.done()
    assert len(results) == count
    sent = sum(len(h._d.queries) for h in results)
    assert (count - 1) / rate <= elapsed, elapsed  # paced at the VP's -p rate
    report = session.report
    assert report is not None
    assert report.vps[vp].by_measurement["dns"].packets == sent
    assert report.ok, report.violations


# An address of the lab's documentation ranges that no node has: queries to it go unanswered.
SILENT = "192.0.2.99"


def test_an_unanswered_stand_in_query_times_out_after_each_attempt(ark: Lab) -> None:
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == "lhr-gb.example"])[0]
        start = time.monotonic()
        host = ctrl.do_dns(
            ZONE, qtype="TXT", server=SILENT, attempts=1, wait_timeout=WAIT, inst=inst, sync=True
        )
        elapsed = time.monotonic() - start
        inst.done()
    assert host.stop_reason_str == "timeout" and host.rtt is None
    assert len(host._d.queries) == 2 and all(q.rx is None for q in host._d.queries)
    assert 2 * WAIT.total_seconds() <= elapsed, elapsed  # -R 1: two waits of a second


def test_a_halted_stand_in_task_still_reports_halted(ark: Lab) -> None:
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == "lhr-gb.example"])[0]
        start = time.monotonic()
        task = ctrl.do_dns(
            ZONE, qtype="TXT", server=SILENT, wait_timeout=timedelta(seconds=5), inst=inst
        )
        task.halt()
        results = list(ctrl.responses(timeout=timedelta(seconds=20)))
        elapsed = time.monotonic() - start
        assert not list(ctrl.exceptions())
        inst.done()
    assert len(results) == 1 and results[0].stop_reason_str == "halted", results
    assert elapsed < 4.0, elapsed  # well before its 5 s wait


def test_tcp_nsid_ecs_and_an_ipv6_server_from_a_vp(ark: Lab) -> None:
    """The options 20211212 lacks, each to ns1 directly: answers equal the zone file."""
    expected = _zone_answers(ark)[(ZONE, "SOA")]
    v4, v6 = NAMESERVERS["ns1.lab.example"]
    vp = "ams-nl.example"
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]
        asks = {
            "tcp": {"server": v4, "tcp": True},
            "nsid": {"server": v4, "nsid": True},
            "ecs": {"server": v4, "ecs": "192.0.2.0/24"},
            "ipv6": {"server": v6},
        }
        got = {
            name: ctrl.do_dns(ZONE, qtype="SOA", rd=False, inst=inst, sync=True, **kw)
            for name, kw in asks.items()
        }
        inst.done()
    for name, host in got.items():
        assert host.rcode == "NoError" and _texts(host, "SOA") == expected, (name, host.to_json())
    assert "tcp" in got["tcp"].to_json() and str(got["tcp"].src) == str(PLAN.nodes[vp].ipv4)
    assert got["nsid"].udpsize is not None  # the reply's OPT record, as received
    assert got["ecs"].to_json().count("192.0.2.0/24") == 1
    assert str(got["ipv6"].dst) == v6 and str(got["ipv6"].src) == str(PLAN.nodes[vp].ipv6)
