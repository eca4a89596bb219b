"""Results per second through one ScamperCtrl: the client stack alone, then a real lab.

    sudo .venv/bin/python -m benchmarks.api_throughput [--vps 50] [--pings 20]

(a) **Client stack alone.** A unix socket server answers each command the
way a modern scamper does (``OK id-<n>``, then ``DATA <len> id-<n>`` with a
ping recorded from real scamper), as fast as the client reads. This is
the ceiling of the pure-Python API: parsing, uudecoding, warts decoding,
task matching and queueing, with no probing at all.

(b) **Fan-out in a lab.** A ring lab with ``--vps`` VPs; one ScamperCtrl
on the mux opens every VP and asks each for ``--pings`` single-reply pings
at once, then collects ``responses()``. Results per second from the first
command to the last result. Bounded by scamper (each VP's ``-p`` rate and
task start-up), not only by the client.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl, ScamperPing
from scamperlab.topology.generate import ring
from scamperlab.wire.uu import uuencode_object
from scamperlab.wire.warts.records import split_records

# The golden captures live beside the checkouts (/work/shared), whichever worktree runs this.
GOLDEN = next(
    (
        p / "shared" / "reference" / "golden" / "results.warts"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "reference" / "golden" / "results.warts").exists()
    ),
    Path("/work/shared/reference/golden/results.warts"),
)


def _record(rtype: int, body: bytes) -> bytes:
    return (
        (0x1205).to_bytes(2, "big") + rtype.to_bytes(2, "big") + len(body).to_bytes(4, "big") + body
    )


def _replay_server(path: str, ping: bytes, preamble: list[bytes], stop: threading.Event) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(1)
    conn, _ = server.accept()
    encoded = uuencode_object(ping)
    buf = b""
    task = 0
    while not stop.is_set():
        data = conn.recv(65536)
        if not data:
            break
        buf += data
        out = bytearray()
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line == b"attach":
                out += b"OK\n"
                for rec in preamble:
                    enc = uuencode_object(rec)
                    out += b"DATA %d\n" % len(enc) + enc
                out += b"MORE\n"
            elif line.startswith(b"ping"):
                task += 1
                out += (
                    b"OK id-%d\nDATA %d id-%d\n" % (task, len(encoded), task) + encoded + b"MORE\n"
                )
            elif line == b"done":
                out += b"OK\n"
        conn.sendall(out)
    conn.close()
    server.close()


def client_stack(count: int) -> float:
    records = list(split_records(GOLDEN.read_bytes()))
    preamble = [_record(t, b) for t, b in records if t in (1, 2)][:2]
    ping = next(_record(t, b) for t, b in records if t == 7)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/replay.sock"
        stop = threading.Event()
        thread = threading.Thread(
            target=_replay_server, args=(path, ping, preamble, stop), daemon=True
        )
        thread.start()
        while not Path(path).exists():
            time.sleep(0.01)
        ctrl = ScamperCtrl(unix=path)
        start = time.perf_counter()
        got = 0
        batch = 500
        for _ in range(0, count, batch):
            for _ in range(batch):
                ctrl.do_ping("192.0.2.1")
            for obj in ctrl.responses(timeout=30):
                assert isinstance(obj, ScamperPing)
                got += 1
        elapsed = time.perf_counter() - start
        ctrl.done()
        stop.set()
        del ctrl
        thread.join(timeout=5)
    return got / elapsed


def lab_fan_out(vps: int, pings: int) -> tuple[float, int]:
    base = ring(vps, 4, delay_ms=0.0, name="thrbench")
    topo = base.model_copy(update={"defaults": base.defaults.model_copy(update={"rate": 10000})})
    with (
        tempfile.TemporaryDirectory(prefix="slb-", dir="/run") as state,
        Lab(topo, state_dir=state) as lab,
    ):
        targets = [t.ipv4 for t in lab.targets]
        ctrl = ScamperCtrl(mux=str(lab.mux_path))
        insts = ctrl.add_vps(ctrl.vps())
        start = time.perf_counter()
        for i in range(pings):
            for inst in insts:
                ctrl.do_ping(targets[i % len(targets)], attempts=1, stop_count=1, inst=inst)
        got = sum(1 for _ in ctrl.responses(timeout=120))
        elapsed = time.perf_counter() - start
        ctrl.done()
        del insts, ctrl
    return got / elapsed, got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vps", type=int, default=50)
    parser.add_argument("--pings", type=int, default=20)
    parser.add_argument("--replayed", type=int, default=20000)
    args = parser.parse_args()
    stack = client_stack(args.replayed)
    print(f"client stack: {stack:,.0f} results/s", flush=True)
    rate, got = lab_fan_out(args.vps, args.pings)
    print("| what | results/s | results |")
    print("|---|---:|---:|")
    print(f"| pure-Python client stack alone (replayed pings) | {stack:,.0f} | {args.replayed} |")
    print(f"| fan-out to {args.vps} lab VPs, {args.pings} pings each | {rate:,.0f} | {got} |")


if __name__ == "__main__":
    main()
