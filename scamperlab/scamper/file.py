"""``ScamperFile``: reading warts files, and the controller's ``outfile``.

Reading decodes plain, gzip, bzip2 and xz warts with the pure-Python decoder.
Writing takes two routes: ``ScamperCtrl(outfile=...)`` hands over the records
scamper sent, written as they came (list and cycle records included); a
script's ``write(obj)`` re-encodes the decoded object with
:class:`~scamperlab.scamper.warts.encoder.WartsEncoder` (warts kinds) or
renders it (json, text).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Iterator
from typing import IO, Any

from scamperlab.scamper.results import ScamperCycle, ScamperList
from scamperlab.scamper.warts import WartsDecoder, WartsError
from scamperlab.scamper.warts.encoder import WartsEncoder

_KINDS = ("warts", "warts.gz", "warts.bz2", "warts.xz", "json", "text")
RESULT_CLASS_NAMES = frozenset(
    {
        "ScamperDealias",
        "ScamperHost",
        "ScamperHttp",
        "ScamperNeighbourdisc",
        "ScamperOwamp",
        "ScamperPing",
        "ScamperSniff",
        "ScamperSting",
        "ScamperTbit",
        "ScamperTrace",
        "ScamperTracelb",
        "ScamperUdpprobe",
    }
)


def _kind_from_name(filename: str) -> str:
    for suffix, kind in (
        (".gz", "warts.gz"),
        (".bz2", "warts.bz2"),
        (".xz", "warts.xz"),
        (".json", "json"),
        (".txt", "text"),
    ):
        if filename.endswith(suffix):
            return kind
    return "warts"


def _open_read(filename: str) -> IO[bytes] | gzip.GzipFile:
    with open(filename, "rb") as probe:
        head = probe.read(6)
    if head.startswith(b"\x1f\x8b"):
        return gzip.open(filename, "rb")
    if head.startswith(b"BZh"):
        return bz2.open(filename, "rb")
    if head.startswith(b"\xfd7zXZ"):
        return lzma.open(filename, "rb")
    return open(filename, "rb")


def _open_write(filename: str, kind: str) -> IO[bytes] | gzip.GzipFile:
    if kind == "warts.gz":
        return gzip.open(filename, "wb")
    if kind == "warts.bz2":
        return bz2.open(filename, "wb")
    if kind == "warts.xz":
        return lzma.open(filename, "wb")
    return open(filename, "wb")


class ScamperFile:
    def __init__(
        self, filename: str, mode: str = "r", kind: str | None = None, filter_types: Any = None
    ) -> None:
        if not isinstance(mode, str) or mode not in ("r", "w"):
            raise ValueError("invalid mode")
        self._filename: str | None = filename
        self._mode = mode
        self._closed = False
        self._filter: set[str] | None = None
        self._objects: Iterator[Any] | None = None
        self._encoder = WartsEncoder()
        if mode == "r":
            if kind is not None:
                raise ValueError("kind is only for writing")
            self._kind = "warts"
            try:
                self._fh = _open_read(filename)
            except OSError as exc:
                raise RuntimeError("could not open file") from exc
            if filter_types is not None:
                self.filter_types(*filter_types)
        else:
            chosen = kind if kind is not None else _kind_from_name(filename)
            if chosen not in _KINDS:
                raise ValueError("invalid kind")
            self._kind = chosen
            try:
                self._fh = _open_write(filename, chosen)
            except OSError as exc:
                raise RuntimeError("could not open file") from exc

    def __enter__(self) -> ScamperFile:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on closed file")

    @property
    def filetype(self) -> str:
        self._check_open()
        return self._kind

    @property
    def filename(self) -> str | None:
        self._check_open()
        return self._filename

    def is_read(self) -> bool:
        return self._mode == "r"

    def is_write(self) -> bool:
        return self._mode == "w"

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._fh.close()

    # -- reading -------------------------------------------------------------------

    def filter_types(self, *filter_types: Any) -> None:
        if self._mode != "r":
            raise ValueError("cannot add filter to non-readable files")
        if not filter_types:
            raise ValueError("nothing to filter")
        names = set()
        for cls in filter_types:
            name = getattr(cls, "__name__", None)
            if name not in RESULT_CLASS_NAMES:
                raise ValueError("invalid type")
            names.add(name)
        self._filter = names

    def _iter_objects(self) -> Iterator[Any]:
        data = self._fh.read()
        decoder = WartsDecoder()
        try:
            for obj in decoder.iter_decode(data):
                if obj is not None:
                    yield obj
        except WartsError:
            return

    def read(self) -> Any:
        self._check_open()
        if self._mode != "r":
            raise RuntimeError("file not opened in read mode")
        if self._objects is None:
            self._objects = self._iter_objects()
        for obj in self._objects:
            if self._filter is not None and type(obj).__name__ not in self._filter:
                continue
            return obj
        return None

    def __iter__(self) -> ScamperFile:
        if self._mode != "r":
            raise ValueError("not readable")
        self._check_open()
        return self

    def __next__(self) -> Any:
        obj = self.read()
        if obj is None:
            raise StopIteration
        return obj

    # -- writing -------------------------------------------------------------------

    def _write_record(self, obj: Any, record: bytes) -> None:
        """What the controller received, written as received (warts) or rendered."""
        self._check_open()
        if self._mode != "w":
            raise RuntimeError("file not opened in write mode")
        if self._kind.startswith("warts"):
            self._fh.write(record)
        elif obj is not None and not isinstance(obj, ScamperList):
            self._write_rendered(obj)

    def _write_rendered(self, obj: Any) -> None:
        if isinstance(obj, ScamperCycle):
            render = obj._to_json if self._kind == "json" else None
        else:
            render = getattr(obj, "to_json" if self._kind == "json" else "to_text", None)
        if render is None:
            return
        text = render()
        if text:
            self._fh.write(text.encode() + (b"" if text.endswith("\n") else b"\n"))

    def write(self, obj: Any) -> None:
        self._check_open()
        if self._mode != "w":
            raise RuntimeError("file not opened in write mode")
        name = type(obj).__name__
        if name in ("ScamperList", "ScamperAddr") or (
            isinstance(obj, ScamperCycle) and obj._kind is None
        ):
            return
        if name not in RESULT_CLASS_NAMES and not isinstance(obj, ScamperCycle):
            raise RuntimeError("unhandled object type")
        if self._kind.startswith("warts"):
            try:
                self._fh.write(self._encoder.encode(obj))
            except (WartsError, OSError) as exc:
                raise RuntimeError(f"could not write {type(obj).__name__}") from exc
        else:
            self._write_rendered(obj)
