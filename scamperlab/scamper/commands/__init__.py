"""Translate ``ScamperCtrl.do_*`` arguments into scamper command lines.

Each ``build_<name>`` mirrors ``ScamperCtrl.do_<name>`` of CAIDA's module
20260902 without ``inst`` and ``sync``: same parameter names, order and
defaults, with the required parameters positional and the rest
keyword-only.  It returns the exact line the module would send (without
the newline) or raises the exception the module would raise, before
anything is sent.  The control plane handles ``inst``/``sync``.

Wire behaviour was checked against 953 recorded calls of module 20260420
(``golden/commands.jsonl``).  Where 20260420 and 20260902 differ, the
builders follow 20260902:

* ``do_ping``: ``ip_rr`` (was ``recordroute``), plus ``tcp_mss``
  (``-O mss=N``) and ``ip_ts`` (``-T ...``).  ``recordroute`` is still
  accepted, as a trailing keyword-only alias of ``ip_rr``.
* ``do_ping``: "specify method when specifying a TCP value" replaces
  20260420's "... a TCP sequence or acknowledgement value".
* ``do_dns``: ``mqtypes`` (``-O mqtypes=A,AAAA``).

Where the API notes and the recorded 20260420 behaviour disagree with no
documented version change, the recorded behaviour wins: ``do_ally`` and
``do_prefixscan`` do not send ``attempts`` and ``do_http`` does not send
``userid``.
"""

from __future__ import annotations

from collections.abc import Callable

from .dealias import (
    build_ally,
    build_mercator,
    build_midardisc,
    build_midarest,
    build_prefixscan,
    build_radargun,
)
from .dealias_types import ScamperDealiasMidardiscRound, ScamperDealiasProbedef
from .dns import build_dns
from .http import build_http
from .owamp import build_owamp
from .ping import build_ping
from .sniff import build_sniff
from .tbit import build_tbit
from .trace import build_trace
from .tracelb import build_tracelb
from .udpprobe import build_udpprobe

__all__ = [
    "BUILDERS",
    "LEGACY_KEYWORDS",
    "ScamperDealiasMidardiscRound",
    "ScamperDealiasProbedef",
    "build_ally",
    "build_dns",
    "build_http",
    "build_mercator",
    "build_midardisc",
    "build_midarest",
    "build_owamp",
    "build_ping",
    "build_prefixscan",
    "build_radargun",
    "build_sniff",
    "build_tbit",
    "build_trace",
    "build_tracelb",
    "build_udpprobe",
]

#: ``do_*`` method name → builder, for a control plane that dispatches by name.
BUILDERS: dict[str, Callable[..., str]] = {
    "do_trace": build_trace,
    "do_tracelb": build_tracelb,
    "do_ping": build_ping,
    "do_dns": build_dns,
    "do_http": build_http,
    "do_udpprobe": build_udpprobe,
    "do_tbit": build_tbit,
    "do_sniff": build_sniff,
    "do_owamp": build_owamp,
    "do_ally": build_ally,
    "do_mercator": build_mercator,
    "do_prefixscan": build_prefixscan,
    "do_radargun": build_radargun,
    "do_midarest": build_midarest,
    "do_midardisc": build_midardisc,
}

#: Keyword-only parameters the builders accept beyond the 20260902
#: signature, for scripts written against older modules.
LEGACY_KEYWORDS: dict[str, tuple[str, ...]] = {"do_ping": ("recordroute",)}
