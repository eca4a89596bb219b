"""The host watch's packets and commands (the watch itself runs in test_cluster.py)."""

from __future__ import annotations

import struct

from scamperlab.lab.hostwatch import _checksum, _reply_ident, echo_request, kill_argv


def test_echo_request_is_a_valid_icmp_echo() -> None:
    packet = echo_request(0x1234, 7)
    assert packet[0] == 8 and packet[1] == 0
    assert struct.unpack("!HH", packet[4:8]) == (0x1234, 7)
    # the Internet checksum over a packet that holds its own checksum is zero
    assert _checksum(packet) == 0


def test_only_echo_replies_give_an_identifier() -> None:
    ip = bytes([0x45]) + bytes(19)  # a 20-byte IPv4 header
    reply = ip + struct.pack("!BBHHH", 0, 0, 0, 0x1234, 7)
    assert _reply_ident(reply) == 0x1234
    request = ip + struct.pack("!BBHHH", 8, 0, 0, 0x1234, 7)
    assert _reply_ident(request) is None
    assert _reply_ident(ip[:10]) is None


def test_kill_argv_names_each_vp_and_sc_remoteds_port() -> None:
    assert kill_argv(["198.18.0.6", "198.18.0.10"], 31337) == [
        "ss", "-K", "-t", "-n", "sport", "=", ":31337",
        "(", "dst", "198.18.0.6", "or", "dst", "198.18.0.10", ")",
    ]  # fmt: skip
