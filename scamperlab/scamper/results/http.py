"""HTTP results: ``ScamperHttp`` and ``ScamperHttpBuf`` (reference §7.6).

scamper stores the raw exchange as a list of chunks (header or data,
sent or received); everything else (URL, status, header dictionaries, the
body) is derived from those chunks, as scamper's library does.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.http import (
    BUF_DATA,
    BUF_HDR,
    BUF_TLS,
    DIR_RX,
    DIR_TX,
    TYPE_HTTPS,
    HttpBufData,
    HttpData,
)

from ..addr import ScamperAddr
from ..enums import ScamperHttpEchStatus, ScamperHttpStop
from ._util import NoInit, enum_or_int, index_or_none, name_of, to_datetime
from .common import ScamperResult

__all__ = ["ScamperHttp", "ScamperHttpBuf"]

STOP_NAMES = ("none", "halted", "noconn", "done", "error", "timeout", "insecure")


def _hdr_text(raw: bytes | None) -> str:
    """A header block as text: scamper treats it as a C string."""
    return (raw or b"").split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _fields(block: str) -> list[tuple[str, str]] | None:
    """``name: value`` pairs after the request/status line."""
    if not block:
        return None
    out = []
    for line in block.split("\r\n")[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if sep:
            out.append((name.strip(), value.strip()))
    return out


class ScamperHttpBuf(NoInit):
    """One chunk of the HTTP exchange."""

    __slots__ = ("_b",)
    _b: HttpBufData

    @classmethod
    def _create(cls, b: HttpBufData) -> ScamperHttpBuf:
        obj = cls._new()
        obj._b = b
        return obj

    @property
    def timestamp(self) -> _dt.datetime | None:
        return to_datetime(self._b.tv)

    @property
    def dir_str(self) -> str:
        return "tx" if self._b.dir == DIR_TX else "rx"

    @property
    def type_str(self) -> str:
        return {BUF_DATA: "data", BUF_HDR: "hdr", BUF_TLS: "tls"}.get(self._b.type, "unknown")

    @property
    def payload(self) -> bytes | None:
        return self._b.data or None

    def is_tx(self) -> bool:
        return self._b.dir == DIR_TX

    def is_rx(self) -> bool:
        return self._b.dir == DIR_RX

    def is_tls(self) -> bool:
        return self._b.type == BUF_TLS

    def is_hdr(self) -> bool:
        return self._b.type == BUF_HDR

    def is_data(self) -> bool:
        return self._b.type == BUF_DATA


class ScamperHttp(ScamperResult):
    """An HTTP(S) fetch (reference §7.6)."""

    __slots__ = ("_d",)
    _d: HttpData

    @classmethod
    def _create(cls, data: HttpData, inst: Any = None) -> ScamperHttp:
        return cls._from_data(data, inst, errmsg=data.errmsg)

    @property
    def stop_reason(self) -> ScamperHttpStop | int:
        return enum_or_int(ScamperHttpStop, self._d.stop)

    @property
    def stop_reason_str(self) -> str:
        return name_of(STOP_NAMES, self._d.stop)

    @property
    def src(self) -> ScamperAddr | None:
        return self._d.src

    @property
    def dst(self) -> ScamperAddr | None:
        return self._d.dst

    @property
    def sport(self) -> int:
        return self._d.sport

    @property
    def dport(self) -> int:
        return self._d.dport

    @property
    def maxtime(self) -> _dt.timedelta:
        sec, usec = self._d.maxtime or (0, 0)
        return _dt.timedelta(seconds=sec, microseconds=usec)

    @property
    def hsrtt(self) -> _dt.timedelta:
        return _dt.timedelta(microseconds=self._d.hsrtt)

    @property
    def url(self) -> str | None:
        d = self._d
        if d.host is None or d.file is None:
            return None
        https = d.type == TYPE_HTTPS
        default = 443 if https else 80
        port = "" if d.dport == default else f":{d.dport}"
        return f"{'https' if https else 'http'}://{d.host}{port}{d.file}"

    @property
    def status_code(self) -> int | None:
        parts = self.response_hdr.split("\r\n", 1)[0].split(" ") if self.response_hdr else []
        if len(parts) < 2 or not parts[1].isdigit():
            return None
        return int(parts[1])

    @property
    def response(self) -> bytes | None:
        return self._d.joined(DIR_RX, BUF_DATA) or None

    @property
    def response_hdr(self) -> str | None:
        return _hdr_text(self._d.joined(DIR_RX, BUF_HDR))

    @property
    def transmit_hdr(self) -> str | None:
        return _hdr_text(self._d.joined(DIR_TX, BUF_HDR))

    @staticmethod
    def _dict(block: str | None) -> dict[str, str] | None:
        pairs = _fields(block or "")
        return None if pairs is None else {n.lower(): v.lower() for n, v in pairs}

    @property
    def response_hdrs(self) -> dict[str, str] | None:
        return self._dict(self.response_hdr)

    @property
    def transmit_hdrs(self) -> dict[str, str] | None:
        return self._dict(self.transmit_hdr)

    @staticmethod
    def _byname(block: str | None, name: object) -> str | None:
        if not isinstance(name, str):
            raise ValueError("name must be a string")
        for n, v in _fields(block or "") or ():
            if n.lower() == name.lower():
                return v
        return None

    def response_hdr_byname(self, name: str) -> str | None:
        return self._byname(self.response_hdr, name)

    def transmit_hdr_byname(self, name: str) -> str | None:
        return self._byname(self.transmit_hdr, name)

    @property
    def buf_count(self) -> int:
        return len(self._d.bufs)

    def buf(self, i: int) -> ScamperHttpBuf | None:
        b = index_or_none(self._d.bufs, i)
        return None if b is None else ScamperHttpBuf._create(b)

    def bufs(self) -> Iterator[ScamperHttpBuf]:
        return (ScamperHttpBuf._create(b) for b in self._d.bufs)

    def __iter__(self) -> Iterator[ScamperHttpBuf]:
        return self.bufs()

    @property
    def ech_config_list(self) -> bytes | None:
        return self._d.ech_config_list

    @property
    def ech_retry_config(self) -> bytes | None:
        return self._d.ech_retry_config

    @property
    def ech_status(self) -> ScamperHttpEchStatus | int:
        return enum_or_int(ScamperHttpEchStatus, self._d.ech_status)

    @property
    def ech_outer_sni(self) -> str | None:
        return self._d.ech_outer_sni
