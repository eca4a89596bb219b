"""A raw mux client written from the protocol description, for tests only.

It deliberately shares no code with scamperlab's mux server, so a test that
passes with it checks the server against the protocol, not against itself.
"""

from __future__ import annotations

import binascii
import socket
import struct
import time
from dataclasses import dataclass, field

ATTR_NAMES = {
    1: "name",
    2: "arrival",
    3: "ipv4",
    4: "asn4",
    5: "cc",
    6: "st",
    7: "place",
    8: "latlong",
    9: "shortname",
    10: "tag",
    11: "iata",
    12: "ipv6",
    13: "asn6",
}


@dataclass
class Vp:
    id: int
    attrs: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


class RawMux:
    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.vps: dict[int, Vp] = {}
        self.departed: list[int] = []
        self.closed: set[int] = set()
        self.text: dict[int, bytes] = {}

    def _read_frame(self) -> tuple[int, bytes]:
        while True:
            if len(self.buf) >= 8:
                chan, length = struct.unpack(">II", self.buf[:8])
                if len(self.buf) >= 8 + length:
                    payload = self.buf[8 : 8 + length]
                    self.buf = self.buf[8 + length :]
                    return chan, payload
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("mux closed the connection")
            self.buf += data

    def _handle(self, chan: int, payload: bytes) -> str | None:
        if chan != 0:
            self.text[chan] = self.text.get(chan, b"") + payload
            return None
        (kind,) = struct.unpack(">H", payload[:2])
        if kind == 0:
            (vp_id,) = struct.unpack(">I", payload[2:6])
            vp = Vp(vp_id)
            rest = payload[6:]
            while rest:
                (code,) = struct.unpack(">H", rest[:2])
                end = rest.index(b"\0", 2)
                value = rest[2:end].decode()
                rest = rest[end + 1 :]
                if code == 10:
                    vp.tags.append(value)
                else:
                    vp.attrs[ATTR_NAMES.get(code, str(code))] = value
            self.vps[vp_id] = vp
            return "update"
        if kind == 1:
            self.departed.append(struct.unpack(">I", payload[2:6])[0])
            return "departed"
        if kind == 2:
            return "go"
        if kind == 4:
            self.closed.add(struct.unpack(">I", payload[2:6])[0])
            return "close"
        raise AssertionError(f"unexpected control type {kind}")

    def read_until_go(self) -> dict[int, Vp]:
        while self._handle(*self._read_frame()) != "go":
            pass
        return self.vps

    def open(self, vp_id: int, chan: int) -> None:
        self.sock.sendall(struct.pack(">IIHII", 0, 10, 3, vp_id, chan))

    def send(self, chan: int, text: str) -> None:
        data = text.encode()
        self.sock.sendall(struct.pack(">II", chan, len(data)) + data)

    def pump_until(self, cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            self._handle(*self._read_frame())

    def close(self) -> None:
        self.sock.close()


def parse_channel_text(data: bytes) -> tuple[list[str], list[bytes]]:
    """Split attached-mode text into its lines and the warts records it carried."""
    lines: list[str] = []
    records: list[bytes] = []
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        line = data[pos:end].decode()
        pos = end + 1
        lines.append(line)
        if line.startswith("DATA "):
            length = int(line.split()[1])
            blob = data[pos : pos + length]
            pos += length
            raw = b""
            for uuline in blob.split(b"\n"):
                if uuline and uuline != b"`":
                    raw += binascii.a2b_uu(uuline)
            records.append(raw)
    return lines, records
