"""``do_sniff`` → ``sniff -S <src> ... icmp[icmpid] == <id>``.

``limit_time`` is checked on its whole-seconds field after conversion to
a timedelta, so 0.5 s is rejected while 1.5 s is sent as ``1.5s``.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, seconds_arg, to_timedelta, whole_s

__all__ = ["build_sniff"]


def build_sniff(
    src: Any,
    icmp_id: Any,
    *,
    limit_pkt_count: Any = None,
    limit_time: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``sniff`` command for ``ScamperCtrl.do_sniff``."""
    if icmp_id < 0 or icmp_id > 65535:
        raise ValueError("invalid ICMP ID")
    if limit_pkt_count is not None and limit_pkt_count < 1:
        raise ValueError("invalid limit_pkt_count")
    if limit_time is not None and whole_s(to_timedelta(limit_time)) < 1:
        raise ValueError("invalid limit_time")

    cmd = CommandLine("sniff", "-S", str(src))
    if limit_pkt_count is not None:
        cmd.add("-c", str(limit_pkt_count))
    if limit_time is not None:
        cmd.add("-G", seconds_arg(limit_time))
    if userid is not None:
        cmd.add("-U", str(userid))
    cmd.add("icmp[icmpid]", "==", str(icmp_id))
    return cmd.render()
