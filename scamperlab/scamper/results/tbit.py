"""TCP behaviour inference results: ``ScamperTbit`` and ``ScamperTbitPkt``
(reference §7.10).

No ``do_*`` method of 20211212-era VPs produces these (``do_tbit`` needs
scamper 20240716); they are decoded from files.  The test-specific and
application blocks that follow the packets are kept as raw bytes so the
record can be written back unchanged.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.tbit import TbitData, TbitPktData

from ..addr import ScamperAddr
from ._util import NoInit, to_datetime
from .common import ScamperResult

__all__ = ["ScamperTbit", "ScamperTbitPkt"]

PKT_DIR_TX, PKT_DIR_RX = 1, 2

#: scamper's result words, in runs of consecutive codes from a base code
_RESULT_RUNS: tuple[tuple[int, str], ...] = (
    (0, "none tcp-noconn tcp-rst tcp-error sys-error aborted tcp-noconn-rst halted"),
    (8, "tcp-badopt tcp-fin tcp-zerowin"),
    (20, "pmtud-noack pmtud-nodata pmtud-toosmall pmtud-nodf pmtud-fail pmtud-success"),
    (26, "pmtud-cleardf"),
    (30, "ecn-success ecn-incapable ecn-badsynack ecn-noece ecn-noack ecn-nodata"),
    (40, "null-success null-nodata"),
    (50, "sack-incapable sack-rcvr-success sack-rcvr-shifted sack-rcvr-timeout"),
    (54, "sack-rcvr-nosack"),
    (60, "icw-success icw-tooshort"),
    (70, "abc-success abc-tooshort abc-badicw"),
)
RESULT_WORDS: dict[int, str] = {
    base + i: word for base, words in _RESULT_RUNS for i, word in enumerate(words.split())
}


class ScamperTbitPkt(NoInit):
    """One packet sent or received during the test."""

    __slots__ = ("_p",)
    _p: TbitPktData

    @classmethod
    def _create(cls, p: TbitPktData) -> ScamperTbitPkt:
        obj = cls._new()
        obj._p = p
        return obj

    @property
    def timestamp(self) -> _dt.datetime | None:
        return to_datetime(self._p.tv)

    @property
    def data(self) -> bytes | None:
        return self._p.data or None

    def is_tx(self) -> bool:
        return self._p.dir == PKT_DIR_TX

    def is_rx(self) -> bool:
        return self._p.dir == PKT_DIR_RX


class ScamperTbit(ScamperResult):
    """A TCP behaviour inference test (reference §7.10)."""

    __slots__ = ("_d",)
    _d: TbitData

    @classmethod
    def _create(cls, data: TbitData, inst: Any = None) -> ScamperTbit:
        return cls._from_data(data, inst)

    @property
    def src(self) -> ScamperAddr | None:
        return self._d.src

    @property
    def dst(self) -> ScamperAddr | None:
        return self._d.dst

    @property
    def result(self) -> str:
        return RESULT_WORDS.get(self._d.result, str(self._d.result))

    @property
    def pkt_count(self) -> int:
        return len(self._d.pkts)

    def __len__(self) -> int:
        return len(self._d.pkts)

    def __iter__(self) -> Iterator[ScamperTbitPkt]:
        return (ScamperTbitPkt._create(p) for p in self._d.pkts)

    @property
    def client_mss(self) -> int:
        return self._d.client_mss

    @property
    def client_wscale(self) -> int:
        return self._d.client_wscale

    @property
    def client_ipttl(self) -> int:
        return self._d.client_ipttl

    def to_json(self) -> str | None:
        """Not rendered by scamperlab (no tbit data to check a rendering against)."""
        return None

    def to_text(self) -> str | None:
        """Not rendered by scamperlab (see :meth:`to_json`)."""
        return None
