"""Which scamper release a command line needs (reference §9.2).

The module's ``do_*`` methods send options that older scamper releases
reject: the VP answers ``ERR`` and the script sees a ``ScamperInstError``.
Ark's VPs, and this lab's (Debian's 20211212), may be older than what a
script was written against, so the error names the release needed: that is
the difference between "my script is wrong" and "this VP is too old". The
table is :mod:`scamperlab.wire.releases`, which scamperlab's mux uses too.
"""

from __future__ import annotations

from scamperlab.wire.releases import FEATURES, needed_release

__all__ = ["FEATURES", "needed_release"]
