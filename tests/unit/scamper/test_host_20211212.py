"""DNS results of scamper 20211212 reach the ``do_dns`` call that asked for them.

20211212 neither echoes task ids nor records a ``host`` command's ``-U``
userid (its host records carry userid 0), so the unique tag scamperlab puts
on the wire never comes back. A fake control socket that behaves like it
(``OK`` without an id, then the result) answers from the real 20211212
records in ``tests/fixtures/warts/host-20211212.warts``; a synchronous
``do_dns`` must return the record for the name it asked, and asynchronous
ones must each leave ``taskc``.
"""

from __future__ import annotations

import binascii
import socket
import struct
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scamperlab.scamper import ScamperCtrl
from scamperlab.scamper.warts import WartsDecoder

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "warts" / "host-20211212.warts"
T_HOST = 14


def _records(data: bytes) -> list[bytes]:
    out, offset = [], 0
    while offset < len(data):
        length = struct.unpack_from(">I", data, offset + 4)[0]
        out.append(data[offset : offset + 8 + length])
        offset += 8 + length
    return out


def _uuencode(record: bytes) -> bytes:
    lines = [binascii.b2a_uu(record[i : i + 45], backtick=True) for i in range(0, len(record), 45)]
    return b"".join(lines) + b"`\n"


def _data(record: bytes) -> bytes:
    body = _uuencode(record)
    return b"DATA %d\n" % len(body) + body


@pytest.fixture
def scamper_20211212(tmp_path: Path) -> Iterator[str]:
    """Answers ``host [-t TYPE] NAME`` with the fixture's record for it (list and cycle first)."""
    records = _records(FIXTURE.read_bytes())
    header = [r for r in records if struct.unpack_from(">H", r, 2)[0] in (1, 2)]
    hosts = {}
    for record, obj in zip(records, WartsDecoder().decode(FIXTURE.read_bytes()), strict=True):
        if struct.unpack_from(">H", record, 2)[0] == T_HOST:
            assert obj.userid == 0, "20211212 records no userid for host"
            hosts.setdefault((obj.qname, obj.qtype), record)
    path = str(tmp_path / "ctl.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            buf = b""
            while data := conn.recv(4096):
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.startswith(b"attach"):
                        conn.sendall(b"OK\nMORE\n" + b"".join(_data(r) for r in header))
                    elif line.startswith(b"host"):
                        words = line.decode().split()
                        qtype = words[words.index("-t") + 1] if "-t" in words else "A"
                        conn.sendall(b"OK\n" + _data(hosts[words[-1], qtype]) + b"MORE\n")
                    elif line == b"done":
                        conn.sendall(b"OK\n")
                        return

    threading.Thread(target=serve, daemon=True).start()
    yield path
    srv.close()


def test_sync_dns_gets_its_own_result(scamper_20211212: str) -> None:
    ctrl = ScamperCtrl(unix=scamper_20211212)
    inst = ctrl.instances()[0]
    host = ctrl.do_dns("www.lab.example", qtype="AAAA", inst=inst, sync=True)
    assert host.qname == "www.lab.example" and host.qtype == "AAAA"
    host = ctrl.do_dns("lab.example", qtype="MX", inst=inst, sync=True)
    assert host.qname == "lab.example" and host.qtype == "MX"
    assert ctrl.taskc == 0


def test_async_dns_results_each_end_a_task(scamper_20211212: str) -> None:
    ctrl = ScamperCtrl(unix=scamper_20211212)
    inst = ctrl.instances()[0]
    for name in ("alias.lab.example", "nonexistent.lab.example"):
        ctrl.do_dns(name, inst=inst)
    assert ctrl.taskc == 2
    got = sorted(h.qname for h in ctrl.responses(timeout=timedelta(seconds=5)))
    assert got == ["alias.lab.example", "nonexistent.lab.example"]
    assert ctrl.taskc == 0
