"""``WartsEncoder``: ``scamper`` result objects in, warts bytes out.

The inverse of :class:`~.decoder.WartsDecoder`: it takes the plain data each
result object wraps and hands it to
:class:`scamperlab.wire.warts.encoder.StreamEncoder`, which writes the
records (and the list and cycle records they need first).
"""

from __future__ import annotations

from typing import Any

from scamperlab.wire.warts.encoder import StreamEncoder
from scamperlab.wire.warts.errors import WartsError
from scamperlab.wire.warts.records import (
    T_DEALIAS,
    T_HOST,
    T_HTTP,
    T_NEIGHBOURDISC,
    T_OWAMP,
    T_PING,
    T_SNIFF,
    T_STING,
    T_TBIT,
    T_TRACE,
    T_TRACELB,
    T_UDPPROBE,
)

from ..results.common import ScamperCycle, ScamperList

__all__ = ["RECORD_TYPES", "WartsEncoder"]

#: result class name -> its warts record type
RECORD_TYPES: dict[str, int] = {
    "ScamperTrace": T_TRACE,
    "ScamperPing": T_PING,
    "ScamperTracelb": T_TRACELB,
    "ScamperDealias": T_DEALIAS,
    "ScamperNeighbourdisc": T_NEIGHBOURDISC,
    "ScamperTbit": T_TBIT,
    "ScamperSting": T_STING,
    "ScamperSniff": T_SNIFF,
    "ScamperHost": T_HOST,
    "ScamperHttp": T_HTTP,
    "ScamperUdpprobe": T_UDPPROBE,
    "ScamperOwamp": T_OWAMP,
}


class WartsEncoder:
    """Encodes objects for one output stream."""

    def __init__(self) -> None:
        self._stream = StreamEncoder()

    def encode(self, obj: Any) -> bytes:
        """The records for ``obj`` (and any list/cycle it needs first).

        Returns ``b""`` for objects that produce no record: a list (written
        when a result needs it) or a cycle reached through a result.
        """
        if isinstance(obj, ScamperList):
            return b""
        if isinstance(obj, ScamperCycle):
            return b"" if obj._kind is None else self._stream.cycle(obj._kind, obj._d)
        rtype = RECORD_TYPES.get(type(obj).__name__)
        if rtype is None:
            raise WartsError(f"cannot write {type(obj).__name__} as warts")
        return self._stream.result(rtype, obj._d)
