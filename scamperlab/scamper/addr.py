"""``ScamperAddr``, the address type every scamper result hands out.

The class is the warts codec's address value type
(:mod:`scamperlab.wire.warts.addr`), so an address decoded anywhere is the
one scripts compare and print; this module is its public home in the
``scamper`` namespace, as in CAIDA's module.
"""

from __future__ import annotations

from scamperlab.wire.warts.addr import ScamperAddr

__all__ = ["ScamperAddr"]
