"""Target services in topology files: validation, the DNS tree a lab serves, configs.

No root needed: zones are generated from the plan and checked with NSD's own
``nsd-checkzone``; the UDP responder runs on loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scamperlab.emulation.services import dns, http, udp
from scamperlab.errors import TopologyError
from scamperlab.topology import load_topology, parse_topology
from scamperlab.topology.plan import make_plan
from scamperlab.topology.services import Https, parse_record

ROOT = Path(__file__).resolve().parents[2]
DNS_YAML = ROOT / "topologies" / "dns.yaml"
ARK_MINI = ROOT / "topologies" / "ark-mini.yaml"

BASE = """\
name: s
routers:
  - name: r1
  - name: r2
links:
  - {ends: [r1, r2], delay: 10ms}
vps:
  - name: vp1.example
    uplink: {router: r1}
  - name: vp2.example
    uplink: {router: r2}
zones:
  - name: "."
  - name: lab.example.
    records:
      - www A 192.0.2.80
      - '@ TXT "hello world"'
targets:
  - name: ns
    ipv4: 192.0.2.53
    uplink: {router: r1}
    services:
      - {kind: dns-authoritative, hostname: ns.lab.example., zones: [".", lab.example.]}
      - {kind: http, port: 8080}
  - name: res
    ipv4: 192.0.2.54
    uplink: {router: r2}
    services:
      - {kind: dns-resolver}
"""


def error_for(text: str) -> TopologyError:
    with pytest.raises(TopologyError) as info:
        parse_topology(text, "lab.yaml")
    return info.value


def test_base_is_valid() -> None:
    topo = parse_topology(BASE, "lab.yaml")
    assert [s.kind for s in topo.targets[0].services] == ["dns-authoritative", "http"]
    assert topo.zones[1].name == "lab.example."


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        (
            "{kind: http, port: 8080}",
            "{kind: htp}",
            24,
            "targets[0].services[1]",
            "unknown service kind 'htp'",
        ),
        (
            "{kind: http, port: 8080}",
            "{port: 8080}",
            24,
            "targets[0].services[1]",
            "needs a 'kind'",
        ),
        (
            "{kind: http, port: 8080}",
            "{kind: http, port: 99999}",
            24,
            "targets[0].services[1].port",
            "less than or equal",
        ),
        (
            "{kind: http, port: 8080}",
            "{kind: http, prot: 80}",
            24,
            "targets[0].services[1].prot",
            "unknown field",
        ),
        ("www A 192.0.2.80", "www A 10.1.2.3", 16, "zones[1].records[0]", "outside the lab ranges"),
        ("www A 192.0.2.80", "www NS ns", 16, "zones[1].records[0]", "derived"),
        ("www A 192.0.2.80", "www A", 16, "zones[1].records[0]", "OWNER"),
        ("www A 192.0.2.80", "www LOC 1 2 3", 16, "zones[1].records[0]", "not supported"),
        (
            "www A 192.0.2.80",
            "www.other. A 192.0.2.80",
            16,
            "zones[1].records[0]",
            "not in zone lab.example.",
        ),
        ("www A 192.0.2.80", "ns A 192.0.2.80", 16, "zones[1].records[0]", "added automatically"),
        ("www A 192.0.2.80", "b..d A 192.0.2.80", 16, "zones[1].records[0]", "not a domain name"),
        (
            'zones: [".", lab.example.]',
            "zones: [lab.example.]",
            13,
            "zones[0].name",
            "no dns-authoritative service serves .",
        ),
        (
            'zones: [".", lab.example.]',
            'zones: [".", lab.example., other.]',
            23,
            "targets[0].services[0].zones[2]",
            "no zone other.",
        ),
        (
            "{kind: http, port: 8080}",
            "{kind: dns-resolver}",
            24,
            "targets[0].services[1]",
            "UDP port 53",
        ),
    ],
)
def test_errors_name_file_line_and_field(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    assert old in BASE
    err = error_for(BASE.replace(old, new, 1))
    assert err.path == "lab.yaml"
    assert (err.line, err.field) == (line, field), str(err)
    assert words in err.message, err.message


def test_a_resolver_needs_a_root_zone() -> None:
    text = BASE.replace('  - name: "."\n', "").replace('[".", lab.example.]', "[lab.example.]")
    err = error_for(text)
    assert (err.line, err.field) == (12, "zones"), str(err)
    assert "res runs a dns-resolver" in err.message and "root zone" in err.message


@pytest.mark.parametrize(
    "text",
    [
        "www A 192.0.2.1",
        "@ 60 IN AAAA 2001:db8::1",
        'x TXT "a b" c',
        "m MX 10 mail.",
        "_s._udp SRV 0 1 53 ns",
    ],
)
def test_records_in_zone_file_syntax(text: str) -> None:
    record = parse_record(text)
    assert record.text == text


def test_library_topologies_load() -> None:
    for path in (DNS_YAML, ARK_MINI):
        topo = load_topology(path)
        assert any(t.services for t in topo.targets), path
        assert "." in [z.name for z in topo.zones], path


def test_zones_carry_soa_delegations_and_glue() -> None:
    plan = make_plan(load_topology(DNS_YAML))
    zones = {z.name: dns.zone_text(plan, z) for z in plan.topology.zones}
    root, tld, lab = zones["."], zones["example."], zones["lab.example."]
    assert ". IN SOA a.root-servers.example. hostmaster. 1" in root
    assert ". IN NS a.root-servers.example." in root
    assert "example. IN NS a.nic.example." in root
    assert "a.nic.example. IN A 198.51.100.2" in root  # glue below the cut
    assert "lab.example. IN NS ns1.lab.example." in tld
    assert "lab.example. IN NS ns2.lab.example." in tld
    assert "cdn.example. IN NS ns.cdn.example." in tld
    assert "ns2.lab.example. IN A 192.0.2.53" in tld  # glue
    assert "ns2.lab.example. IN AAAA 2001:db8:2::53" in tld
    assert "lab.example. IN SOA ns1.lab.example. hostmaster.lab.example. 1" in lab
    assert "$TTL 60" in lab
    assert 'lab.example. IN TXT "scamperlab dns lab" "v=1"' in lab
    assert "alias.lab.example. IN CNAME www.lab.example." in lab
    assert "_http._tcp.lab.example. IN SRV 0 0 80 www.lab.example." in lab
    assert "a.root-servers.example. IN NS" not in tld


def test_nsd_accepts_every_generated_zone(tmp_path: Path) -> None:
    checkzone = shutil.which("nsd-checkzone") or shutil.which(
        "nsd-checkzone", path="/usr/sbin:/sbin"
    )
    if checkzone is None:
        if os.environ.get("SCAMPERLAB_REQUIRE_LAB") == "1":
            pytest.fail("nsd-checkzone missing (ci/install.sh installs nsd)")
        pytest.skip("needs nsd-checkzone")
    for path in (DNS_YAML, ARK_MINI):
        plan = make_plan(load_topology(path))
        for zone in plan.topology.zones:
            file = tmp_path / dns.zone_file_name(zone.name)
            file.write_text(dns.zone_text(plan, zone))
            done = subprocess.run([checkzone, zone.name, str(file)], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr + done.stdout


def test_root_hints_name_only_lab_servers() -> None:
    hints = dns.root_hints(make_plan(load_topology(DNS_YAML)))
    assert ". 3600000 IN NS a.root-servers.example." in hints
    assert "a.root-servers.example. 3600000 IN A 198.51.100.1" in hints
    assert hints.count(" IN NS ") == 1


def test_each_node_uses_its_nearest_resolver() -> None:
    chosen = dns.resolver_of(make_plan(load_topology(DNS_YAML)))
    names = {node: (res.name if res else None) for node, res in chosen.items()}
    assert names["ams-nl.example"] == "resolver-eu"
    assert names["hnd-jp.example"] == "resolver-ap"
    assert names["bos-us.example"] == "resolver-eu"  # 35 ms to Europe, 55 ms to Asia
    assert names["root"] == "resolver-eu"


def test_resolv_conf_never_points_outside_the_lab() -> None:
    plan = make_plan(load_topology(DNS_YAML))
    res = plan.nodes["resolver-eu"]
    text = dns.resolv_conf("dns", res)
    assert [line.split()[1] for line in text.splitlines() if line.startswith("nameserver")] == [
        "198.51.100.53",
        "2001:db8:53::53",
    ]
    none = dns.resolv_conf("x", None)
    assert [line for line in none.splitlines() if line.startswith("nameserver")] == [
        "nameserver 127.0.0.1"
    ]


def test_https_certificate_names_point_at_the_target() -> None:
    plan = make_plan(load_topology(DNS_YAML))
    node = plan.nodes["web-eu"]
    service = next(s for s in plan.topology.targets[2].services if isinstance(s, Https))
    assert http.names_for(plan, node, service) == [
        "mail.lab.example",
        "www.lab.example",
    ]


def test_configs_keep_every_file_in_the_state_dir(tmp_path: Path) -> None:
    plan = make_plan(load_topology(DNS_YAML))
    node = plan.nodes["resolver-eu"]
    conf = dns.unbound_conf(node, tmp_path, tmp_path / "root.hints", tmp_path / "u.log")
    assert "interface: 198.51.100.53" in conf and 'module-config: "iterator"' in conf
    paths = [w.strip('"') for w in conf.split() if w.strip('"').startswith("/")]
    assert paths and all(p.startswith(str(tmp_path)) for p in paths), paths
    web = plan.nodes["web-eu"]
    services = [s for s in plan.topology.targets[2].services if s.kind in ("http", "https")]
    cert = (tmp_path / "c.pem", tmp_path / "k.pem")
    nginx = http.nginx_conf(web, services, tmp_path, cert, tmp_path / "e.log")  # type: ignore[arg-type]
    assert "listen 203.0.113.80:443 ssl;" in nginx and "listen [2001:db8:80::80]:80;" in nginx
    assert (tmp_path / "https-443" / "index.txt").read_text() == "hello over TLS from web-eu\n"
    paths = [w.rstrip(";") for w in nginx.split() if w.startswith("/")]
    assert all(p.startswith(str(tmp_path)) for p in paths), paths


def _start_responder(*args: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, udp.__file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert b"listening" in proc.stdout.readline()
    return proc


@pytest.mark.parametrize(("reply", "expected"), [(None, b"probe-1"), ("pong", b"pong")])
def test_udp_responder_echoes_or_replies(reply: str | None, expected: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    args = ["--port", str(free), "127.0.0.1"] + (["--reply", reply] if reply else [])
    proc = _start_responder(*args)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            client.connect(("127.0.0.1", free))
            start = time.monotonic()
            client.send(b"probe-1")
            assert client.recv(100) == expected
            assert time.monotonic() - start < 5
    finally:
        proc.terminate()
        proc.wait(5)
