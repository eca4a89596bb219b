"""A mux socket in front of another one, recording what passes (``scamperlab record``).

Where scamperlab's own mux server is not in the path, its tap
(:mod:`scamperlab.mux.recorder`) cannot see the sessions: a lab whose modern
sc_remoted serves the mux itself (``-M``), or Ark's mux. This proxy listens
on a socket of its own and, for each client, connects to the upstream mux
socket and copies bytes both ways unchanged, handing them to the same
:class:`~scamperlab.mux.recorder.SessionTap` the server uses. It needs
nothing but read and write access to the upstream socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from scamperlab.mux.recorder import Recorder
from scamperlab.mux.unixserver import UnixSessions

log = logging.getLogger(__name__)
_READ_SIZE = 65536


class RecordingProxy:
    """Serve ``path``; relay each connection to ``upstream``; record into ``recorder``."""

    def __init__(self, path: Path, upstream: Path, recorder: Recorder) -> None:
        self.path = path
        self.upstream = upstream
        self.recorder = recorder
        self._sessions = UnixSessions(path, self._relay)

    async def start(self) -> None:
        await self._sessions.start()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                up_reader, up_writer = await asyncio.open_unix_connection(str(self.upstream))
            except OSError as exc:
                log.warning("record: cannot reach the mux at %s: %s", self.upstream, exc)
                return
            tap = self.recorder.session()
            copies = [
                asyncio.create_task(_copy(reader, up_writer, tap.from_client)),
                asyncio.create_task(_copy(up_reader, writer, tap.to_client)),
            ]
            try:
                # Either side closing ends the session, as it would on the mux itself.
                await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for copy in copies:
                    copy.cancel()
                await asyncio.gather(*copies, return_exceptions=True)
                tap.closed()
                up_writer.close()
        finally:
            writer.close()

    async def close(self) -> None:
        await self._sessions.close()


async def _copy(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tap: Callable[[bytes], None]
) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(_READ_SIZE):
            tap(data)
            writer.write(data)
            await writer.drain()
