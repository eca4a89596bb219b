"""A VP's restart back-off counts failures in a row, not every failure of its life."""

from __future__ import annotations

from pathlib import Path

from scamperlab.processes.vantage import STABLE_S, VpProcess


def _vp() -> VpProcess:
    return VpProcess("vp1", ["scamper"], Path("/nonexistent/vp1.log"))


def test_a_crash_loop_backs_off_up_to_30_s() -> None:
    vp = _vp()
    delays = [vp.next_delay(now=float(i)) for i in range(9)]
    assert delays == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_vp_that_was_up_long_enough_restarts_at_once() -> None:
    vp = _vp()
    for i in range(8):
        vp.next_delay(now=float(i))
    vp.spawned_at, vp.was_up = 100.0, True
    assert vp.next_delay(now=100.0 + STABLE_S) == 0.0
    vp.spawned_at, vp.was_up = 100.0 + STABLE_S, False  # restarted, and fails at once
    assert vp.next_delay(now=101.0 + STABLE_S) == 1.0  # ...so it counts again from there


def test_up_briefly_or_long_but_never_connected_still_backs_off() -> None:
    vp = _vp()
    for i in range(3):
        vp.next_delay(now=float(i))
    vp.spawned_at, vp.was_up = 10.0, True
    assert vp.next_delay(now=10.0 + STABLE_S / 2) == 4.0  # up, but not for long
    vp.spawned_at, vp.was_up = 20.0, False
    assert vp.next_delay(now=20.0 + 10 * STABLE_S) == 8.0  # never reached sc_remoted
