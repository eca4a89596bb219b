"""``do_udpprobe`` → ``udpprobe ...``.

``dst``, ``dport`` and ``payload`` are required even though only the
port is range-checked; the port comparison is a plain ``<``, so a string
port raises the module's ``TypeError``.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, hexlify

__all__ = ["build_udpprobe"]


def build_udpprobe(
    dst: Any,
    dport: Any,
    payload: Any,
    *,
    attempts: Any = None,
    src: Any = None,
    stop_count: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``udpprobe`` command for ``ScamperCtrl.do_udpprobe``."""
    if dst is None or dport is None or payload is None:
        raise ValueError("must specify destination address, port, and payload")
    if dport < 1 or dport > 65535:
        raise ValueError(f"invalid destination port {dport}")

    cmd = CommandLine("udpprobe", "-d", str(dport), "-p", hexlify(payload))
    for flag, value in (("-c", attempts), ("-o", stop_count), ("-S", src), ("-U", userid)):
        if value is not None:
            cmd.add(flag, str(value))
    cmd.add(str(dst))
    return cmd.render()
