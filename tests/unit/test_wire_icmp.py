"""ICMP echo packets, as the host watch and the delay benchmark's pinger use them."""

from __future__ import annotations

import struct

from scamperlab.wire.icmp import checksum, echo_reply, echo_request


def test_echo_request_is_a_valid_icmp_echo() -> None:
    for payload in (b"", b"scamperlab-bench".ljust(32, b"."), b"odd"):
        packet = echo_request(0x1234, 7, payload)
        assert packet[0] == 8 and packet[1] == 0
        assert struct.unpack("!HH", packet[4:8]) == (0x1234, 7)
        assert packet[8:] == payload
        # the Internet checksum over a packet that holds its own checksum is zero
        assert checksum(packet) == 0


def test_only_echo_replies_give_identifier_and_sequence() -> None:
    ip = bytes([0x45]) + bytes(19)  # a 20-byte IPv4 header
    assert echo_reply(ip + struct.pack("!BBHHH", 0, 0, 0, 0x1234, 7)) == (0x1234, 7)
    assert echo_reply(ip + struct.pack("!BBHHH", 8, 0, 0, 0x1234, 7)) is None
    assert echo_reply(ip + b"\0\0\0") is None
    assert echo_reply(ip[:10]) is None
