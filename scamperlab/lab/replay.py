"""Recordings from a script's point of view: make one around a lab's run, serve one back.

- :func:`recording_of` records what a command receives through a lab's mux
  (``scamperlab run --record``) and writes the file when it ends, however it
  ends;
- :class:`Replay` serves a recording on a mux socket of its own, like a
  running :class:`~scamperlab.lab.Lab` but as any user, without namespaces,
  scamper or root: ``with Replay("run.rec") as replay: ... replay.mux_path``;
- :class:`RecordedMux` records what passes through any mux socket (a
  modern sc_remoted's, Ark's) by a proxy socket in front of it
  (``scamperlab record``);
- :func:`run_with_replay` runs one command against a replay exactly as
  :func:`~scamperlab.lab.lifecycle.run_command` runs one against a lab
  (``{mux}``, ``SCAMPERLAB_MUX``, ``import scamper`` working).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from scamperlab.errors import ScamperlabError
from scamperlab.lab.loopthread import LoopThread
from scamperlab.lab.views import LabNode, LabVp, nodes_of, vps_of
from scamperlab.mux.recorder import Recorder
from scamperlab.mux.recordproxy import RecordingProxy
from scamperlab.mux.replay import ReplayServer, Unrecorded
from scamperlab.shim import ImportChoice, read_choices
from scamperlab.wire.mux import Attr
from scamperlab.wire.recording import (
    Recording,
    RecordingFormatError,
    normalise_command,
    read_recording,
)

if TYPE_CHECKING:
    from scamperlab.lab.core import Lab


class RecordingError(ScamperlabError):
    """A recording that cannot be read or written."""


def load_recording(path: str | Path, *, results: bool = True) -> Recording:
    """:func:`~scamperlab.wire.recording.read_recording`, its errors as scamperlab's."""
    try:
        return read_recording(path, results=results)
    except FileNotFoundError:
        raise RecordingError(f"no recording at {path}") from None
    except (RecordingFormatError, OSError) as exc:
        raise RecordingError(str(exc)) from None


@contextlib.contextmanager
def recording_of(lab: Lab, path: str | Path, command: Sequence[str]) -> Iterator[Recorder]:
    """Record every mux session of ``lab`` while the block runs; write ``path`` at its end."""
    target = Path(path)
    if not target.parent.is_dir():
        raise RecordingError(f"cannot record to {target}: no directory {target.parent}")
    lab.recorder = recorder = Recorder(lab_info(lab, command))
    try:
        yield recorder
    finally:
        lab.recorder = None
        try:
            recorder.save(target)
        except OSError as exc:
            raise RecordingError(f"cannot write the recording {target}: {exc}") from exc


def lab_info(lab: Lab, command: Sequence[str]) -> dict[str, object]:
    """What a recording says of the lab it was made in: its name, the command, and the
    topology file's text, from which a replay gives the lab's VPs and targets."""
    info: dict[str, object] = {
        "topology": str(lab.source) if lab.source else lab.topology.name,
        "lab": lab.name,
        "command": list(command),
    }
    if lab.source is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            info["topology_text"] = Path(lab.source).read_text()
    return info


class _ImportNotes:
    """What ``import scamper`` gave the Pythons of a command run against a socket
    in :attr:`mux_path`'s directory (as a lab keeps them in its state)."""

    imports: list[ImportChoice]
    _imports_read: int

    @property
    def mux_path(self) -> Path:
        raise NotImplementedError

    @property
    def import_log(self) -> Path:
        return self.mux_path.parent / "imports.log"

    def note_imports(self) -> list[ImportChoice]:
        choices, self._imports_read = read_choices(self.import_log, self._imports_read)
        self.imports.extend(choices)
        return choices


class Replay(_ImportNotes):
    """A recording served on a mux socket: ``with Replay(path) as replay:``.

    ``speed`` divides the recorded delays (``math.inf``: answer at once).
    ``on_unrecorded(command, vp, message)`` hears of each command the
    recording cannot answer (the client gets an ``ERR`` with ``message``);
    :attr:`unrecorded` keeps the messages too.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        on_unrecorded: Unrecorded | None = None,
        name: str = "replay",
    ) -> None:
        self.path = Path(path)
        self.name = name
        self.recording = load_recording(self.path)
        self.speed = speed
        self.unrecorded: list[str] = []
        self._tell = on_unrecorded
        self.imports = []
        self._imports_read = 0
        self._dir: Path | None = None
        self._loop: LoopThread | None = None
        self._server: ReplayServer | None = None

    @property
    def vps(self) -> list[LabVp] | None:
        """The recorded lab's VPs as ``Lab.vps`` gave them (None: no topology recorded)."""
        views = self._views()
        return None if views is None else views[0]

    @property
    def targets(self) -> list[LabNode] | None:
        """The recorded lab's targets as ``Lab.targets`` gave them (None: no topology)."""
        views = self._views()
        return None if views is None else views[1]

    def _views(self) -> tuple[list[LabVp], list[LabNode]] | None:
        text = self.recording.info.get("topology_text")
        if not isinstance(text, str):
            return None
        from scamperlab.topology.loader import parse_topology
        from scamperlab.topology.plan import make_plan

        topology = parse_topology(text, str(self.recording.info.get("topology", "<recorded>")))
        plan = make_plan(topology)
        return vps_of(topology, plan), nodes_of(plan, "target")

    @property
    def mux_path(self) -> Path:
        if self._dir is None:
            raise RecordingError("the replay is not running: use 'with Replay(path) as replay:'")
        return self._dir / "mux"

    def _heard(self, command: str, vp: str, message: str) -> None:
        self.unrecorded.append(message)
        if self._tell is not None:
            self._tell(command, vp, message)

    def start(self) -> None:
        # Only this user may connect: the directory is 0700 (mkdtemp's mode).
        self._dir = Path(tempfile.mkdtemp(prefix="scamperlab-replay-"))
        try:
            self._server = ReplayServer(
                self._dir / "mux", self.recording, speed=self.speed, on_unrecorded=self._heard
            )
            self._loop = LoopThread("scamperlab-replay")
            self._loop.call(self._server.start())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Close the socket and its connections, remove the directory. Safe to call twice."""
        loop, self._loop = self._loop, None
        server, self._server = self._server, None
        if loop is not None:
            if server is not None:
                with contextlib.suppress(Exception):
                    loop.call(server.close(), timeout=10)
            loop.stop()
        directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> Replay:
        self.start()
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class RecordedMux(_ImportNotes):
    """A proxy socket in front of the mux ``upstream``, recording into ``path``:
    ``with RecordedMux(upstream, "run.rec", command) as mux: ... mux.mux_path``.

    The recording is written when the block ends, however it ends.
    """

    def __init__(self, upstream: str | Path, path: str | Path, command: Sequence[str] = ()) -> None:
        self.upstream = Path(upstream)
        self.path = Path(path)
        self.name = "record"
        if not self.path.parent.is_dir():
            raise RecordingError(f"cannot record to {self.path}: no directory {self.path.parent}")
        self.recorder = Recorder({"mux": str(self.upstream), "command": list(command)})
        self.imports = []
        self._imports_read = 0
        self._dir: Path | None = None
        self._loop: LoopThread | None = None
        self._proxy: RecordingProxy | None = None

    @property
    def mux_path(self) -> Path:
        if self._dir is None:
            raise RecordingError("not recording: use 'with RecordedMux(...) as mux:'")
        return self._dir / "mux"

    def __enter__(self) -> RecordedMux:
        if not self.upstream.exists():
            raise RecordingError(f"no mux socket at {self.upstream}")
        self._dir = Path(tempfile.mkdtemp(prefix="scamperlab-record-"))
        self._proxy = RecordingProxy(self._dir / "mux", self.upstream, self.recorder)
        self._loop = LoopThread("scamperlab-record")
        try:
            self._loop.call(self._proxy.start())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        loop, self._loop = self._loop, None
        proxy, self._proxy = self._proxy, None
        if loop is not None:
            if proxy is not None:
                with contextlib.suppress(Exception):
                    loop.call(proxy.close(), timeout=10)
            loop.stop()
        directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        try:
            self.recorder.save(self.path)
        except OSError as err:
            raise RecordingError(f"cannot write the recording {self.path}: {err}") from err


def run_with_replay(
    replay: Replay,
    command: Sequence[str],
    *,
    stdout: int | None = None,
    on_import: Callable[[ImportChoice], None] = lambda _choice: None,
) -> int:
    """Serve ``replay``, run ``command`` against it, stop; the command's exit status."""
    from scamperlab.lab.lifecycle import run_command

    with replay:
        return run_command(replay, command, stdout=stdout, on_import=on_import)


def parse_speed(text: str) -> float:
    """``--speed``: a factor over the recorded timing, or ``max`` for as fast as possible."""
    if text.lower() in ("max", "inf"):
        return float("inf")
    try:
        speed = float(text)
    except ValueError:
        raise RecordingError(f"--speed {text}: give a number above 0, or 'max'") from None
    if not speed > 0:
        raise RecordingError(f"--speed {text}: give a number above 0, or 'max'")
    return speed


# -- what a recording holds (replay --list) ------------------------------------------


@dataclass(frozen=True)
class VpRow:
    id: int
    name: str
    ipv4: str
    cc: str
    place: str
    tags: tuple[str, ...]
    departed: str  # "" or when, in seconds after the recording began


@dataclass
class CommandRow:
    vp: str
    command: str  # normalised (without its userid)
    times: int = 0
    results: int = 0
    errors: int = 0


@dataclass
class RecordingSummary:
    version: int
    sessions: int
    command: list[str]
    vps: list[VpRow] = field(default_factory=list)
    rows: list[CommandRow] = field(default_factory=list)

    @property
    def commands(self) -> int:
        return sum(row.times for row in self.rows)

    @property
    def results(self) -> int:
        return sum(row.results for row in self.rows)

    @property
    def errors(self) -> int:
        return sum(row.errors for row in self.rows)


def summary(recording: Recording) -> RecordingSummary:
    """The VPs of ``recording`` and its commands by VP, counted (from the manifest alone)."""
    info = RecordingSummary(
        recording.version, len(recording.sessions), list(recording.info.get("command") or [])
    )
    departed: dict[int, float] = {}
    names: dict[int, str] = {}
    for session in recording.sessions:
        for event in session.events:
            if event.kind == "departed" and event.vp is not None:
                departed.setdefault(event.vp, event.t)
    for vp_id, attrs in sorted(recording.vps().items()):
        fields = dict(attrs)
        name = fields.get(Attr.NAME) or fields.get(Attr.IPV4) or f"VP id {vp_id}"
        names[vp_id] = name
        info.vps.append(
            VpRow(
                vp_id,
                name,
                fields.get(Attr.IPV4, ""),
                fields.get(Attr.CC, ""),
                fields.get(Attr.PLACE, ""),
                tuple(value for code, value in attrs if code == Attr.TAG),
                f"after {departed[vp_id]:.1f} s" if vp_id in departed else "",
            )
        )
    rows: dict[tuple[str, str], CommandRow] = {}
    for session in recording.sessions:
        for chan in session.channels:
            vp = names.get(chan.vp, f"VP id {chan.vp}")
            replies = [r for r in chan.received if r.line is not None and r.line != "MORE"]
            tasks = {r.task for r in chan.received if r.record is not None and r.task is not None}
            for sent, reply in zip(chan.sent, replies + [None] * len(chan.sent), strict=False):
                key = normalise_command(sent.line)
                if key.split()[0].lower() in ("done", "halt"):
                    continue
                row = rows.setdefault((vp, key), CommandRow(vp, key))
                row.times += 1
                if reply is None or reply.line is None:
                    continue
                if reply.line.startswith("ERR"):
                    row.errors += 1
                elif (task := _task_id(reply.line)) is not None and task in tasks:
                    row.results += 1
    info.rows = sorted(rows.values(), key=lambda row: (row.vp, row.command))
    return info


def _task_id(line: str) -> int | None:
    head, _, rest = line.partition(" id-")
    return (
        int(rest.split()[0])
        if head == "OK" and rest.split() and rest.split()[0].isdigit()
        else None
    )
