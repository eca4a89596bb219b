"""A recording of what one lab's mux sent and received: the file ``run --record`` writes.

**Container.** A zip archive (the standard library's :mod:`zipfile`) with

- ``manifest.json``: ``{"format": "scamperlab-recording", "version": 1, ...}``,
  the VPs as the mux announced them (every attribute, codes and values as
  sent), each mux session's timeline (announcements, ``go``, departures,
  channel opens and closes), and per channel every line the client sent and
  everything it received (``OK``/``ERR``/``MORE`` lines and results), in
  order, each with its time in seconds since the recording began;
- ``channels/<session>-<channel>.warts``: the records each channel carried
  (list, cycle-start, results, cycle-stop), byte for byte, one after the
  other: each member is a complete warts file that ``ScamperFile`` and
  ``sc_warts2json`` read once extracted (``unzip run.rec 'channels/*'``).

Why a zip and not one warts file with a manifest beside it: one file to
commit and copy; warts has no record type for free-form metadata, and
scamper's own reader requires a stream's list and cycle ids to run 1, 2, 3
(``warts_list_read``), so the channels' streams, each starting at list 1,
cannot be concatenated into one without rewriting every result's
references, and then the records would no longer be the VP's bytes. A zip
keeps each stream exact, lets ``--list`` read the manifest without the
results, and is opened by every platform's tools. JSON rather than CBOR:
the standard library writes it and a reviewer can read it.

**Versions.** ``version`` is an integer, raised whenever a reader of the
old version would misread the new file. This module reads every version up
to :data:`VERSION` (``tests/fixtures/recording-v1.rec`` keeps a file of each
one) and refuses newer ones with a message naming both.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .warts.records import HEADER_LEN, parse_header

FORMAT = "scamperlab-recording"
VERSION = 1
MANIFEST = "manifest.json"

_USERID_RE = re.compile(r"(?<=\s)-U\s+\S+")


class RecordingFormatError(ValueError):
    """A file that is not a recording this release can read."""


@dataclass(frozen=True)
class Sent:
    """A line the client sent on a channel (a command, ``done``, ``halt``), as sent."""

    t: float
    line: str


@dataclass(frozen=True)
class Received:
    """What the channel brought the client: a text line, or (``record`` set) a result."""

    t: float
    line: str | None = None  # "OK id-3", "ERR ...", "MORE"
    record: int | None = None  # index into the channel's records
    task: int | None = None  # the DATA line's id-<n>, None for list/cycle records


@dataclass
class Channel:
    """One channel of a mux session: a user's attached session with one VP."""

    channel: int
    vp: int
    opened: float
    closed: float | None = None
    sent: list[Sent] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    records: list[bytes] = field(default_factory=list)  # complete warts records, in order


@dataclass(frozen=True)
class MuxEvent:
    """Something the mux told the client on channel 0."""

    t: float
    kind: str  # "vp" (announced or updated), "go", "departed"
    vp: int | None = None
    attrs: tuple[tuple[int, str], ...] = ()  # a "vp" event's attributes, in the order sent


@dataclass
class Session:
    """One client connection to the mux socket."""

    start: float
    end: float | None = None
    events: list[MuxEvent] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)


@dataclass
class Recording:
    sessions: list[Session] = field(default_factory=list)
    #: where it was made: topology, command, scamper version, ... (free-form, shown by --list)
    info: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0  # wall-clock time (epoch seconds) the recording began
    version: int = VERSION  # of the file it was read from

    def vps(self) -> dict[int, tuple[tuple[int, str], ...]]:
        """Every VP announced in any session: its last attributes, by mux id."""
        found: dict[int, tuple[tuple[int, str], ...]] = {}
        for session in self.sessions:
            for event in session.events:
                if event.kind == "vp" and event.vp is not None:
                    found[event.vp] = event.attrs
        return found


def normalise_command(line: str) -> str:
    """The form commands are matched in: words single-spaced, the ``-U`` userid left out.

    The userid is the one part of a command that a client chooses afresh
    each run (scamperlab's module tags commands with unique ones where
    scamper sends no task ids); a replay writes the new one into the result.
    """
    return " ".join(_USERID_RE.sub(" ", " " + line.strip()).split())


def split_records(data: bytes) -> list[bytes]:
    """A warts stream's records, each with its header."""
    records: list[bytes] = []
    off = 0
    while off < len(data):
        try:
            _rtype, length = parse_header(data, off)
        except ValueError as exc:
            raise RecordingFormatError(f"bad warts record at offset {off}: {exc}") from None
        end = off + HEADER_LEN + length
        if end > len(data):
            raise RecordingFormatError(f"truncated warts record at offset {off}")
        records.append(data[off:end])
        off = end
    return records


# -- writing ------------------------------------------------------------------------


def _member(session: int, channel: int) -> str:
    return f"channels/{session}-{channel}.warts"


def _received_json(item: Received) -> dict[str, Any]:
    out: dict[str, Any] = {"t": round(item.t, 6)}
    if item.line is not None:
        out["line"] = item.line
    if item.record is not None:
        out["record"] = item.record
    if item.task is not None:
        out["task"] = item.task
    return out


def _event_json(event: MuxEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"t": round(event.t, 6), "kind": event.kind}
    if event.vp is not None:
        out["vp"] = event.vp
    if event.kind == "vp":
        out["attrs"] = [[code, value] for code, value in event.attrs]
    return out


def manifest(recording: Recording) -> dict[str, Any]:
    """The manifest of ``recording`` as JSON data (version :data:`VERSION`)."""
    sessions = []
    for s_index, session in enumerate(recording.sessions, 1):
        channels = []
        for chan in session.channels:
            channels.append(
                {
                    "channel": chan.channel,
                    "vp": chan.vp,
                    "opened": round(chan.opened, 6),
                    "closed": None if chan.closed is None else round(chan.closed, 6),
                    "warts": _member(s_index, chan.channel),
                    "records": len(chan.records),
                    "sent": [{"t": round(s.t, 6), "line": s.line} for s in chan.sent],
                    "received": [_received_json(r) for r in chan.received],
                }
            )
        sessions.append(
            {
                "start": round(session.start, 6),
                "end": None if session.end is None else round(session.end, 6),
                "events": [_event_json(e) for e in session.events],
                "channels": channels,
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": recording.created,
        "info": recording.info,
        "sessions": sessions,
    }


_TOKEN = re.compile(r'"@@(\d+)@@"')


def _pretty(doc: dict[str, Any]) -> str:
    """The manifest indented, but each event, line and result on one line of its own:
    a reviewer reads a session top to bottom, and a diff shows what changed."""
    leaves: list[str] = []

    def leaf(item: dict[str, Any]) -> str:
        leaves.append(json.dumps(item))
        return f"@@{len(leaves) - 1}@@"

    tree = dict(doc)
    tree["sessions"] = [
        {
            **session,
            "events": [leaf(e) for e in session["events"]],
            "channels": [
                {
                    **chan,
                    "sent": [leaf(x) for x in chan["sent"]],
                    "received": [leaf(x) for x in chan["received"]],
                }
                for chan in session["channels"]
            ],
        }
        for session in doc["sessions"]
    ]
    text = json.dumps(tree, indent=1)
    return _TOKEN.sub(lambda m: leaves[int(m.group(1))], text) + "\n"


def write_recording(recording: Recording, path: str | Path) -> None:
    """Write ``recording`` to ``path`` (replaced whole: a reader never sees half a file)."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, _pretty(manifest(recording)))
            for s_index, session in enumerate(recording.sessions, 1):
                for chan in session.channels:
                    archive.writestr(_member(s_index, chan.channel), b"".join(chan.records))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


# -- reading ------------------------------------------------------------------------


def read_recording(path: str | Path, *, results: bool = True) -> Recording:
    """The recording in ``path``; :class:`RecordingFormatError` if it is not one.

    ``results=False`` reads the manifest only (``records`` stay empty).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                doc = json.loads(archive.read(MANIFEST))
            except KeyError:
                raise RecordingFormatError(f"{path}: no {MANIFEST}: not a recording") from None
            recording = _from_manifest(doc, str(path))
            if results:
                for chan, member in _members(recording, doc):
                    try:
                        chan.records = split_records(archive.read(member))
                    except KeyError:
                        raise RecordingFormatError(f"{path}: {member} is missing") from None
    except zipfile.BadZipFile:
        raise RecordingFormatError(f"{path}: not a recording (not a zip archive)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordingFormatError(f"{path}: {MANIFEST} is not valid JSON: {exc}") from None
    return recording


def _members(recording: Recording, doc: dict[str, Any]) -> Iterator[tuple[Channel, str]]:
    for session, raw in zip(recording.sessions, doc["sessions"], strict=True):
        for chan, raw_chan in zip(session.channels, raw["channels"], strict=True):
            yield chan, str(raw_chan["warts"])


def _from_manifest(doc: Any, where: str) -> Recording:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RecordingFormatError(f"{where}: not a scamperlab recording")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise RecordingFormatError(f"{where}: bad version {version!r}")
    if version > VERSION:
        raise RecordingFormatError(
            f"{where}: recording version {version} was written by a newer scamperlab;"
            f" this one reads versions up to {VERSION}: upgrade scamperlab"
        )
    try:
        sessions = [_session(raw) for raw in doc["sessions"]]
        return Recording(
            sessions=sessions,
            info=dict(doc.get("info") or {}),
            created=float(doc.get("created", 0.0)),
            version=version,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordingFormatError(f"{where}: malformed manifest ({exc!r})") from None


def _session(raw: dict[str, Any]) -> Session:
    events = [
        MuxEvent(
            float(e["t"]),
            str(e["kind"]),
            None if e.get("vp") is None else int(e["vp"]),
            tuple((int(code), str(value)) for code, value in e.get("attrs", ())),
        )
        for e in raw["events"]
    ]
    channels = [
        Channel(
            channel=int(c["channel"]),
            vp=int(c["vp"]),
            opened=float(c["opened"]),
            closed=None if c.get("closed") is None else float(c["closed"]),
            sent=[Sent(float(s["t"]), str(s["line"])) for s in c["sent"]],
            received=[
                Received(
                    float(r["t"]),
                    r.get("line"),
                    None if r.get("record") is None else int(r["record"]),
                    None if r.get("task") is None else int(r["task"]),
                )
                for r in c["received"]
            ],
        )
        for c in raw["channels"]
    ]
    end = raw.get("end")
    return Session(float(raw["start"]), None if end is None else float(end), events, channels)
