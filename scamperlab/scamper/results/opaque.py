"""``ScamperSting`` and ``ScamperNeighbourdisc`` (reference §7.11).

The module exposes nothing of these records but ``inst`` (and
``to_json()`` for neighbour discovery), so scamperlab keeps their bodies
as read: enough to filter on them and to write them back unchanged.
"""

from __future__ import annotations

from typing import Any

from scamperlab.wire.warts.opaque import OpaqueData

from ._util import NoInit

__all__ = ["ScamperNeighbourdisc", "ScamperSting"]


class _Opaque(NoInit):
    __slots__ = ("_d", "_inst")
    _d: OpaqueData
    _inst: Any

    @classmethod
    def _create(cls, data: OpaqueData, inst: Any = None) -> Any:
        obj = cls._new()
        obj._d, obj._inst = data, inst
        return obj

    @property
    def inst(self) -> Any:
        return self._inst


class ScamperSting(_Opaque):
    """A sting measurement (file-only; no ``do_*`` method makes one)."""

    __slots__ = ()


class ScamperNeighbourdisc(_Opaque):
    """A neighbour discovery measurement (file-only)."""

    __slots__ = ()

    def to_json(self) -> str | None:
        """Not rendered by scamperlab: the record is kept undecoded."""
        return None
