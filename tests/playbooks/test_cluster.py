"""``scamperlab cluster up|status|down``: one lab over three lab hosts and a controller host.

Each host is a booted Debian container (real systemd, real sshd) in a host
of an outer lab (``cluster-lab.yaml``), so the lab hosts' VXLAN tunnels to
the controller host cross a real (emulated) network between real kernels'
namespaces, and everything on a host is put there by ``playbooks/cluster.yml``
over SSH, as on real machines. The lab itself has 300 VPs, 100 per lab host.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from scamperlab.topology.cluster import ClusterFile, ClusterPlan, make_cluster_plan
from scamperlab.topology.loader import parse_topology
from tests.playbooks.conftest import BIN, HERE, Site, booted, build_wheelhouse, recap, ssh_vars

pytestmark = [pytest.mark.root, pytest.mark.slow]

#: outer-lab target -> inventory host (the cluster's host names)
HOSTS = {"ctl": "controller", "h1": "h1", "h2": "h2", "h3": "h3"}
ADDRESS = {
    "ctl": "198.51.100.20",
    "h1": "198.51.100.31",
    "h2": "198.51.100.32",
    "h3": "198.51.100.33",
}
LAB_HOSTS = ("h1", "h2", "h3")
VPS_PER_HOST = 100
LAB = "clu3"
MUX = f"/run/scamperlab/{LAB}/mux"
TARGET = "203.0.113.10"
DELAY_MS = 5.0
PYTHON = "/opt/scamperlab/venv/bin/python"


def topology() -> dict[str, Any]:
    """Two routers 5 ms apart, 300 VPs on one side, a target on the other."""
    return {
        "name": LAB,
        "routers": [{"name": "core"}, {"name": "edge"}],
        "vps": [
            {"name": f"vp{i:03d}.test", "cc": "nz", "uplink": {"router": "core"}}
            for i in range(len(LAB_HOSTS) * VPS_PER_HOST)
        ],
        "targets": [{"name": "www", "ipv4": TARGET, "uplink": {"router": "edge"}}],
        "links": [{"ends": ["core", "edge"], "delay": f"{DELAY_MS:g}ms"}],
    }


def write_inventory(site: Site) -> None:
    inventory = {
        "all": {
            "vars": ssh_vars(site.key, site.tmp / "known_hosts")
            | {"scamperlab_host_wheelhouse": str(site.tmp / "wheelhouse")},
            "children": {
                "scamperlab_controller": {
                    "hosts": {"controller": {"ansible_host": ADDRESS["ctl"]}}
                },
                "scamperlab_hosts": {"hosts": {h: {"ansible_host": ADDRESS[h]} for h in LAB_HOSTS}},
            },
        }
    }
    site.inventory.write_text(yaml.safe_dump(inventory, sort_keys=False))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Site]:
    with booted(HERE / "cluster-lab.yaml", "clusterfleet", ADDRESS, set(ADDRESS)) as site:
        write_inventory(site)
        (site.tmp / "topology.yaml").write_text(yaml.safe_dump(topology(), sort_keys=False))
        build_wheelhouse(site.tmp, site.timings)
        yield site


def scamperlab_cluster(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    """``scamperlab cluster ...`` from the ops namespace, where Ansible reaches the hosts."""
    return subprocess.run(
        site.in_ops([str(BIN / "scamperlab"), "cluster", *args]),
        env=site.ansible_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def cluster_up(site: Site) -> subprocess.CompletedProcess[str]:
    """The first ``cluster up``, made once, whichever test asks for it first."""
    if site.first_run is None:
        t0 = time.monotonic()
        site.first_run = scamperlab_cluster(
            site, "up", str(site.inventory), str(site.tmp / "topology.yaml")
        )
        site.timings["cluster up"] = time.monotonic() - t0
    return site.first_run


@pytest.fixture
def up(cluster: Site) -> Site:
    if cluster_up(cluster).returncode != 0:
        pytest.fail("the first cluster up failed (see test_cluster_up)")
    return cluster


def on_controller(site: Site, script: str, *args: str) -> Any:
    """One of ``scripts/`` run on the controller host with its scamperlab; its JSON."""
    done = site.ssh(
        "ctl", f"sudo {PYTHON} - {' '.join(args)}", stdin=(HERE / "scripts" / script).read_text()
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def wait_for_vps(site: Site, count: int, timeout: float = 120) -> dict[str, Any]:
    """The mux's VPs by name, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        vps = {vp["name"]: vp for vp in on_controller(site, "list_vps.py", MUX)}
        if len(vps) == count or time.monotonic() > deadline:
            return vps
        time.sleep(2)


def cluster_plan() -> ClusterPlan:
    """The plan every host computes from the topology and the inventory's cluster file."""
    hosts = {h: {"address": ADDRESS[h]} for h in LAB_HOSTS}
    return make_cluster_plan(
        parse_topology(yaml.safe_dump(topology())),
        ClusterFile.model_validate({"controller": ADDRESS["ctl"], "hosts": hosts}),
    )


def test_cluster_up(cluster: Site) -> None:
    done = cluster_up(cluster)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    counts = recap(done.stdout)
    assert set(counts) == set(HOSTS.values())
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values())


def test_every_vp_is_on_the_one_mux_at_its_own_address(up: Site) -> None:
    plan = cluster_plan()
    vps = wait_for_vps(up, len(LAB_HOSTS) * VPS_PER_HOST)
    assert set(vps) == {vp["name"] for vp in topology()["vps"]}
    for name, vp in vps.items():
        assert vp["ipv4"] == str(plan.lab.nodes[name].ipv4), name
        assert ipaddress.ip_address(vp["ipv4"]) in ipaddress.ip_network("198.18.0.0/15")
        assert vp["cc"] == "NZ"


def test_a_ping_from_every_vp_gets_the_configured_rtt(up: Site) -> None:
    wait_for_vps(up, len(LAB_HOSTS) * VPS_PER_HOST)
    results = on_controller(up, "ping_all.py", MUX, TARGET)
    assert len(results) == len(LAB_HOSTS) * VPS_PER_HOST
    for vp, (replies, rtt, dst) in results.items():
        assert dst == TARGET and replies >= 1, vp
        # two crossings of the 5 ms link; the rest is the shared machine's scheduling
        assert 2 * DELAY_MS <= rtt < 2 * DELAY_MS + 40, (vp, rtt)


def test_status_shows_each_host_and_its_vps(up: Site) -> None:
    wait_for_vps(up, len(LAB_HOSTS) * VPS_PER_HOST)
    done = scamperlab_cluster(up, "status", str(up.inventory))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Encrypted: the default, with every host's TLS files made by the playbook.
    assert "TLS (stunnel)" in done.stdout, done.stdout
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in done.stdout.splitlines()]
    hosts = {row[0]: row for row in rows if len(row) == 4}
    for host in LAB_HOSTS:
        up_ = f"{VPS_PER_HOST}/{VPS_PER_HOST}"
        assert hosts[host] == [host, ADDRESS[host], up_, "answers"], done.stdout


def test_a_killed_lab_host_takes_only_its_vps_away_and_brings_them_back(up: Site) -> None:
    everyone = wait_for_vps(up, len(LAB_HOSTS) * VPS_PER_HOST)
    mine = _host_vps(up, "h2")
    assert mine == set(cluster_plan().hosts["h2"].vps)
    assert len(mine) == VPS_PER_HOST
    # The shard crashes: its scamperlab and every process it started die at once.
    crash = up.ssh(
        "h2", f"sudo {PYTHON} - {LAB}", stdin=(HERE / "scripts" / "crash_lab.py").read_text()
    )
    assert crash.returncode == 0, crash.stderr
    assert int(crash.stdout) > VPS_PER_HOST, crash.stdout
    kept = wait_for_vps(up, len(everyone) - VPS_PER_HOST)
    assert set(kept) == set(everyone) - mine
    results = on_controller(up, "ping_all.py", MUX, TARGET)
    assert set(results) == set(kept)
    assert all(replies >= 1 for replies, _, _ in results.values())
    restart = up.ssh("h2", "sudo systemctl restart scamperlab-cluster.service", timeout=300)
    if restart.returncode != 0:
        journal = up.ssh("h2", "sudo journalctl -o cat -n 60 -u scamperlab-cluster.service")
        raise AssertionError(f"{restart.stderr}\n{journal.stdout}")
    assert set(wait_for_vps(up, len(everyone))) == set(everyone)


def _host_vps(site: Site, host: str) -> set[str]:
    """The VPs lab host ``host`` runs, from its own ``scamperlab status``."""
    done = site.ssh(host, f"sudo scamperlab status --json {LAB}")
    assert done.returncode == 0, done.stderr
    (lab,) = json.loads(done.stdout)
    return {vp["name"] for vp in lab["vps"]}


def test_second_run_changes_nothing(up: Site) -> None:
    done = scamperlab_cluster(up, "up", str(up.inventory), str(up.tmp / "topology.yaml"))
    assert done.returncode == 0, done.stdout[-6000:]
    changed = {h: c["changed"] for h, c in recap(done.stdout).items() if c["changed"]}
    assert changed == {}, done.stdout[-8000:]


def test_cluster_down_leaves_nothing_on_any_host(up: Site) -> None:
    done = scamperlab_cluster(up, "down", str(up.inventory))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    for node, container in up.fleet.containers.items():
        left = container.exec(["pgrep", "-l", "scamper|sc_remoted|mnexec|delayd|stunnel"])
        assert left.stdout == "", (node, left.stdout)
        links = container.exec(["ip", "-br", "link"]).stdout.splitlines()
        assert {line.split()[0].split("@")[0] for line in links} == {"lo", "eth0"}, node
        leftover = container.exec(
            [
                "ls",
                "-d",
                "/etc/scamperlab/cluster",
                "/etc/systemd/system/scamperlab-cluster.service",
                f"/run/scamperlab/{LAB}",
            ]
        )
        assert leftover.stdout == "", (node, leftover.stdout)
        udp = container.exec(["ss", "-Hlun"]).stdout
        assert ":4789" not in udp, (node, udp)
