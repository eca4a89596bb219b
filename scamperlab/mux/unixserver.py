"""A unix socket server that ends its sessions when it closes.

Every mux socket scamperlab serves (the lab's mux, a recording proxy, a
replay) must be gone, sessions and all, when its owner stops: asyncio's
``Server.close`` only stops accepting and leaves running handlers behind.
This keeps the task of each session, cancels them all on :meth:`close`,
waits for them, and removes the socket file.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

__all__ = ["Session", "UnixSessions"]

#: one client's session: returns when it is over; cancelled when the server closes
Session = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class UnixSessions:
    def __init__(self, path: Path, session: Session) -> None:
        self.path = path
        self._session = session
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen. Who may connect is the caller's to decide (the socket's owner and
        mode, its directory's)."""
        self._server = await asyncio.start_unix_server(self._accept, path=str(self.path))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a handler always runs in a task of its own
        self._tasks.add(task)
        try:
            await self._session(reader, writer)
        except asyncio.CancelledError:
            pass  # the server is closing: the session was cancelled on purpose
        finally:
            self._tasks.discard(task)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
