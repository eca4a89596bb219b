"""The attached-mode text parser and the task tagging used for attribution."""

from __future__ import annotations

import binascii

import pytest

from scamperlab.wire.control import Data, Err, More, Ok, SessionParser, SessionProtocolError
from scamperlab.wire.tagging import tag_command


def uuencode(record: bytes) -> bytes:
    lines = [binascii.b2a_uu(record[i : i + 45], backtick=True) for i in range(0, len(record), 45)]
    return b"".join(lines) + b"`\n"


def test_every_split_of_a_session_gives_the_same_events() -> None:
    record = bytes(range(100))
    blob = uuencode(record)
    stream = (
        b"MORE\nOK id-1\nERR command not accepted\nOK\n"
        + b"DATA %d id-1\n" % len(blob) + blob
        + b"DATA %d\n" % len(blob) + blob
    )  # fmt: skip
    expected = [
        More(),
        Ok(1, "OK id-1"),
        Err("command not accepted"),
        Ok(None, "OK"),
        Data(record, 1, False),
        Data(record, None, False),
    ]
    for cut in range(1, len(stream)):
        parser = SessionParser()
        assert parser.feed(stream[:cut]) + parser.feed(stream[cut:]) == expected


def test_protocol_errors() -> None:
    with pytest.raises(SessionProtocolError):
        SessionParser().feed(b"\n")
    with pytest.raises(SessionProtocolError):
        SessionParser().feed(b"DATA x\n")


@pytest.mark.parametrize(
    ("line", "tagged"),
    [
        ("ping 192.0.2.1", "ping -U 77 192.0.2.1"),
        ("ping -c 3 -U 5 192.0.2.1", "ping -c 3 -U 77 192.0.2.1"),
        ("trace -U 0 -P icmp-paris 192.0.2.1", "trace -U 77 -P icmp-paris 192.0.2.1"),
        ("host -t NS example.com", "host -U 77 -t NS example.com"),
        ("http 192.0.2.1 http://x/", "http 192.0.2.1 http://x/"),
        ("dealias -m ally 192.0.2.1 192.0.2.2", "dealias -U 77 -m ally 192.0.2.1 192.0.2.2"),
        ("sniff -S 192.0.2.1 icmp[icmpid] == 7", "sniff -U 77 -S 192.0.2.1 icmp[icmpid] == 7"),
    ],
)
def test_tagging_replaces_or_inserts_the_userid(line: str, tagged: str) -> None:
    assert tag_command(line, 77) == tagged
