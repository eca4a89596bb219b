"""Fixtures of the playbook tests: a lab, three booted Debian containers in it, SSH, Ansible.

Prerequisites missing here skip the tests, except under ``SCAMPERLAB_REQUIRE_LAB=1``
(``ci/test.sh``), where they fail: CI must never pass by skipping.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from scamperlab.inventory import topology_to_inventory
from scamperlab.topology.loader import load_topology
from tests.playbooks.containers import Fleet, mounts_under
from tests.playbooks.rootfs import USER, ensure_rootfs

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
MUX = "/run/scamper-mux/mux"
BUNDLE = "/opt/scamperlab/scamperlab.pyz"
#: lab target -> inventory host; the controller and the Pis take over these namespaces.
HOSTS = {"ctl": "controller", "pi1": "pi1.example", "pi2": "pi2.example", "lh1": "labhost1"}
ADDRESS = {
    "ctl": "198.51.100.20",
    "pi1": "203.0.113.11",
    "pi2": "203.0.113.12",
    "lh1": "198.51.100.31",
}
#: the containers that run labs of their own (playbooks/cluster.yml)
LAB_HOSTS = {"lh1"}
TARGET = "192.0.2.80"

#: What each torn-down site left behind, for test_zz_leftovers.py.
TEARDOWNS: list[dict[str, Any]] = []


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("mnexec", "scamper", "debootstrap", "systemd-nspawn", "ssh", "openssl"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not (BIN / "ansible-playbook").exists():
        return "needs ansible-core (pip install -e '.[ansible]')"
    return None


@pytest.fixture(scope="session", autouse=True)
def playbook_prerequisites() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("SCAMPERLAB_REQUIRE_LAB") == "1":
        pytest.fail(f"playbook test prerequisites missing: {reason}")
    pytest.skip(reason)


@dataclass
class Site:
    """The running site: lab, containers, and how to reach them from the ops namespace."""

    lab: Any
    fleet: Fleet
    tmp: Path
    inventory: Path
    key: Path
    #: lab target -> the address its container is reached at
    addresses: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    first_run: subprocess.CompletedProcess[str] | None = None
    first_lab_hosts_run: subprocess.CompletedProcess[str] | None = None

    def provision(self) -> subprocess.CompletedProcess[str]:
        """The first run of site.yml, made once, whichever test asks for it first."""
        if self.first_run is None:
            t0 = time.monotonic()
            self.first_run = self.playbook()
            self.timings["first run"] = time.monotonic() - t0
        return self.first_run

    def provision_lab_hosts(self) -> subprocess.CompletedProcess[str]:
        """The first run of cluster.yml (the lab hosts), made once."""
        if self.first_lab_hosts_run is None:
            t0 = time.monotonic()
            self.first_lab_hosts_run = self.playbook(playbook="cluster.yml")
            self.timings["lab hosts first run"] = time.monotonic() - t0
        return self.first_lab_hosts_run

    def in_ops(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.lab.net.pid('ops')}/ns/net", "--", *argv]

    def ansible_env(self) -> dict[str, str]:
        home = self.tmp / "ansible-home"
        return {
            **os.environ,
            # Nothing in root's home: Ansible's state lives and dies with the test.
            "ANSIBLE_HOME": str(home),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(home / "cp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PIPELINING": "true",
            "ANSIBLE_FORKS": "5",
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        }

    def playbook(self, *extra: str, playbook: str = "site.yml") -> subprocess.CompletedProcess[str]:
        argv = [str(BIN / "ansible-playbook"), "-i", str(self.inventory), *extra]
        argv.append(str(PLAYBOOKS / playbook))
        return subprocess.run(
            self.in_ops(argv),
            env=self.ansible_env(),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def ssh(
        self, node: str, command: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` as the login user on ``node`` (a lab target name) over SSH."""
        argv = [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={self.tmp / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=accept-new",
            f"{USER}@{self.addresses[node]}",
            command,
        ]
        return subprocess.run(
            self.in_ops(argv), input=stdin, capture_output=True, text=True, timeout=timeout
        )

    def api(self, script: str, *args: str, user: str | None = None) -> Any:
        """Run one of ``scripts/`` on the controller with the bundled scamperlab; its JSON."""
        prefix = f"sudo -u {user} " if user else ""
        done = self.ssh(
            "ctl",
            f"{prefix}env PYTHONPATH={BUNDLE} python3 - {' '.join(args)}",
            stdin=(HERE / "scripts" / script).read_text(),
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    hosts = {}
    for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
        hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts


def write_inventory(path: Path, key: Path, known_hosts: Path) -> None:
    inventory = topology_to_inventory(load_topology(HERE / "fleet.yaml"))
    groups = inventory["all"]["children"]
    groups["scamper_controller"]["hosts"]["controller"] |= {
        "ansible_host": ADDRESS["ctl"],
        "scamper_controller_mux_users": [USER],
        # built into the test's directory rather than the checkout's build/
        "scamper_controller_mux_bundle": str(path.parent / "scamperlab-mux.pyz"),
    }
    groups["scamperlab_hosts"] = {
        "hosts": {HOSTS[node]: {"ansible_host": ADDRESS[node]} for node in sorted(LAB_HOSTS)},
        # built into the test's directory rather than the checkout's build/
        "vars": {
            "scamperlab_host_wheelhouse": str(path.parent / "wheelhouse"),
            "scamperlab_host_services": True,
        },
    }
    for node, host in HOSTS.items():
        if node != "ctl" and node not in LAB_HOSTS:
            vars_ = groups["scamper_vps"]["hosts"][host] or {}
            groups["scamper_vps"]["hosts"][host] = vars_ | {"ansible_host": ADDRESS[node]}
    # pi1 also gets the optional firewall.
    groups["scamper_vps"]["hosts"]["pi1.example"]["scamper_vp_firewall"] = True
    for group in ("scamper_controller", "scamper_vps", "scamperlab_hosts"):
        groups[group]["vars"] = groups[group].get("vars", {}) | ssh_vars(key, known_hosts)
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))


@pytest.fixture
def provisioned(site: Site) -> Site:
    """The site after site.yml's first run, so that any test can run on its own."""
    done = site.provision()
    if done.returncode != 0:
        pytest.fail("site.yml's first run failed (see test_first_run_provisions)")
    return site


def ssh_vars(key: Path, known_hosts: Path) -> dict[str, str]:
    """Inventory variables for reaching the containers as the login user."""
    return {
        "ansible_user": USER,
        "ansible_ssh_private_key_file": str(key),
        "ansible_ssh_common_args": f"-o IdentitiesOnly=yes -o UserKnownHostsFile={known_hosts}"
        " -o StrictHostKeyChecking=accept-new",
        "ansible_python_interpreter": "/usr/bin/python3",
    }


def build_wheelhouse(tmp: Path, timings: dict[str, float]) -> Path:
    """The wheelhouse for the lab hosts, built here, where the package registry is reachable
    (the ops namespace, where Ansible runs, reaches only the lab); the role finds it built."""
    t0 = time.monotonic()
    wheelhouse = tmp / "wheelhouse"
    subprocess.run(
        [str(BIN / "scamperlab"), "wheelhouse", str(wheelhouse)], check=True, capture_output=True
    )
    timings["wheelhouse"] = time.monotonic() - t0
    return wheelhouse


@contextlib.contextmanager
def booted(
    lab_file: Path, name: str, addresses: dict[str, str], nested: set[str]
) -> Iterator[Site]:
    """A lab from ``lab_file`` and a booted container in each target ``addresses`` names
    (``nested``: lab hosts), reached from the lab's ``ops`` namespace; gone afterwards, with
    what is left recorded in TEARDOWNS for test_zz_leftovers.py."""
    from scamperlab.lab import Lab
    from tests.integration.leftovers import root_links

    timings: dict[str, float] = {}
    t0 = time.monotonic()
    tar = ensure_rootfs()
    timings["rootfs"] = time.monotonic() - t0
    links_before = root_links()
    state_root = Path(os.environ.get("SCAMPERLAB_STATE_DIR", "/run/scamperlab-ansible"))
    state_dir = state_root / f"test-{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix=f"scamperlab-{name}-", dir="/var/tmp"))
    workdir = tmp / "containers"
    namespaces: set[int] = set()
    nspawn_pids: list[int] = []
    fleet: Fleet | None = None
    try:
        t0 = time.monotonic()
        with Lab.from_file(lab_file, name=name, state_dir=state_dir) as lab:
            assert lab.net is not None
            namespaces = {os.stat(f"/proc/{lab.net.pid(n)}/ns/net").st_ino for n in lab.net.hosts}
            timings["lab"] = time.monotonic() - t0
            t0 = time.monotonic()
            fleet = Fleet(tar, workdir)
            key = tmp / "id_ed25519"
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
            pub = (tmp / "id_ed25519.pub").read_text()
            for node in addresses:
                fleet.boot(node, lab.net.pid(node), pub, nested=node in nested)
            nspawn_pids = [c.proc.pid for c in fleet.containers.values()]
            fleet.wait_ready()
            timings["boot"] = time.monotonic() - t0
            yield Site(lab, fleet, tmp, tmp / "hosts.yml", key, addresses, timings)
            fleet.close()
    finally:
        if fleet is not None:
            fleet.close()
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            state_dir.rmdir()
            state_root.rmdir()
        TEARDOWNS.append(
            {
                "site": name,
                "tmp": tmp,
                "tmp_exists": tmp.exists(),
                "mounts": mounts_under(tmp),
                "nspawn_alive": [p for p in nspawn_pids if Path(f"/proc/{p}").exists()],
                "namespaces": namespaces,
                "links_added": root_links() - links_before,
                "nspawn_run": sorted(str(p) for p in Path("/run/systemd/nspawn").glob("*/*"))
                if Path("/run/systemd/nspawn").exists()
                else [],
                "state_dir_exists": state_dir.exists(),
                "timings": timings,
            }
        )


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with booted(HERE / "lab.yaml", "pifleet", ADDRESS, LAB_HOSTS) as site:
        write_inventory(site.inventory, site.key, site.tmp / "known_hosts")
        build_wheelhouse(site.tmp, site.timings)
        yield site
