"""The stand-in tasks of one mux channel, woven into the channel's byte streams.

:class:`scamperlab.mux.legacy.LegacyChannel` decides that a command goes to
a stand-in and answers its ``OK id-<n>`` in order; this object runs it and
writes its result to the user as the VP would: ``DATA <len> id-<n>`` and a
uuencoded warts record that refers to the list and cycle records the VP's
scamper sent on this channel. Its ids come from a range the VP's own never
reach (scamper counts from 1 per connection).

A ``done`` from the user reaches the VP only once every stand-in task of
the channel has reported: the VP closes the channel as soon as its own
tasks are finished, which would cut off a stand-in result still on the wire.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scamperlab.mux.standin.dns import HALT
from scamperlab.mux.standin.probers import Prober
from scamperlab.mux.standin.vp import StandinVp
from scamperlab.wire.uu import uuencode_object
from scamperlab.wire.warts.encoder import ENCODERS
from scamperlab.wire.warts.listcycle import CycleData, ListData
from scamperlab.wire.warts.reader import WartsState
from scamperlab.wire.warts.records import frame
from scamperlab.wire.warts.writer import Writer

__all__ = ["TASK_ID_BASE", "ChannelStandins", "StandinJob"]

log = logging.getLogger(__name__)
#: stand-in task ids start above this
TASK_ID_BASE = 0x40000000


@dataclass
class StandinJob:
    prober: Prober
    command: Any  # what the prober's parse made of the line


class _StreamRefs:
    """The ids this channel's stream gave its list and cycle records (the VP's)."""

    def __init__(self, state: WartsState) -> None:
        self.state = state

    def list_id(self, lst: ListData | None) -> int:
        return next((k for k, v in self.state.lists.items() if v is lst), 0)

    def cycle_id(self, cyc: CycleData | None) -> int:
        return next((k for k, v in self.state.cycles.items() if v is cyc), 0)


class ChannelStandins:
    def __init__(
        self,
        vp: StandinVp,
        state: Callable[[], WartsState],
        to_client: Callable[[bytes], None],
        resend: Callable[[bytes], None],
    ) -> None:
        self.vp = vp
        self._state = state  # the channel's warts stream state, as decoded so far
        self._to_client = to_client
        self._resend = resend  # lines back into the channel, as if the user sent them now
        self._ids = itertools.count(TASK_ID_BASE + 1)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.queued = 0  # accepted here, not yet answered with their OK
        self._held = bytearray()

    @property
    def busy(self) -> bool:
        return bool(self._tasks) or self.queued > 0

    def prepare(self, prober: Prober, line: str) -> StandinJob:
        """Parse ``line`` for ``prober``; a StandinRefused says why it cannot be done."""
        job = StandinJob(prober, prober.parse(line, self.vp))
        self.queued += 1
        return job

    def start(self, job: StandinJob) -> int:
        """Run ``job`` now (its OK is being sent); return its task id."""
        self.queued -= 1
        tid = next(self._ids)
        self._tasks[tid] = asyncio.get_running_loop().create_task(self._run(job, tid))
        log.info("stand-in %s for %s: task %d", job.prober.what, self.vp.name, tid)
        return tid

    def halt_reply(self, line: str) -> str | None:
        """The reply to the user's ``halt <n>`` when ``n`` is a stand-in task's id (its
        task stops and still reports, halted); None for the VP's own ids."""
        words = line.split()
        if len(words) != 2 or not words[1].isdigit() or int(words[1]) <= TASK_ID_BASE:
            return None
        tid = int(words[1])
        task = self._tasks.get(tid)
        if task is None:
            return f"ERR no task id-{tid}"
        task.cancel(HALT)
        return f"OK halted {tid}"

    def hold(self, data: bytes) -> None:
        """Keep the user's ``done`` (and anything after it) until the stand-ins are done."""
        self._held += data

    @property
    def holding(self) -> bool:
        return bool(self._held)

    async def _run(self, job: StandinJob, tid: int) -> None:
        try:
            data = await job.prober.run(job.command, self.vp)
            self._to_client(self._data_message(job.prober.rtype, data, tid))
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not take the channel down: the log says it
            log.exception("stand-in task %d for %s failed", tid, self.vp.name)
        finally:
            self._tasks.pop(tid, None)
            if not self.busy and self._held:
                held, self._held = bytes(self._held), bytearray()
                self._resend(held)

    def _data_message(self, rtype: int, data: Any, tid: int) -> bytes:
        state = self._state()
        if state.lists and hasattr(data, "list_"):
            data.list_ = state.lists[max(state.lists)]
        if state.cycles and hasattr(data, "cycle"):
            data.cycle = state.cycles[max(state.cycles)]
        w = Writer(_StreamRefs(state))
        ENCODERS[rtype](w, data)
        payload = uuencode_object(frame(rtype, w.buf))
        return b"DATA %d id-%d\n" % (len(payload), tid) + payload

    def close(self) -> None:
        """The channel is gone: its stand-in tasks have no one to report to."""
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._held.clear()
