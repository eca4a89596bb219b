"""``do_owamp`` → ``owamp ...``.

``startat`` is used only when it is a datetime (sent as
``startat.timestamp()``, so a naive value means local time) and
``schedule`` only when it is a str; other types are ignored silently,
as in the module.
"""

from __future__ import annotations

import datetime
from typing import Any

from .common import CommandLine, seconds_arg

__all__ = ["build_owamp"]


def build_owamp(
    dst: Any,
    direction: Any,
    *,
    attempts: Any = None,
    dscp: Any = None,
    schedule: Any = None,
    size: Any = None,
    startat: Any = None,
    ttl: Any = None,
    wait_timeout: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``owamp`` command for ``ScamperCtrl.do_owamp``."""
    if dst is None or direction is None:
        raise ValueError("must specify dst and direction")
    if direction not in ("tx", "rx"):
        raise ValueError("direction must be tx or rx")

    cmd = CommandLine("owamp")
    if isinstance(startat, datetime.datetime):
        cmd.add("-@", str(startat.timestamp()))
    if wait_timeout is not None:
        cmd.add("-w", seconds_arg(wait_timeout))
    if isinstance(schedule, str):
        cmd.add("-i", schedule)
    for flag, value in (
        ("-c", attempts),
        ("-s", size),
        ("-m", ttl),
        ("-D", dscp),
        ("-U", userid),
    ):
        if value is not None:
            cmd.add(flag, str(value))
    cmd.add("-d", str(direction), str(dst))
    return cmd.render()
