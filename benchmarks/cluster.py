"""A lab over 1, 2 and 3 lab hosts, against the same lab on one host, in one run.

    sudo .venv/bin/python -m benchmarks.cluster [--vps-per-host 100] [--hosts 1,2,3]

For each number of lab hosts H (N = H x VPs per host), side by side:

* **one host** (the baseline): ``scamperlab up`` of the N-VP lab, as today.
* **cluster**: a controller host and H lab hosts, each running
  ``scamperlab up --cluster`` exactly as a real host does (docs/cluster.md),
  the hosts being network namespaces of this machine on one bridged
  "Internet" (as ``examples/cluster/rehearse.sh``); start-up is from the
  controller's ``up`` until every VP is on the mux. Encrypted (the default:
  the VPs' connections in TLS between one stunnel per host), and again in
  clear text (``encryption: none``), so that what TLS costs is measured.

Then, on each: the controller's memory (PSS of sc_remoted, of the process
serving the mux and of the controller host's stunnel) and file descriptors
per VP, and a fan-out of single-reply pings from every VP through one
``ScamperCtrl`` with the CPU time sc_remoted and the mux process (and,
apart, stunnel) spent on it per result. The pretend
hosts share this machine's cores, so start-up and fan-out here say nothing
of how a cluster of real machines scales with H; the controller's costs per
VP are what carry over, and the projection to 10,000 VPs on 10 hosts is
made from those. Writes ``benchmarks/results/cluster.json`` and the section
between the ``cluster`` markers of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from benchmarks.delay import cpu_seconds
from benchmarks.doc import write_section
from benchmarks.scale import loadavg, machine, pss_kib
from scamperlab.deploy.certs import make_certs
from scamperlab.lab.state import read_state
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.cluster import load_cluster

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cluster.json"
LAB = "clb"
TARGET = "203.0.113.10"
PROJECTED_VPS, PROJECTED_HOSTS = 10_000, 10


def topology(n: int) -> str:
    """Two routers 5 ms apart, ``n`` VPs on one side, a target on the other."""
    return yaml.safe_dump(
        {
            "name": LAB,
            "defaults": {"rate": 1000},
            "routers": [{"name": "core"}, {"name": "edge"}],
            "vps": [{"name": f"vp{i:04d}.test", "uplink": {"router": "core"}} for i in range(n)],
            "targets": [{"name": "www", "ipv4": TARGET, "uplink": {"router": "edge"}}],
            "links": [{"ends": ["core", "edge"], "delay": "5ms"}],
        },
        sort_keys=False,
    )


class Hosts:
    """Pretend hosts: named network namespaces on one bridge, each with a state directory."""

    def __init__(self, names: list[str], base: Path) -> None:
        self.tag = f"slc{os.getpid() % 10000}"
        self.address = {name: f"192.0.2.{i + 1}" for i, name in enumerate(names)}
        self.base = base
        inet = f"{self.tag}-inet"
        lines = [f"netns add {inet}"] + [f"netns add {self.ns(n)}" for n in names]
        self._ip(lines)
        self._ip(["link add br0 type bridge", "link set br0 up"], inet)
        for name in names:
            self._ip([f"link add eth0 type veth peer name p-{name} netns {inet}"], self.ns(name))
            self._ip([f"link set p-{name} master br0", f"link set p-{name} up"], inet)
            self._ip(
                [
                    "link set lo up",
                    "link set eth0 up",
                    f"addr add {self.address[name]}/24 dev eth0",
                ],
                self.ns(name),
            )
            (base / name).mkdir()
        self.names = names

    def ns(self, name: str) -> str:
        return f"{self.tag}-{name}"

    @staticmethod
    def _ip(lines: list[str], ns: str | None = None) -> None:
        argv = ["ip", *(["-n", ns] if ns else []), "-batch", "-"]
        subprocess.run(argv, input="\n".join(lines) + "\n", text=True, check=True)

    def scamperlab(self, name: str, *args: str) -> subprocess.Popen[str]:
        """``scamperlab ARGS`` on host ``name``, with that host's own state directory."""
        env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(self.base / name))
        argv = ["ip", "netns", "exec", self.ns(name), sys.executable, "-m", "scamperlab.cli"]
        return subprocess.Popen(
            [*argv, *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def close(self) -> None:
        for name in self.names:
            self.scamperlab(name, "down", LAB).communicate()
        self._ip([f"netns del {self.ns(n)}" for n in [*self.names, "inet"]])


def _check(proc: subprocess.Popen[str], what: str) -> None:
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {err.strip()[-2000:]}")


def _wait_vps(mux: Path, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if mux.exists():
            ctrl = ScamperCtrl(mux=str(mux))
            seen = len(ctrl.vps())
            ctrl.done()
            if seen == n:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only some of {n} VPs on the mux after {timeout:g} s")
        time.sleep(0.2)


def controller_costs(state_dir: Path, mux: Path, n: int, pings: int) -> dict[str, Any]:
    """sc_remoted's, the mux process's (and stunnel's) memory and fds; a fan-out, its CPU."""
    state = read_state(LAB, state_dir) or {}
    kinds = {p.get("kind"): int(p["pid"]) for p in state["processes"]}
    remoted, owner, stunnel = kinds["sc_remoted"], int(state["owner_pid"]), kinds.get("stunnel")
    out: dict[str, Any] = {
        "sc_remoted_pss_kib": pss_kib(remoted),
        "sc_remoted_fds": len(os.listdir(f"/proc/{remoted}/fd")),
        "mux_process_pss_kib": pss_kib(owner),
        "mux_process_fds": len(os.listdir(f"/proc/{owner}/fd")),
    }
    if stunnel is not None:
        out["stunnel_pss_kib"] = pss_kib(stunnel)
        out["stunnel_fds"] = len(os.listdir(f"/proc/{stunnel}/fd"))
    ctrl = ScamperCtrl(mux=str(mux))
    insts = ctrl.add_vps(ctrl.vps())
    cpu0, t0 = cpu_seconds(remoted) + cpu_seconds(owner), time.monotonic()
    tls0 = cpu_seconds(stunnel) if stunnel is not None else 0.0
    for _ in range(pings):
        for inst in insts:
            ctrl.do_ping(TARGET, attempts=1, stop_count=1, inst=inst)
    got = sum(1 for _ in ctrl.responses(timeout=120))
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(remoted) + cpu_seconds(owner) - cpu0
    tls = cpu_seconds(stunnel) - tls0 if stunnel is not None else 0.0
    ctrl.done()
    out["fanout"] = {
        "results": got,
        "expected": n * pings,
        "per_s": got / elapsed,
        "controller_cpu_ms_per_result": 1000 * cpu / max(got, 1),
        "stunnel_cpu_ms_per_result": 1000 * tls / max(got, 1),
    }
    return out


def write_topology(base: Path, n: int) -> Path:
    topo = base / "topology.yaml"
    topo.write_text(topology(n))
    return topo


def write_cluster(base: Path, hosts: Hosts, lab_hosts: list[str], encryption: str) -> Path:
    """The cluster file of the pretend hosts, at the addresses they were given; their TLS."""
    cluster = base / "cluster.yaml"
    names = {name: {"address": hosts.address[name]} for name in lab_hosts}
    text = {"controller": hosts.address["ctl"], "hosts": names, "encryption": encryption}
    cluster.write_text(yaml.safe_dump(text | {"tls": f"{base}/tls/{{host}}"}))
    make_certs(load_cluster(cluster), base / "ca")
    return cluster


def one_host(n: int, base: Path, pings: int) -> dict[str, Any]:
    hosts = Hosts(["solo"], base)
    try:
        topo = write_topology(base, n)
        load = loadavg()
        t0 = time.monotonic()
        _check(hosts.scamperlab("solo", "up", str(topo)), "one-host up")
        mux = base / "solo" / LAB / "mux"
        _wait_vps(mux, n)
        out: dict[str, Any] = {"up_s": time.monotonic() - t0, "load": load}
        out |= controller_costs(base / "solo", mux, n, pings)
    finally:
        hosts.close()
    return out


def cluster(n: int, h: int, base: Path, pings: int, encryption: str) -> dict[str, Any]:
    lab_hosts = [f"h{i + 1}" for i in range(h)]
    hosts = Hosts(["ctl", *lab_hosts], base)
    try:
        topo = write_topology(base, n)
        cfile = write_cluster(base, hosts, lab_hosts, encryption)
        load = loadavg()
        t0 = time.monotonic()
        args = ("up", str(topo), "--cluster", str(cfile))
        _check(hosts.scamperlab("ctl", *args, "--controller"), "controller up")
        shards = [hosts.scamperlab(x, *args, "--shard", x) for x in lab_hosts]
        for x, proc in zip(lab_hosts, shards, strict=True):
            _check(proc, f"lab host {x} up")
        mux = base / "ctl" / LAB / "mux"
        _wait_vps(mux, n)
        out: dict[str, Any] = {"up_s": time.monotonic() - t0, "load": load}
        out |= controller_costs(base / "ctl", mux, n, pings)
    finally:
        hosts.close()
    return out


def projection(rows: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The controller at 10,000 VPs, by a straight line through the measured sizes."""
    sizes = sorted(rows)
    small, big = rows[sizes[0]]["cluster"], rows[sizes[-1]]["cluster"]
    span = rows[sizes[-1]]["n"] - rows[sizes[0]]["n"]
    out: dict[str, Any] = {}
    keys = ["sc_remoted_pss_kib", "sc_remoted_fds", "mux_process_pss_kib", "mux_process_fds"]
    for key in [*keys, "stunnel_pss_kib", "stunnel_fds"]:
        per_vp = (big[key] - small[key]) / span if span else big[key] / rows[sizes[-1]]["n"]
        per_vp = max(per_vp, 0.0)  # a cost that does not grow with VPs, within the noise
        out[key] = big[key] + per_vp * (PROJECTED_VPS - rows[sizes[-1]]["n"])
        out[f"{key}_per_vp"] = per_vp
    cpu = big["fanout"]["controller_cpu_ms_per_result"]
    out["results_per_cpu_s"] = 1000 / cpu if cpu else None
    tls = big["fanout"]["stunnel_cpu_ms_per_result"]
    out["stunnel_results_per_cpu_s"] = 1000 / tls if tls else None
    out["fanout_cpu_s"] = cpu * PROJECTED_VPS / 1000
    return out


Row = Callable[[dict[str, Any]], str]


def _controller(c: dict[str, Any], sep: str) -> str:
    """sc_remoted's and the mux process's memory and fds, and their CPU per result."""
    return sep.join(
        [
            f"{c['sc_remoted_pss_kib'] / 1024:.1f}",
            str(c["sc_remoted_fds"]),
            f"{c['mux_process_pss_kib'] / 1024:.0f}",
            str(c["mux_process_fds"]),
            f"{c['fanout']['controller_cpu_ms_per_result']:.3f}",
        ]
    )


def markdown(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        "<!-- cluster:start -->",
        "",
        "```sh",
        f"sudo .venv/bin/python -m benchmarks.cluster --vps-per-host {data['per_host']}"
        f" --hosts {','.join(str(h) for h in data['hosts'])} --pings {data['pings']}",
        "```",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores (shared with other work), kernel"
        f" {m['kernel']}, scamper {m['scamper']}, Python {m['python']}; {m['date']}. The"
        " pretend hosts are namespaces of this one machine: they share its cores.",
        "",
    ]
    rows = sorted(data["rows"].items())

    def table(intro: str | None, header: str, align: str, cells: Row) -> None:
        """A table of one line per cluster size: ``cells`` gives the columns after H, N."""
        lines.extend(["", intro, ""] if intro else [])
        lines.extend([f"| lab hosts | VPs | {header} |", f"|---:|---:|{align}|"])
        lines.extend(f"| {h} | {row['n']:,} | {cells(row)} |" for h, row in rows)

    table(
        None,
        "cluster up (s): TLS, clear | one host up (s) | ratio (TLS)"
        " | fan-out results/s: TLS, clear, one host | load (TLS cluster)",
        "---|---:|---:|---|---",
        lambda r: (
            f"{r['cluster']['up_s']:.2f}, {r['clear']['up_s']:.2f} | {r['one_host']['up_s']:.2f}"
            f" | {r['cluster']['up_s'] / r['one_host']['up_s']:.2f}"
            f" | {r['cluster']['fanout']['per_s']:,.0f}, {r['clear']['fanout']['per_s']:,.0f},"
            f" {r['one_host']['fanout']['per_s']:,.0f} | {r['cluster']['load']}"
        ),
    )
    table(
        "The controller host, against a one-host lab of the same VPs (whose sc_remoted and"
        " owner process also serve the mux):",
        "sc_remoted PSS (MiB) | sc_remoted fds | mux process PSS (MiB)"
        " | mux process fds | controller CPU per result (ms) | one host: same four, CPU",
        "---:|---:|---:|---:|---:|---",
        lambda r: f"{_controller(r['cluster'], ' | ')} | {_controller(r['one_host'], ', ')}",
    )
    table(
        "What TLS costs the controller host: its stunnel, against the same cluster in clear"
        " text (`encryption: none`) in the same run:",
        "stunnel PSS (MiB) | stunnel fds | stunnel CPU per result (ms)"
        " | sc_remoted + mux CPU per result (ms): TLS, clear",
        "---:|---:|---:|---",
        lambda r: (
            f"{r['cluster']['stunnel_pss_kib'] / 1024:.1f} | {r['cluster']['stunnel_fds']}"
            f" | {r['cluster']['fanout']['stunnel_cpu_ms_per_result']:.3f}"
            f" | {r['cluster']['fanout']['controller_cpu_ms_per_result']:.3f},"
            f" {r['clear']['fanout']['controller_cpu_ms_per_result']:.3f}"
        ),
    )
    p = data["projection"]
    lines += [
        "",
        f"**Projection to {PROJECTED_VPS:,} VPs on {PROJECTED_HOSTS} lab hosts** (a straight"
        " line through the smallest and largest cluster measured; each lab host then runs"
        f" {PROJECTED_VPS // PROJECTED_HOSTS:,} VPs, which one machine holds):",
        "",
        f"- sc_remoted: {p['sc_remoted_pss_kib'] / 1024:.0f} MiB"
        f" ({p['sc_remoted_pss_kib_per_vp']:.1f} KiB per VP) and"
        f" {p['sc_remoted_fds']:,.0f} file descriptors"
        f" ({p['sc_remoted_fds_per_vp']:.2f} per VP: its connection and its unix socket);"
        " the mux process: "
        f"{p['mux_process_pss_kib'] / 1024:.0f} MiB, {p['mux_process_fds']:,.0f} fds.",
        f"- Its stunnel: {p['stunnel_pss_kib'] / 1024:.0f} MiB and"
        f" {p['stunnel_fds']:,.0f} fds ({p['stunnel_fds_per_vp']:.2f} per VP: the TLS"
        " connection and the one to sc_remoted), and"
        f" {p['stunnel_results_per_cpu_s'] or 0:,.0f} results per CPU second.",
        f"- The controller's CPU: {p['results_per_cpu_s']:,.0f} single-reply results per CPU"
        f" second for sc_remoted and the mux together, so one fan-out to every VP costs"
        f" {p['fanout_cpu_s']:.1f} CPU seconds there.",
        f"- Its limits: file descriptors first ({p['sc_remoted_fds']:,.0f} for sc_remoted"
        f" and {p['stunnel_fds']:,.0f} for stunnel,"
        " far above the usual soft limit of 1,024: scamperlab raises its own, which they"
        " inherit; a unit of sc_remoted's own needs `LimitNOFILE=`); then the CPU of the"
        " mux, one Python process that decodes every result; memory"
        f" ({(p['sc_remoted_pss_kib'] + p['mux_process_pss_kib']) / 1024:,.0f} MiB) is no"
        " limit on any server.",
        "",
        "<!-- cluster:end -->",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vps-per-host", type=int, default=100)
    parser.add_argument("--hosts", default="1,2,3")
    parser.add_argument("--pings", type=int, default=5, help="pings per VP in the fan-out")
    parser.add_argument("--no-doc", action="store_true", help="only print and write JSON")
    args = parser.parse_args()
    counts = [int(h) for h in args.hosts.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 64 + 8 * args.vps_per_host * max(counts)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    data: dict[str, Any] = {
        "machine": machine(),
        "per_host": args.vps_per_host,
        "hosts": counts,
        "pings": args.pings,
        "rows": {},
    }
    for h in counts:
        n = h * args.vps_per_host
        with tempfile.TemporaryDirectory(prefix="slc-", dir="/run") as a:
            solo = one_host(n, Path(a), args.pings)
        with tempfile.TemporaryDirectory(prefix="slc-", dir="/run") as b:
            spread = cluster(n, h, Path(b), args.pings, "stunnel")
        with tempfile.TemporaryDirectory(prefix="slc-", dir="/run") as c:
            clear = cluster(n, h, Path(c), args.pings, "none")
        data["rows"][h] = {"n": n, "one_host": solo, "cluster": spread, "clear": clear}
        print(h, json.dumps(data["rows"][h]), flush=True)
    data["projection"] = projection({r["n"]: r for r in data["rows"].values()})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1))
    section = markdown(data)
    print(section)
    if not args.no_doc:
        write_section("cluster", "A lab over several hosts", section)


if __name__ == "__main__":
    main()
