"""Make a scamper that does not echo task ids (Debian's 20211212) usable by modern clients.

libscamperctrl, and so CAIDA's Python module, matches each result to its task
by the ``id-<n>`` on ``DATA`` lines; 20211212 never sends it, so ``sync=True``
hangs and ``responses()`` waits for its timeout (protocols note, section 5).
The mux sits between the two and fixes the stream of each channel:

* every measurement command gets a unique wire userid (``-U``) for the
  commands whose results carry one, so a result is matched to its task
  exactly, even among concurrent tasks of one type to one destination; the
  client's own userid is written back into the result before it is relayed;
* other results are matched to the oldest open task of their type;
* the matched ``DATA`` line gains ``id-<n>``, ``n`` being the id scamper
  gave the command in its ``OK id-<n>``;
* durations that modern clients write as ``<seconds>s`` are put in the units
  20211212 expects; a value 20211212 cannot express is refused with an
  ``ERR`` naming the version, answered in order without reaching scamper;
* a command using a feature the VP's release lacks (:mod:`scamperlab.wire.releases`:
  ``host -t NS``, ``http``, ...) is refused the same way, the ``ERR`` naming
  that feature and the release that has it (20211212 itself only says
  ``ERR command not accepted``);
* unless a stand-in prober can perform it (:mod:`scamperlab.mux.standin`):
  then the command never reaches scamper, its ``OK id-<n>`` is answered
  here in order and its result comes from the stand-in.

Everything else passes through byte for byte.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from scamperlab.mux.standin.channel import ChannelStandins, StandinJob
from scamperlab.mux.standin.probers import prober_for
from scamperlab.mux.standin.vp import StandinRefused, StandinVp
from scamperlab.wire.releases import DURATIONS, Feature, describe, lacking
from scamperlab.wire.tagging import (
    TAG_BASE,
    TAGGABLE,
    asked_by,
    command_userid,
    find_task,
    tag_command,
)
from scamperlab.wire.uu import uudecode_object, uuencode_object
from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.errors import WartsError
from scamperlab.wire.warts.records import (
    HEADER_LEN,
    T_DEALIAS,
    T_HOST,
    T_HTTP,
    T_NEIGHBOURDISC,
    T_PING,
    T_SNIFF,
    T_STING,
    T_TBIT,
    T_TRACE,
    T_TRACELB,
    T_UDPPROBE,
    record_type,
)

#: warts record type of each measurement command's result
RESULT_TYPE = {
    "trace": T_TRACE,
    "ping": T_PING,
    "tracelb": T_TRACELB,
    "dealias": T_DEALIAS,
    "neighbourdisc": T_NEIGHBOURDISC,
    "tbit": T_TBIT,
    "sting": T_STING,
    "sniff": T_SNIFF,
    "host": T_HOST,
    "http": T_HTTP,
    "udpprobe": T_UDPPROBE,
}

# (command, option) -> the unit 20211212 reads that option in
_UNITS: dict[tuple[str, str], tuple[str, Decimal]] = {
    # 20211212 reads the digits after the point of ping -i as tenths whatever
    # their number ("0.05" waits half a second): one decimal digit only.
    ("ping", "-i"): ("tenths of seconds", Decimal(10)),
    ("ping", "-W"): ("seconds", Decimal(1)),
    ("trace", "-w"): ("seconds", Decimal(1)),
    ("trace", "-W"): ("1/100 seconds", Decimal(100)),
    ("tracelb", "-w"): ("seconds", Decimal(1)),
    ("tracelb", "-W"): ("1/100 seconds", Decimal(100)),
    ("dealias", "-w"): ("seconds", Decimal(1)),
    ("dealias", "-W"): ("milliseconds", Decimal(1000)),
    ("dealias", "-r"): ("milliseconds", Decimal(1000)),
    ("host", "-W"): ("seconds", Decimal(1)),
    ("sniff", "-G"): ("seconds", Decimal(1)),
}
_DURATION_RE = re.compile(r"(?<=\s)(-[A-Za-z])\s+([0-9]+(?:\.[0-9]*)?)s(?=\s|$)")


class UnsupportedByOldScamper(ValueError):
    pass


def translate_durations(line: str, version: str = "20211212") -> str:
    """Rewrite ``-W 5.0s`` style durations into the integer units ``version`` reads."""
    word, _, rest = line.partition(" ")
    word = word.lower()

    def convert(m: re.Match[str]) -> str:
        option, value = m.group(1), m.group(2)
        unit = _UNITS.get((word, option))
        if unit is None:
            return m.group(0)
        name, scale = unit
        try:
            amount = Decimal(value) * scale
        except InvalidOperation:
            return m.group(0)
        if amount != amount.to_integral_value():
            raise UnsupportedByOldScamper(
                f"{word} {option} {value}s: scamper {version} takes {option} in whole {name};"
                " this value needs scamper 20230224 or later"
            )
        if scale == 10:
            return f"{option} {amount / 10:.1f}"
        return f"{option} {int(amount)}"

    return word + " " + _DURATION_RE.sub(convert, " " + rest)[1:] if rest else line


@dataclass
class _Command:
    """A command sent to scamper (or refused here), awaiting its one reply line."""

    word: str | None  # the measurement command, None for attach/done/halt/...
    tag: int | None = None
    userid: int = 0
    refusal: str | None = None  # answered here, in order, with ERR
    standin: StandinJob | None = None  # performed by a stand-in, answered here with OK
    reply: str | None = None  # any other line answered here (a stand-in's halt)
    target: str = ""  # the last word: a destination address, or the name a host asks


@dataclass
class _Task:
    id: int
    word: str
    tag: int | None
    userid: int
    target: str


class LegacyChannel:
    """One channel's two byte streams, rewritten as described in the module docstring."""

    def __init__(self, version: str = "20211212") -> None:
        self.version = version
        self._client_buf = bytearray()
        self._vp_buf = bytearray()
        self._data_len: int | None = None
        self._waiting: deque[_Command] = deque()
        self._open: list[_Task] = []
        self._tags = itertools.count(TAG_BASE + 1)
        self._decoder = StreamDecoder()
        self.standins: ChannelStandins | None = None

    def use_standins(
        self, vp: StandinVp, to_client: Callable[[bytes], None], resend: Callable[[bytes], None]
    ) -> None:
        """Let stand-ins perform what this VP's scamper cannot: their results go to
        ``to_client``, a held ``done`` back through ``resend`` (as if sent again)."""
        self.standins = ChannelStandins(vp, lambda: self._decoder.state, to_client, resend)

    def close(self) -> None:
        """The channel is closed: stop its stand-in tasks."""
        if self.standins is not None:
            self.standins.close()

    # -- client -> scamper ------------------------------------------------------

    def from_client(self, data: bytes) -> tuple[bytes, bytes]:
        """Return (bytes for scamper, bytes for the client)."""
        self._client_buf += data
        to_vp = bytearray()
        to_client = bytearray()
        while (nl := self._client_buf.find(b"\n")) >= 0:
            raw = bytes(self._client_buf[: nl + 1])
            del self._client_buf[: nl + 1]
            line = raw.decode(errors="replace").rstrip("\r\n")
            word = line.split(" ", 1)[0].lower()
            if self.standins is not None and (
                self.standins.holding or (word == "done" and self.standins.busy)
            ):
                self.standins.hold(raw)
                continue
            if not line.strip():
                to_vp += raw
                continue
            if word == "halt" and self.standins is not None:
                reply = self.standins.halt_reply(line)
                if reply is not None:
                    self._waiting.append(_Command(None, reply=reply))
                    to_client += self._answer_local()
                    continue
            if word not in RESULT_TYPE:
                self._waiting.append(_Command(None))
                to_vp += raw
                continue
            missing = [f for f in lacking(line, self.version) if f.name != DURATIONS]
            try:
                if missing:
                    raise UnsupportedByOldScamper(
                        f"{describe(missing)} (this VP runs {self.version})"
                    )
                line = translate_durations(line, self.version)
            except UnsupportedByOldScamper as exc:
                self._waiting.append(self._standin_or_refusal(word, line, missing, str(exc)))
                to_client += self._answer_local()
                continue
            command = _Command(word, userid=command_userid(line), target=asked_by(line))
            if word in TAGGABLE:
                command.tag = next(self._tags)
                line = tag_command(line, command.tag)
            self._waiting.append(command)
            to_vp += line.encode() + b"\n"
        return bytes(to_vp), bytes(to_client)

    def _standin_or_refusal(
        self, word: str, line: str, missing: list[Feature], refusal: str
    ) -> _Command:
        prober = prober_for(word, missing) if self.standins is not None else None
        if self.standins is None or prober is None:
            return _Command(word, refusal=refusal)
        try:
            return _Command(word, standin=self.standins.prepare(prober, line))
        except StandinRefused as exc:
            return _Command(word, refusal=str(exc))

    def _answer_local(self) -> bytes:
        """Replies due now for commands answered here: refusals and stand-ins' OKs."""
        out = bytearray()
        while self._waiting and (
            self._waiting[0].refusal is not None
            or self._waiting[0].standin is not None
            or self._waiting[0].reply is not None
        ):
            command = self._waiting.popleft()
            if command.standin is not None and self.standins is not None:
                out += b"OK id-%d\n" % self.standins.start(command.standin)
                if not self._waiting:
                    out += b"MORE\n"  # as scamper says on taking the last queued command
            elif command.reply is not None:
                out += command.reply.encode() + b"\n"
            else:
                out += f"ERR command not accepted: {command.refusal}\n".encode()
        return bytes(out)

    # -- scamper -> client ------------------------------------------------------

    def from_vp(self, data: bytes) -> bytes:
        self._vp_buf += data
        out = bytearray()
        while True:
            if self._data_len is not None:
                if len(self._vp_buf) < self._data_len:
                    break
                payload = bytes(self._vp_buf[: self._data_len])
                del self._vp_buf[: self._data_len]
                self._data_len = None
                out += self._relay_data(payload)
                continue
            nl = self._vp_buf.find(b"\n")
            if nl < 0:
                break
            raw = bytes(self._vp_buf[: nl + 1])
            del self._vp_buf[: nl + 1]
            out += self._relay_line(raw)
        return bytes(out)

    def _relay_line(self, raw: bytes) -> bytes:
        line = raw.rstrip(b"\r\n")
        if line.startswith(b"DATA "):
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                self._data_len = int(parts[1])
                return b""  # the header is written with the payload, once matched
            return raw
        if line.startswith((b"OK", b"ERR")) and self._waiting:
            command = self._waiting.popleft()
            m = re.match(rb"OK id-(\d+)", line)
            if command.word is not None and m is not None:
                self._open.append(
                    _Task(
                        int(m.group(1)), command.word, command.tag, command.userid, command.target
                    )
                )
            return raw + self._answer_local()
        return raw

    def _relay_data(self, payload: bytes) -> bytes:
        header = b"DATA %d" % len(payload)
        try:
            record = uudecode_object(payload)
            rtype = record_type(record)
        except (WartsError, ValueError):
            return header + b"\n" + payload
        task = self._match(record, rtype)
        if task is None:
            return header + b"\n" + payload
        self._open.remove(task)
        at = self._decoder.userid_at  # located by the decoding _match just did
        if task.tag is not None and at is not None:
            at += HEADER_LEN
            payload = uuencode_object(
                record[:at] + struct.pack(">I", task.userid) + record[at + 4 :]
            )
        return b"DATA %d id-%d\n" % (len(payload), task.id) + payload

    def _match(self, record: bytes, rtype: int) -> _Task | None:
        try:
            data = self._decoder.decode_record(record)  # keeps list/cycle state too
        except WartsError:
            data = None
        candidates = [t for t in self._open if RESULT_TYPE[t.word] == rtype]
        if not candidates:
            return None
        if getattr(data, "userid", None) is None:
            # A type this relay cannot decode: the oldest open task of the type.
            return candidates[0]
        found = find_task(data, candidates, lambda t: t.tag, lambda t: t.target)
        return found if found is not None else candidates[0]
