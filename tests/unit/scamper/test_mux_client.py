"""``ScamperCtrl(mux=...)`` against a stand-in mux: VP list, channels, end of stream.

The stand-in speaks the frames of :mod:`scamperlab.wire.mux` and answers on
each channel the way a modern scamper does (``OK id-<n>``, ``DATA ... id-<n>``,
``MORE``); the integration tests run the same client against real muxes.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.scamper import ScamperCtrl, ScamperInst, ScamperInstError, ScamperPing
from scamperlab.wire import mux as wire
from scamperlab.wire.uu import uuencode_object
from scamperlab.wire.warts.records import split_records

FIXTURE = Path(__file__).parents[2] / "fixtures" / "warts" / "ping-20211212.warts"
A = wire.Attr


def _records() -> tuple[list[bytes], bytes]:
    def record(rtype: int, body: bytes) -> bytes:
        return b"\x12\x05" + rtype.to_bytes(2, "big") + len(body).to_bytes(4, "big") + body

    records = list(split_records(FIXTURE.read_bytes()))
    preamble = [record(t, b) for t, b in records if t in (1, 2)]
    ping = next(record(t, b) for t, b in records if t == 7)
    return preamble, ping


def _data(record: bytes, task_id: int | None = None) -> bytes:
    encoded = uuencode_object(record)
    suffix = b" id-%d" % task_id if task_id is not None else b""
    return b"DATA %d%s\n" % (len(encoded), suffix) + encoded


class StandInMux:
    """Announces VPs, then serves each channel it is asked to open."""

    def __init__(self, path: str) -> None:
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.opened: list[wire.ChannelOpen] = []
        self.lines: list[tuple[int, str]] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        preamble, ping = _records()
        conn, _ = self.srv.accept()
        conn.sendall(
            wire.VpUpdate(1, ((A.NAME, "akl-nz.example"), (A.CC, "nz"), (A.TAG, "x"))).encode()
            + wire.VpUpdate(2, ((A.NAME, "gone.example"),)).encode()
            + wire.VpDeparted(2).encode()
            + wire.VpUpdate(3, ((A.NAME, "syd-au.example"), (A.LATLONG, "-33.9,151.2"))).encode()
            + wire.VpUpdate(
                1, ((A.NAME, "akl-nz.example"), (A.CC, "nz"), (A.ASN4, "64496"))
            ).encode()
            + wire.Go().encode()
        )
        frames = wire.FrameReader()
        text: dict[int, bytes] = {}
        task = 0
        while data := conn.recv(65536):
            out = bytearray()
            for channel, payload in frames.feed(data):
                if channel == 0:
                    message = wire.decode_control(payload)
                    assert isinstance(message, wire.ChannelOpen)
                    self.opened.append(message)
                    out += wire.frame(message.channel, b"".join(map(_data, preamble)) + b"MORE\n")
                    continue
                text[channel] = text.get(channel, b"") + payload
                while b"\n" in text[channel]:
                    line, text[channel] = text[channel].split(b"\n", 1)
                    self.lines.append((channel, line.decode()))
                    if line.endswith(b" 192.0.2.99"):  # the whole mux goes away
                        conn.close()
                        return
                    if line.endswith(b" 192.0.2.98"):  # never answered
                        continue
                    if line.startswith(b"ping"):
                        task += 1
                        reply = b"OK id-%d\n" % task + _data(ping, task) + b"MORE\n"
                        out += wire.frame(channel, reply)
                    elif line == b"done":  # the VP closes the channel once done
                        out += wire.frame(channel, b"OK\n") + wire.ChannelClose(channel).encode()
            try:
                conn.sendall(out)
            except OSError:
                break  # the client went away
        conn.close()

    def close(self) -> None:
        self.srv.close()


@pytest.fixture
def mux(tmp_path: Path) -> Iterator[tuple[str, StandInMux]]:
    path = str(tmp_path / "mux")
    server = StandInMux(path)
    yield path, server
    server.close()


def _close(ctrl: ScamperCtrl) -> None:
    for mux in ctrl._muxes:  # the real module has no public close either
        mux._transport.close()


def test_the_vp_list_is_what_the_mux_announced(mux: tuple[str, StandInMux]) -> None:
    path, _ = mux
    ctrl = ScamperCtrl(mux=path)
    vps = ctrl.vps()
    assert [vp.name for vp in vps] == ["akl-nz.example", "syd-au.example"]  # departed, re-announced
    akl, syd = vps
    assert (akl.cc, akl.asn4, akl.tags, akl.shortname) == ("NZ", 64496, set(), "akl-nz.example")
    assert syd.loc == (-33.9, 151.2) and syd.cc is None
    assert akl == ctrl.vps()[0] and akl < syd and len({akl, ctrl.vps()[0]}) == 1
    _close(ctrl)


def test_channels_carry_measurements_and_end_with_the_vp(mux: tuple[str, StandInMux]) -> None:
    path, server = mux
    ended: list[ScamperInst] = []
    ctrl = ScamperCtrl(mux=path, eofcb=lambda c, inst, p: ended.append(inst))
    insts = ctrl.add_vps(ctrl.vps())
    assert [i.name for i in insts] == ["akl-nz.example", "syd-au.example"]
    assert insts[0].cc == "NZ" and insts[1].loc == (-33.9, 151.2)
    tasks = [ctrl.do_ping("192.0.2.1", inst=inst) for inst in insts for _ in range(3)]
    assert ctrl.taskc == len(tasks)
    results = list(ctrl.responses(timeout=10))
    assert len(results) == len(tasks) and all(isinstance(r, ScamperPing) for r in results)
    assert {r.inst for r in results} == set(insts)
    assert [(m.vp_id, m.channel) for m in server.opened] == [(1, 1), (3, 2)]
    ping = ctrl.do_ping("192.0.2.1", userid=7, inst=insts[0], sync=True)
    assert ping.userid == 7  # the tag on the wire, the user's userid on the result
    ctrl.done()
    while not ctrl.is_done():
        ctrl.poll(timeout=10)
    assert ended == insts and all(i.is_eof() for i in insts) and ctrl.instc == 0
    assert [line for _, line in server.lines if line == "done"] == ["done", "done"]
    _close(ctrl)


def test_a_mux_that_hangs_up_ends_every_instance(mux: tuple[str, StandInMux]) -> None:
    path, _ = mux
    ended: list[ScamperInst] = []
    ctrl = ScamperCtrl(mux=path, eofcb=lambda c, inst, p: ended.append(inst))
    insts = ctrl.add_vps(ctrl.vps())
    ctrl.do_ping("192.0.2.98", inst=insts[1])
    with pytest.raises(ScamperInstError, match=r"got fatal from akl-nz\.example: disconnected"):
        ctrl.do_ping("192.0.2.99", inst=insts[0], sync=True)
    assert ctrl.poll(timeout=10) is None  # the open ping is lost with its channel
    assert ended == insts and all(i.is_eof() for i in insts)
    assert ctrl.taskc == 0 and ctrl.is_done()
    _close(ctrl)
