"""The mux's rewriting for VPs without task ids: the pure parts (no sockets)."""

from __future__ import annotations

import os

import pytest

from scamperlab.mux.legacy import (
    LegacyChannel,
    UnsupportedByOldScamper,
    translate_durations,
)
from scamperlab.wire.uu import uudecode_object, uuencode_object


@pytest.mark.parametrize(
    ("modern", "old"),
    [
        ("ping -c 1 -W 5.0s 192.0.2.1", "ping -c 1 -W 5 192.0.2.1"),
        ("ping -i 1.0s -W 2s 192.0.2.1", "ping -i 1.0 -W 2 192.0.2.1"),
        ("ping -i 0.5s 192.0.2.1", "ping -i 0.5 192.0.2.1"),
        ("ping -i 2s 192.0.2.1", "ping -i 2.0 192.0.2.1"),
        ("trace -w 3.0s -W 0.25s 192.0.2.1", "trace -w 3 -W 25 192.0.2.1"),
        ("tracelb -W 1.5s 192.0.2.1", "tracelb -W 150 192.0.2.1"),
        (
            "dealias -m ally -W 1.0s -w 2.0s 192.0.2.1 192.0.2.2",
            "dealias -m ally -W 1000 -w 2 192.0.2.1 192.0.2.2",
        ),
        ("host -W 5.0s example", "host -W 5 example"),
        ("ping 192.0.2.1", "ping 192.0.2.1"),
    ],
)
def test_durations_are_put_in_old_units(modern: str, old: str) -> None:
    assert translate_durations(modern) == old


def test_a_duration_old_scamper_cannot_express_is_refused() -> None:
    with pytest.raises(UnsupportedByOldScamper, match="whole seconds"):
        translate_durations("ping -W 1.5s 192.0.2.1")
    with pytest.raises(UnsupportedByOldScamper, match="tenths of seconds"):
        translate_durations("ping -i 0.05s 192.0.2.1")


@pytest.mark.parametrize("size", [0, 1, 44, 45, 46, 90, 500])
def test_uuencoding_round_trips(size: int) -> None:
    data = os.urandom(size)
    encoded = uuencode_object(data)
    assert encoded.endswith(b"`\n")
    assert all(len(line) <= 61 for line in encoded.split(b"\n"))
    assert uudecode_object(encoded) == data


def test_a_refusal_is_answered_in_order_after_earlier_replies() -> None:
    chan = LegacyChannel()
    to_vp, to_client = chan.from_client(b"ping -c 1 192.0.2.1\nping -W 0.5s 192.0.2.1\n")
    assert to_client == b""  # the first command's OK has not come yet
    assert to_vp.startswith(b"ping -U ")
    assert chan.from_vp(b"OK id-1\n") == (
        b"OK id-1\nERR command not accepted: ping -W 0.5s: scamper 20211212 takes -W in whole"
        b" seconds; this value needs scamper 20230224 or later\n"
    )


def test_a_refusal_with_nothing_pending_is_answered_at_once() -> None:
    to_vp, to_client = LegacyChannel().from_client(b"trace -w 0.5s 192.0.2.1\n")
    assert to_vp == b""
    assert to_client.startswith(b"ERR command not accepted: trace -w 0.5s")


def test_non_measurement_lines_pass_through_untouched() -> None:
    chan = LegacyChannel()
    assert chan.from_client(b"done\n") == (b"done\n", b"")
    assert chan.from_vp(b"OK\nMORE\n") == b"OK\nMORE\n"


class _Result:
    """What find_task reads of a result: its userid, and what it measured."""

    def __init__(self, userid: int, **fields: str) -> None:
        self.userid = userid
        self.__dict__.update(fields)


def test_a_result_finds_its_task_by_tag_then_by_what_it_measured() -> None:
    from scamperlab.wire.tagging import asked_by, find_task

    tasks = [
        ("t1", 7, asked_by("host -U 7 -t aaaa www.Example.")),
        ("t2", 8, asked_by("host -U 8 www.example")),
        ("t3", 9, asked_by("host -U 9 192.0.2.1")),
        ("t4", 10, asked_by("ping -U 10 -c 1 192.0.2.9")),
    ]

    def find(result: _Result) -> str | None:
        found = find_task(result, tasks, lambda t: t[1], lambda t: t[2])
        return found[0] if found else None

    # 20211212 records no host userid: the query type and name decide.
    assert find(_Result(0, qtype="A", qname="www.example.")) == "t2"
    assert find(_Result(0, qtype="AAAA", qname="WWW.example")) == "t1"
    assert find(_Result(0, qtype="PTR", qname="1.2.0.192.in-addr.arpa")) == "t3"
    assert find(_Result(10, dst="192.0.2.1")) == "t4"  # the tag wins over the dst
    assert find(_Result(0, dst="192.0.2.9")) == "t4"
    assert find(_Result(0, dst="198.51.100.1")) is None


def test_plain_data_finds_its_task_like_a_result_object() -> None:
    """The mux matches the codec's plain data, whose host qtype is the number."""
    from scamperlab.wire.tagging import asked_by, find_task
    from scamperlab.wire.warts.addr import ScamperAddr
    from scamperlab.wire.warts.host import HostData
    from scamperlab.wire.warts.ping import PingData

    tasks = [
        ("t1", 7, asked_by("host -U 7 -t aaaa www.Example.")),
        ("t2", 10, asked_by("ping -U 10 -c 1 192.0.2.9")),
    ]

    def find(data: object) -> str | None:
        found = find_task(data, tasks, lambda t: t[1], lambda t: t[2])
        return found[0] if found else None

    ns = ScamperAddr("192.0.2.53")
    assert find(HostData(dst=ns, qtype=28, qname="www.example.")) == "t1"
    assert find(HostData(dst=ns, qtype=1, qname="www.example.")) is None
    assert find(PingData(dst=ScamperAddr("192.0.2.9"))) == "t2"
    assert find(PingData(userid=10, dst=ScamperAddr("198.51.100.1"))) == "t2"


def test_a_feature_the_release_lacks_is_refused_naming_it_not_the_duration() -> None:
    """``do_dns(zone, qtype='NS', wait_timeout=1)``: the mux makes ``-W 1.0s`` fit
    20211212, so the refusal names NS, and the release that has it."""
    to_vp, to_client = LegacyChannel().from_client(b"host -t NS -W 1.0s lab.example\n")
    assert to_vp == b""
    assert to_client == (
        b"ERR command not accepted: host -t NS (DNS NS queries) needs a scamper newer than"
        b" 20211212 (20240117 has it) (this VP runs 20211212)\n"
    )


def test_the_same_duration_with_a_query_type_the_release_has_reaches_scamper() -> None:
    to_vp, to_client = LegacyChannel().from_client(b"host -t A -W 1.0s lab.example\n")
    assert to_client == b""
    assert to_vp.startswith(b"host -U ") and to_vp.endswith(b" -t A -W 1 lab.example\n")
