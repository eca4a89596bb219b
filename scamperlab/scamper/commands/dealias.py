"""Alias-resolution builders: ``dealias -m <technique> ...``.

Behaviour observed in module 20260420 and kept here:

* ally/prefixscan accept ``attempts`` but never send ``-q`` (the API
  notes claim ``-q``; the recorded module does not send it).
* ally/prefixscan build one probedef from ``method``/``sport``/``dport``/
  ``icmp_sum``; ``icmp_sum`` without a method implies ``icmp-echo``, and
  combined with a port and no method it fails with the module's own
  ``TypeError`` (it concatenates ``None`` into the message).
* radargun/midarest/midardisc insist on ``int`` for ``rounds``/``userid``
  and on probedef objects; midarest/midardisc send durations as whole
  milliseconds or seconds without a unit, radargun as ``<secs>s``.
"""

from __future__ import annotations

import datetime
from typing import Any

from .common import (
    CommandLine,
    check_ports,
    is_scamper_addr,
    iterate,
    lower_method,
    seconds_arg,
    to_timedelta,
    whole_ms,
    whole_s,
)
from .dealias_types import ScamperDealiasMidardiscRound, ScamperDealiasProbedef

__all__ = [
    "build_ally",
    "build_mercator",
    "build_midardisc",
    "build_midarest",
    "build_prefixscan",
    "build_radargun",
]


def _pair_probedef(
    icmp_sum: Any, dport: Any, sport: Any, method: Any, default: str | None
) -> str | None:
    """Validate ally/prefixscan probe fields; return the ``-P ...`` text or None."""
    lowered = lower_method(method)
    if icmp_sum is not None:
        if lowered is None:
            lowered = "icmp-echo"
        elif not lowered.startswith("icmp"):
            raise ValueError("do not specify icmp_sum with " + method)
        if sport is not None or dport is not None:
            raise ValueError("cannot specify source or destination port with " + method)
    check_ports(sport, dport, method, lowered)
    if lowered is None:
        lowered = default
    if lowered is None:
        return None
    text: str = "-P " + lowered
    for flag, value in (("-F", sport), ("-d", dport), ("-c", icmp_sum)):
        if value is not None:
            text += f" {flag} " + str(value)
    return text


def _pair_options(
    cmd: CommandLine, fudge: Any, userid: Any, wait_probe: Any, wait_timeout: Any
) -> None:
    if fudge is not None:
        if fudge == 0:
            cmd.add("-O", "inseq")
        else:
            cmd.add("-f", str(fudge))
    if userid is not None:
        cmd.add("-U", str(userid))
    if wait_probe is not None:
        cmd.add("-W", seconds_arg(wait_probe))
    if wait_timeout is not None:
        cmd.add("-w", seconds_arg(wait_timeout))


def build_ally(
    dst1: Any,
    dst2: Any,
    *,
    fudge: Any = None,
    icmp_sum: Any = None,
    dport: Any = None,
    sport: Any = None,
    method: Any = None,
    attempts: Any = None,
    wait_probe: Any = None,
    wait_timeout: Any = None,
    userid: Any = None,
) -> str:
    """Build ``dealias -m ally`` for ``ScamperCtrl.do_ally``."""
    del attempts  # accepted but not sent, as in the module
    probedef = _pair_probedef(icmp_sum, dport, sport, method, None)
    cmd = CommandLine("dealias", "-m", "ally")
    if probedef is not None:
        cmd.add("-p", f"'{probedef}'")
    _pair_options(cmd, fudge, userid, wait_probe, wait_timeout)
    cmd.add(str(dst1), str(dst2))
    return cmd.render()


def build_mercator(dst: Any, *, userid: Any = None) -> str:
    """Build ``dealias -m mercator`` for ``ScamperCtrl.do_mercator``."""
    cmd = CommandLine("dealias", "-m", "mercator")
    if userid is not None:
        cmd.add("-U", str(userid))
    cmd.add(str(dst))
    return cmd.render()


def build_prefixscan(
    near: Any,
    far: Any,
    prefixlen: Any,
    *,
    fudge: Any = None,
    icmp_sum: Any = None,
    dport: Any = None,
    sport: Any = None,
    method: Any = None,
    attempts: Any = None,
    wait_probe: Any = None,
    wait_timeout: Any = None,
    userid: Any = None,
) -> str:
    """Build ``dealias -m prefixscan`` for ``ScamperCtrl.do_prefixscan``."""
    del attempts  # accepted but not sent, as in the module
    probedef = _pair_probedef(icmp_sum, dport, sport, method, "udp")
    if fudge is not None and (fudge < 0 or fudge > 65535):
        raise ValueError("fudge value must be between 0-65535")
    cmd = CommandLine("dealias", "-m", "prefixscan", "-p", f"'{probedef}'")
    _pair_options(cmd, fudge, userid, wait_probe, wait_timeout)
    cmd.add(str(near), str(far) + "/" + str(prefixlen))
    return cmd.render()


def _int_option(cmd: CommandLine, flag: str, value: Any, name: str) -> None:
    if value is not None:
        if not isinstance(value, int):
            raise ValueError(f"{name} not an integer")
        cmd.add(flag, str(value))


def _positive_seconds(value: Any, name: str) -> str:
    td = to_timedelta(value)
    if td <= datetime.timedelta(0):
        raise ValueError(f"{name} must be greater than zero")
    return seconds_arg(td)


def _probedef_args(probedefs: Any, need_dst: bool | None) -> list[str]:
    """Render ``-p`` values; ``need_dst`` True/False enforces dst presence/absence."""
    out = []
    for pd in iterate(probedefs):
        if not isinstance(pd, ScamperDealiasProbedef):
            raise ValueError("expected probedef in probedefs")
        if need_dst is True and pd.dst is None:
            raise ValueError("missing IP address in probedef")
        if need_dst is False and pd.dst is not None:
            raise ValueError("unexpected IP address in probedef")
        out.append(f"'{pd}'")
    return out


def build_radargun(
    *,
    addrs: Any = None,
    rounds: Any = None,
    probedefs: Any = None,
    wait_probe: Any = None,
    wait_round: Any = None,
    wait_timeout: Any = None,
    userid: Any = None,
) -> str:
    """Build ``dealias -m radargun`` for ``ScamperCtrl.do_radargun``."""
    if probedefs is None:
        raise ValueError("missing probedefs")
    cmd = CommandLine("dealias", "-m", "radargun")
    _int_option(cmd, "-q", rounds, "rounds")
    _int_option(cmd, "-U", userid, "userid")
    if wait_probe is not None:
        cmd.add("-W", _positive_seconds(wait_probe, "wait_probe"))
    if wait_round is not None:
        cmd.add("-r", _positive_seconds(wait_round, "wait_round"))
    if wait_timeout is not None:
        td = to_timedelta(wait_timeout)
        if not td >= datetime.timedelta(seconds=1):
            raise ValueError("wait_timeout must be at least 1s")
        cmd.add("-w", seconds_arg(td))
    for pd in _probedef_args(probedefs, need_dst=addrs is None):
        cmd.add("-p", pd)
    if addrs is not None:
        for addr in iterate(addrs):
            cmd.add(str(addr))
    return cmd.render()


def _ms_option(cmd: CommandLine, flag: str, value: Any, name: str) -> None:
    if value is not None:
        ms = whole_ms(to_timedelta(value))
        if ms <= 0:
            raise ValueError(f"{name} must be at least 1ms")
        cmd.add(flag, str(ms))


def _wait_timeout_s(cmd: CommandLine, value: Any) -> None:
    if value is not None:
        seconds = whole_s(to_timedelta(value))
        if seconds <= 0:
            raise ValueError("wait_timeout must be at least 1s")
        cmd.add("-w", str(seconds))


def build_midarest(
    *,
    rounds: Any = None,
    wait_probe: Any = None,
    wait_round: Any = None,
    wait_timeout: Any = None,
    probedefs: Any = None,
    addrs: Any = None,
    userid: Any = None,
) -> str:
    """Build ``dealias -m midarest`` for ``ScamperCtrl.do_midarest``."""
    if probedefs is None:
        raise ValueError("missing probedefs")
    if addrs is None:
        raise ValueError("missing addrs")
    cmd = CommandLine("dealias", "-m", "midarest")
    _int_option(cmd, "-q", rounds, "rounds")
    _int_option(cmd, "-U", userid, "userid")
    _ms_option(cmd, "-W", wait_probe, "wait_probe")
    _wait_timeout_s(cmd, wait_timeout)
    _ms_option(cmd, "-r", wait_round, "wait_round")
    for pd in _probedef_args(probedefs, need_dst=None):
        cmd.add("-p", pd)
    for addr in iterate(addrs):
        if not (isinstance(addr, str) or is_scamper_addr(addr)):
            raise ValueError("expected str in addrs")
        cmd.add(str(addr))
    return cmd.render()


def build_midardisc(
    *,
    probedefs: Any = None,
    schedule: Any = None,
    startat: Any = None,
    wait_timeout: Any = None,
    userid: Any = None,
) -> str:
    """Build ``dealias -m midardisc`` for ``ScamperCtrl.do_midardisc``."""
    if probedefs is None:
        raise ValueError("missing probedefs")
    if schedule is None:
        raise ValueError("missing schedule")
    cmd = CommandLine("dealias", "-m", "midardisc")
    _int_option(cmd, "-U", userid, "userid")
    _wait_timeout_s(cmd, wait_timeout)
    if startat is not None:
        if not isinstance(startat, datetime.datetime):
            raise ValueError("startat not a datetime")
        cmd.add("-@", str(startat.timestamp()))
    for pd in _probedef_args(probedefs, need_dst=True):
        cmd.add("-p", pd)
    for rnd in iterate(schedule):
        if not isinstance(rnd, ScamperDealiasMidardiscRound):
            raise ValueError("expected round in schedule")
        cmd.add("-S", str(rnd))
    return cmd.render()
