"""``do_ping`` → ``ping ...``.

Module 20260902 renamed ``recordroute`` to ``ip_rr`` and added ``tcp_mss``
and ``ip_ts``; scripts written for 20260420 still pass ``recordroute``,
so it is accepted here as a keyword-only alias of ``ip_rr``.  The
"method missing" message follows 20260902 ("... a TCP value"); 20260420
said "... a TCP sequence or acknowledgement value".
"""

from __future__ import annotations

from typing import Any

from .common import (
    CommandLine,
    check_ports,
    hexlify,
    is_scamper_addr,
    lower_method,
    seconds_arg,
)

__all__ = ["build_ping"]

_TS_KINDS = ("tsonly", "tsandaddr")


def _check_tcp(
    tcp_ack: Any, tcp_seq: Any, tcp_mss: Any, icmp_sum: Any, method: Any, lowered: Any
) -> None:
    if tcp_ack is None and tcp_seq is None and tcp_mss is None:
        return
    if lowered is None:
        raise ValueError("specify method when specifying a TCP value")
    if tcp_ack is not None and tcp_seq is not None:
        raise ValueError("can only specify either TCP sequence or acknowledgement value")
    if icmp_sum is not None:
        raise ValueError("cannot specify ICMP checksum with TCP parameters")
    if tcp_ack is not None and not lowered.startswith("tcp-ack"):
        raise ValueError("cannot specify tcp_ack with " + method)
    if tcp_seq is not None and not lowered.startswith(("tcp-syn", "tcp-rst")):
        raise ValueError("cannot specify tcp_seq with " + method)
    if tcp_mss is not None and not lowered.startswith("tcp-syn"):
        raise ValueError("cannot specify tcp_mss with " + method)


def _check_icmp(icmp_sum: Any, icmp_id: Any, icmp_seq: Any, method: Any, lowered: Any) -> None:
    # Without a method the ICMP fields are accepted and no -P is sent:
    # scamper's default method is already icmp-echo.
    if icmp_sum is None and icmp_id is None and icmp_seq is None:
        return
    if lowered is not None and not lowered.startswith("icmp"):
        raise ValueError("cannot specify ICMP parameters with " + method)


def _ip_ts_value(ip_ts: Any) -> str:
    if isinstance(ip_ts, str):
        if ip_ts.lower() not in _TS_KINDS:
            raise ValueError("unexpected ip_ts method")
        return ip_ts
    if not isinstance(ip_ts, list) or not all(
        isinstance(a, str) or is_scamper_addr(a) for a in ip_ts
    ):
        raise ValueError("ip_ts expected list of addresses")
    return "tsprespec=" + ",".join(str(a) for a in ip_ts)


def build_ping(
    dst: Any,
    *,
    tcp_ack: Any = None,
    tcp_seq: Any = None,
    tcp_mss: Any = None,
    attempts: Any = None,
    icmp_id: Any = None,
    icmp_seq: Any = None,
    icmp_sum: Any = None,
    dport: Any = None,
    sport: Any = None,
    wait_probe: Any = None,
    ttl: Any = None,
    mtu: Any = None,
    stop_count: Any = None,
    method: Any = None,
    payload: Any = None,
    rtr: Any = None,
    ip_rr: Any = None,
    ip_ts: Any = None,
    dltx: Any = None,
    size: Any = None,
    src: Any = None,
    wait_timeout: Any = None,
    tos: Any = None,
    userid: Any = None,
    recordroute: Any = None,
) -> str:
    """Build the ``ping`` command for ``ScamperCtrl.do_ping``."""
    if dst is None:
        raise ValueError("dst cannot be none")
    lowered = lower_method(method)
    _check_tcp(tcp_ack, tcp_seq, tcp_mss, icmp_sum, method, lowered)
    _check_icmp(icmp_sum, icmp_id, icmp_seq, method, lowered)
    check_ports(sport, dport, method, lowered)
    ts_value = None if ip_ts is None else _ip_ts_value(ip_ts)

    cmd = CommandLine("ping")
    for flag, value in (("-A", tcp_ack), ("-A", tcp_seq)):
        if value is not None:
            cmd.add(flag, str(value))
    if tcp_mss is not None:
        cmd.add("-O", "mss=" + str(tcp_mss))
    if payload is not None:
        cmd.add("-B", hexlify(payload))
    for flag, value in (
        ("-c", attempts),
        ("-C", icmp_sum),
        ("-d", dport),
        ("-d", icmp_seq),
        ("-F", sport),
        ("-F", icmp_id),
    ):
        if value is not None:
            cmd.add(flag, str(value))
    if wait_probe is not None:
        cmd.add("-i", seconds_arg(wait_probe))
    for flag, value in (("-m", ttl), ("-M", mtu), ("-o", stop_count), ("-P", method), ("-r", rtr)):
        if value is not None:
            cmd.add(flag, str(value))
    if ip_rr or recordroute:
        cmd.add("-R")
    if ts_value is not None:
        cmd.add("-T", ts_value)
    if dltx:
        cmd.add("-O", "dltx")
    for flag, value in (("-s", size), ("-S", src), ("-U", userid)):
        if value is not None:
            cmd.add(flag, str(value))
    if wait_timeout is not None:
        cmd.add("-W", seconds_arg(wait_timeout))
    if tos is not None:
        cmd.add("-z", str(tos))
    cmd.add(str(dst))
    return cmd.render()
