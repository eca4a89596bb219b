"""A command a VP's scamper rejects names the scamper release it needs.

Unit level: :func:`needed_release` over the command lines the builders
produce.  End to end: a fake scamper control socket that answers ``ERR`` to
every measurement, as Debian's 20211212 does for ``http``, ``udpprobe``
and ``owamp``; ``do_*`` raises the module's ``ScamperInstError`` whose
message names the release.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.scamper import ScamperCtrl, ScamperInstError
from scamperlab.scamper.versions import needed_release


@pytest.mark.parametrize(
    ("line", "release"),
    [
        ("http -u 'http://192.0.2.1/' 192.0.2.1", "20240117"),
        ("udpprobe -d 7 -p 6869 192.0.2.1", "20240117"),
        ("udpprobe -c 2 -d 7 -p 6869 192.0.2.1", "20240503"),
        ("owamp -D tx 192.0.2.1", "20260105"),
        ("dealias -m midarest -p '-P icmp-echo' 192.0.2.1 192.0.2.2", "20240117"),
        ("ping -W 2.0s 192.0.2.1", "20240117"),
        ("ping -O dltx 192.0.2.1", "20250505"),
        ("host -O subnet=192.0.2.0/24 www.example", "20250227"),
        ("http -O grease -u 'https://x/' 192.0.2.1", "20260331"),
        ("host -O mqtypes=A,AAAA www.example", "newer than 20260420"),
    ],
)
def test_needed_release_names_the_release(line: str, release: str) -> None:
    needed = needed_release(line)
    assert needed is not None and release in needed


@pytest.mark.parametrize(
    "line", ["ping -c 3 192.0.2.1", "trace -P icmp-paris 192.0.2.1", "tracelb 192.0.2.1"]
)
def test_old_commands_need_nothing_special(line: str) -> None:
    assert needed_release(line) is None


@contextlib.contextmanager
def _err_server(reply: str = "ERR command not accepted") -> Iterator[str]:
    """A control socket that attaches, then answers ``reply`` to every command."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "ctl.sock")
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
                            conn.sendall(b"OK\nMORE\n")
                        else:
                            conn.sendall(reply.encode() + b"\n")

        threading.Thread(target=serve, daemon=True).start()
        try:
            yield path
        finally:
            srv.close()


@pytest.fixture
def rejecting_scamper() -> Iterator[str]:
    """Debian's 20211212 answering a command it lacks: a bare ``ERR command not accepted``."""
    with _err_server() as path:
        yield path


@pytest.mark.parametrize(
    ("call", "release"),
    [
        (lambda c: c.do_http("127.0.0.1", "http://127.0.0.1/", sync=True), "20240117"),
        (lambda c: c.do_udpprobe("127.0.0.1", 7, b"x", sync=True), "20240117"),
        (lambda c: c.do_owamp("127.0.0.1", "tx", sync=True), "20260105"),
    ],
)
def test_rejected_command_raises_inst_error_naming_the_release(
    rejecting_scamper: str, call: object, release: str
) -> None:
    with ScamperCtrl(unix=rejecting_scamper) as ctrl, pytest.raises(ScamperInstError) as info:
        call(ctrl)  # type: ignore[operator]
    message = str(info.value)
    assert message.startswith("got err from ") and "command not accepted" in message
    assert f"needs scamper {release} or newer" in message


def test_every_missing_feature_is_named_not_only_the_newest() -> None:
    """Straight to a 20211212 scamper both the NS query and the duration's unit are new."""
    needed = needed_release("host -t NS -W 1.0s lab.example")
    assert needed is not None
    assert "host -t NS (DNS NS queries) needs a scamper newer than 20211212" in needed
    assert "durations with a unit (e.g. 2.0s) needs scamper 20240117 or newer" in needed


def test_a_refusal_that_names_a_release_is_not_second_guessed() -> None:
    """The mux's refusal names the feature; the client adds no guess about durations."""
    path_reason = (
        "host -t NS (DNS NS queries) needs a scamper newer than 20211212 (20240117 has it)"
    )
    with (
        _err_server(f"ERR command not accepted: {path_reason}") as path,
        ScamperCtrl(unix=path) as ctrl,
        pytest.raises(ScamperInstError) as info,
    ):
        ctrl.do_dns("lab.example", qtype="NS", wait_timeout=1, sync=True)
    assert str(info.value).endswith(path_reason)
    assert "duration" not in str(info.value)
