"""Records kept as read: neighbour discovery (10) and sting (12).

CAIDA's module exposes nothing of these but the measuring instance, so
their bodies are not interpreted: enough to filter on them and to write
them back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from .reader import Reader
from .writer import Writer

__all__ = ["OpaqueData", "decode_opaque", "encode_opaque"]


@dataclass
class OpaqueData:
    """A record body scamperlab does not interpret."""

    body: bytes = b""


def decode_opaque(r: Reader) -> OpaqueData:
    return OpaqueData(r.raw(r.remaining()))


def encode_opaque(w: Writer, d: OpaqueData) -> None:
    w.raw(d.body)
