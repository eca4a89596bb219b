"""Making ``import scamper`` work: CAIDA's module where an interpreter has it, else scamperlab's.

The decision belongs to the interpreter that imports, not to scamperlab's:
the lab's commands often run in another Python (the system's ``python3``
with CAIDA's module from its PPA, while scamperlab lives in a venv). So
scamperlab never puts a ``scamper`` on anyone's path. Children get
:data:`BOOT_DIR` first on ``PYTHONPATH``, which holds only a bootstrap
``sitecustomize`` that installs the import hook of :mod:`.finder` there;
scamperlab's own process installs the same hook with :func:`install`. The
hook gives ``scamper`` from the interpreter's own path when it has one, and
scamperlab's twin (``scamper/`` here) only otherwise; ``SCAMPERLAB_SCAMPER``
forces either. Each choice is recorded (:class:`ImportChoice`) so the lab's
events and ``doctor`` can say which module ran.

May import: :mod:`scamperlab.errors` and the standard library. Never the lab,
the tools or the CLI, which import it. (``scamper/`` re-exports
:mod:`scamperlab.scamper`, but only once the hook has chosen it.)
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scamperlab.errors import ScamperlabError
from scamperlab.shim import finder

BOOT_DIR = Path(__file__).resolve().parent / "boot"
MODE_VAR = finder.MODE_VAR
LOG_VAR = finder.LOG_VAR


@dataclass(frozen=True)
class ImportChoice:
    """What ``import scamper`` gave one Python process."""

    pid: int
    python: str
    version: str
    #: ``real`` (the interpreter's own module: CAIDA's) or ``scamperlab`` (the twin)
    module: str
    origin: str
    #: the value of ``SCAMPERLAB_SCAMPER`` that forced it, or ``""``
    forced: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ImportChoice:
        return cls(
            pid=int(str(data["pid"])),
            python=str(data["python"]),
            version=str(data["version"]),
            module=str(data["module"]),
            origin=str(data["origin"]),
            forced=str(data.get("forced", "")),
        )

    @property
    def real(self) -> bool:
        return self.module == finder.REAL

    def describe(self) -> str:
        """One line, e.g. for the lab's events: which module, from where, and why."""
        if self.real:
            what = f"its own scamper module (CAIDA's), {self.origin}"
        else:
            what = "scamperlab's pure-Python scamper module"
            if not self.forced:
                what += " (it has no scamper of its own)"
        if self.forced:
            what += f", as {MODE_VAR}={self.forced} asks"
        return what


def check_mode(env: Mapping[str, str] | None = None) -> str | None:
    """``SCAMPERLAB_SCAMPER``'s value (None: unset); a usage error for anything else."""
    try:
        return finder.mode(os.environ if env is None else env)
    except ImportError as exc:
        raise ScamperlabError(str(exc)) from None


def environment(
    env: Mapping[str, str] | None = None, *, import_log: Path | None = None
) -> dict[str, str]:
    """``env`` (default: ours) for a child whose Pythons should get ``import scamper`` right.

    :data:`BOOT_DIR` goes first on ``PYTHONPATH`` (once); ``import_log``, if
    given, is where each of them records its choice (``SCAMPERLAB_IMPORT_LOG``).
    """
    env = dict(os.environ if env is None else env)
    check_mode(env)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(BOOT_DIR)]
    env["PYTHONPATH"] = os.pathsep.join([str(BOOT_DIR), *parts])
    if import_log is not None:
        env[LOG_VAR] = str(import_log)
    return env


def install() -> None:
    """Install the hook in this process: the next ``import scamper`` here decides as a child's."""
    check_mode()
    finder.install()


def choices_here() -> list[ImportChoice]:
    """The choices made in this process so far (none if the hook is not installed)."""
    hook = finder.installed()
    return [ImportChoice.from_dict(c) for c in hook.choices] if hook is not None else []


def on_choice(listener: Callable[[ImportChoice], None]) -> Callable[[], None]:
    """Call ``listener`` for each later choice in this process; returns the way to stop.

    Only where the hook is installed (:func:`install`, the pytest plugin):
    listening never changes what ``import scamper`` does in this process.
    """
    hook = finder.installed()
    if hook is None:
        return lambda: None

    def relay(choice: dict[str, object]) -> None:
        listener(ImportChoice.from_dict(choice))

    hook.listeners.append(relay)

    def stop() -> None:
        if relay in hook.listeners:
            hook.listeners.remove(relay)

    return stop


def read_choices(path: Path, offset: int = 0) -> tuple[list[ImportChoice], int]:
    """The choices appended to ``path`` after byte ``offset``, and the offset to read on from.

    A line still being written (no newline yet) is left for the next read;
    a line that is not a choice (the file is the lab's own) is skipped.
    """
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    complete = data[: data.rfind(b"\n") + 1]
    choices = []
    for line in complete.splitlines():
        try:
            choices.append(ImportChoice.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return choices, offset + len(complete)


# Run in the probed interpreter, with the bootstrap on its path: the hook's
# decision without importing anything (find_spec only locates the module).
_PROBE = """
import importlib.util, json, sys
try:
    importlib.util.find_spec("scamper")
except ImportError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(0)
hook = next((f for f in sys.meta_path if getattr(f, "scamperlab_scamper_finder", False)), None)
if hook is None or not hook.choices:
    print(json.dumps({"error": "scamperlab's bootstrap did not run in it (python -I, -E or -S?)"}))
else:
    print(json.dumps({"choice": hook.choices[-1]}))
"""


def probe(python: str, env: Mapping[str, str] | None = None) -> ImportChoice | str:
    """What ``import scamper`` gives ``python`` when a lab runs it; a reason where it fails."""
    try:
        done = subprocess.run(
            [python, "-c", _PROBE],
            env=environment(env),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python}: {exc}"
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        if "choice" in answer:
            return ImportChoice.from_dict(answer["choice"])
        return str(answer["error"])
    except (IndexError, ValueError, KeyError, TypeError):
        said = (done.stderr or done.stdout).strip().splitlines()
        return f"{python} exited with status {done.returncode}: {said[-1] if said else 'no output'}"
