"""How lab commands talk to a person: two consoles and the start-up progress bar.

Shared by ``scamperlab`` and its ``audit`` command (which must not import
each other's private parts). Messages go to standard error (:data:`err`),
results meant for scripts to standard output (:data:`out`).

In a terminal, rich fits output to its width (table cells fold rather
than vanish). When output is a pipe or a file there is no width to fit: a
line wrapped or a cell cut at rich's default of 80 columns ("akl…") would
break every ``grep`` and every log, so output is then never wrapped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scamperlab.emulation.netns import deferred_signals

# Wide enough for any table scamperlab prints (a 1,000-VP status row is ~200).
PIPE_WIDTH = 10_000


class _Console(Console):
    """A console whose ``print`` is never cut short by Ctrl-C.

    A KeyboardInterrupt raised inside rich's ``print`` can leave the console's
    output buffer entered but never left, and everything printed after it,
    "interrupted: tearing the lab down" and "lab removed" included, then
    stays in the buffer and is lost. Ctrl-C pressed meanwhile is delivered
    when the line is out.
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        with deferred_signals():
            super().print(*objects, **kwargs)


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that wraps only where it has a terminal to fit.

    Without rich's emoji codes: an IPv6 address such as ``2001:db8:1000:a::2``
    holds ``:a:``, which rich would print as an emoji.
    """
    probe = _Console(stderr=stderr, emoji=False)
    if probe.is_terminal:
        return probe
    return _Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True, emoji=False)


err = console(stderr=True)
out = console()


def error(message: str) -> None:
    """The one format of an error a user can act on: ``error: ...`` on stderr."""
    err.print(f"[red]error:[/] {escape(message)}")


def warning(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(message)}")


@contextlib.contextmanager
def start_progress(description: str = "starting") -> Iterator[Callable[[str, int, int], None]]:
    """The bar shown while a lab comes up, and the ``(phase, done, total)`` callback
    that advances it; the bar is gone when the block ends."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def report(phase: str, done: int, total: int) -> None:
            bar.update(task, description=phase, completed=done, total=total or None)

        yield report
