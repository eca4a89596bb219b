"""The HTTP stand-in's pure parts: command lines as CAIDA's module writes them, the request
scamper sends, and the record's layout against the golden corpus's real http records.

The lab tests (tests/integration/test_standin_http.py) fetch for real.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from scamperlab.mux.standin import http as standin_http
from scamperlab.mux.standin.http import http_record, parse_http
from scamperlab.mux.standin.vp import StandinRefused, StandinVp
from scamperlab.wire.warts.decoder import StreamDecoder
from scamperlab.wire.warts.encoder import StreamEncoder
from scamperlab.wire.warts.http import HttpData
from scamperlab.wire.warts.records import T_HTTP, split_records

GOLDEN = Path("/work/shared/reference/golden")
needs_golden = pytest.mark.skipif(not GOLDEN.exists(), reason="golden corpus not here")

#: what scamper says of the golden command lines it would refuse
REFUSED = {
    "ftp://127.0.0.1/": "unhandled HTTP scheme",
    "-u 'notaurl'": "could not parse URL",
    "-u '5'": "could not parse URL",
    " notanaddress": "invalid destination address",
    "-m 0.0s": "maximum runtime must be within 1s - 60s",
    "-H 'Host: lab.example'": "invalid HTTP header",
    "-O grease": "-O grease unknown",
    "-O ecl=": "unknown",
}


def _golden_lines() -> list[str]:
    lines = []
    for text in (GOLDEN / "commands.jsonl").read_text().splitlines():
        entry = json.loads(text)
        if entry["method"] == "do_http" and entry["command"]:
            lines.append(entry["command"])
    return lines


@needs_golden
def test_every_command_line_the_module_writes_parses_or_is_refused_as_scamper_would() -> None:
    lines = _golden_lines()
    assert len(lines) > 20
    for line in lines:
        reason = next((r for key, r in REFUSED.items() if key in line), None)
        if reason is None:
            cmd = parse_http(line)
            assert cmd.dst in ("127.0.0.1", "::1", "192.0.2.1"), line
        else:
            with pytest.raises(StandinRefused, match=reason):
                parse_http(line)


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (
            "http -u 'http://[::1]:8080/index.html' ::1",
            (1, "[::1]", "/index.html", 8080, [], 60.0, 0),
        ),
        (
            "http -u 'https://www.example.com/path?q=1' 127.0.0.1",
            (0, "www.example.com", "/path?q=1", 443, [], 60.0, 0),
        ),
        ("http -u 'http://127.0.0.1/it\\'s' 127.0.0.1", (1, "127.0.0.1", "/it's", 80, [], 60.0, 0)),
        (
            "http -O insecure -m 2.5s -H 'X: it's' -H 'B: two words' -u 'https://h/' 192.0.2.1",
            (0, "h", "/", 443, ["X: it's", "B: two words"], 2.5, 1),
        ),
    ],
)
def test_http_lines_parse_as_scamper_reads_them(line: str, want: tuple[object, ...]) -> None:
    c = parse_http(line)
    assert (c.type, c.host, c.file, c.dport, c.headers, c.maxtime, c.flags) == want


def test_the_request_is_scampers_own_with_the_users_headers() -> None:
    plain = parse_http("http -u 'http://127.0.0.1:8000/index.html' 127.0.0.1").request()
    assert plain == (
        b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: scamper/20260420\r\n"
        b"Accept: */*\r\n\r\n"
    )
    mine = parse_http(
        "http -H 'X-Golden: 1' -H 'accept: text/plain' -H 'User-Agent: me/1' -u 'http://h/' ::1"
    ).request()
    assert mine == (
        b"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: me/1\r\naccept: text/plain\r\n"
        b"X-Golden: 1\r\n\r\n"
    )


def _golden_records() -> list[HttpData]:
    decoder = StreamDecoder()
    out = []
    for rtype, body in split_records((GOLDEN / "results.warts").read_bytes()):
        data = decoder.decode_body(rtype, body)
        if rtype == T_HTTP:
            out.append(data)
    return out


@needs_golden
def test_a_stand_in_record_has_the_fields_of_the_real_ones() -> None:
    """Each golden http record's exchange, replayed into the stand-in's record: the same
    fields present in the record and in every buffer, the same values."""
    golden = _golden_records()
    assert [g.stop for g in golden] == [3, 3, 2]
    vp = StandinVp("vp", 1, "127.0.0.1", None, 100)
    for g in golden:
        headers = "".join(f"-H '{h}' " for h in g.headers or [])
        line = f"http -m {g.maxtime[0]}.0s {headers}-u 'http://{g.host}:{g.dport}{g.file}' {g.dst}"
        cmd = standin_http.http_for(line, vp)
        ex = None
        if g.bufs:
            ex = standin_http._Exchange.__new__(standin_http._Exchange)
            ex.bufs, ex.hsrtt = [], g.hsrtt
            for b in g.bufs:
                assert b.tv is not None and b.data is not None
                ex.buf(b.dir, b.type, b.tv[0] + b.tv[1] / 1e6, b.data)
            assert g.bufs[0].data == cmd.request() + b"\0"  # what scamper recorded it sent
        start = g.start[0] + g.start[1] / 1e6 if g.start else 0.0
        made = http_record(cmd, "127.0.0.1", socket.htons(g.sport), start, g.stop, ex)
        record = StreamEncoder().result(T_HTTP, made)
        back = next(
            StreamDecoder().decode_body(t, b) for t, b in split_records(record) if t == T_HTTP
        )
        assert back._wflags == g._wflags
        assert [b._wflags for b in back.bufs] == [b._wflags for b in g.bufs]
        for name in ("sport", "dport", "start", "stop", "type", "host", "file", "headers"):
            assert getattr(back, name) == getattr(g, name), name
        assert (back.bufc, back.hsrtt, back.flags, back.maxtime) == (
            g.bufc,
            g.hsrtt,
            g.flags,
            g.maxtime,
        )
        assert [(b.dir, b.type, b.tv, b.data) for b in back.bufs] == [
            (b.dir, b.type, b.tv, b.data) for b in g.bufs
        ]


def test_status_and_doctor_list_http_among_the_stand_ins() -> None:
    """``offered`` is what ``up``, ``status``, the events and ``doctor`` print."""
    from scamperlab.mux.standin.probers import offered

    assert "HTTP and HTTPS: http" in offered("20211212")
    assert not any(line.startswith("HTTP") for line in offered("20240117"))


def test_bursts_are_spaced_so_no_second_holds_more_than_the_rate() -> None:
    """Six packets at once, at 100 a second: 16 bursts a second (96 packets), not 16.7
    (a window would see 17 bursts, 102 packets)."""
    import asyncio
    import time

    from scamperlab.mux.standin.vp import Pacer

    async def bursts() -> list[float]:
        pacer = Pacer(100.0)
        times = []
        for _ in range(4):
            await pacer.take_burst(6)
            times.append(time.monotonic())
        return times

    times = asyncio.run(bursts())
    assert times[-1] - times[0] >= 3 / 16 - 0.001  # load can only add to it
