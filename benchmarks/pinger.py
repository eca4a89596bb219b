"""A microsecond-resolution pinger, run inside a lab node by ``benchmarks.delay``.

iputils ping prints an RTT over 100 ms as a whole number of milliseconds,
too coarse to tell a 0.5 ms error at 150 ms; this sends ICMP echo requests
on a raw socket and takes each reply's arrival time from the kernel
(``SO_TIMESTAMPNS``), so the holder's error is not blurred by this
program's own scheduling on the way back.

    python3 pinger.py DST COUNT INTERVAL   -> one JSON line: {"sent": N, "rtts_ms": [...]}
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
import time

from scamperlab.wire.icmp import echo_reply, echo_request

SO_TIMESTAMPNS = 35


def main() -> None:
    dst, count, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    ident = os.getpid() & 0xFFFF
    sent: dict[int, int] = {}
    rtts: list[float] = []
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    next_send = time.monotonic()
    seq = 0
    # CLOCK_REALTIME of the kernel timestamp vs CLOCK_MONOTONIC of our sends: take the offset.
    offset = time.time_ns() - time.monotonic_ns()
    deadline = None
    while True:
        now = time.monotonic()
        if seq < count and now >= next_send:
            packet = echo_request(ident, seq, b"scamperlab-bench".ljust(32, b"."))
            sent[seq] = time.monotonic_ns()
            sock.sendto(packet, (dst, 0))
            seq += 1
            next_send += interval
            if seq == count:
                deadline = now + 3.0
        if deadline is not None and (now > deadline or len(rtts) == count):
            break
        wait = max(0.0, next_send - time.monotonic()) if seq < count else 0.05
        for _ in poller.poll(wait * 1000):
            while True:
                try:
                    data, ancdata, _, _ = sock.recvmsg(2048, 256)
                except BlockingIOError:
                    break
                reply = echo_reply(data)
                if reply is None or reply[0] != ident or reply[1] not in sent:
                    continue
                rseq = reply[1]
                arrived = time.monotonic_ns()
                for level, typ, value in ancdata:
                    if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("=qq", value[:16])
                        arrived = sec * 1_000_000_000 + nsec - offset
                rtts.append((arrived - sent.pop(rseq)) / 1e6)
    print(json.dumps({"sent": count, "rtts_ms": rtts}))


if __name__ == "__main__":
    main()
