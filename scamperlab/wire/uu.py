"""The uuencoded form scamper uses for warts objects on control sockets, both ways.

scamper (protocols note §1.8) sends each object as classic uuencode lines
(length character, then 4 characters per 3 bytes, backtick for zero) and
ends it with a line holding a single backtick.  These helpers turn such
text back into warts record bytes, either for one complete ``DATA``
payload or incrementally for a byte stream.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable

from .warts.errors import WartsFormatError, WartsTruncatedError

__all__ = [
    "UUDecodeError",
    "UUStreamDecoder",
    "uudecode_line",
    "uudecode_lines",
    "uudecode_object",
    "uuencode_object",
]

_TERMINATOR = b"`"
#: Longest line scamper writes is 62 bytes ("M" + 60 + newline); allow slack
#: but refuse runaway input that never contains a newline.
MAX_LINE = 1024


class UUDecodeError(WartsFormatError):
    """A line is not valid uuencode, or an object lacks its terminator."""


def uudecode_line(line: bytes | str) -> bytes:
    """Decode one uuencoded line (without or with its trailing newline)."""
    raw = line.encode("ascii", "strict") if isinstance(line, str) else bytes(line)
    raw = raw.rstrip(b"\r\n")
    if not raw:
        raise UUDecodeError("empty uuencode line")
    n = (raw[0] - 32) & 0x3F
    need = (n + 2) // 3 * 4 + 1
    if len(raw) < need:
        raise UUDecodeError(f"uuencode line too short for {n} bytes: {raw[:20]!r}")
    try:
        return binascii.a2b_uu(raw[:need])
    except binascii.Error as exc:
        raise UUDecodeError(f"bad uuencode line {raw[:20]!r}: {exc}") from None


def uudecode_lines(lines: Iterable[bytes | str]) -> bytes:
    """Decode lines up to the lone-backtick terminator; return the bytes.

    Lines after the terminator are ignored.  Raises
    :class:`WartsTruncatedError` if the terminator never comes.
    """
    out = bytearray()
    for line in lines:
        raw = line.encode("ascii") if isinstance(line, str) else bytes(line)
        raw = raw.rstrip(b"\r\n")
        if raw == _TERMINATOR:
            return bytes(out)
        out += uudecode_line(raw)
    raise WartsTruncatedError("uuencoded object ends without its terminator line")


def uudecode_object(payload: bytes | str) -> bytes:
    """Decode one complete ``DATA`` payload (all lines, terminator included)."""
    raw = payload.encode("ascii") if isinstance(payload, str) else bytes(payload)
    return uudecode_lines(raw.split(b"\n"))


class UUStreamDecoder:
    """Incremental decoder for a byte stream of uuencoded objects.

    ``feed()`` accepts arbitrary chunks and returns the objects (warts
    record bytes) completed by them; partial lines and objects are kept.
    Useful when the caller reads the control socket without tracking the
    ``DATA <len>`` byte counts.
    """

    def __init__(self) -> None:
        self._line = bytearray()
        self._obj = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        done: list[bytes] = []
        self._line += data
        while True:
            nl = self._line.find(b"\n")
            if nl < 0:
                if len(self._line) > MAX_LINE:
                    raise UUDecodeError("uuencode line exceeds maximum length")
                return done
            line = bytes(self._line[:nl]).rstrip(b"\r")
            del self._line[: nl + 1]
            if line == _TERMINATOR:
                done.append(bytes(self._obj))
                self._obj.clear()
            else:
                self._obj += uudecode_line(line)

    @property
    def in_object(self) -> bool:
        """True while bytes of an unfinished object are buffered."""
        return bool(self._obj) or bool(self._line)


def uuencode_object(record: bytes) -> bytes:
    """The uuencoded form scamper sends: 45-byte lines, then a lone backtick."""
    lines = [binascii.b2a_uu(record[i : i + 45], backtick=True) for i in range(0, len(record), 45)]
    return b"".join(lines) + b"`\n"
