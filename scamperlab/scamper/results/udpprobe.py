"""UDP request/response results: ``ScamperUdpprobe``,
``ScamperUdpprobeProbe``, ``ScamperUdpprobeReply`` (reference §7.7)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.reader import Timeval
from scamperlab.wire.warts.udpprobe import UdpprobeData, UdpprobeProbeData, UdpprobeReplyData

from ..addr import ScamperAddr
from ..enums import ScamperUdpprobeStop
from ._util import NoInit, enum_or_int, index_or_none, name_of, to_datetime, tv_us
from .common import ScamperResult

__all__ = ["ScamperUdpprobe", "ScamperUdpprobeProbe", "ScamperUdpprobeReply"]

STOP_NAMES = ("none", "done", "halted", "error")


class ScamperUdpprobeReply(NoInit):
    """One UDP reply."""

    __slots__ = ("_r",)
    _r: UdpprobeReplyData

    @classmethod
    def _create(cls, r: UdpprobeReplyData) -> ScamperUdpprobeReply:
        obj = cls._new()
        obj._r = r
        return obj

    @property
    def rx(self) -> _dt.datetime:
        return to_datetime(self._r.rx or (0, 0))  # type: ignore[return-value]

    @property
    def payload(self) -> bytes | None:
        return self._r.data or None

    @property
    def ifname(self) -> str | None:
        return self._r.ifname


class ScamperUdpprobeProbe(NoInit):
    """One UDP probe and its replies."""

    __slots__ = ("_p",)
    _p: UdpprobeProbeData

    @classmethod
    def _create(cls, p: UdpprobeProbeData) -> ScamperUdpprobeProbe:
        obj = cls._new()
        obj._p = p
        return obj

    @property
    def tx(self) -> _dt.datetime:
        return to_datetime(self._p.tx or (0, 0))  # type: ignore[return-value]

    @property
    def sport(self) -> int:
        return self._p.sport

    @property
    def reply_count(self) -> int:
        return len(self._p.replies)

    def reply(self, i: int) -> ScamperUdpprobeReply | None:
        r = index_or_none(self._p.replies, i)
        return None if r is None else ScamperUdpprobeReply._create(r)

    def __iter__(self) -> Iterator[ScamperUdpprobeReply]:
        return (ScamperUdpprobeReply._create(r) for r in self._p.replies)


class ScamperUdpprobe(ScamperResult):
    """A UDP probe measurement (reference §7.7)."""

    __slots__ = ("_d",)
    _d: UdpprobeData

    @classmethod
    def _create(cls, data: UdpprobeData, inst: Any = None) -> ScamperUdpprobe:
        return cls._from_data(data, inst, start=data.start or (0, 0))

    @property
    def stop_reason(self) -> ScamperUdpprobeStop | int:
        return enum_or_int(ScamperUdpprobeStop, self._d.stop)

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
    def attempts(self) -> int:
        return self._d.probe_count

    @property
    def stop_count(self) -> int:
        return self._d.stop_count

    @property
    def wait_probe(self) -> _dt.timedelta:
        return _dt.timedelta(microseconds=self._d.wait_probe)

    @property
    def wait_timeout(self) -> _dt.timedelta:
        return _dt.timedelta(microseconds=self._d.wait_timeout)

    @property
    def payload(self) -> bytes | None:
        return self._d.data or None

    @property
    def probe_sent(self) -> int:
        return self._d.probe_sent

    def probe(self, i: int) -> ScamperUdpprobeProbe | None:
        p = index_or_none(self._d.probes, i)
        return None if p is None else ScamperUdpprobeProbe._create(p)

    def __iter__(self) -> Iterator[ScamperUdpprobeProbe]:
        return (ScamperUdpprobeProbe._create(p) for p in self._d.probes)

    def replies(self) -> Iterator[ScamperUdpprobeReply]:
        return (ScamperUdpprobeReply._create(r) for p in self._d.probes for r in p.replies)

    def to_json(self) -> str | None:
        d = self._d

        def tv(t: Timeval | None) -> str:
            sec, usec = t or (0, 0)
            return f'{{"sec":{sec}, "usec":{usec}}}'

        def reply(p: UdpprobeProbeData, r: UdpprobeReplyData) -> str:
            rtt = tv_us(r.rx) - tv_us(p.tx)
            out = f'{{"rx":{tv(r.rx)}, "rtt":{tv(divmod(rtt, 1_000_000))}, "len":{r.len}'
            if r.data:
                out += f', "data":"{r.data.hex()}"'
            if r.ifname is not None:
                out += f', "ifname":"{r.ifname}"'
            return out + "}"

        def probe(p: UdpprobeProbeData) -> str:
            rs = ", ".join(reply(p, r) for r in p.replies)
            return (
                f'{{"tx":{tv(p.tx)}, "sport":{p.sport}, "replyc":{len(p.replies)}, '
                f'"replies":[{rs}]}}'
            )

        out = '{"type":"udpprobe", "version":"0.1"'
        if d.src is not None:
            out += f', "src":"{d.src}"'
        if d.dst is not None:
            out += f', "dst":"{d.dst}"'
        out += f', "userid":{d.userid}, "start":{tv(d.start)}'
        out += f', "sport":{d.sport}, "dport":{d.dport}'
        out += f', "wait_timeout":{tv(divmod(d.wait_timeout, 1_000_000))}'
        out += f', "stop_reason":"{self.stop_reason_str}"'
        if d.data:
            out += f', "data":"{d.data.hex()}", "len":{d.len}'
        out += f', "probe_count":{d.probe_count}, "probe_sent":{d.probe_sent}'
        out += f', "stop_count":{d.stop_count}'
        return out + ', "probes":[' + ",".join(probe(p) for p in d.probes) + "]}"
