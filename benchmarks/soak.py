"""Soak: a 100-VP lab under steady measurement while it is knocked about, for minutes.

    sudo .venv/bin/python -m benchmarks.soak [--vps 100] [--minutes 4] [--no-doc]

A ring lab (``benchmarks.scale``'s topology) runs in a child process, as a
user's ``scamperlab up`` would; this process is only its users. Half the VPs
are *steady*: one ``ScamperCtrl`` on the mux asks each of them for a ping
every two seconds, the whole time. The other half are *churned*, and every
few seconds one of these happens, in turn:

* a churned VP's scamper is killed with SIGKILL (the lab restarts it);
* a ring link is cut, and restored at the next turn;
* a client opens channels to a few VPs (steady ones included), starts pings
  and disconnects in the middle of their results;
* a client writes garbage to the mux: random bytes, then a frame header
  announcing 1 GiB.

Reported: for the steady VPs, results expected (pings asked for) and
received (must be equal, and their scampers never restarted); restarts of
the churned VPs; RSS and open fds of the lab's processes (the owner, which
serves the mux, and everything it started) sampled every 10 s; and what is
left once the lab is down (its processes, processes in its namespaces, its
state directory). The load average is beside every figure. Writes
``benchmarks/results/soak.json`` and the section between the ``soak``
markers of ``docs/benchmarks.md`` unless ``--no-doc``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

from benchmarks.doc import markers, write_section
from benchmarks.scale import loadavg
from scamperlab.emulation.netns import processes_in
from scamperlab.lab.state import process_starttime
from scamperlab.scamper import ScamperCtrl
from scamperlab.wire import mux as wire

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "soak.json"
START, END = markers("soak")
PING_EVERY = 2.0  # seconds between two pings of one steady VP
CHAOS_EVERY = 3.0  # seconds between two faults
SAMPLE_EVERY = 10.0  # seconds between two memory/fd samples
ROUTERS = 8

# The lab's owner: starts the lab, then obeys one command a line on stdin.
OWNER = """
import json, sys
from scamperlab.lab import Lab
from scamperlab.topology.generate import ring
lab = Lab(ring(int(sys.argv[1]), int(sys.argv[2]), name=sys.argv[3]), state_dir=sys.argv[4])
lab.start()
def answer(value):
    print(json.dumps(value), flush=True)
answer({"mux": str(lab.mux_path), "state": str(lab.state.dir),
        "targets": [t.ipv4 for t in lab.targets],
        "vps": {vp.name: vp.ipv4 for vp in lab.vps}})
for line in sys.stdin:
    cmd, *args = line.split()
    if cmd == "cut":
        lab.cut_link(*args)
    elif cmd == "restore":
        lab.restore_link(*args)
    elif cmd == "vps":
        answer({r["name"]: [r["pid"], r["restarts"]] for r in lab.vp_status()})
        continue
    elif cmd == "stop":
        lab.stop()
    answer("ok")
    if cmd == "stop":
        break
"""


class Owner:
    """The child process that owns the lab, and the line protocol to it."""

    def __init__(self, vps: int, state_root: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", OWNER, str(vps), str(ROUTERS), "soak", state_root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.info = self._answer()

    def _answer(self) -> Any:
        out: IO[str] | None = self.proc.stdout
        assert out is not None
        line = out.readline()
        if not line:
            raise SystemExit(f"the lab's owner exited ({self.proc.wait()})")
        return json.loads(line)

    def ask(self, command: str) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._answer()


def ticks() -> int:
    """Now, as /proc/PID/stat counts a process's start: the kernel reuses namespace
    inodes, so only a process born by then is surely one of the lab's."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK")) + 1


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (scamper's helpers, servers' workers)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [root], [root]
    while todo:
        pid = todo.pop()
        kids = [child for child, ppid in parent.items() if ppid == pid]
        found += kids
        todo += kids
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def sample(owner: int, started: float) -> dict[str, Any]:
    pids = descendants(owner)
    by_program: Counter[str] = Counter()
    for pid in pids:
        by_program[program(pid) if pid != owner else "owner (mux)"] += fds(pid)
    return {
        "t_s": round(time.monotonic() - started, 1),
        "processes": len(pids),
        "rss_mib": round(sum(rss_kib(p) for p in pids) / 1024, 1),
        "fds": sum(fds(p) for p in pids),
        "owner_rss_mib": round(rss_kib(owner) / 1024, 1),
        "owner_fds": fds(owner),
        "fds_by_program": dict(by_program),
        "load": loadavg(),
    }


def _mux_client(path: str) -> tuple[socket.socket, dict[str, int]]:
    """A raw mux connection, read up to *go*: the socket and ``{VP name: mux id}``."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(path)
    frames, ids = wire.FrameReader(), {}
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the mux closed the connection before go")
        for chan, payload in frames.feed(data):
            message = wire.decode_control(payload) if chan == 0 else None
            if isinstance(message, wire.VpUpdate):
                ids[message.fields()[wire.Attr.NAME]] = message.vp_id
            elif isinstance(message, wire.VpDeparted):
                ids = {n: i for n, i in ids.items() if i != message.vp_id}
            elif isinstance(message, wire.Go):
                return sock, ids


def disconnect_mid_stream(path: str, names: list[str], target: str) -> None:
    sock, ids = _mux_client(path)
    try:
        for chan, name in enumerate((n for n in names if n in ids), start=1):
            sock.sendall(wire.ChannelOpen(ids[name], chan).encode())
            sock.sendall(wire.frame(chan, f"ping -c 5 -i 1 {target}\n".encode()))
        time.sleep(1.5)  # results are flowing
        sock.recv(65536)
    finally:
        sock.close()


def write_garbage(path: str, rng: random.Random) -> None:
    for junk in (rng.randbytes(4096), struct.pack(">II", 0, 1 << 30) + b"x" * 100):
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(10)
        try:
            sock.connect(path)
            sock.sendall(junk)
        except OSError:
            pass  # dropped by the mux while writing: what garbage deserves
        finally:
            sock.close()


def soak(vps: int, minutes: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="sl-soak-", dir="/run") as state_root:
        load_before = loadavg()
        owner = Owner(vps, state_root)
        info = owner.info
        names = sorted(info["vps"])
        steady, churned = names[: vps // 2], names[vps // 2 :]
        by_address = {info["vps"][n]: n for n in steady}
        targets: list[str] = info["targets"]
        first = owner.ask("vps")
        state = json.loads((Path(info["state"]) / "state.json").read_text())
        tracked = {p["pid"]: p["starttime"] for p in state["processes"]}
        holders = [p["pid"] for p in state["processes"] if p["kind"] == "shell"]
        namespaces = {os.stat(f"/proc/{pid}/ns/net").st_ino for pid in holders}
        taken = ticks()  # anything in those namespaces born by now is the lab's

        ctrl = ScamperCtrl(mux=info["mux"])
        insts = {i.name: i for i in ctrl.add_vps([v for v in ctrl.vps() if v.name in steady])}
        expected: Counter[str] = Counter()
        received: Counter[str] = Counter()
        faults: Counter[str] = Counter()
        samples: list[dict[str, Any]] = []
        started = time.monotonic()
        end = started + minutes * 60
        next_ping = next_chaos = next_sample = started
        cut: tuple[str, str] | None = None
        turn = 0
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_ping:
                for i, name in enumerate(steady):
                    ctrl.do_ping(targets[(i + turn) % len(targets)], attempts=1, inst=insts[name])
                    expected[name] += 1
                next_ping += PING_EVERY
            if now >= next_sample:
                samples.append(sample(owner.proc.pid, started))
                next_sample += SAMPLE_EVERY
            if now >= next_chaos:
                kind = ("kill", "cut", "disconnect", "garbage")[turn % 4]
                if cut is not None:
                    owner.ask(f"restore {cut[0]} {cut[1]}")
                    cut = None
                if kind == "kill":
                    pid = owner.ask("vps")[rng.choice(churned)][0]
                    if pid is not None:
                        os.kill(pid, signal.SIGKILL)
                elif kind == "cut":
                    i = rng.randrange(ROUTERS)
                    cut = (f"r{i}", f"r{(i + 1) % ROUTERS}")
                    owner.ask(f"cut {cut[0]} {cut[1]}")
                elif kind == "disconnect":
                    picks = rng.sample(steady, 2) + rng.sample(churned, 3)
                    disconnect_mid_stream(info["mux"], picks, rng.choice(targets))
                else:
                    write_garbage(info["mux"], rng)
                faults[kind] += 1
                turn += 1
                next_chaos += CHAOS_EVERY
            wait = min(next_ping, next_chaos, next_sample, end) - time.monotonic()
            for obj in ctrl.responses(timeout=max(0.01, wait)):
                name = by_address.get(str(obj.src))
                if name is not None:
                    received[name] += 1
        if cut is not None:
            owner.ask(f"restore {cut[0]} {cut[1]}")
        # Every ping asked for has a result, replies or not: collect the last ones.
        for obj in ctrl.responses(timeout=30):
            name = by_address.get(str(obj.src))
            if name is not None:
                received[name] += 1
        samples.append(sample(owner.proc.pid, started))
        last = owner.ask("vps")
        ctrl.done()
        del insts, ctrl
        load_at_down = loadavg()
        begin = time.monotonic()
        owner.ask("stop")
        down_s = time.monotonic() - begin
        owner.proc.wait(timeout=60)
        stayed = [n for n in steady if last[n][0] == first[n][0]]
        return {
            "vps": vps,
            "minutes": minutes,
            "seed": seed,
            "load_before": load_before,
            "load_at_down": load_at_down,
            "faults": dict(faults),
            "steady_vps": len(steady),
            "steady_stayed_up": len(stayed),
            "expected": sum(expected[n] for n in stayed),
            "received": sum(received[n] for n in stayed),
            "short": {n: expected[n] - received[n] for n in stayed if expected[n] != received[n]},
            "restarts_steady": sum(last[n][1] - first[n][1] for n in steady),
            "restarts_churned": sum(last[n][1] - first[n][1] for n in churned),
            "samples": samples,
            "down_s": down_s,
            "left_tracked": sum(1 for p, st in tracked.items() if process_starttime(p) == st),
            "left_in_namespaces": sum(
                1
                for pid in processes_in(namespaces)
                if (st := process_starttime(pid)) is not None and st <= taken
            ),
            "state_left": Path(info["state"]).exists(),
        }


def markdown(r: dict[str, Any]) -> str:
    first, last = r["samples"][1] if len(r["samples"]) > 1 else r["samples"][0], r["samples"][-1]
    left = r["left_tracked"] + r["left_in_namespaces"] + int(r["state_left"])
    faults = ", ".join(f"{count} {kind}" for kind, count in sorted(r["faults"].items()))
    lines = [
        START,
        "",
        f"`python -m benchmarks.soak`: a {r['vps']}-VP ring lab for {r['minutes']:g} minutes;",
        f"{r['steady_vps']} steady VPs pinged every {PING_EVERY:g} s through one `ScamperCtrl`",
        f"while, every {CHAOS_EVERY:g} s in turn, a churned VP is killed, a ring link is cut",
        "(restored at the next turn), a client disconnects mid-stream and garbage is written",
        f"to the mux ({faults}). Load average before: {r['load_before']}.",
        "",
        "| measure | value | load average |",
        "| --- | --- | --- |",
        f"| steady VPs that stayed up | {r['steady_stayed_up']} of {r['steady_vps']}"
        f" ({r['restarts_steady']} restarts) | {last['load']} |",
        f"| results expected / received (those VPs) | {r['expected']:,} / {r['received']:,}"
        f" | {last['load']} |",
        f"| restarts of churned VPs | {r['restarts_churned']} | {last['load']} |",
        f"| RSS of the lab's processes, at {first['t_s']:g} s and at the end"
        f" | {first['rss_mib']:,.0f} MiB, {last['rss_mib']:,.0f} MiB"
        f" | {first['load']}; {last['load']} |",
        f"| the owner's (mux) RSS | {first['owner_rss_mib']:.0f} MiB,"
        f" {last['owner_rss_mib']:.0f} MiB | {first['load']}; {last['load']} |",
        f"| open fds of the lab's processes | {first['fds']:,}, {last['fds']:,}"
        f" | {first['load']}; {last['load']} |",
        f"| the owner's (mux) open fds | {first['owner_fds']}, {last['owner_fds']}"
        f" | {first['load']}; {last['load']} |",
        f"| `down` took | {r['down_s']:.2f} s | {r['load_at_down']} |",
        f"| left after `down` | {'nothing' if left == 0 else f'{left} item(s)'}"
        f" | {r['load_at_down']} |",
        "",
        "Open fds by program, where they changed between those two samples: "
        + (
            ", ".join(
                f"{name} {first['fds_by_program'].get(name, 0)} → {count}"
                for name, count in sorted(last["fds_by_program"].items())
                if count != first["fds_by_program"].get(name, 0)
            )
            or "none"
        )
        + ".",
        "",
        "Samples every 10 s (time, processes, RSS MiB, fds, load average):",
        "",
        "```text",
        *(
            f"{s['t_s']:6.0f} s {s['processes']:5d} {s['rss_mib']:8.1f} {s['fds']:6d}  {s['load']}"
            for s in r["samples"]
        ),
        "```",
        "",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vps", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    result = soak(args.vps, args.minutes, args.seed)
    RESULTS.write_text(json.dumps(result, indent=1))
    section = markdown(result)
    print(section)
    if not args.no_doc:
        write_section("soak", "Soak: a lab knocked about for minutes", section)
    if result["expected"] != result["received"]:
        raise SystemExit(f"results missing from steady VPs: {result['short']}")


if __name__ == "__main__":
    main()
