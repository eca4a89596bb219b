"""ICMP echo (RFC 792) over IPv4, as raw sockets send and receive it.

For the lab's own pings: the controller host's watch over its lab hosts
(:mod:`scamperlab.lab.hostwatch`) and the delay benchmark's pinger. scapy
could build these too, but it is an optional extra; two 8-byte headers need
only ``struct``.
"""

from __future__ import annotations

import struct

__all__ = ["ECHO_REPLY", "ECHO_REQUEST", "checksum", "echo_reply", "echo_request"]

ECHO_REQUEST, ECHO_REPLY = 8, 0


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int(word) for word in struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, payload: bytes = b"") -> bytes:
    """An ICMP echo request, its checksum filled in."""
    unsummed = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq) + payload
    return struct.pack("!BBHHH", ECHO_REQUEST, 0, checksum(unsummed), ident, seq) + payload


def echo_reply(packet: bytes) -> tuple[int, int] | None:
    """(identifier, sequence number) of an echo reply in an IPv4 packet (as a raw
    socket receives it, IP header first), or None if it is none."""
    if len(packet) < 20:
        return None
    ihl = (packet[0] & 0x0F) * 4
    if len(packet) < ihl + 8 or packet[ihl] != ECHO_REPLY:
        return None
    ident, seq = struct.unpack_from("!HH", packet, ihl + 4)
    return int(ident), int(seq)
