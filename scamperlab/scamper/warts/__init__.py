"""Pure-Python warts decoding.

Entry points: :class:`WartsDecoder` (records/files/streams to result
objects), :func:`uudecode_object` / :class:`UUStreamDecoder` (the uuencoded
form scamper uses on control sockets) and the :class:`WartsError` family.
"""

from __future__ import annotations

from scamperlab.wire.uu import UUDecodeError, UUStreamDecoder, uudecode_lines, uudecode_object
from scamperlab.wire.warts.errors import WartsError, WartsFormatError, WartsTruncatedError

from .decoder import (
    HEADER_LEN,
    MAGIC,
    RESULT_TYPES,
    WartsDecoder,
    WartsObject,
    WartsRawRecord,
    split_records,
)

__all__ = [
    "HEADER_LEN",
    "MAGIC",
    "RESULT_TYPES",
    "UUDecodeError",
    "UUStreamDecoder",
    "WartsDecoder",
    "WartsError",
    "WartsFormatError",
    "WartsObject",
    "WartsRawRecord",
    "WartsTruncatedError",
    "split_records",
    "uudecode_lines",
    "uudecode_object",
]
