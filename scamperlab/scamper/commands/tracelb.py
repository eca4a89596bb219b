"""``do_tracelb`` → ``tracelb ...`` (MDA traceroute).

The source port is emitted late (after ``-r``), unlike ``trace``, and
``ptr`` only counts when it is the object ``True``.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, check_ports, lower_method, seconds_arg

__all__ = ["build_tracelb"]


def build_tracelb(
    dst: Any,
    *,
    confidence: Any = None,
    dport: Any = None,
    firsthop: Any = None,
    gaplimit: Any = None,
    method: Any = None,
    attempts: Any = None,
    ptr: Any = None,
    rtr: Any = None,
    sport: Any = None,
    tos: Any = None,
    wait_timeout: Any = None,
    wait_probe: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``tracelb`` command for ``ScamperCtrl.do_tracelb``."""
    check_ports(sport, dport, method, lower_method(method))

    cmd = CommandLine("tracelb")
    for flag, value in (
        ("-c", confidence),
        ("-d", dport),
        ("-f", firsthop),
        ("-g", gaplimit),
        ("-P", method),
        ("-q", attempts),
    ):
        if value is not None:
            cmd.add(flag, str(value))
    if ptr is True:
        cmd.add("-O", "ptr")
    for flag, value in (("-r", rtr), ("-s", sport), ("-t", tos), ("-U", userid)):
        if value is not None:
            cmd.add(flag, str(value))
    if wait_timeout is not None:
        cmd.add("-w", seconds_arg(wait_timeout))
    if wait_probe is not None:
        cmd.add("-W", seconds_arg(wait_probe))
    cmd.add(str(dst))
    return cmd.render()
