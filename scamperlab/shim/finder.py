"""The import hook that decides, inside each Python, what ``import scamper`` gives.

A lab's commands run in whatever interpreter the user names (the system's
``python3`` with CAIDA's module from its PPA, a venv, a shell script's
``python3``, ``pytest``), and only that interpreter knows whether it has a
``scamper`` of its own. So the decision is taken there, at import time, by
one finder at the front of ``sys.meta_path`` that asks every other finder
first, exactly as the import system would:

- ``scamper``: the interpreter's own module if any finder has one (CAIDA's,
  for whoever installed it); scamperlab's twin (``shim/scamper/``) otherwise.
  ``SCAMPERLAB_SCAMPER=real`` makes a missing real module an error,
  ``SCAMPERLAB_SCAMPER=scamperlab`` forces the twin.
- ``scamperlab``: whatever the interpreter has; only where it has none, the
  package this file belongs to, so that the twin can import it. Nothing else
  is ever served, so no real module is shadowed.

Each decision about ``scamper`` is kept on the finder (``choices``), passed
to its listeners, and appended as one JSON line to the file named by
``SCAMPERLAB_IMPORT_LOG``, which is how a lab learns what its commands used.

This file is loaded in two ways: in scamperlab's own process as
``scamperlab.shim.finder``, and in any other Python by the bootstrap
``boot/sitecustomize.py``, by path, before anything else can be imported,
in an interpreter that may lack scamperlab and may be older than it. Hence:
the standard library only, nothing newer than Python 3.8 at run time, and
state held by the one finder object on ``sys.meta_path`` (found by its
marker), never by module globals, of which there may be two copies.
"""

from __future__ import annotations

import os
import sys
import time

# Every Python a lab starts loads this file: nothing is imported for annotations
# alone (typing costs a start-up 2 ms), and json and importlib.util only when
# used. mypy takes any ``TYPE_CHECKING`` to be true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

    Choice = dict[str, Any]  # not evaluable on Python 3.8: annotations only

MODE_VAR = "SCAMPERLAB_SCAMPER"
LOG_VAR = "SCAMPERLAB_IMPORT_LOG"
REAL = "real"
TWIN = "scamperlab"
MODES = (REAL, TWIN)
#: scamperlab's own ``requires-python``, which its twin needs too
MIN_PYTHON = (3, 11)
#: the attribute by which any copy of this module recognises an installed finder
MARKER = "scamperlab_scamper_finder"

_HERE = os.path.dirname(os.path.realpath(__file__))
TWIN_INIT = os.path.join(_HERE, "scamper", "__init__.py")
#: the directory holding the ``scamperlab`` package this file is part of
PACKAGE_PARENT = os.path.dirname(os.path.dirname(_HERE))


def is_twin(origin: str | None) -> bool:
    """Whether ``origin`` is scamperlab's twin (this copy's, or any other scamperlab's)."""
    if not origin:
        return False
    return origin.replace(os.sep, "/").endswith("/scamperlab/shim/scamper/__init__.py")


def mode(environ: Any = None) -> str | None:
    """The forced choice, None when the interpreter decides; ImportError for a bad value."""
    value = (os.environ if environ is None else environ).get(MODE_VAR, "")
    if value in ("", *MODES):
        return value or None
    raise ImportError(
        f"{MODE_VAR}={value!r}: use {REAL!r} (the interpreter's own scamper module, CAIDA's)"
        f" or {TWIN!r} (scamperlab's), or unset it to let each interpreter decide",
        name="scamper",
    )


def _python() -> str:
    version = ".".join(str(part) for part in sys.version_info[:3])
    return f"{sys.executable or 'python'} (Python {version})"


class ScamperFinder:
    """The finder; at the front of ``sys.meta_path``, it defers to all the others."""

    scamperlab_scamper_finder = True

    def __init__(self) -> None:
        self.choices: list[Choice] = []
        self.listeners: list[Callable[[Choice], None]] = []

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if path is not None or fullname not in ("scamper", "scamperlab"):
            return None
        if fullname == "scamperlab":
            found = self._elsewhere(fullname, target)
            return found if found is not None else self._ours()
        forced = mode()
        found = None if forced == TWIN else self._elsewhere(fullname, target)
        if found is not None and not is_twin(found.origin):
            self._chose(REAL, found.origin, forced)
            return found
        if forced == REAL:
            raise ModuleNotFoundError(
                f"{MODE_VAR}={REAL}, but {_python()} has no scamper module of its own:"
                " install CAIDA's module for it (python3-scamper from CAIDA's PPA, or"
                f" CAIDA's release), or unset {MODE_VAR} to use scamperlab's",
                name="scamper",
            )
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "scamper", TWIN_INIT, submodule_search_locations=[os.path.dirname(TWIN_INIT)]
        )
        self._too_old()
        self._chose(TWIN, TWIN_INIT, forced)
        return spec

    def _elsewhere(self, fullname: str, target: ModuleType | None) -> ModuleSpec | None:
        """What the interpreter itself would import under ``fullname``."""
        for finder in list(sys.meta_path):
            if finder is self or getattr(finder, MARKER, False):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: ModuleSpec | None = find(fullname, None, target)
            if spec is not None:
                return spec
        return None

    def _ours(self) -> ModuleSpec | None:
        from importlib.machinery import PathFinder

        self._too_old()
        return PathFinder.find_spec("scamperlab", [PACKAGE_PARENT])

    @staticmethod
    def _too_old() -> None:
        if sys.version_info < MIN_PYTHON:
            need = ".".join(str(part) for part in MIN_PYTHON)
            raise ModuleNotFoundError(
                f"{_python()} has no scamper module of its own, and scamperlab's needs Python"
                f" {need} or newer: install CAIDA's module for this Python, or use a newer one",
                name="scamper",
            )

    def _chose(self, module: str, origin: str | None, forced: str | None) -> None:
        same = (module, origin or "", forced or "")
        if (
            self.choices
            and tuple(self.choices[-1][k] for k in ("module", "origin", "forced")) == same
        ):
            return  # found again (find_spec, then the import itself): nothing new to say
        choice: Choice = {
            "time": time.time(),
            "pid": os.getpid(),
            "python": sys.executable,
            "version": ".".join(str(part) for part in sys.version_info[:3]),
            "module": module,
            "origin": origin or "",
            "forced": forced or "",
        }
        self.choices.append(choice)
        for listener in list(self.listeners):
            listener(choice)
        log = os.environ.get(LOG_VAR)
        if log:
            import json

            try:
                # One write of one short line: appends from many processes do not interleave.
                with open(log, "a") as f:
                    f.write(json.dumps(choice) + "\n")
            except OSError:
                pass  # a command that dropped privileges cannot write there; it still imports


def installed() -> Any:
    """The finder on ``sys.meta_path`` (from any copy of this module), or None."""
    for finder in sys.meta_path:
        if getattr(finder, MARKER, False):
            return finder
    return None


def install() -> Any:
    """Put the finder at the front of ``sys.meta_path``, once per process; return it."""
    finder = installed()
    if finder is None:
        finder = ScamperFinder()
        sys.meta_path.insert(0, finder)
    return finder
