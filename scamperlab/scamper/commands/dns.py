"""``do_dns`` → ``host ...``.

``rd`` is inverted on the wire: scamper's ``-r`` *clears* recursion
desired, so it is sent for any falsy value other than ``None``.
``mqtypes`` exists from module 20260902 only (20260420 raises TypeError
for it); scamper 20260420 and older reject ``-O mqtypes=``.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, seconds_arg

__all__ = ["build_dns"]


def _mqtypes_value(mqtypes: Any) -> str:
    if not isinstance(mqtypes, list) or not mqtypes or not all(isinstance(t, str) for t in mqtypes):
        raise ValueError("mqtypes parameter was not a string list")
    return "mqtypes=" + ",".join(mqtypes)


def build_dns(
    qname: Any,
    *,
    server: Any = None,
    qclass: Any = None,
    qtype: Any = None,
    mqtypes: Any = None,
    attempts: Any = None,
    rd: Any = None,
    wait_timeout: Any = None,
    tcp: Any = None,
    nsid: Any = None,
    ecs: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``host`` command for ``ScamperCtrl.do_dns``."""
    if attempts is not None and attempts < 1:
        raise ValueError("attempts < 1")
    mq_value = None if mqtypes is None else _mqtypes_value(mqtypes)

    cmd = CommandLine("host")
    for flag, value in (("-s", server), ("-c", qclass), ("-t", qtype), ("-R", attempts)):
        if value is not None:
            cmd.add(flag, str(value))
    if wait_timeout is not None:
        cmd.add("-W", seconds_arg(wait_timeout))
    if userid is not None:
        cmd.add("-U", str(userid))
    if rd is not None and not rd:
        cmd.add("-r")
    if tcp:
        cmd.add("-T")
    if nsid:
        cmd.add("-O", "nsid")
    if ecs is not None:
        cmd.add("-O", "subnet=" + str(ecs))
    if mq_value is not None:
        cmd.add("-O", mq_value)
    cmd.add(str(qname))
    return cmd.render()
