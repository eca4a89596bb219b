"""Target services against real servers: NSD, Unbound, nginx and the UDP responder.

Everything is measured from inside a VP's namespace, with ordinary clients
(``dig``, ``curl``, a UDP socket) and with the VP's real scamper through the
mux, so what is checked is what a measurement script would see: its own
/etc/resolv.conf, a resolver that walks the lab's delegations from the lab's
root, web servers whose certificates the lab's CA signed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.emulation.netns import default_ca_file
from scamperlab.errors import LabStartError
from scamperlab.lab import Lab
from scamperlab.lab.state import process_starttime
from scamperlab.scamper import ScamperCtrl, ScamperInstError
from tests.integration.conftest import ROOT
from tests.integration.leftovers import Snapshot, host_mounts, now_ticks, root_links

DNS_YAML = ROOT / "topologies" / "dns.yaml"
NAMESERVERS = {
    "ns1.lab.example": ("203.0.113.80", "2001:db8:80::80"),
    "ns2.lab.example": ("192.0.2.53", "2001:db8:2::53"),
}
VPS = ("ams-nl.example", "bos-us.example", "hnd-jp.example")


@pytest.fixture(scope="module")
def dns_lab(state_dir: Path) -> Iterator[Lab]:
    with Lab.from_file(DNS_YAML, name="svc", state_dir=state_dir) as lab:
        yield lab


def dig(lab: Lab, vp: str, *args: str) -> list[str]:
    done = lab.run_in(vp, ["dig", "+short", "+time=3", "+tries=2", *args])
    assert done.returncode == 0, done.stderr + done.stdout
    return sorted(line.strip() for line in done.stdout.splitlines() if line.strip())


def dig_full(lab: Lab, vp: str, *args: str) -> str:
    done = lab.run_in(vp, ["dig", "+time=3", "+tries=2", *args])
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def flat(answer: str) -> list[str]:
    """dig's lines with their tabs and spaces made single spaces."""
    return [" ".join(line.split()) for line in answer.splitlines()]


def test_each_vp_sees_its_own_resolv_conf(dns_lab: Lab) -> None:
    host_before = Path("/etc/resolv.conf").read_text()
    expected = {
        "ams-nl.example": "198.51.100.53",
        "bos-us.example": "198.51.100.53",
        "hnd-jp.example": "198.51.100.54",
    }
    for vp, resolver in expected.items():
        text = dns_lab.run_in(vp, ["cat", "/etc/resolv.conf"]).stdout
        servers = [line.split()[1] for line in text.splitlines() if line.startswith("nameserver")]
        assert servers[0] == resolver, text
        # The VP's scamper (which chroots once started) lives in that mount namespace.
        pid = dns_lab.vp_pid(vp)
        assert pid is not None
        shell = dns_lab.net.pid(vp)
        assert os.stat(f"/proc/{pid}/ns/mnt").st_ino == os.stat(f"/proc/{shell}/ns/mnt").st_ino
        assert Path(f"/proc/{shell}/root/etc/resolv.conf").read_text() == text
    assert Path("/etc/resolv.conf").read_text() == host_before


def test_ns_lookup_through_the_default_resolver(dns_lab: Lab) -> None:
    for vp in VPS:
        answer = dig_full(dns_lab, vp, "NS", "lab.example.")
        assert "status: NOERROR" in answer and " ra" in answer, answer
        assert dig(dns_lab, vp, "NS", "lab.example.") == sorted(f"{n}." for n in NAMESERVERS)
        for name, (v4, v6) in NAMESERVERS.items():
            assert dig(dns_lab, vp, "A", name) == [v4]
            assert dig(dns_lab, vp, "AAAA", name) == [v6]
            for addr in (v4, v6):
                ping = dns_lab.run_in(vp, ["ping", "-c", "1", "-W", "5", addr])
                assert ping.returncode == 0, ping.stdout
    assert dig(dns_lab, VPS[0], "TXT", "lab.example.") == ['"scamperlab dns lab" "v=1"']
    assert dig(dns_lab, VPS[0], "CNAME", "alias.lab.example.") == ["www.lab.example."]
    assert dig(dns_lab, VPS[0], "SOA", "cdn.example.")[0].startswith("ns.cdn.example. ")
    nx = dig_full(dns_lab, VPS[0], "A", "nowhere.example.")
    assert "status: NXDOMAIN" in nx


def test_the_delegations_are_real(dns_lab: Lab) -> None:
    """Root and TLD refer (no AA, NS in authority); only the leaf servers answer."""
    vp = VPS[1]
    root = dig_full(dns_lab, vp, "+norec", "@198.51.100.1", "A", "www.lab.example.")
    assert "flags: qr;" in root and "example. 300 IN NS a.nic.example." in flat(root), root
    tld = dig_full(dns_lab, vp, "+norec", "@198.51.100.2", "A", "www.lab.example.")
    assert " aa" not in tld.split("flags:")[1].split(";")[0], tld
    assert "ns1.lab.example." in tld and "192.0.2.53" in tld  # referral with glue
    for server in ("203.0.113.80", "192.0.2.53"):
        leaf = dig_full(dns_lab, vp, "+norec", f"@{server}", "A", "www.lab.example.")
        assert " aa" in leaf.split("flags:")[1].split(";")[0], leaf
        assert "203.0.113.80" in leaf


def test_scamper_uses_the_vp_resolver(dns_lab: Lab) -> None:
    """The VP's real scamper asks its default resolver; NS where its version can."""
    resolvers = {"ams-nl.example": "198.51.100.53", "hnd-jp.example": "198.51.100.54"}
    with ScamperCtrl(mux=str(dns_lab.mux_path)) as ctrl:
        by_name = {vp.name: vp for vp in ctrl.vps()}
        for vp_name, resolver in resolvers.items():
            inst = ctrl.add_vps(by_name[vp_name])[0]
            try:
                ns = ctrl.do_dns("lab.example", qtype="NS", inst=inst, sync=True)
            except ScamperInstError as exc:
                # Debian's 20211212 queries A, AAAA, MX and PTR only.
                assert dns_lab.install is not None and dns_lab.install.version == "20211212", exc
            else:
                assert sorted(ns.ans_nses()) == sorted(NAMESERVERS)
            addresses = {}
            for name in NAMESERVERS:
                for qtype in ("A", "AAAA"):
                    ctrl.do_dns(name, qtype=qtype, inst=inst)
            for host in ctrl.responses(timeout=timedelta(seconds=20)):
                assert str(host.dst) == resolver, "not the VP's default resolver"
                assert host.rcode == "NoError"
                addresses.update({str(a): host.qname for a in host.ans_addrs()})
            assert sorted(addresses) == sorted(a for pair in NAMESERVERS.values() for a in pair)
            for addr in addresses:
                ctrl.do_ping(addr, attempts=2, inst=inst)
            replies = {str(p.dst): p.min_rtt for p in ctrl.responses(timeout=timedelta(seconds=20))}
            assert sorted(replies) == sorted(addresses)
            assert all(rtt is not None for rtt in replies.values()), replies
            mx = ctrl.do_dns("lab.example", qtype="MX", inst=inst, sync=True)
            assert [m.exch for m in mx.ans_mxes()] == ["mail.lab.example"]
            inst.done()


def test_http_and_https_answer_with_the_lab_ca(dns_lab: Lab) -> None:
    assert dns_lab.services is not None and dns_lab.services.ca_path is not None
    ca = dns_lab.services.ca_path
    assert ca.is_relative_to(dns_lab.state.dir) and ca.exists()
    vp = VPS[0]
    for family in ("-4", "-6"):
        plain = dns_lab.run_in(vp, ["curl", "-sS", family, "http://www.lab.example/"])
        assert plain.stdout == "scamperlab http server on web-eu\n", plain.stderr
        tls = dns_lab.run_in(
            vp, ["curl", "-sS", family, "--cacert", str(ca), "https://www.lab.example/"]
        )
        assert tls.stdout == "hello over TLS from web-eu\n", tls.stderr
    cdn = dns_lab.run_in(vp, ["curl", "-sS", "http://edge.cdn.example:8080/"])
    assert cdn.stdout == "cdn edge\n", cdn.stderr
    missing = dns_lab.run_in(
        vp, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://www.lab.example/x"]
    )
    assert missing.stdout == "404"
    # Every node trusts the lab CA by default (its own mount namespace's CA bundle), the
    # host does not: its bundle is untouched.
    trusted = dns_lab.run_in(vp, ["curl", "-sS", "https://www.lab.example/"])
    assert trusted.stdout == "hello over TLS from web-eu\n", trusted.stderr
    host_bundle = default_ca_file()
    assert host_bundle is not None
    assert ca.read_text().strip() not in Path(host_bundle).read_text()
    assert ca.read_text().strip() in dns_lab.services.trust_bundle_path.read_text()


UDP_CLIENT = """
import socket, sys
addr, port, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((addr, port))
s.send(payload)
print(s.recv(1000).decode(), end="")
"""


@pytest.mark.parametrize(
    ("addr", "port", "expected"),
    [
        ("192.0.2.53", "7", "probe"),
        ("2001:db8:2::53", "7", "probe"),
        ("192.0.2.53", "6869", "scamperlab udp reply\n"),
    ],
)
def test_udp_responders_answer(dns_lab: Lab, addr: str, port: str, expected: str) -> None:
    done = dns_lab.run_in(VPS[2], [sys.executable, "-c", UDP_CLIENT, addr, port, "probe"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_servers_are_tracked_processes_in_targets(dns_lab: Lab) -> None:
    tracked = {(p.kind, p.name) for p in dns_lab.state.processes.values()}
    for entry in [
        ("nsd", "root"),
        ("nsd", "tld"),
        ("nsd", "web-eu"),
        ("nsd", "ns-ap"),
        ("nsd", "cdn-us"),
        ("unbound", "resolver-eu"),
        ("unbound", "resolver-ap"),
        ("nginx", "web-eu"),
        ("nginx", "cdn-us"),
        ("udp-echo", "ns-ap"),
    ]:
        assert entry in tracked
    targets = dns_lab.net.namespace_ids()
    for proc in dns_lab.state.processes.values():
        if proc.kind in ("nsd", "unbound", "nginx", "udp-echo"):
            assert os.stat(f"/proc/{proc.pid}/ns/net").st_ino == targets[proc.name]


def test_down_leaves_nothing(state_dir: Path) -> None:
    links, mounts = root_links(), host_mounts()
    lab = Lab.from_file(DNS_YAML, name="svcgone", state_dir=state_dir)
    lab.start()
    snap = Snapshot(
        namespaces=set(lab.net.namespace_ids().values()),
        processes={p.pid: p.starttime for p in lab.state.processes.values()},
        state_dir=lab.state.dir,
        links_before=links,
        mounts_before=mounts,
    )
    assert any(p.kind == "nginx" for p in lab.state.processes.values())
    lab.stop()
    snap.assert_gone()


def test_a_server_that_fails_names_itself_and_its_log(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "nginx"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'nginx: [emerg] cannot load certificate' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    links, mounts = root_links(), host_mounts()
    lab = Lab.from_file(DNS_YAML, name="svcfail", state_dir=state_dir)
    with pytest.raises(LabStartError) as info:
        lab.start()
    message = str(info.value)
    assert "http and https service on web-eu (nginx)" in message
    assert "cannot load certificate" in message and "error.log" in message
    assert not lab.running
    Snapshot(set(), {}, state_dir / "svcfail", links, mounts).assert_gone()


def test_a_crashed_lab_servers_are_killed_by_the_next_down(state_dir: Path) -> None:
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    cli = [sys.executable, "-m", "scamperlab.cli"]
    up = subprocess.run(
        [*cli, "up", str(DNS_YAML), "--name", "svccrash"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert up.returncode == 0, up.stderr
    state = json.loads((state_dir / "svccrash" / "state.json").read_text())
    servers = {
        p["pid"]: p["starttime"]
        for p in state["processes"]
        if p["kind"] in ("nsd", "unbound", "nginx", "udp-echo")
    }
    shells = [p["pid"] for p in state["processes"] if p["kind"] == "shell"]
    namespaces = {os.stat(f"/proc/{pid}/ns/net").st_ino for pid in shells}
    taken = now_ticks()
    assert len(servers) == 11  # five nsd, two unbound, two nginx, two udp-echo
    os.kill(state["owner_pid"], signal.SIGKILL)
    down = subprocess.run(
        [*cli, "down", "svccrash"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert down.returncode == 0, down.stderr
    assert all(process_starttime(pid) != start for pid, start in servers.items())
    Snapshot(namespaces, servers, state_dir / "svccrash", root_links(), taken=taken).assert_gone()
