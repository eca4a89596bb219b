"""Errors a user can act on.

Every error scamperlab raises on purpose derives from :class:`ScamperlabError`
and carries a message that says what went wrong *and* what to do next, so the
CLI can print it without a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class ScamperlabError(Exception):
    """Base class for errors that are reported to the user without a traceback."""


class TopologyError(ScamperlabError):
    """A topology file is malformed; names the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message
        where = path if line is None else f"{path}:{line}"
        what = f"{field}: {message}" if field else message
        super().__init__(f"{where}: {what}")


class ClusterError(ScamperlabError):
    """A cluster file, or a lab's split over its hosts, cannot work; says which host or VP."""


class MissingDependencyError(ScamperlabError):
    """A program or privilege the lab needs is not there; says how to get it."""


class LabStateError(ScamperlabError):
    """A lab is already running, not running, or its state directory is unusable."""


class LabStartError(ScamperlabError):
    """The lab could not be brought up; everything it had made was removed."""


class CommandError(ScamperlabError):
    """A command to run against a lab could not be started (not found, not executable).

    ``status`` is what a shell would exit with: 127 when the program is not
    found, 126 when it cannot be executed.
    """

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


class MissingExtraError(ScamperlabError):
    """An optional feature's Python package is not installed; names the extra that brings it.

    ``pip install scamperlab`` installs what the lab, the scamper module and the
    pytest plugin need; drawing, audits and deploying each need a package of their
    own, installed with an extra (``scamperlab[draw]``, ``[audit]``, ``[deploy]``).
    """

    def __init__(self, feature: str, module: str, extra: str) -> None:
        self.feature = feature
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs {module} (the {extra!r} extra), which is not installed:"
            f" pip install 'scamperlab[{extra}]'"
        )


@contextlib.contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Around the imports of an optional package: a missing one raises :class:`MissingExtraError`.

    Used at the top of the modules that need the package, so the error comes when a
    command starts, before a lab is built, instead of as a traceback halfway through.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = (exc.name or str(exc)).partition(".")[0]
        raise MissingExtraError(feature, missing, extra) from exc
