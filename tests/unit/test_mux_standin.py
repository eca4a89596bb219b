"""The DNS stand-in's pure parts: command lines, the record's layout, the channel's order.

The record is checked against the golden corpus (real modern-scamper host
records): the same flag ids present, so that a reader cannot tell the two
apart; the lab tests (tests/integration/test_standins.py) send real queries.
The channel tests use a prober that answers from memory: what they check is
the order of replies on the channel, not DNS.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import dns.message
import dns.rrset
import pytest

from scamperlab.mux.legacy import LegacyChannel
from scamperlab.mux.standin.dns import _query_data, host_record, parse_host
from scamperlab.mux.standin.probers import PROBERS, Prober, offered, prober_for
from scamperlab.mux.standin.vp import Pacer, StandinRefused, StandinVp
from scamperlab.wire.releases import lacking
from scamperlab.wire.uu import uudecode_object
from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.encoder import StreamEncoder
from scamperlab.wire.warts.host import HostData
from scamperlab.wire.warts.records import T_HOST, split_records

GOLDEN = Path("/work/shared/reference/golden/results.warts")


@pytest.mark.parametrize(
    ("line", "qtype", "retries", "wait", "flags", "server"),
    [
        ("host -t NS -W 1.0s lab.example", 2, 0, 1.0, 0, None),
        ("host -s 2001:db8::53 -t SOA -R 2 -r lab.example", 6, 2, 5.0, 1, "2001:db8::53"),
        ("host -t txt -T -O nsid -U 7 lab.example", 16, 0, 5.0, 6, None),
        ("host -t ANY -W 0.5s lab.example", 255, 0, 0.5, 0, None),
        ("host 192.0.2.1", 12, 0, 5.0, 0, None),
        ("host -c CHAOS -t TXT version.bind", 16, 0, 5.0, 0, None),
    ],
)
def test_host_lines_parse_as_scamper_reads_them(
    line: str, qtype: int, retries: int, wait: float, flags: int, server: str | None
) -> None:
    cmd = parse_host(line)
    assert (cmd.qtype, cmd.retries, cmd.wait, cmd.flags, cmd.server) == (
        qtype,
        retries,
        wait,
        flags,
        server,
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("host -T -R 1 -t NS lab.example", "no retry with TCP"),
        ("host -t NS", "expected one name"),
        ("host -t BOGUS lab.example", "unsupported query type"),
        ("host -t PTR lab.example", "must be for an IP address"),
        ("host -O mqtypes=A,AAAA -t NS lab.example", "not done by the DNS stand-in"),
        ("host -O subnet=5 -t NS lab.example", "not a subnet"),
    ],
)
def test_what_the_stand_in_cannot_do_is_refused_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(StandinRefused, match=reason):
        parse_host(line)


def test_the_dns_prober_covers_every_host_feature_20211212_lacks_but_mqtypes() -> None:
    for line in (
        "host -t NS -W 1.0s x",
        "host -t CNAME x",
        "host -T x",
        "host -O nsid x",
        "host -c CH x",
        "host -O subnet=192.0.2.0/24 x",
    ):
        assert prober_for("host", lacking(line, "20211212")) is PROBERS["host"], line
    assert prober_for("host", lacking("host -O mqtypes=A,AAAA x", "20211212")) is None
    assert prober_for("http", lacking("http -u http://x/ 192.0.2.1", "20211212")) is PROBERS["http"]
    assert prober_for("http", lacking("http -O grease -u https://x/ 192.0.2.1", "20211212")) is None
    assert offered("20211212")[0].startswith("DNS: ")
    assert "host -t NS" not in " ".join(offered("20260420"))
    assert offered("scamper-git") == []


def _golden_ns() -> HostData:
    decoder = StreamDecoder()
    for rtype, body in split_records(GOLDEN.read_bytes()):
        data = decoder.decode_body(rtype, body)
        if rtype == T_HOST and data.qtype == 2:
            assert isinstance(data, HostData)
            return data
    raise AssertionError("no NS record in the golden corpus")


@pytest.mark.skipif(not GOLDEN.exists(), reason="golden corpus not here")
def test_a_stand_in_record_has_the_layout_of_modern_scampers() -> None:
    """The golden NS answer, as a reply on the wire, made into a record: every block
    carries the same fields as the one modern scamper wrote for it."""
    golden = _golden_ns()
    gq = golden.queries[0]
    query = dns.message.make_query("lab.example", "NS")
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    for rr in gq.an:
        reply.answer.append(dns.rrset.from_text(f"{rr.name}.", rr.ttl, "IN", "NS", f"{rr.data}."))
    for rr in gq.ar:
        reply.additional.append(dns.rrset.from_text(f"{rr.name}.", rr.ttl, "IN", "A", str(rr.data)))
    reply = dns.message.from_wire(reply.to_wire(), one_rr_per_rrset=True)
    cmd = parse_host(f"host -s 127.0.0.1 -t NS -W 2.0s -U {golden.userid} lab.example")
    now = time.time()
    q = _query_data(query.id, now, now + 0.0003, reply)
    made = host_record(cmd, "127.0.0.1", "127.0.0.1", now, 1, [q])
    # written and read back as any reader would
    record = StreamEncoder().result(T_HOST, made)
    decoder = StreamDecoder()
    back = next(decoder.decode_body(t, b) for t, b in split_records(record) if t == T_HOST)
    assert back._wflags == golden._wflags
    assert back.queries[0]._wflags == gq._wflags
    for ours, theirs in zip(back.queries[0].an + back.queries[0].ar, gq.an + gq.ar, strict=True):
        assert ours._wflags == theirs._wflags
        assert (ours.rclass, ours.rtype, ours.name, ours.ttl) == (
            theirs.rclass,
            theirs.rtype,
            theirs.name,
            theirs.ttl,
        )
        assert str(ours.data) == str(theirs.data)
    assert back.queries[0].flags == gq.flags  # scamper's byte: RD and AA set
    assert (back.userid, back.wait, back.stop, back.qname, back.qtype, back.qclass) == (
        golden.userid,
        golden.wait,
        golden.stop,
        golden.qname,
        golden.qtype,
        golden.qclass,
    )


def test_the_pacer_spaces_packets_at_the_rate() -> None:
    async def burst() -> float:
        pacer = Pacer(50.0)
        start = time.monotonic()
        for _ in range(5):
            await pacer.take()
        return time.monotonic() - start

    # four gaps of 20 ms at least; load can only add to it
    assert asyncio.run(burst()) >= 0.08


def _memory_prober(answer: HostData, release: asyncio.Event) -> Prober:
    async def run(_cmd: object, _vp: StandinVp) -> HostData:
        await release.wait()
        return answer

    dns_prober = PROBERS["host"]
    return Prober("host", "DNS", dns_prober.features, T_HOST, lambda line, _vp: line, run)


def test_a_stand_in_task_is_answered_in_order_and_holds_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OK for the stand-in only after the VP's OK for the command before it; its result
    as ``DATA ... id-<n>``; the user's ``done`` reaches the VP only after that result."""

    async def scenario() -> tuple[list[bytes], list[bytes], bytes]:
        release = asyncio.Event()
        answer = host_record(
            parse_host("host -t NS -U 9 lab.example"), "192.0.2.9", "192.0.2.53", 0, 1, []
        )
        monkeypatch.setitem(PROBERS, "host", _memory_prober(answer, release))
        chan = LegacyChannel()
        to_client: list[bytes] = []
        resent: list[bytes] = []
        vp = StandinVp("vp", 0, "192.0.2.9", None, 100)
        chan.use_standins(vp, to_client.append, resent.append)
        to_vp, now = chan.from_client(b"ping -c 1 192.0.2.1\nhost -t NS -U 9 lab.example\n")
        assert now == b"" and to_vp.startswith(b"ping ") and b"host" not in to_vp
        oks = chan.from_vp(b"OK id-1\n")
        held_vp, held_client = chan.from_client(b"done\n")
        assert held_vp == b"" and held_client == b""  # a stand-in is still running
        release.set()
        for _ in range(10):
            await asyncio.sleep(0)
        return to_client, resent, oks

    to_client, resent, oks = asyncio.run(scenario())
    assert oks.startswith(b"OK id-1\nOK id-1073741825\n"), oks
    assert len(to_client) == 1 and to_client[0].startswith(b"DATA ")
    header, _, payload = to_client[0].partition(b"\n")
    assert header.endswith(b" id-1073741825")
    record = uudecode_object(payload)
    data = StreamDecoder().decode_record(record)
    assert data.userid == 9 and data.qtype == 2
    assert resent == [b"done\n"]


@pytest.mark.skipif(not GOLDEN.exists(), reason="golden corpus not here")
def test_an_ecs_record_carries_its_subnet_where_modern_scampers_does() -> None:
    decoder = StreamDecoder()
    records = [decoder.decode_body(t, b) for t, b in split_records(GOLDEN.read_bytes())]
    golden = next(r for r in records if isinstance(r, HostData) and r.ecs)
    cmd = parse_host(f"host -s 127.0.0.1 -O subnet={golden.ecs} -U {golden.userid} lab.example")
    now = time.time()
    made = host_record(cmd, "127.0.0.1", "127.0.0.1", now, 1, golden.queries)
    assert made._wflags == golden._wflags
    assert made.ecs == golden.ecs
