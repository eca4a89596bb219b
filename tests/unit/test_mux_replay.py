"""A replay (``scamperlab.mux.replay`` behind ``scamperlab.lab.replay.Replay``), without a lab.

scamperlab's own ``ScamperCtrl`` talks to a replay of the version-1 fixture
(a real recording of ``examples/ping_all.py`` on ark-mini) over a real unix
socket: the VP list, the results, the rewritten task ids and userids, the
error for a command never recorded, ``done``, and a VP that departs.
"""

from __future__ import annotations

import dataclasses
import math
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.lab.replay import Replay, summary
from scamperlab.scamper import ScamperCtrl, ScamperInstError
from scamperlab.wire import mux as wire
from scamperlab.wire.control import Data, Ok, SessionParser
from scamperlab.wire.mux import Attr
from scamperlab.wire.recording import MuxEvent, Received, Sent, read_recording, write_recording
from scamperlab.wire.warts.decoder import StreamDecoder

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "recording-v1.rec"
RECORDED = read_recording(V1)
WWW = "203.0.113.80"


def _recorded_pings() -> dict[str, float]:
    """min RTT (ms) of each VP's ping in the fixture, decoded with the client's own reader."""
    from scamperlab.scamper.warts import WartsDecoder

    names = {vp: dict(attrs)[Attr.NAME] for vp, attrs in RECORDED.vps().items()}
    rtts: dict[str, float] = {}
    for chan in RECORDED.sessions[0].channels:
        decoder = WartsDecoder()
        for record in chan.records:
            obj = decoder.decode_record(record, None)
            if type(obj).__name__ == "ScamperPing":
                rtts[names[chan.vp]] = obj.min_rtt.total_seconds() * 1000
    return rtts


def test_a_replay_serves_the_recorded_vps_and_results() -> None:
    with Replay(V1, speed=math.inf) as replay, ScamperCtrl(mux=str(replay.mux_path)) as ctrl:
        vps = ctrl.vps()
        assert len(vps) == 14
        lhr = next(vp for vp in vps if vp.name == "lhr-gb.example")
        assert (lhr.cc, lhr.place, lhr.ipv4) == ("GB", "London", "198.18.0.138")
        assert lhr.tags == {"os:linux", "hw:rpi4"}
        ctrl.add_vps(vps)
        for inst in ctrl.instances():
            ctrl.do_ping(WWW, attempts=3, userid=4242, inst=inst)
        got = {p.inst.name: p for p in ctrl.responses(timeout=timedelta(seconds=10))}
        assert not list(ctrl.exceptions())
        ctrl.done()
        deadline = time.monotonic() + 10
        while not ctrl.is_done() and time.monotonic() < deadline:
            ctrl.poll(timeout=timedelta(seconds=1))
        assert ctrl.is_done(), "done did not end every replayed channel"
    assert {name: p.min_rtt.total_seconds() * 1000 for name, p in got.items()} == _recorded_pings()
    assert {p.userid for p in got.values()} == {4242}  # this client's, not the recorded one


def test_task_ids_and_userids_are_this_clients_on_the_wire() -> None:
    """Raw protocol, as libscamperctrl sees it: scamperlab's module would hide a wrong userid."""
    with Replay(V1, speed=math.inf) as replay, socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(replay.mux_path))
        frames, parser, decoder = wire.FrameReader(), SessionParser(), StreamDecoder()
        vp_id = None
        events: list[object] = []
        while not any(isinstance(e, Data) and e.task_id is not None for e in events):
            for channel, payload in frames.feed(sock.recv(65536)):
                if channel == 0:
                    message = wire.decode_control(payload)
                    if isinstance(message, wire.VpUpdate) and vp_id is None:
                        vp_id = message.vp_id
                    if isinstance(message, wire.Go):
                        assert vp_id is not None
                        sock.sendall(wire.ChannelOpen(vp_id, 9).encode())
                        sock.sendall(wire.frame(9, f"ping -U 4242 -c 3 {WWW}\n".encode()))
                else:
                    assert channel == 9
                    events += parser.feed(payload)
    assert Ok(1, "OK id-1") in events
    results = [e for e in events if isinstance(e, Data)]
    for data in results:
        decoded = decoder.decode_record(data.record)
    assert results[-1].task_id == 1
    assert decoded.userid == 4242


def test_a_command_never_recorded_gets_an_error_naming_it() -> None:
    heard: list[tuple[str, str]] = []
    with (
        Replay(V1, speed=math.inf, on_unrecorded=lambda c, v, _m: heard.append((c, v))) as replay,
        ScamperCtrl(mux=str(replay.mux_path)) as ctrl,
    ):
        (inst,) = ctrl.add_vps([vp for vp in ctrl.vps() if vp.name == "akl-nz.example"])
        started = time.monotonic()
        with pytest.raises(ScamperInstError) as caught:
            ctrl.do_ping("192.0.2.9", attempts=3, inst=inst, sync=True)
        assert time.monotonic() - started < 5, "an unrecorded command must not wait"
        message = str(caught.value)
        assert "'ping -c 3 192.0.2.9'" in message
        assert "akl-nz.example" in message
        assert f"nearest recorded: 'ping -c 3 {WWW}'" in message
        # The recorded one is answered once; asked again, the error says how often it was.
        assert ctrl.do_ping(WWW, attempts=3, inst=inst, sync=True) is not None
        with pytest.raises(ScamperInstError, match="recorded 1 time"):
            ctrl.do_ping(WWW, attempts=3, inst=inst, sync=True)
        assert replay.unrecorded and len(heard) == 2
        assert heard[0][1] == "akl-nz.example"


def test_each_connection_gets_the_whole_recording() -> None:
    with Replay(V1, speed=math.inf) as replay:
        for _ in range(2):
            with ScamperCtrl(mux=str(replay.mux_path)) as ctrl:
                (inst,) = ctrl.add_vps([vp for vp in ctrl.vps() if vp.name == "jfk-us.example"])
                assert ctrl.do_ping(WWW, attempts=3, inst=inst, sync=True) is not None


def test_recorded_delays_are_kept_at_speed_one_and_divided_by_speed() -> None:
    chan = next(c for c in RECORDED.sessions[0].channels if c.vp == 3)  # akl-nz, 3 pings
    ping_sent = chan.sent[0].t
    answered = next(r.t for r in chan.received if r.task is not None)
    recorded = answered - ping_sent
    assert recorded > 2.0  # three probes a second apart
    with Replay(V1, speed=4.0) as replay, ScamperCtrl(mux=str(replay.mux_path)) as ctrl:
        (inst,) = ctrl.add_vps([vp for vp in ctrl.vps() if vp.name == "akl-nz.example"])
        started = time.monotonic()
        ctrl.do_ping(WWW, attempts=3, inst=inst, sync=True)
        took = time.monotonic() - started
    assert took >= recorded / 4.0 * 0.95


def _with_departure(tmp_path: Path) -> tuple[Path, str]:
    """The fixture, edited: lhr-gb's ping never answered, and lhr-gb departs after it was sent."""
    recording = read_recording(V1)
    session = recording.sessions[0]
    vp_id = next(v for v, a in recording.vps().items() if dict(a)[Attr.NAME] == "lhr-gb.example")
    chan = next(c for c in session.channels if c.vp == vp_id)
    sent = chan.sent[0].t
    chan.sent = chan.sent[:1]
    chan.received = [r for r in chan.received if r.t <= sent + 0.1]
    session.events.append(MuxEvent(sent + 0.5, "departed", vp_id))
    chan.closed = sent + 0.5
    path = tmp_path / "departed.rec"
    write_recording(dataclasses.replace(recording), path)
    return path, "lhr-gb.example"


@pytest.mark.timeout(30)
def test_a_vp_that_departed_departs_again_and_its_task_fails_as_live(tmp_path: Path) -> None:
    path, name = _with_departure(tmp_path)
    assert summary(read_recording(path)).vps[4].departed.startswith("after ")
    with Replay(path, speed=math.inf) as replay, ScamperCtrl(mux=str(replay.mux_path)) as ctrl:
        (inst,) = ctrl.add_vps([vp for vp in ctrl.vps() if vp.name == name])
        with pytest.raises(ScamperInstError, match=f"got fatal from {name}: disconnected"):
            ctrl.do_ping(WWW, attempts=3, inst=inst, sync=True)
        # The VP list no longer has it either.
        ctrl.poll(timeout=timedelta(seconds=0.2))
        assert name not in {vp.name for vp in ctrl.vps()}


def test_list_counts_what_the_recording_holds() -> None:
    info = summary(read_recording(V1, results=False))
    assert (info.version, info.sessions, info.commands, info.results, info.errors) == (
        1,
        1,
        14,
        14,
        0,
    )
    assert {row.command for row in info.rows} == {f"ping -c 3 {WWW}"}
    assert len(info.vps) == 14


def test_results_come_in_the_recorded_order_across_vps() -> None:
    names = {vp: dict(attrs)[Attr.NAME] for vp, attrs in RECORDED.vps().items()}
    came = {
        names[chan.vp]: next(r.t for r in chan.received if r.task is not None)
        for chan in RECORDED.sessions[0].channels
    }
    recorded_order = sorted(came, key=lambda name: came[name])
    with Replay(V1, speed=math.inf) as replay, ScamperCtrl(mux=str(replay.mux_path)) as ctrl:
        insts = {inst.name: inst for inst in ctrl.add_vps(ctrl.vps())}
        # Asked last-first: only the replay's ordering can put the answers back.
        for name in reversed(recorded_order):
            ctrl.do_ping(WWW, attempts=3, inst=insts[name])
        order = [p.inst.name for p in ctrl.responses(timeout=timedelta(seconds=10))]
    assert order == recorded_order


def test_list_and_cycle_records_open_the_channel_wherever_they_were_recorded(
    tmp_path: Path,
) -> None:
    """scamper may send a channel's list and cycle-start records after its first replies
    (seen live with six pings sent at once): they still open the channel in a replay,
    before any result that refers to them."""
    recording = read_recording(V1)
    chan = next(c for c in recording.sessions[0].channels if c.vp == 3)
    (ping_t, ping), (done_t, _done) = ((s.t, s.line) for s in chan.sent)
    by = {r.record: r for r in chan.received if r.record is not None}
    t = by[2].t
    chan.records.append(chan.records[2])  # the same ping, answered twice
    chan.sent = [Sent(ping_t, ping), Sent(ping_t, ping), Sent(done_t, "done")]
    chan.received = [
        Received(ping_t, "OK id-1"),
        Received(ping_t, "OK id-2"),
        Received(ping_t, "MORE"),
        Received(t, record=0),  # in the same read as the results, as seen live
        Received(t, record=1),
        Received(t, record=2, task=1),
        Received(t, record=4, task=2),
        Received(done_t, "OK"),
        by[3],
    ]
    path = tmp_path / "late-list.rec"
    write_recording(recording, path)
    with Replay(path, speed=math.inf) as replay, ScamperCtrl(mux=str(replay.mux_path)) as ctrl:
        (inst,) = ctrl.add_vps([vp for vp in ctrl.vps() if vp.name == "akl-nz.example"])
        for _ in range(2):
            ctrl.do_ping(WWW, attempts=3, inst=inst)
        got = list(ctrl.responses(timeout=timedelta(seconds=10)))
        assert not list(ctrl.exceptions())
    assert len(got) == 2 and all(p.list is not None for p in got)
