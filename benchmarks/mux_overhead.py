"""What the lab's mux adds to a measurement, beside the per-VP socket of the same scamper.

    sudo .venv/bin/python -m benchmarks.mux_overhead [--runs 300] [--state-dir DIR]

One small lab (2 VPs, no link delay). The same VP runs ``ping -c 1 -o 1``
(done at the first reply) to a target again and again, alternately through
(a) sc_remoted's per-VP unix
socket, the most direct way to reach a VP's scamper, and (b) a channel of
the lab's mux, which relays to that same socket; and (c) through
``ScamperCtrl(mux=...)`` with ``sync=True``, what a script pays. Each run is
timed from sending the command to receiving the result's last byte.
Prints p50/p99 of each and the overheads, as a Markdown table.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import struct
import tempfile
import time

from scamperlab.lab import Lab
from scamperlab.processes.remoted import scan_vp_sockets
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.generate import ring
from scamperlab.wire import mux as p
from scamperlab.wire.control import Data, SessionParser


def _read_result(
    sock: socket.socket, session: SessionParser, unframe: p.FrameReader | None
) -> None:
    """Read until one ping record has arrived (list/cycle records are skipped).

    One command is in flight per connection, so nothing after the ping is lost.
    """
    while True:
        data = sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        if unframe is not None:
            data = b"".join(payload for chan, payload in unframe.feed(data) if chan != 0)
        for event in session.feed(data):
            if isinstance(event, Data) and struct.unpack_from(">H", event.record, 2)[0] == 7:
                return


def _announced_id(mux: socket.socket, frames: p.FrameReader, name: str) -> int:
    """The mux's id for the VP called ``name``, read from its announcements."""
    while True:
        for chan, payload in frames.feed(mux.recv(65536)):
            message = p.decode_control(payload) if chan == 0 else None
            if isinstance(message, p.VpUpdate) and message.fields().get(p.Attr.NAME) == name:
                return message.vp_id


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument(
        "--state-dir", default=None, help="where the lab keeps its state (default: under /run)"
    )
    args = parser.parse_args()
    times = measure(args.runs, args.state_dir)
    base50 = percentile(times["per-VP socket"], 0.5)
    base99 = percentile(times["per-VP socket"], 0.99)
    print(f"{args.runs} pings each, alternating; times in ms from command to result")
    print()
    print("| path | p50 | p99 | mean | overhead p50 | overhead p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(
            f"| {name} | {p50:.3f} | {p99:.3f} | {statistics.mean(values):.3f} |"
            f" {p50 - base50:+.3f} | {p99 - base99:+.3f} |"
        )


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """p50/p99/mean of each path and its overhead over the per-VP socket, in ms."""
    base50 = percentile(times["per-VP socket"], 0.5)
    base99 = percentile(times["per-VP socket"], 0.99)
    out = {}
    for name, values in times.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        out[name] = {
            "p50": p50,
            "p99": p99,
            "mean": statistics.mean(values),
            "overhead_p50": p50 - base50,
            "overhead_p99": p99 - base99,
        }
    return out


def measure(runs: int, state_dir: str | None = None) -> dict[str, list[float]]:
    """Times (ms) of ``runs`` pings by each path, alternating, after 10 of warm-up."""
    topo = ring(2, 2, delay_ms=0.0, name="muxbench")
    with tempfile.TemporaryDirectory(prefix="slb-", dir=state_dir or "/run") as state:
        lab = Lab(topo, state_dir=state)
        lab.start()
        try:
            vp = lab.vps[0]
            target = lab.targets[0].ipv4
            command = f"ping -c 1 -o 1 {target}\n".encode()
            vp_socket = next(
                s.path for s in scan_vp_sockets(lab.socket_dir) if s.monitor == vp.name
            )

            direct = socket.socket(socket.AF_UNIX)
            direct.connect(str(vp_socket))
            direct_session = SessionParser()

            mux = socket.socket(socket.AF_UNIX)
            mux.connect(str(lab.mux_path))
            frames = p.FrameReader()
            vp_id = _announced_id(mux, frames, vp.name)
            mux.sendall(p.ChannelOpen(vp_id, 1).encode())
            mux_session = SessionParser()

            ctrl = ScamperCtrl(mux=str(lab.mux_path))
            inst = ctrl.add_vps([v for v in ctrl.vps() if v.name == vp.name])[0]

            times: dict[str, list[float]] = {
                "per-VP socket": [],
                "mux channel": [],
                "ScamperCtrl": [],
            }
            for i in range(runs + 10):
                start = time.perf_counter()
                direct.sendall(command)
                _read_result(direct, direct_session, None)
                t_direct = time.perf_counter() - start

                start = time.perf_counter()
                mux.sendall(p.frame(1, command))
                _read_result(mux, mux_session, frames)
                t_mux = time.perf_counter() - start

                start = time.perf_counter()
                ctrl.do_ping(target, attempts=1, stop_count=1, inst=inst, sync=True)
                t_ctrl = time.perf_counter() - start
                if i >= 10:  # warm-up
                    times["per-VP socket"].append(t_direct * 1000)
                    times["mux channel"].append(t_mux * 1000)
                    times["ScamperCtrl"].append(t_ctrl * 1000)
            ctrl.done()
            direct.close()
            mux.close()
        finally:
            lab.stop()
    return times


if __name__ == "__main__":
    main()
