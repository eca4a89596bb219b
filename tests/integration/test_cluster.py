"""A lab over three lab hosts and a controller host, the hosts being namespaces of this machine.

Each "host" is a network namespace made here, with one address of
192.0.2.0/24 (its "Internet": veths into a bridge in one more namespace);
the controller and each shard are ``scamperlab up --cluster`` run inside
one with ``nsenter``, exactly as on real hosts. Nothing is made in this
machine's own namespace. The VPs reach sc_remoted through the VXLAN tunnel,
so the mux must report each VP at its own measurement address.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from scamperlab.emulation import holders, netns
from scamperlab.lab.state import is_running, process_starttime, read_state
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.cluster import VXLAN_PORT, load_cluster, make_cluster_plan
from scamperlab.topology.loader import parse_topology
from tests.integration.leftovers import Snapshot, alive, left_in, root_links

HOSTS = ("h1", "h2", "h3")
VPS_PER_HOST = 100
TARGET = "203.0.113.10"
LAB = "clu"
DELAY_MS = 5.0


def topology_text() -> str:
    """Two routers 5 ms apart, every VP on one side, a target on the other."""
    vps = [
        {"name": f"vp{i:02d}.test", "cc": "nz", "tags": [f"n:{i}"], "uplink": {"router": "core"}}
        for i in range(len(HOSTS) * VPS_PER_HOST)
    ]
    topo = {
        "name": LAB,
        "routers": [{"name": "core"}, {"name": "edge"}],
        "vps": vps,
        "targets": [{"name": "www", "ipv4": TARGET, "uplink": {"router": "edge"}}],
        "links": [{"ends": ["core", "edge"], "delay": f"{DELAY_MS:g}ms"}],
    }
    return yaml.safe_dump(topo, sort_keys=False)


def cluster_text(tls: Path) -> str:
    """Encrypted (the default): each pretend host has its TLS files in a directory of its own."""
    hosts = {h: {"address": f"192.0.2.{11 + i}"} for i, h in enumerate(HOSTS)}
    return yaml.safe_dump({"controller": "192.0.2.1", "hosts": hosts, "tls": f"{tls}/{{host}}"})


@dataclass
class Machine:
    """One pretend host: a namespace with an address, and a state directory of its own."""

    name: str
    pid: int
    address: str
    state_dir: Path

    def scamperlab(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(self.state_dir))
        argv = ["nsenter", f"--net=/proc/{self.pid}/ns/net", "--"]
        argv += [sys.executable, "-m", "scamperlab.cli", *args]
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def owner(self) -> int:
        state = read_state(LAB, self.state_dir) or {}
        return int(state["owner_pid"])


@dataclass
class Cluster:
    machines: dict[str, Machine]
    topology: Path
    cluster: Path
    holders: list[holders.NodeNamespace]

    def up(self, host: str) -> None:
        role = ["--controller"] if host == "ctl" else ["--shard", host]
        done = self.machines[host].scamperlab(
            "up", str(self.topology), "--cluster", str(self.cluster), *role
        )
        assert done.returncode == 0, done.stderr

    def down(self, host: str) -> None:
        done = self.machines[host].scamperlab("down", LAB)
        assert done.returncode == 0, done.stderr

    def hosts_up(self) -> list[int]:
        """How many VPs of each lab host ``scamperlab status`` on the controller counts."""
        done = self.machines["ctl"].scamperlab("status", LAB, "--json")
        assert done.returncode == 0, done.stderr
        (lab,) = json.loads(done.stdout)
        return [int(host["up"]) for host in lab["cluster"]["hosts"]]

    def tunnels(self) -> dict[str, str]:
        """Whether each lab host answers over the tunnel, as the controller's status says."""
        done = self.machines["ctl"].scamperlab("status", LAB, "--json")
        assert done.returncode == 0, done.stderr
        (lab,) = json.loads(done.stdout)
        return {host["host"]: host["tunnel"] for host in lab["cluster"]["hosts"]}

    @property
    def mux(self) -> Path:
        return self.machines["ctl"].state_dir / LAB / "mux"


def _run(argv: list[str], script: str) -> None:
    subprocess.run(argv, input=script, text=True, check=True, capture_output=True)


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory, state_dir: Path) -> Iterator[Cluster]:
    """Four hosts and an Internet between them; removed (holders killed) afterwards."""
    names = ["internet", "ctl", *HOSTS]
    made: list[holders.NodeNamespace] = []
    forks = holders.ForkServer()
    try:
        forks.holders([(name, {}) for name in names], made.append)
    finally:
        forks.close()
    pid = {h.name: h.pid for h in made}
    addresses = {"ctl": "192.0.2.1", **{h: f"192.0.2.{11 + i}" for i, h in enumerate(HOSTS)}}
    machines = {
        name: Machine(name, pid[name], address, state_dir / f"m-{name}")
        for name, address in addresses.items()
    }
    inet = ["mnexec", "-a", str(pid["internet"]), "ip", "-batch", "-"]
    veths = "".join(
        f"link add eth0 netns {pid[m]} type veth peer name p-{m} netns {pid['internet']}\n"
        for m in machines
    )
    _run(["ip", "-batch", "-"], veths)
    _run(
        inet,
        "link add br0 type bridge\nlink set br0 up\n"
        + "".join(f"link set p-{m} master br0\nlink set p-{m} up\n" for m in machines),
    )
    for m in machines.values():
        _run(
            ["mnexec", "-a", str(m.pid), "ip", "-batch", "-"],
            f"link set lo up\nlink set eth0 up\naddr add {m.address}/24 dev eth0\n",
        )
        m.state_dir.mkdir(parents=True, exist_ok=True)
    base = tmp_path_factory.mktemp("cluster")
    topology, cluster = base / "clu.yaml", base / "cluster.yaml"
    topology.write_text(topology_text())
    cluster.write_text(cluster_text(base / "tls"))
    made_tls = machines["ctl"].scamperlab("cluster", "certs", str(cluster))
    assert made_tls.returncode == 0, made_tls.stderr
    try:
        yield Cluster(machines, topology, cluster, made)
    finally:
        for m in machines.values():
            if is_running(LAB, m.state_dir):
                m.scamperlab("down", LAB)
        for h in made:
            h.terminate()
            h.wait(10)
            h.close()


def wait_until(what: str, done: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not {what} after {timeout:g} s"
        time.sleep(0.5)


def mux_vps() -> Callable[[Path], dict[str, str | None]]:
    def read(mux: Path) -> dict[str, str | None]:
        ctrl = ScamperCtrl(mux=str(mux))
        try:
            return {str(vp.name): vp.ipv4 for vp in ctrl.vps()}
        finally:
            for m in ctrl._muxes:  # the real module has no public close either
                m._transport.close()

    return read


def ping_all(mux: Path, names: set[str]) -> dict[str, float]:
    """One ping from each VP named, through one ScamperCtrl: the min RTT (ms) of each."""
    ctrl = ScamperCtrl(mux=str(mux))
    try:
        vps = [vp for vp in ctrl.vps() if vp.name in names]
        assert {vp.name for vp in vps} == names
        insts = ctrl.add_vps(vps)
        ctrl.do_ping(TARGET, attempts=2, inst=insts)
        rtts: dict[str, float] = {}
        for ping in ctrl.responses(timeout=timedelta(seconds=60)):
            assert ping.min_rtt is not None, f"no reply to {ping.inst.name}"
            rtts[str(ping.inst.name)] = ping.min_rtt.total_seconds() * 1000
        for inst in ctrl.instances():
            ctrl.remove(inst)
        return rtts
    finally:
        for m in ctrl._muxes:
            m._transport.close()


def test_three_hosts_one_mux_each_vp_at_its_own_address(machines: Cluster) -> None:
    links_before = root_links()
    read = mux_vps()
    plan = make_cluster_plan(parse_topology(topology_text()), load_cluster(machines.cluster))
    address = {name: str(node.ipv4) for name, node in plan.lab.nodes.items()}
    by_host = {h: set(plan.hosts[h].vps) for h in HOSTS}
    everyone = set().union(*by_host.values())
    machines.up("ctl")
    for host in HOSTS:
        machines.up(host)
    wait_until("every VP on the mux", lambda: set(read(machines.mux)) == everyone)
    assert all(tunnel_sockets(m) for m in machines.machines.values())
    wait_until(
        "status to count every host's VPs", lambda: machines.hosts_up() == [VPS_PER_HOST] * 3
    )
    # Each VP's address, as sc_remoted saw it across the tunnel: its own, not a gateway's.
    assert read(machines.mux) == {name: address[name] for name in everyone}
    internet = next(h.pid for h in machines.holders if h.name == "internet")
    with TunnelTap(internet, "p-ctl") as tap:
        rtts = ping_all(machines.mux, everyone)
    # What crossed between the hosts was TLS: the ping commands and results were not.
    port = plan.lab.topology.controller.port
    assert tap.payloads and all(port in ports for ports, _ in tap.payloads)
    assert tap.seen_records()
    assert not any(TARGET.encode() in data for _, data in tap.payloads)
    assert set(rtts) == everyone
    # The VP's uplink has no delay; core-edge is 5 ms each way.
    assert all(2 * DELAY_MS <= rtt < 2 * DELAY_MS + 50 for rtt in rtts.values()), rtts

    # One lab host goes: only its VPs depart, the others keep measuring.
    gone = HOSTS[0]
    kept = everyone - by_host[gone]
    snapshot = _snapshot(machines.machines[gone])
    owner = machines.machines[gone].owner()
    started = process_starttime(owner)
    os.kill(owner, 15)
    wait_until(f"{gone}'s VPs gone", lambda: set(read(machines.mux)) == kept)
    # Its lock goes with its state directory, just before the process itself.
    wait_until(f"{gone}'s scamperlab gone", lambda: process_starttime(owner) != started)
    snapshot.assert_gone()
    wait_until(
        "status to see the host down",
        lambda: machines.hosts_up() == [0, VPS_PER_HOST, VPS_PER_HOST],
    )
    assert set(ping_all(machines.mux, kept)) == kept

    # It comes back: so do its VPs, at the same addresses.
    machines.up(gone)
    wait_until(f"{gone}'s VPs back", lambda: set(read(machines.mux)) == everyone)
    assert read(machines.mux) == {name: address[name] for name in everyone}
    assert set(ping_all(machines.mux, everyone)) == everyone

    # A lab host whose scamperlab is killed outright keeps its VPs running (as a
    # one-host lab whose owner is killed does); its next 'up' cleans that up and
    # brings them back as new VPs.
    crashed = machines.machines[HOSTS[1]]
    before = _snapshot(crashed)
    owner = crashed.owner()
    started = process_starttime(owner)
    os.kill(owner, 9)
    wait_until(f"{crashed.name}'s scamperlab gone", lambda: process_starttime(owner) != started)
    machines.up(crashed.name)
    assert [pid for pid, start in before.processes.items() if alive(pid, start)] == []
    assert left_in(before.namespaces, before.taken) == []
    wait_until("every VP on the mux again", lambda: set(read(machines.mux)) == everyone)
    assert set(ping_all(machines.mux, everyone)) == everyone

    # A lab host cut off (its link to the Internet down: nothing is closed): the controller
    # finds it silent over the tunnel and lets its VPs go in seconds, not at TCP's
    # timeouts; the others keep measuring; reachable again, its VPs dial back in.
    cut = HOSTS[2]
    kept = everyone - by_host[cut]
    link = ["mnexec", "-a", str(machines.machines[cut].pid), "ip", "link", "set", "eth0"]
    subprocess.run([*link, "down"], check=True)
    t0 = time.monotonic()
    wait_until(f"{cut}'s VPs gone", lambda: set(read(machines.mux)) == kept, timeout=30)
    assert time.monotonic() - t0 < 15
    assert machines.tunnels()[cut] == "silent"
    assert set(ping_all(machines.mux, kept)) == kept
    subprocess.run([*link, "up"], check=True)
    wait_until(f"{cut}'s VPs back", lambda: set(read(machines.mux)) == everyone, timeout=180)
    assert machines.tunnels()[cut] == "answers"
    assert set(ping_all(machines.mux, everyone)) == everyone

    # The controller host goes and comes back: every lab host's VPs dial it again.
    machines.down("ctl")
    wait_until("the controller down", lambda: not machines.mux.exists())
    machines.up("ctl")
    wait_until("every VP back on the new mux", lambda: set(read(machines.mux)) == everyone)
    assert read(machines.mux) == {name: address[name] for name in everyone}

    snapshots = [_snapshot(m) for m in machines.machines.values()]
    for host in (*HOSTS, "ctl"):
        machines.down(host)
    for snap in snapshots:
        snap.assert_gone()
    assert root_links() == links_before
    # The tunnels' UDP sockets were in the hosts' own namespaces: gone with the tunnels.
    for m in machines.machines.values():
        assert tunnel_sockets(m) == [], m.name


class TunnelTap:
    """What crosses one host's wire inside VXLAN: each inner TCP segment's ports and payload.

    A packet socket on the host's veth in the pretend Internet (both directions),
    read by a thread; decoded by hand: Ethernet, IPv4, UDP to the VXLAN port,
    VXLAN, then the inner Ethernet, IPv4 and TCP.
    """

    def __init__(self, pid: int, interface: str) -> None:
        self.sock = netns.socket_in(pid, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.sock.bind((interface, 0))
        self.sock.settimeout(0.2)
        self.payloads: list[tuple[tuple[int, int], bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> TunnelTap:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.sock.recv(65535)
            except TimeoutError:
                continue
            inner = _vxlan_payload(frame)
            if inner is not None and (segment := _tcp(inner[14:])) is not None:
                self.payloads.append(segment)

    def seen_records(self) -> bool:
        """Whether some segment starts with a TLS application-data record (type 23)."""
        return any(data.startswith(b"\x17\x03") for _, data in self.payloads)


def _ipv4_payload(packet: bytes, proto: int) -> bytes | None:
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != proto:
        return None
    return packet[(packet[0] & 0x0F) * 4 : int.from_bytes(packet[2:4], "big")]


def _vxlan_payload(frame: bytes) -> bytes | None:
    if frame[12:14] != b"\x08\x00":
        return None
    udp = _ipv4_payload(frame[14:], 17)
    if udp is None or int.from_bytes(udp[2:4], "big") != VXLAN_PORT:
        return None
    return udp[16:]  # UDP header (8), VXLAN header (8)


def _tcp(packet: bytes) -> tuple[tuple[int, int], bytes] | None:
    segment = _ipv4_payload(packet, 6)
    if segment is None:
        return None
    ports = (int.from_bytes(segment[0:2], "big"), int.from_bytes(segment[2:4], "big"))
    data = segment[(segment[12] >> 4) * 4 :]
    return (ports, data) if data else None


def tunnel_sockets(machine: Machine) -> list[str]:
    """UDP sockets on the VXLAN port in a host's own namespace (hex port in /proc/net/udp)."""
    lines = Path(f"/proc/{machine.pid}/net/udp").read_text().splitlines()[1:]
    return [line for line in lines if line.split()[1].endswith(f":{VXLAN_PORT:04X}")]


def _snapshot(machine: Machine) -> Snapshot:
    """What one host's lab has made (its namespaces and processes), to check it is gone."""
    state = read_state(LAB, machine.state_dir) or {}
    processes = {int(p["pid"]): p["starttime"] for p in state.get("processes", [])}
    namespaces = set()
    for pid, start in processes.items():
        with contextlib.suppress(OSError):
            if start is not None:
                namespaces.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
    # A host's own namespace is not the lab's: only what the lab made.
    with contextlib.suppress(OSError):
        namespaces.discard(os.stat(f"/proc/{machine.pid}/ns/net").st_ino)
    return Snapshot(namespaces, processes, machine.state_dir / LAB, root_links())
