"""The recorder (``scamperlab.mux.recorder``) on a session's raw bytes, cut anywhere.

What a mux server hands the tap is the bytes of the client's socket, in
reads and writes of any size: frames, lines and uuencoded records split
across them must come out whole, in order, with their times.
"""

from __future__ import annotations

from scamperlab.mux.recorder import Recorder
from scamperlab.wire import mux as p
from scamperlab.wire.mux import Attr
from scamperlab.wire.uu import uuencode_object

RECORD = b"\x12\x05\x00\x07\x00\x00\x00\x03abc"  # a (nonsense) ping record: framing only


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_session_cut_into_three_byte_pieces_is_recorded_whole() -> None:
    recorder = Recorder({"command": ["x"]})
    tap = recorder.session()
    encoded = uuencode_object(RECORD)
    server = (
        p.VpUpdate(4, ((Attr.NAME, "vp1.example"), (Attr.TAG, "a"), (Attr.TAG, "b"))).encode()
        + p.Go().encode()
        + p.frame(2, b"MORE\nOK id-1\nDATA %d id-1\n" % len(encoded) + encoded)
        + p.frame(2, b"ERR command not accepted\nOK\n")
        + p.ChannelClose(2).encode()
        + p.VpDeparted(4).encode()
    )
    client = p.ChannelOpen(4, 2).encode() + p.frame(2, b"ping -U 5 192.0.2.1\nping x\ndo")
    client += p.frame(2, b"ne\n")
    for piece in _chunks(client, 3):
        tap.from_client(piece)
    for piece in _chunks(server, 3):
        tap.to_client(piece)
    tap.closed()
    (session,) = recorder.recording.sessions
    assert [e.kind for e in session.events] == ["vp", "go", "departed"]
    assert session.events[0].attrs == ((1, "vp1.example"), (10, "a"), (10, "b"))
    (chan,) = session.channels
    assert (chan.channel, chan.vp) == (2, 4)
    assert [s.line for s in chan.sent] == ["ping -U 5 192.0.2.1", "ping x", "done"]
    assert [(r.line, r.record, r.task) for r in chan.received] == [
        ("MORE", None, None),
        ("OK id-1", None, None),
        (None, 0, 1),
        ("ERR command not accepted", None, None),
        ("OK", None, None),
    ]
    assert chan.records == [RECORD]
    assert chan.closed is not None and session.end is not None
    times = [r.t for r in chan.received]
    assert times == sorted(times) and session.start <= chan.opened <= times[0]


def test_data_for_a_channel_never_opened_is_not_recorded() -> None:
    recorder = Recorder()
    tap = recorder.session()
    tap.to_client(p.frame(9, b"OK id-1\n"))
    tap.from_client(p.frame(9, b"ping 192.0.2.1\n"))
    assert recorder.recording.sessions[0].channels == []
