"""A pure-Python implementation of CAIDA's ``scamper`` module's API.

scamperlab uses CAIDA's module wherever it is installed; this package is for
machines without it (Debian's scamper 20211212 has no libscamperctrl). It is
importable as ``scamper`` through :mod:`scamperlab.shim` only where no real
module exists. Like the real module it has no ``__all__``, so a star import
also brings in the standard-library modules it uses.

May import: :mod:`scamperlab.wire` (the bytes it shares with the mux server)
and :mod:`scamperlab.errors`; never :mod:`scamperlab.mux`, its sibling layer,
nor anything above (shim, lab, tools, CLI), so it loads without the lab.

By concept: ``ctrl`` (:class:`ScamperCtrl`, the poll loop), ``collector``
(what a controller gathers: results, errors, callbacks), ``instance``
(an attached scamper session and its tasks), ``muxclient`` (a mux connection
and its VPs), ``transport`` (sockets), ``commands`` (command lines),
``results`` and ``warts`` (result classes over ``wire.warts``'s plain data),
``file`` (:class:`ScamperFile`).
"""

# ruff: noqa: F401  (re-exports; like the real module there is no __all__)
from __future__ import annotations

import binascii
import collections
import datetime
import enum
import os
import re
import stat
import time

from scamperlab.scamper.addr import ScamperAddr
from scamperlab.scamper.commands.dealias_types import (
    ScamperDealiasMidardiscRound,
    ScamperDealiasProbedef,
)
from scamperlab.scamper.ctrl import ScamperCtrl
from scamperlab.scamper.enums import (
    ScamperHostStop,
    ScamperHostType,
    ScamperHttpEchStatus,
    ScamperHttpStop,
    ScamperOwampResult,
    ScamperOwampSchedType,
    ScamperPingStop,
    ScamperSniffStop,
    ScamperTracelbMethod,
    ScamperTraceStop,
    ScamperUdpprobeStop,
)
from scamperlab.scamper.errors import ScamperInstError
from scamperlab.scamper.file import ScamperFile
from scamperlab.scamper.instance import ScamperInst, ScamperTask
from scamperlab.scamper.muxclient import ScamperMux, ScamperVp
from scamperlab.scamper.results import (
    ScamperCycle,
    ScamperDealias,
    ScamperDealiasProbe,
    ScamperDealiasReply,
    ScamperHost,
    ScamperHostMX,
    ScamperHostOPT,
    ScamperHostOPTElem,
    ScamperHostQuery,
    ScamperHostRR,
    ScamperHostSOA,
    ScamperHostSVCB,
    ScamperHostSVCBParam,
    ScamperHostTXT,
    ScamperHttp,
    ScamperHttpBuf,
    ScamperIcmpExt,
    ScamperIcmpExts,
    ScamperIcmpMplsLabelStackEntry,
    ScamperList,
    ScamperNeighbourdisc,
    ScamperOwamp,
    ScamperOwampRx,
    ScamperOwampSched,
    ScamperOwampTx,
    ScamperPing,
    ScamperPingReply,
    ScamperPingReplyIPTS,
    ScamperSniff,
    ScamperSniffPkt,
    ScamperSting,
    ScamperTbit,
    ScamperTbitPkt,
    ScamperTrace,
    ScamperTraceHop,
    ScamperTracelb,
    ScamperTracelbLink,
    ScamperTracelbNode,
    ScamperTracelbProbe,
    ScamperTracelbProbeset,
    ScamperTracelbReply,
    ScamperTracePmtud,
    ScamperTracePmtudNote,
    ScamperUdpprobe,
    ScamperUdpprobeProbe,
    ScamperUdpprobeReply,
)

IMPLEMENTATION = "scamperlab"  # CAIDA's module has no such name; scamperlab's doctor reads it

# The real module re-exports these through its star import; keep them referenced.
_STDLIB = (binascii, collections, datetime, enum, os, re, stat, time)
