"""playbooks/site.yml against real Debian hosts: one controller and two Raspberry Pi-like VPs.

Each host is a booted systemd-nspawn container with sshd, in a lab namespace
(see conftest.py and containers.py); Ansible runs from the ops namespace over
SSH. Tests share the site, provisioned once by whichever test needs it first
(``provisioned``), so any of them can run alone.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import threading
import time

import pytest

import scamperlab
from tests.playbooks.conftest import ADDRESS, MUX, ROOT, TARGET, Site, recap

pytestmark = [pytest.mark.root, pytest.mark.slow]
TOPOLOGY = ROOT / "topologies" / "ark-mini.yaml"
LIST_VPS = ROOT / "examples" / "list_vps.py"
LAB_NETS = [
    ipaddress.ip_network(n)
    for n in ("198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]


def test_containers_reach_only_the_lab(site: Site) -> None:
    for name, container in site.fleet.containers.items():
        routes = json.loads(container.exec(["ip", "-j", "-4", "route"]).stdout)
        for route in routes:
            dst = route["dst"]
            if dst == "default":
                assert ipaddress.ip_address(route["gateway"]) in ipaddress.ip_network(
                    "198.18.0.0/15"
                ), f"{name}: default route out of the lab: {route}"
            else:
                net = ipaddress.ip_network(dst, strict=False)
                assert any(net.subnet_of(lab) for lab in LAB_NETS), f"{name}: route {route}"
        links = json.loads(container.exec(["ip", "-j", "link"]).stdout)
        assert {link["ifname"] for link in links} <= {"lo", "eth0"}, f"{name}: {links}"


def test_first_run_provisions(site: Site) -> None:
    done = site.provision()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    counts = recap(done.stdout)
    assert set(counts) >= {"controller", "pi1.example", "pi2.example"}
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values())


def _wait_for_vps(site: Site, names: set[str], timeout: float = 90) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        vps = site.api("list_vps.py", MUX)
        if {vp["name"] for vp in vps} >= names or time.monotonic() > deadline:
            return vps  # type: ignore[no-any-return]
        time.sleep(1)


def test_mux_lists_both_vps_with_the_inventorys_metadata(provisioned: Site) -> None:
    vps = {vp["name"]: vp for vp in _wait_for_vps(provisioned, {"pi1.example", "pi2.example"})}
    assert set(vps) == {"pi1.example", "pi2.example"}
    assert vps["pi1.example"] == {
        "name": "pi1.example",
        "ipv4": ADDRESS["pi1"],
        "cc": "NZ",
        "st": "WKO",
        "place": "Hamilton",
        "loc": [-37.7875, 175.2784],
        "asn4": 681,
        "iata": "HLZ",
        "tags": ["hw:rpi4", "os:linux"],
    }
    assert vps["pi2.example"]["ipv4"] == ADDRESS["pi2"]
    assert vps["pi2.example"]["place"] == "London"
    assert vps["pi2.example"]["loc"] == [51.5072, -0.1276]
    assert vps["pi2.example"]["tags"] == ["hw:rpi5"]


def test_api_pings_a_lab_target_from_each_vp(provisioned: Site) -> None:
    results = provisioned.api("ping_all.py", MUX, TARGET)
    assert set(results) == {"pi1.example", "pi2.example"}
    for vp, (replies, rtt, dst) in results.items():
        assert dst == TARGET
        assert replies >= 1, f"{vp}: no replies"
        assert rtt is not None and rtt > 0


def test_the_vps_connect_over_tls(provisioned: Site) -> None:
    # sc_remoted itself listens on loopback only; the lab-facing port is stunnel's.
    listening = provisioned.fleet.containers["ctl"].exec(["ss", "-Htln"]).stdout
    assert "127.0.0.1:31336" in listening
    assert "0.0.0.0:31337" in listening
    config = provisioned.fleet.containers["pi1"].exec(["cat", "/etc/scamper/tunnel.conf"]).stdout
    assert "verifyChain = yes" in config and f"checkIP = {ADDRESS['ctl']}" in config
    established = (
        provisioned.fleet.containers["pi1"].exec(["ss", "-Htn", "state", "established"]).stdout
    )
    assert f"{ADDRESS['ctl']}:31337" in established


def test_only_the_mux_group_may_use_the_mux(provisioned: Site) -> None:
    done = provisioned.ssh(
        "ctl",
        'sudo -u nobody python3 -c "import socket; s = socket.socket(socket.AF_UNIX);'
        f" s.connect('{MUX}')\"",
    )
    assert done.returncode != 0 and "PermissionError" in done.stderr, done.stderr


def test_optional_firewall_refuses_new_inbound_connections(provisioned: Site) -> None:
    # Something listening on every address of each Pi, reached from the ops namespace:
    # pi1 (firewall on) refuses it, pi2 (firewall off) accepts it; SSH works on both.
    server = "import socket; s = socket.create_server(('', 8080)); s.accept()"
    listen = f'sudo timeout 20 python3 -c "{server}" >/dev/null 2>&1 &'
    probe = (
        "import socket, sys\n"
        "for host in sys.argv[1:]:\n"
        "    try:\n"
        "        socket.create_connection((host, 8080), timeout=5).close(); print(host, 'open')\n"
        "    except OSError as exc:\n"
        "        print(host, type(exc).__name__)\n"
    )
    for node in ("pi1", "pi2"):
        assert provisioned.ssh(node, listen).returncode == 0
    time.sleep(1)
    done = subprocess.run(
        provisioned.in_ops(["python3", "-c", probe, ADDRESS["pi1"], ADDRESS["pi2"]]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.split("\n")[:2] == [
        f"{ADDRESS['pi1']} ConnectionRefusedError",
        f"{ADDRESS['pi2']} open",
    ], done.stdout + done.stderr


def test_second_run_changes_nothing(provisioned: Site) -> None:
    t0 = time.monotonic()
    done = provisioned.playbook()
    provisioned.timings["second run"] = time.monotonic() - t0
    assert done.returncode == 0, done.stdout[-6000:]
    counts = recap(done.stdout)
    changed = {host: c["changed"] for host, c in counts.items() if c["changed"]}
    assert changed == {}, done.stdout[-8000:]


@pytest.fixture
def lab_host(site: Site) -> Site:
    """The site after cluster.yml's first run on the lab host."""
    if site.provision_lab_hosts().returncode != 0:
        pytest.fail("cluster.yml's first run failed (see test_lab_host_gets_scamperlab)")
    return site


def test_lab_host_gets_scamperlab(site: Site) -> None:
    done = site.provision_lab_hosts()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert recap(done.stdout)["labhost1"]["failed"] == 0
    version = site.ssh("lh1", "scamperlab --version")
    assert version.returncode == 0, version.stderr
    assert scamperlab.__version__ in version.stdout
    freeze = site.ssh("lh1", "/opt/scamperlab/venv/bin/python -m pip freeze").stdout
    assert f"scamperlab=={scamperlab.__version__}" in freeze.splitlines()


def test_a_lab_runs_inside_the_lab_host(lab_host: Site) -> None:
    for local, remote in ((TOPOLOGY, "/tmp/ark-mini.yaml"), (LIST_VPS, "/tmp/list_vps.py")):
        done = lab_host.ssh("lh1", f"cat > {remote}", stdin=local.read_text())
        assert done.returncode == 0, done.stderr
    done = lab_host.ssh(
        "lh1",
        "sudo scamperlab run /tmp/ark-mini.yaml --"
        " /opt/scamperlab/venv/bin/python /tmp/list_vps.py {mux}",
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "14 VPs", done.stdout
    # run returned: nothing of the inner lab is left on the lab host
    left = lab_host.fleet.containers["lh1"].exec(["pgrep", "-l", "scamper|sc_remoted|mnexec"])
    assert left.stdout == "", left.stdout
    links = lab_host.fleet.containers["lh1"].exec(["ip", "-br", "link"]).stdout.split("\n")
    assert {line.split()[0].split("@")[0] for line in links if line} == {"lo", "eth0"}


def test_second_lab_hosts_run_changes_nothing(lab_host: Site) -> None:
    done = lab_host.playbook(playbook="cluster.yml")
    assert done.returncode == 0, done.stdout[-6000:]
    assert recap(done.stdout)["labhost1"]["changed"] == 0, done.stdout[-8000:]


def _main_pid(site: Site, node: str) -> int:
    out = site.ssh(node, "systemctl show -p MainPID --value scamper.service").stdout
    return int(out.strip())


def _sockets(site: Site) -> set[str]:
    return set(site.ssh("ctl", "ls /run/scamper-remoted").stdout.split())


def test_killed_scamper_is_restarted_and_reappears(provisioned: Site) -> None:
    before_pid = _main_pid(provisioned, "pi1")
    before = {s for s in _sockets(provisioned) if s.startswith("pi1.example-")}
    assert len(before) == 1
    assert provisioned.ssh("pi1", f"sudo kill -KILL {before_pid}").returncode == 0
    deadline = time.monotonic() + 60
    while True:
        now = {s for s in _sockets(provisioned) if s.startswith("pi1.example-")}
        if now and now != before:
            break
        assert time.monotonic() < deadline, "pi1 never came back to sc_remoted"
        time.sleep(0.5)
    after_pid = _main_pid(provisioned, "pi1")
    assert after_pid not in (0, before_pid)
    restarts = provisioned.ssh("pi1", "systemctl show -p NRestarts --value scamper.service").stdout
    assert int(restarts) >= 1
    vps = {vp["name"] for vp in _wait_for_vps(provisioned, {"pi1.example", "pi2.example"})}
    assert vps == {"pi1.example", "pi2.example"}
    assert provisioned.api("ping_all.py", MUX, TARGET)["pi1.example"][0] >= 1


# Run on pi2 as root: a VP with a certificate from another CA, tunnelled like the
# real ones, tries to reach the controller; then a TLS client shows the rogue
# certificate and then pi2's own to the controller. Prints only the probes' verdicts.
ROGUE = r"""
set -eu
d=$(mktemp -d)
cd "$d"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
  -out ca.crt -days 1 -subj /CN=rogue-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
  -subj /CN=rogue.example -out req.csr 2>/dev/null
openssl x509 -req -in req.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
  -out cert.pem 2>/dev/null
printf '%s\n' 'foreground = yes' 'pid =' '[rogue]' 'client = yes' \
  'accept = 127.0.0.1:31399' 'connect = CONTROLLER:31337' \
  "cert = $d/cert.pem" "key = $d/key.pem" >s.conf
timeout 12 stunnel4 s.conf >/dev/null 2>&1 &
sleep 1
timeout 8 scamper -R 127.0.0.1:31399 -M rogue.example >/dev/null 2>&1 || true
wait || true
python3 - CONTROLLER "$d/cert.pem" "$d/key.pem" <<'PY'
import socket, ssl, sys

def probe(host, cert, key):
    # "refused": the controller ends the TLS session (alert or close) at once;
    # "open": it keeps the session, waiting for the VP to speak.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.load_cert_chain(cert, key)
    try:
        with ctx.wrap_socket(socket.create_connection((host, 31337), timeout=10)) as tls:
            tls.settimeout(3)
            return "refused" if tls.recv(1) == b"" else "open"
    except TimeoutError:
        return "open"
    except (ssl.SSLError, OSError):
        return "refused"

host, cert, key = sys.argv[1:4]
print("rogue", probe(host, cert, key))
print("own", probe(host, "/etc/scamper/tls/cert.pem", "/etc/scamper/tls/key.pem"))
PY
cd /
rm -rf "$d"
"""


def test_vp_without_the_right_certificate_is_refused(provisioned: Site) -> None:
    attempt = threading.Thread(
        target=lambda: results.append(
            provisioned.ssh("pi2", "sudo sh -s", stdin=ROGUE.replace("CONTROLLER", ADDRESS["ctl"]))
        )
    )
    results: list[subprocess.CompletedProcess[str]] = []
    attempt.start()
    seen: list[str] = []
    # While the rogue tries, it is never on sc_remoted nor on the mux.
    while attempt.is_alive():
        seen += [s for s in _sockets(provisioned) if s.startswith("rogue.example")]
        seen += [vp["name"] for vp in provisioned.api("list_vps.py", MUX)]
    attempt.join()
    (rogue,) = results
    assert rogue.returncode == 0, rogue.stderr
    assert "rogue.example" not in seen
    assert {"pi1.example", "pi2.example"} <= set(seen)  # the mux was looked at, and listed VPs
    # The controller ends the rogue certificate's session and keeps the rightful one's.
    assert rogue.stdout.split("\n")[-3:] == ["rogue refused", "own open", ""], rogue.stdout
    assert not any(s.startswith("rogue.example") for s in _sockets(provisioned))
    # and the rightful VPs were not disturbed
    assert len(provisioned.api("ping_all.py", MUX, TARGET)) == 2


def test_timings(site: Site) -> None:
    print("\nplaybook test timings (s):", {k: round(v, 1) for k, v in site.timings.items()})
