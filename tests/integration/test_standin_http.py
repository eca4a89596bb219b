"""HTTP and HTTPS stand-ins on the distribution's scamper, which has no ``http`` command.

Every fetch goes through the lab's mux with scamperlab's module, as a script
would, to the lab's real nginx; the answers are compared with the files
nginx serves and its access log, the records with the layout of the golden
corpus's real ``ScamperHttp`` records, the handshake RTT with scamper's own
ping of the same address. HTTPS validates against the lab CA that every VP
trusts in its own mount namespace, with no ``insecure``; a certificate the
CA did not sign, or a URL naming a host the certificate does not cover, is
reported as scamper reports it (stop reason ``insecure``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl
from scamperlab.scamper.addr import ScamperAddr
from scamperlab.scamper.results.http import ScamperHttp
from scamperlab.topology.loader import load_topology
from scamperlab.topology.plan import make_plan
from tests.integration.conftest import ARK_MINI, scamper_has
from tests.integration.test_standins import configured_rtt_ms, within_delay_tolerance
from tests.reference import GOLDEN

PLAN = make_plan(load_topology(ARK_MINI))
VP_NAMES = sorted(vp.name for vp in PLAN.topology.vps)
WWW = "203.0.113.80"  # www.lab.example: nginx with http and https
FAR = "192.0.2.7"  # far.example: no web server
URLS = ("http://www.lab.example/", "https://www.lab.example/")

pytestmark = pytest.mark.skipif(
    scamper_has("http"), reason="the installed scamper has http itself: no stand-in to test"
)


@pytest.fixture(scope="module")
def ark(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(ARK_MINI, name="sthttp", state_dir=state_dir) as lab:
        yield lab


def _body(lab: Lab, kind: str) -> bytes:
    port = 443 if kind == "https" else 80
    return (
        lab.services.directory / "www.example" / "nginx" / f"{kind}-{port}" / "index.txt"
    ).read_bytes()


def _fetch(lab: Lab, vp: str, dst: str, url: str, **kw: Any) -> ScamperHttp:
    with ScamperCtrl(mux=str(lab.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]
        try:
            result: ScamperHttp = ctrl.do_http(dst, url, inst=inst, sync=True, **kw)
        finally:
            inst.done()
    return result


def _assert_served(lab: Lab, http: ScamperHttp, url: str) -> None:
    kind = url.split(":")[0]
    body = _body(lab, kind)
    assert http.stop_reason_str == "done" and http.status_code == 200, http.to_json()
    assert http.url == url and http.dport == (443 if kind == "https" else 80)
    hdrs = http.response_hdrs or {}
    assert hdrs.get("server", "").startswith("nginx"), hdrs
    assert hdrs.get("content-length") == str(len(body)), hdrs
    assert http.response == body
    assert http.transmit_hdr is not None and "Host: www.lab.example\r\n" in http.transmit_hdr
    assert http.hsrtt is not None and http.hsrtt > timedelta(0)
    kinds = [(b.dir_str, b.type_str) for b in http.bufs()]
    tls = [k for k in kinds if k[1] == "tls"]
    assert (len(tls) >= 2) == (kind == "https"), kinds  # the handshake, both ways
    assert [k for k in kinds if k[1] != "tls"][:2] == [("tx", "hdr"), ("rx", "hdr")], kinds


def test_every_vp_fetches_http_and_https_with_the_servers_headers_and_body(ark: Lab) -> None:
    """All VPs at once, both schemes each, no ``insecure``: every one a 200 from nginx,
    from the VP's own address."""
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        insts = ctrl.add_vps([v for v in ctrl.vps() if v.name in VP_NAMES])
        for inst in insts:
            for url in URLS:
                ctrl.do_http(WWW, url, inst=inst)
        results = list(ctrl.responses(timeout=timedelta(seconds=90)))
        assert not list(ctrl.exceptions())
        for inst in insts:
            inst.done()
    got = {(r.inst.name, r.url): r for r in results}
    assert sorted(got) == sorted((vp, url) for vp in VP_NAMES for url in URLS)
    for (vp, url), http in got.items():
        assert str(http.src) == str(PLAN.nodes[vp].ipv4), (vp, http.src)
        _assert_served(ark, http, url)


def test_ipv6_and_the_access_log_sees_the_vp(ark: Lab) -> None:
    vp = "gru-br.example"
    http = _fetch(ark, vp, "2001:db8:80::80", "https://www.lab.example/")
    _assert_served(ark, http, "https://www.lab.example/")
    assert str(http.src) == str(PLAN.nodes[vp].ipv6)
    log = (ark.services.directory / "www.example" / "nginx" / "access.log").read_text()
    assert f"{PLAN.nodes[vp].ipv6} " in log


def test_headers_are_sent_as_scamper_sends_them(ark: Lab) -> None:
    """Extra headers follow scamper's own; a User-Agent given replaces scamper's."""
    headers = {"X-Scamperlab": "one two", "User-Agent": "lab-test/1"}
    http = _fetch(ark, "lhr-gb.example", WWW, "http://www.lab.example/", headers=headers)
    _assert_served(ark, http, "http://www.lab.example/")
    assert http.transmit_hdr == (
        "GET / HTTP/1.1\r\nHost: www.lab.example\r\nUser-Agent: lab-test/1\r\n"
        "Accept: */*\r\nX-Scamperlab: one two\r\n\r\n"
    )
    assert http.transmit_hdr_byname("x-scamperlab") == "one two"
    log = (ark.services.directory / "www.example" / "nginx" / "access.log").read_text()
    assert '"lab-test/1"' in log


@contextlib.contextmanager
def _mute_server(lab: Lab, port: int) -> Iterator[str]:
    """A listener in far.example that accepts and then says nothing; its URL."""
    listener = (
        "import socket, time\n"
        f"s = socket.create_server(('{FAR}', {port}))\n"
        "print('up', flush=True)\n"
        "c = s.accept()\n"
        "time.sleep(60)\n"
    )
    server = subprocess.Popen(
        lab.net.in_node("far.example", ["python3", "-c", listener]),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline() == b"up\n"
        yield f"http://{FAR}:{port}/"
    finally:
        server.kill()
        server.wait(10)


def test_limit_time_ends_a_fetch_the_server_never_answers(ark: Lab) -> None:
    """``limit_time=2`` ends the fetch after 2 s, timed out, with the request on record."""
    with _mute_server(ark, 8080) as url:
        start = time.monotonic()
        http = _fetch(ark, "fra-de.example", FAR, url, limit_time=2)
        elapsed = time.monotonic() - start
    assert http.stop_reason_str == "timeout" and http.maxtime == timedelta(seconds=2)
    assert http.status_code is None and [(b.dir_str, b.type_str) for b in http.bufs()] == [
        ("tx", "hdr")
    ]
    assert 2.0 <= elapsed < 8.0, elapsed


def test_a_halted_fetch_still_reports_halted(ark: Lab) -> None:
    with _mute_server(ark, 8081) as url, ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == "fra-de.example"])[0]
        start = time.monotonic()
        task = ctrl.do_http(FAR, url, limit_time=10, inst=inst)
        time.sleep(0.5)
        task.halt()
        results = list(ctrl.responses(timeout=timedelta(seconds=20)))
        elapsed = time.monotonic() - start
        assert not list(ctrl.exceptions())
        inst.done()
    assert len(results) == 1 and results[0].stop_reason_str == "halted", results
    assert elapsed < 6.0, elapsed  # well before its 10 s limit


def test_no_server_is_noconn(ark: Lab) -> None:
    http = _fetch(ark, "fra-de.example", FAR, "http://far.example/")
    assert http.stop_reason_str == "noconn" and http.buf_count == 0


def test_the_handshake_rtt_is_a_pings_across_delayed_links(ark: Lab) -> None:
    vp = "syd-au.example"
    with ScamperCtrl(mux=str(ark.mux_path)) as ctrl:
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]
        http = ctrl.do_http(WWW, "https://www.lab.example/", inst=inst, sync=True)
        ping = ctrl.do_ping(WWW, attempts=3, inst=inst, sync=True)
        inst.done()
    assert http.hsrtt is not None and ping.min_rtt is not None
    http_ms, ping_ms = http.hsrtt.total_seconds() * 1000, ping.min_rtt.total_seconds() * 1000
    expected = configured_rtt_ms(PLAN, vp, WWW)
    assert within_delay_tolerance(ping_ms, expected), (ping_ms, expected)
    assert within_delay_tolerance(http_ms, expected), (http_ms, expected)
    assert abs(http_ms - ping_ms) < max(15.0, 0.1 * expected), (http_ms, ping_ms)
    # and the response came a round trip after the request left, at least
    tx = next(b for b in http.bufs() if b.is_tx() and b.is_hdr())
    rx = next(b for b in http.bufs() if b.is_rx() and b.is_hdr())
    assert (rx.timestamp - tx.timestamp).total_seconds() * 1000 >= expected * 0.97 - 0.05


def test_status_and_the_events_say_http_comes_from_a_stand_in(ark: Lab) -> None:
    info = ark.state.info["standins"]
    assert info["enabled"] is True and "HTTP and HTTPS: http" in info["gives"]
    assert any(e.kind == "standins" and "HTTP and HTTPS: http" in e.message for e in ark.events)


# -- trust --------------------------------------------------------------------------------


def test_every_vp_trusts_the_lab_ca_by_default_and_the_host_does_not(ark: Lab) -> None:
    """OpenSSL's default verify paths in a VP (what modern scamper's ``http`` uses) accept
    the lab's certificate; the host's own bundle is untouched."""
    ca = ark.services.ca_path
    assert ca is not None
    lab_ca = ca.read_text().strip()
    for vp in VP_NAMES[:3]:
        done = ark.run_in(
            vp,
            ["openssl", "s_client", "-connect", f"{WWW}:443", "-servername", "www.lab.example",
             "-verify_hostname", "www.lab.example", "-verify_return_error", "-brief"],
            input="",
            timeout=30,
        )  # fmt: skip
        assert done.returncode == 0 and "Verification: OK" in done.stderr, done.stderr
        fetched = ark.run_in(
            vp,
            ["python3", "-c", "import urllib.request as u;"
             " print(u.urlopen('https://www.lab.example/', timeout=10).status)"],
            timeout=30,
        )  # fmt: skip
        assert fetched.stdout.strip() == "200", fetched.stderr
    from scamperlab.emulation.netns import default_ca_file

    host_bundle = default_ca_file()
    assert host_bundle is not None and lab_ca not in Path(host_bundle).read_text()


def test_a_url_the_certificate_does_not_name_is_insecure_unless_asked(ark: Lab) -> None:
    url = "https://wrong.lab.example/"
    http = _fetch(ark, "nrt-jp.example", WWW, url)
    assert http.stop_reason_str == "insecure" and http.status_code is None, http.to_json()
    assert any(b.is_tls() for b in http.bufs())  # the handshake was on the wire
    http = _fetch(ark, "nrt-jp.example", WWW, url, insecure=True)
    assert http.stop_reason_str == "done" and http.status_code == 200


def test_a_certificate_the_lab_ca_did_not_sign_is_insecure(ark: Lab, tmp_path: Path) -> None:
    """``openssl s_server`` with a self-signed certificate in far.example."""
    cert, key = tmp_path / "self.pem", tmp_path / "self.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=far.example", "-addext", "subjectAltName=DNS:far.example,IP:" + FAR],
        check=True, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        ark.net.in_node("far.example", ["openssl", "s_server", "-accept", "4433", "-cert",
                                        str(cert), "-key", str(key), "-www", "-quiet"]),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"https://{FAR}:4433/"
        for _ in range(50):  # until it listens
            probe = _fetch(ark, "jnb-za.example", FAR, url, insecure=True)
            if probe.stop_reason_str != "noconn":
                break
            time.sleep(0.1)
        assert probe.stop_reason_str == "done" and probe.status_code == 200, probe.to_json()
        http = _fetch(ark, "jnb-za.example", FAR, url)
        assert http.stop_reason_str == "insecure", http.to_json()
    finally:
        server.terminate()
        server.wait(10)


# -- the record ---------------------------------------------------------------------------


def _golden_http() -> dict[str, Any]:
    data = json.loads((GOLDEN / "results.json").read_text())
    return next(o for o in data if o["type"] == "ScamperHttp" and o["properties"]["status_code"])


def _kind(enc: Any) -> str:
    """What sort of value a golden encoding stands for."""
    if isinstance(enc, dict):
        for key in ("timedelta_seconds", "datetime", "ScamperAddr", "dict", "bytes_hex", "list"):
            if key in enc:
                return key
        if "type" in enc and "properties" in enc:
            return enc["type"]
        if "ScamperInst" in enc:
            return "ScamperInst"
    return type(enc).__name__


def _live_kind(value: Any) -> str:
    kinds = {
        timedelta: "timedelta_seconds",
        dt.datetime: "datetime",
        ScamperAddr: "ScamperAddr",
        dict: "dict",
        bytes: "bytes_hex",
        list: "list",
    }
    for cls, name in kinds.items():
        if isinstance(value, cls):
            return name
    if isinstance(value, int) and not isinstance(value, bool):
        return "int"  # enums too: the corpus writes them as their numbers
    return type(value).__name__ if value is not None else "NoneType"


def test_the_record_has_the_golden_records_layout(ark: Lab) -> None:
    """Every property of a real 20260420 ``ScamperHttp`` (and of its buffers), with a
    value of the same kind, None exactly where the real one is None."""
    golden = _golden_http()
    http = _fetch(ark, "ams-nl.example", WWW, "http://www.lab.example/")
    for name, enc in golden["properties"].items():
        if name == "inst":
            continue
        live = getattr(http, name)
        want = _kind(enc)
        got = type(live).__name__ if want.startswith("Scamper") else _live_kind(live)
        assert got == want, (name, want, got)
    gbufs = golden["zero_arg_methods"]["bufs()"]["list"]
    ours = list(http.bufs())
    assert [(b["properties"]["dir_str"], b["properties"]["type_str"]) for b in gbufs] == [
        (b.dir_str, b.type_str) for b in ours
    ]
    tx = ours[0].payload
    assert tx is not None and tx.endswith(b"\r\n\r\n\x00")  # as scamper records it
    # the fields present in the warts record are the real one's (port 80: no dport)
    raw = http._d
    real = {1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17}
    assert raw._wflags == real - {7}, sorted(raw._wflags)
    assert [sorted(b._wflags) for b in raw.bufs] == [[1, 2, 3, 4], [1, 2, 3, 4], [2, 3, 4]]
    # sport as 20260420 stores it: the port's network-order bytes read as a host number
    # (the real one's 6790 is port 34330); the port itself is an ephemeral one
    port = int.from_bytes(http.sport.to_bytes(2, "little"), "big")
    assert 32768 <= port <= 60999, (http.sport, port)


def test_an_audit_counts_the_fetches_packets_and_their_starts_keep_the_vps_rate(
    ark: Lab, tmp_path: Path
) -> None:
    """Fetches asked for at once are paced at the VP's ``-p`` rate, not refused: each pays
    for its six packets before its SYN, so no second starts more fetches than the rate
    allows, and the audit's capture in the VP's namespace counts their segments as ``http``.
    (The kernel ACKs what arrives when it arrives: a network that delivers in bursts, as
    the userspace delay holder on a loaded machine does, makes those ACKs bursty, and
    no sender can pace them; so the audit's per-second peak is not what is checked.)"""
    from scamperlab.audit import audit

    vp = "fra-de.example"
    rate = PLAN.topology.vp_rate(next(v for v in PLAN.topology.vps if v.name == vp))
    count = 30  # six packets each at least (SYN, ACK, request, ACK, FIN, last ACK)
    policy = tmp_path / "policy.yaml"
    policy.write_text("max_rate: budget\n")
    with (
        audit(ark, policy=policy, out_dir=tmp_path / "audit", draw=False) as session,
        ScamperCtrl(mux=str(ark.mux_path)) as ctrl,
    ):
        inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp])[0]
        start = time.monotonic()
        for _ in range(count):
            ctrl.do_http(WWW, "http://www.lab.example/", inst=inst)
        results = list(ctrl.responses(timeout=timedelta(seconds=60)))
        elapsed = time.monotonic() - start
        assert not list(ctrl.exceptions())
        inst.done()
    assert len(results) == count and all(r.status_code == 200 for r in results)
    per_second = rate // 6  # whole bursts of six a second: 16 at 100 packets a second
    assert (count - 1) / per_second <= elapsed, elapsed
    report = session.report
    assert report is not None
    traffic = report.vps[vp]
    packets = traffic.by_measurement["http"].packets
    assert count * 5 <= packets <= count * 8, packets
    syns = sorted(p.time for p in traffic.packets if p.tcp_flags == "S")
    assert len(syns) == count
    # the SYNs leave in their slots, 1/16 s apart, or later (a busy loop wakes late)
    assert syns[-1] - syns[0] >= (count - 1) / per_second - 0.05, syns
    most = max(sum(1 for t in syns if s <= t < s + 1.0) for s in syns)
    assert most <= per_second + 3, (most, syns)  # late wake-ups bunch a few, never all
    assert traffic.mean_pps <= rate, traffic.mean_pps
