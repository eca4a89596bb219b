"""``do_trace`` → ``trace ...``.

Quirks kept from the module: ``icmp_sum``/``icmp_id`` without a method
select ``icmp-paris`` (and ``-P icmp-paris`` is sent); ``pmtud``, ``ptr``
and ``all_attempts`` only count when they are the object ``True``; a
``None`` destination is sent as the text ``None``.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, check_ports, hexlify, lower_method, seconds_arg

__all__ = ["build_trace"]


def _icmp_method(icmp_sum: Any, icmp_id: Any, method: Any, lowered: Any) -> Any:
    """Validate the ICMP fields; return the method to send (maybe implied)."""
    if icmp_sum is not None:
        if lowered is None:
            lowered = method = "icmp-paris"
        elif lowered != "icmp-paris":
            raise ValueError("cannot specify ICMP checksum with " + method)
    if icmp_id is not None:
        if lowered is None:
            lowered = method = "icmp-paris"
        elif not lowered.startswith("icmp"):
            raise ValueError("cannot specify ICMP ID with " + method)
    return method


def build_trace(
    dst: Any,
    *,
    confidence: Any = None,
    dport: Any = None,
    icmp_id: Any = None,
    icmp_sum: Any = None,
    firsthop: Any = None,
    gaplimit: Any = None,
    loops: Any = None,
    hoplimit: Any = None,
    pmtud: Any = None,
    squeries: Any = None,
    ptr: Any = None,
    payload: Any = None,
    method: Any = None,
    attempts: Any = None,
    all_attempts: Any = None,
    rtr: Any = None,
    sport: Any = None,
    src: Any = None,
    tos: Any = None,
    wait_timeout: Any = None,
    wait_probe: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``trace`` command for ``ScamperCtrl.do_trace``."""
    lowered = lower_method(method)
    check_ports(sport, dport, method, lowered)
    method = _icmp_method(icmp_sum, icmp_id, method, lowered)

    cmd = CommandLine("trace")
    for flag, value in (
        ("-s", sport),
        ("-d", dport),
        ("-d", icmp_sum),
        ("-s", icmp_id),
        ("-C", confidence),
        ("-f", firsthop),
        ("-g", gaplimit),
        ("-l", loops),
        ("-m", hoplimit),
    ):
        if value is not None:
            cmd.add(flag, str(value))
    if pmtud is True:
        cmd.add("-M")
    if squeries is not None:
        cmd.add("-N", str(squeries))
    if ptr is True:
        cmd.add("-O", "ptr")
    if payload is not None:
        cmd.add("-p", hexlify(payload))
    for flag, value in (("-P", method), ("-q", attempts)):
        if value is not None:
            cmd.add(flag, str(value))
    if all_attempts is True:
        cmd.add("-Q")
    for flag, value in (("-r", rtr), ("-S", src), ("-t", tos), ("-U", userid)):
        if value is not None:
            cmd.add(flag, str(value))
    if wait_timeout is not None:
        cmd.add("-w", seconds_arg(wait_timeout))
    if wait_probe is not None:
        cmd.add("-W", seconds_arg(wait_probe))
    cmd.add(str(dst))
    return cmd.render()
