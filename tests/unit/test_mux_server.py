"""The mux server's side of the channel-0 messages, over a real unix socket, without a lab.

One VP whose per-VP socket is a stand-in echoing what it is sent; a user
that opens channels, sends what the server ignores, then breaks the protocol.
"""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

from scamperlab.mux.registry import VpRegistry
from scamperlab.mux.server import MuxServer
from scamperlab.wire import mux as wire


async def _read_until(
    reader: asyncio.StreamReader, frames: wire.FrameReader, want: int
) -> list[tuple[int, bytes]]:
    got: list[tuple[int, bytes]] = []
    while len(got) < want:
        data = await asyncio.wait_for(reader.read(65536), 5)
        if not data:
            break
        got += frames.feed(data)
    return got


async def _scenario(tmp: Path) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(b"echo " + data)
        writer.close()

    vp_server = await asyncio.start_unix_server(echo, path=str(tmp / "vp.sock"))
    registry = VpRegistry({"akl-nz.example": [(wire.Attr.CC, "NZ")]})
    registry.sync({"akl-nz.example": (tmp / "vp.sock", "192.0.2.7")})
    server = MuxServer(tmp / "mux", registry)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(tmp / "mux"))
        frames = wire.FrameReader()
        announced = [wire.decode_control(p) for _, p in await _read_until(reader, frames, 2)]
        assert isinstance(announced[0], wire.VpUpdate) and announced[1] == wire.Go()
        assert announced[0].fields()[wire.Attr.NAME] == "akl-nz.example"
        assert announced[0].fields()[wire.Attr.IPV4] == "192.0.2.7"
        vp_id = announced[0].vp_id

        # Only channel opens matter from a user; the rest is ignored, malformed or not.
        writer.write(wire.Go().encode())
        writer.write(wire.frame(0, struct.pack(">HI", 77, 1)))  # a type nobody knows
        writer.write(wire.frame(0, struct.pack(">H", wire.MuxType.VP_UPDATE)))  # no VP id
        writer.write(wire.ChannelOpen(vp_id + 100, 5).encode())  # no such VP
        writer.write(wire.ChannelOpen(vp_id, 1).encode())
        writer.write(wire.frame(1, b"ping 192.0.2.1\n"))
        got = await _read_until(reader, frames, 2)
        assert (0, wire.ChannelClose(5).encode()[8:]) in got
        assert (1, b"echo ping 192.0.2.1\n") in got

        writer.write(wire.frame(0, struct.pack(">HI", wire.MuxType.CHANNEL_OPEN, vp_id)))
        # A malformed open drops the user: its channel is closed, then the connection.
        assert await asyncio.wait_for(reader.read(), 5) == wire.ChannelClose(1).encode()
        writer.close()
    finally:
        await server.close()
        vp_server.close()


def test_the_server_decodes_what_users_send(tmp_path: Path) -> None:
    asyncio.run(_scenario(tmp_path))


async def _user_leaves_with_done(tmp: Path) -> list[str]:
    """What a stand-in VP sees when a user opens a channel, sends done and leaves at once."""
    seen: list[str] = []
    closed_by_vp = asyncio.Event()

    async def vp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = b""
        while b"done\n" not in data:
            chunk = await reader.read(65536)
            if not chunk:
                seen.append("closed by the mux before done")
                return
            data += chunk
        seen.append("done")
        # Like scamper: the channel closes from the VP's side once done's tasks finish,
        # and the mux must not close it meanwhile (Debian's scamper drops its whole
        # connection to sc_remoted when both sides close one channel at once).
        try:
            early = await asyncio.wait_for(reader.read(1), 0.3)
            seen.append("closed by the mux before the VP" if early == b"" else "more data")
        except TimeoutError:
            pass
        writer.close()
        closed_by_vp.set()

    vp_server = await asyncio.start_unix_server(vp, path=str(tmp / "vp.sock"))
    registry = VpRegistry({})
    registry.sync({"akl-nz.example": (tmp / "vp.sock", "192.0.2.7")})
    server = MuxServer(tmp / "mux", registry)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(str(tmp / "mux"))
        frames = wire.FrameReader()
        await _read_until(reader, frames, 2)  # the VP, then go
        vp_id = next(iter(registry.by_id))
        writer.write(wire.ChannelOpen(vp_id, 1).encode() + wire.frame(1, b"done\n"))
        writer.close()  # at once: the mux reads the open, done and the end together
        await asyncio.wait_for(closed_by_vp.wait(), 5)
    finally:
        await server.close()
        vp_server.close()
    return seen


def test_a_user_leaving_right_after_done_leaves_the_channel_to_the_vp(tmp_path: Path) -> None:
    assert asyncio.run(_user_leaves_with_done(tmp_path)) == ["done"]
