"""What a lab changes in the process that owns it: signal handling and the open-file limit.

These are process-wide settings, so they live apart from :class:`~scamperlab.lab.Lab`:
the detached daemon (:mod:`scamperlab.lab.lifecycle`) sets its own handlers
with the same SIGTERM rule, and tests can exercise them without a lab.
"""

from __future__ import annotations

import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any


def exit_on_first_sigterm(code: int) -> Callable[[int, FrameType | None], None]:
    """A SIGTERM handler that raises ``SystemExit(code)`` once and ignores repeats.

    Killers often signal twice at once (``timeout`` signals its child and then
    the child's process group): a second ``SystemExit`` raised while the first
    unwinds towards ``stop()``, before it blocks signals, would abandon the
    teardown and leave the lab's processes running.
    """
    fired = False

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise SystemExit(code)

    return on_sigterm


@dataclass
class OwnerSignals:
    """SIGTERM as ``SystemExit`` while a lab runs, and no interruption of its teardown."""

    _old_sigterm: Any = None

    def catch_sigterm(self) -> None:
        """Turn SIGTERM into SystemExit, so ``with Lab(...)`` tears down on ``kill`` too.

        Only where nobody else chose a handler: a program's own handler wins.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._old_sigterm = signal.signal(
                signal.SIGTERM, exit_on_first_sigterm(128 + signal.SIGTERM)
            )

    def release(self) -> None:
        """Undo :meth:`catch_sigterm`, once the lab is gone."""
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None


def raise_fd_limit(need: int) -> int | None:
    """Raise the soft open-file limit to ``need``; return the hard limit if that was too low.

    sc_remoted (inheriting our limit) holds two descriptors per VP, and the
    lab one pidfd per VP plus two per open mux channel: the default of 1,024
    is short of a 1,000-VP lab.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return None
