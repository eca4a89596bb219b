"""The attached-mode text stream of one scamper session, parsed incrementally.

What arrives on a ``scamper -U`` control socket after ``attach``, on an
``sc_remoted -U`` per-VP socket and in a mux channel is the same text:
``MORE``, ``OK [id-<n>]``, ``ERR [reason]`` and ``DATA <len>[ id-<n>]``
followed by ``<len>`` bytes of uuencoded warts. Reads never align with
lines or objects, so the parser keeps what it has not finished.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scamperlab.wire.uu import uudecode_object

_DATA_RE = re.compile(rb"^DATA (\d+)(?: id-(\d+))?(?: (inprog))?$")
_OK_ID_RE = re.compile(rb"^OK id-(\d+)")
_MAX_PARTIAL_LINE = 65536


class SessionProtocolError(Exception):
    """The peer broke the protocol; the instance is unusable afterwards."""


@dataclass(frozen=True)
class More:
    pass


@dataclass(frozen=True)
class Ok:
    task_id: int | None
    text: str


@dataclass(frozen=True)
class Err:
    reason: str


@dataclass(frozen=True)
class Data:
    record: bytes  # one warts record, decoded from its uuencoded form
    task_id: int | None
    in_progress: bool


Event = More | Ok | Err | Data


class SessionParser:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._data_len: int | None = None
        self._data_header: tuple[int | None, bool] = (None, False)

    def feed(self, chunk: bytes) -> list[Event]:
        self._buf += chunk
        events: list[Event] = []
        while True:
            if self._data_len is not None:
                if len(self._buf) < self._data_len:
                    break
                payload = bytes(self._buf[: self._data_len])
                del self._buf[: self._data_len]
                task_id, inprog = self._data_header
                self._data_len = None
                try:
                    record = uudecode_object(payload)
                except ValueError as exc:
                    raise SessionProtocolError(f"could not decode DATA: {exc}") from exc
                events.append(Data(record, task_id, inprog))
                continue
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > _MAX_PARTIAL_LINE:
                    raise SessionProtocolError("long partial line")
                break
            line = bytes(self._buf[:end]).rstrip(b"\r")
            del self._buf[: end + 1]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: bytes) -> Event | None:
        if line == b"MORE":
            return More()
        if line.startswith(b"OK"):
            m = _OK_ID_RE.match(line)
            return Ok(int(m.group(1)) if m else None, line.decode(errors="replace"))
        if line.startswith(b"ERR"):
            return Err(line[4:].decode(errors="replace").strip())
        if line.startswith(b"DATA "):
            m = _DATA_RE.match(line)
            if m is None:
                raise SessionProtocolError(f"malformed DATA line {line[:60]!r}")
            self._data_len = int(m.group(1))
            self._data_header = (int(m.group(2)) if m.group(2) else None, m.group(3) is not None)
            return None
        if not line:
            raise SessionProtocolError("empty line")
        return None  # anything else is ignored, as libscamperctrl does
