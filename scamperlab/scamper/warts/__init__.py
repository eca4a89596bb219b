"""Warts to and from ``scamper`` result objects.

:class:`WartsDecoder` gives result objects from records, files and streams;
:class:`~.encoder.WartsEncoder` writes them back. The codec itself (framing,
record layouts, the plain data) is :mod:`scamperlab.wire.warts`; its
:class:`WartsError` is re-exported here for the client's callers.
"""

from __future__ import annotations

from scamperlab.wire.warts.errors import WartsError

from .decoder import WartsDecoder

__all__ = ["WartsDecoder", "WartsError"]
