"""The recording file (``scamperlab.wire.recording``): its container, its version, its results.

``tests/fixtures/recording-v1.rec`` is a real recording of
``examples/ping_all.py`` on ark-mini (Debian's scamper 20211212), made with
``scamperlab run --record``; it stays, so that every later version of the
reader must still read version 1.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from scamperlab.scamper import ScamperFile
from scamperlab.wire.mux import Attr
from scamperlab.wire.recording import (
    MANIFEST,
    VERSION,
    Channel,
    MuxEvent,
    Received,
    Recording,
    RecordingFormatError,
    Sent,
    Session,
    normalise_command,
    read_recording,
    write_recording,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V1 = FIXTURES / "recording-v1.rec"


def test_version_1_fixture_is_still_read() -> None:
    recording = read_recording(V1)
    assert recording.version == 1
    vps = recording.vps()
    assert len(vps) == 14
    names = {dict(attrs)[Attr.NAME] for attrs in vps.values()}
    assert "lhr-gb.example" in names
    (session,) = recording.sessions
    assert [e.kind for e in session.events][-1] == "go"
    assert len(session.channels) == 14
    for chan in session.channels:
        assert [s.line.split()[0] for s in chan.sent] == ["ping", "done"]
        assert len(chan.records) == 4  # list, cycle-start, the ping, cycle-stop
        replies = [r.line for r in chan.received if r.line not in (None, "MORE")]
        assert replies == ["OK id-1", "OK"]


def test_each_channel_is_a_warts_file_scamperfile_reads(tmp_path: Path) -> None:
    with zipfile.ZipFile(V1) as archive:
        archive.extractall(tmp_path)
    members = sorted((tmp_path / "channels").glob("*.warts"))
    assert len(members) == 14
    pings = []
    for member in members:
        with ScamperFile(str(member)) as f:
            pings += [obj for obj in f if type(obj).__name__ == "ScamperPing"]
    assert len(pings) == 14
    assert {str(p.dst) for p in pings} == {"203.0.113.80"}


def _small() -> Recording:
    chan = Channel(1, 7, opened=0.5, closed=2.0)
    chan.sent = [Sent(0.6, "ping -U 9 -c 1 192.0.2.1"), Sent(1.5, "done")]
    chan.received = [Received(0.6, "OK id-1"), Received(1.0, record=0, task=1)]
    chan.records = [b"\x12\x05\x00\x07\x00\x00\x00\x02ab"]
    session = Session(0.1, 2.5, [MuxEvent(0.1, "vp", 7, ((Attr.NAME, "a"), (Attr.TAG, "x")))])
    session.events.append(MuxEvent(0.2, "go"))
    session.events.append(MuxEvent(1.9, "departed", 7))
    session.channels.append(chan)
    return Recording([session], {"command": ["true"]}, created=1.5)


def test_a_recording_round_trips(tmp_path: Path) -> None:
    write_recording(_small(), tmp_path / "r.rec")
    back = read_recording(tmp_path / "r.rec")
    assert back.sessions == _small().sessions
    assert back.info == {"command": ["true"]}
    assert not list(tmp_path.glob("*.partial"))
    manifest_only = read_recording(tmp_path / "r.rec", results=False)
    assert manifest_only.sessions[0].channels[0].records == []


def _rewrite_manifest(src: Path, dst: Path, change: dict[str, object]) -> None:
    with zipfile.ZipFile(src) as archive, zipfile.ZipFile(dst, "w") as out:
        for item in archive.namelist():
            data = archive.read(item)
            if item == MANIFEST:
                doc = json.loads(data)
                doc.update(change)
                data = json.dumps(doc).encode()
            out.writestr(item, data)


def test_a_newer_version_is_refused_by_name(tmp_path: Path) -> None:
    _rewrite_manifest(V1, tmp_path / "new.rec", {"version": VERSION + 1})
    with pytest.raises(RecordingFormatError, match=f"version {VERSION + 1}.*newer scamperlab"):
        read_recording(tmp_path / "new.rec")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a zip", "not a zip archive"), (None, "not a scamperlab recording")],
)
def test_what_is_not_a_recording_says_so(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "bad.rec"
    if content is None:
        _rewrite_manifest(V1, path, {"format": "something-else"})
    else:
        path.write_bytes(content)
    with pytest.raises(RecordingFormatError, match=message):
        read_recording(path)


def test_commands_are_matched_without_their_userid() -> None:
    assert normalise_command("ping  -U 3221225473 -c 3 192.0.2.1") == "ping -c 3 192.0.2.1"
    assert normalise_command("ping -c 3 192.0.2.1\r") == "ping -c 3 192.0.2.1"
    assert normalise_command("trace -U 0x10 192.0.2.1") == "trace 192.0.2.1"
    assert normalise_command("ping -c 3 192.0.2.1") != normalise_command("ping -c 2 192.0.2.1")
