"""``scamperlab record``'s proxy (``scamperlab.mux.recordproxy``) in front of a mux socket.

The upstream mux here is a replay of the version-1 fixture (no root needed);
the integration tests put the proxy in front of a real lab's mux. What the
proxy records must replay to the same results, and the client must not see
the proxy at all.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.lab.replay import RecordedMux, RecordingError, Replay, summary
from scamperlab.scamper import ScamperCtrl
from scamperlab.wire.recording import read_recording

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "recording-v1.rec"
WWW = "203.0.113.80"


def _rtts(mux: str) -> dict[str, float]:
    with ScamperCtrl(mux=mux) as ctrl:
        ctrl.add_vps(ctrl.vps())
        for inst in ctrl.instances():
            ctrl.do_ping(WWW, attempts=3, inst=inst)
        got = {
            p.inst.name: p.min_rtt.total_seconds()
            for p in ctrl.responses(timeout=timedelta(seconds=10))
        }
        assert not list(ctrl.exceptions())
        ctrl.done()
    return got


def test_what_passes_the_proxy_is_recorded_and_replays_the_same(tmp_path: Path) -> None:
    with Replay(V1, speed=math.inf) as upstream:
        upstream_path = str(upstream.mux_path)
        direct = _rtts(upstream_path)
        with RecordedMux(upstream.mux_path, tmp_path / "again.rec", ["test"]) as mux:
            through = _rtts(str(mux.mux_path))
    assert through == direct and len(direct) == 14
    again = read_recording(tmp_path / "again.rec")
    info = summary(again)
    assert (info.sessions, info.commands, info.results, info.errors) == (1, 14, 14, 0)
    assert again.info == {"mux": upstream_path, "command": ["test"]}
    with Replay(tmp_path / "again.rec", speed=math.inf) as replay:
        assert _rtts(str(replay.mux_path)) == direct


def test_no_mux_to_record_from_says_so(tmp_path: Path) -> None:
    with (
        pytest.raises(RecordingError, match="no mux socket at"),
        RecordedMux(tmp_path / "none", tmp_path / "r.rec"),
    ):
        pass
    with pytest.raises(RecordingError, match="no directory"):
        RecordedMux(tmp_path / "none", tmp_path / "missing" / "r.rec")
