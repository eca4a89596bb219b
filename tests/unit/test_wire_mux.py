"""The mux wire format and VP registry, without sockets."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from scamperlab.mux.metadata import metadata_file, vp_attrs
from scamperlab.mux.registry import VpRegistry
from scamperlab.processes.remoted import VpSocket
from scamperlab.topology.model import VantagePoint
from scamperlab.wire import mux as p


def test_frames_survive_any_split() -> None:
    stream = (
        p.VpUpdate(3, ((p.Attr.NAME, "a.example"), (p.Attr.TAG, "x"))).encode()
        + p.Go().encode()
        + p.frame(9, b"ping\n")
    )
    for cut in range(1, len(stream)):
        reader = p.FrameReader()
        got = list(reader.feed(stream[:cut])) + list(reader.feed(stream[cut:]))
        assert [c for c, _ in got] == [0, 0, 9]
    _, payload = next(p.FrameReader().feed(stream))
    assert struct.unpack(">HI", payload[:6]) == (0, 3)
    assert p.decode_attrs(payload[6:]) == [(1, "a.example"), (10, "x")]


def test_control_messages_have_the_documented_layout() -> None:
    assert p.Go().encode() == struct.pack(">IIH", 0, 2, 2)
    assert p.ChannelOpen(5, 7).encode() == struct.pack(">IIHII", 0, 10, 3, 5, 7)
    assert p.ChannelClose(7).encode() == struct.pack(">IIHI", 0, 6, 4, 7)
    assert p.VpDeparted(5).encode() == struct.pack(">IIHI", 0, 6, 1, 5)


MESSAGES: list[p.ControlMessage] = [
    p.VpUpdate(3, ((p.Attr.NAME, "a.example"), (p.Attr.TAG, "x"), (p.Attr.TAG, "y"))),
    p.VpUpdate(4, ()),
    p.VpDeparted(3),
    p.Go(),
    p.ChannelOpen(3, 7),
    p.ChannelClose(7),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_decodes_to_what_was_encoded(message: p.ControlMessage) -> None:
    assert not isinstance(message, p.Unknown)
    [(channel, payload)] = p.FrameReader().feed(message.encode())
    assert channel == 0
    assert p.decode_control(payload) == message
    assert p.decode_control(payload).kind == message.kind


def test_vp_update_views() -> None:
    update = p.VpUpdate(1, ((p.Attr.NAME, "a"), (p.Attr.TAG, "x"), (99, "new"), (p.Attr.TAG, "y")))
    assert update.fields() == {p.Attr.NAME: "a", 99: "new"}
    assert update.tags() == ["x", "y"]
    [(_, payload)] = p.FrameReader().feed(update.encode())
    assert p.decode_control(payload) == update  # codes this release has no name for survive


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"\x00", None),
        (struct.pack(">HI", 3, 5), p.MuxType.CHANNEL_OPEN),
        (struct.pack(">HIII", 3, 5, 7, 0), p.MuxType.CHANNEL_OPEN),
        (struct.pack(">H", 4), p.MuxType.CHANNEL_CLOSE),
        (struct.pack(">HH", 1, 0), p.MuxType.VP_DEPARTED),
        (struct.pack(">H", 0), p.MuxType.VP_UPDATE),
        (struct.pack(">HIH", 0, 1, 1) + b"no terminator", p.MuxType.VP_UPDATE),
    ],
)
def test_malformed_messages_say_what_they_claimed(payload: bytes, kind: int | None) -> None:
    with pytest.raises(p.MuxProtocolError) as info:
        p.decode_control(payload)
    assert info.value.kind == kind


def test_unknown_types_are_not_errors() -> None:
    assert p.decode_control(struct.pack(">HI", 77, 1)) == p.Unknown(77)


def test_oversized_updates_are_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        p.VpUpdate(1, ((p.Attr.TAG, "x" * 100),) * 11).encode()
    with pytest.raises(ValueError, match="exceeds"):
        p.vp_update(1, [(p.Attr.TAG, "x" * 100)] * 11)  # lab.py's spelling of the same check


def test_metadata_attrs_and_file() -> None:
    vp = VantagePoint.model_validate(
        {
            "name": "akl-nz.example",
            "uplink": {"router": "r"},
            "cc": "NZ",
            "latlong": [-36.85, 174.76],
            "asn4": 64496,
            "tags": ["a", "b"],
            "place": "Auckland",
        }
    )
    attrs = vp_attrs(vp, "2001:db8::1")
    assert attrs[0] == (p.Attr.IPV6, "2001:db8::1")
    assert (p.Attr.LATLONG, "-36.85,174.76") in attrs
    assert [v for c, v in attrs if c == p.Attr.TAG] == ["a", "b"]
    text = metadata_file([(vp, attrs)])
    assert "akl-nz.example place Auckland\n" in text
    assert "akl-nz.example tag b\n" in text
    assert "ipv6" not in text  # sc_remoted learns addresses from connections, not the file


def test_registry_gives_new_ids_to_a_restarted_vp() -> None:
    events: list[tuple[str, int]] = []
    reg = VpRegistry({"a": [(p.Attr.CC, "NZ")]})
    reg.listeners.append(lambda kind, vp: events.append((kind, vp.id)))
    reg.sync({"a": (Path("/x/a-1.2.3.4:1"), "1.2.3.4"), "b": (Path("/x/b-1.2.3.5:1"), "1.2.3.5")})
    reg.sync({"a": (Path("/x/a-1.2.3.4:2"), "1.2.3.4"), "b": (Path("/x/b-1.2.3.5:1"), "1.2.3.5")})
    assert events == [("arrived", 1), ("arrived", 2), ("departed", 1), ("arrived", 3)]
    attrs = reg.by_name["a"].attrs()
    assert [c for c, _ in attrs][:3] == [p.Attr.NAME, p.Attr.ARRIVAL, p.Attr.IPV4]
    assert (p.Attr.CC, "NZ") in attrs


@pytest.mark.parametrize(
    ("name", "monitor", "address", "port"),
    [
        ("vp1.test-127.0.0.1:42122", "vp1.test", "127.0.0.1", 42122),
        ("akl-nz.example-198.18.0.2:5", "akl-nz.example", "198.18.0.2", 5),
        ("127.0.0.1:34906", None, "127.0.0.1", 34906),
        ("v6.test-2001:db8::1.4000", "v6.test", "2001:db8::1", 4000),
    ],
)
def test_vp_socket_names(name: str, monitor: str | None, address: str, port: int) -> None:
    sock = VpSocket.parse(Path("/d") / name)
    assert sock is not None
    assert (sock.monitor, sock.address, sock.port) == (monitor, address, port)
