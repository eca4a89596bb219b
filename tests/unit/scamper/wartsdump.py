"""What 20211212's ``sc_wartsdump`` prints of a host record, from scamperlab's decoding.

Debian's ``sc_warts2json`` (20211212) writes nothing for host records, its
``sc_wartsdump`` does: these turn a decoded :class:`ScamperHost` into the
lines ``sc_wartsdump`` prints for it, to compare the two readings of one file.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from scamperlab.scamper.results.host import ScamperHost, ScamperHostRR


def wartsdump_hosts(path: Path) -> list[list[str]]:
    text = subprocess.run(
        ["sc_wartsdump", str(path)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("host from"):
            current = [line]
            blocks.append(current)
        elif not line:
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _query_lines(h: ScamperHost) -> list[str]:
    out = []
    for i, q in enumerate(h._d.queries):
        assert h._d.start is not None and q.tx is not None
        tx = (q.tx[0] - h._d.start[0]) * 1_000_000 + q.tx[1] - h._d.start[1]
        rx = q.rx or (0, 0)
        rtt = (rx[0] - q.tx[0]) * 1_000_000 + rx[1] - q.tx[1]
        sec, usec = divmod(rtt, 1_000_000)  # sc_wartsdump borrows like this
        rtt_s = f"{sec}.{usec:06d}"
        out.append(
            f" query: {i}, id: {q.id}, tx: {tx // 1_000_000}.{tx % 1_000_000:06d}, "
            f"rtt: {rtt_s}, an: {q.ancount}, ns: {q.nscount}, ar: {q.arcount}"
        )
        for sect in ("an", "ns", "ar"):
            for rr in getattr(q, sect):
                text = str(ScamperHostRR._create(rr))
                if rr.rtype == 6:  # sc_wartsdump 20211212 prints no SOA data
                    text = " ".join(text.split(" ")[:4])
                out.append(f"  {sect}: {text}")
    return out


def wartsdump_block(h: ScamperHost) -> list[str]:
    """The lines ``sc_wartsdump`` prints for ``h``."""
    start = h.start
    expected = [
        f"host from {h.src} to {h.dst}",
        f" list id: {h.list.id if h.list else 0}, name: {h.list.name if h.list else ''}"
        + (f", monitor: {h.list.monitor}" if h.list and h.list.monitor else ""),
        f" cycle id: {h.cycle.id if h.cycle else 0}",
        # printed as a signed int: scamperlab's module tags with userids above 2**31
        f" user-id: {h.userid - (1 << 32) if h.userid >= 1 << 31 else h.userid}",
        f" start: {time.ctime(start.timestamp())} {start.microsecond:06d}",
    ]
    if h._d.flags:
        expected.append(" flags: norecurse")
    expected += [
        f" wait: {h.wait_timeout.seconds * 1000}ms, retries: {h._d.retries}",
        f" stop: {h.stop_reason_str}",
        f" qname: {h.qname}, qclass: {h.qclass}, qtype: {h.qtype}",
        f" qcount: {len(h._d.queries)}",
    ]
    return expected + _query_lines(h)
