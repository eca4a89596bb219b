"""The standalone mux's metadata file reading and socket choice (no sc_remoted needed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scamperlab.mux.standalone import (
    MetadataError,
    choose_sockets,
    notify_ready,
    parse_metadata,
)
from scamperlab.mux.zipbundle import bundle_bytes, write_bundle
from scamperlab.processes.sockets import scan_vp_sockets
from scamperlab.wire.mux import Attr

META = """\
# comment
pi1.example tag hw:rpi4
pi1.example cc nz
pi1.example place Hamilton East
pi1.example latlong -37.7875,175.2784
pi1.example asn4 681
pi1.example tag os:linux
pi1.example ipv4 203.0.113.11
pi1.example colour blue
"""


def test_metadata_in_sc_remoteds_order_tags_in_file_order() -> None:
    meta = parse_metadata(META)
    assert meta.attrs["pi1.example"] == [
        (Attr.ASN4, "681"),
        (Attr.LATLONG, "-37.7875,175.2784"),
        (Attr.CC, "nz"),
        (Attr.PLACE, "Hamilton East"),
        (Attr.TAG, "hw:rpi4"),
        (Attr.TAG, "os:linux"),
    ]
    assert meta.addresses == {"pi1.example": "203.0.113.11"}


@pytest.mark.parametrize(
    "text", ["pi1.example cc\n", "pi1.example ipv4 nope\n", "x tag " + "t" * 1100 + "\n"]
)
def test_bad_metadata_fails_like_sc_remoted(text: str) -> None:
    with pytest.raises((MetadataError, ValueError)):
        parse_metadata(text)


def _bind(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    return s


def test_choose_newest_socket_and_tunnelled_address(tmp_path: Path) -> None:
    old = _bind(tmp_path / "pi1.example-127.0.0.1:40000")
    new = _bind(tmp_path / "pi1.example-127.0.0.1:40001")
    other = _bind(tmp_path / "pi2.example-198.51.100.7:5000")
    os.utime(tmp_path / "pi1.example-127.0.0.1:40000", (1, 1))
    try:
        chosen = choose_sockets(scan_vp_sockets(tmp_path), parse_metadata(META))
    finally:
        for s in (old, new, other):
            s.close()
    assert chosen == {
        "pi1.example": (tmp_path / "pi1.example-127.0.0.1:40001", "203.0.113.11"),
        "pi2.example": (tmp_path / "pi2.example-198.51.100.7:5000", "198.51.100.7"),
    }


def test_bundle_is_reproducible_and_importable(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "s.pyz"
    assert write_bundle(out) is True
    assert write_bundle(out) is False  # same bytes: nothing rewritten, nothing to copy again
    names = zipfile.ZipFile(out).namelist()
    assert "scamperlab/mux/standalone.py" in names
    assert "scamperlab/scamper/ctrl.py" in names
    assert not any("__pycache__" in n for n in names)


def test_the_recorder_bundle_runs_as_an_application_with_only_the_standard_library(
    tmp_path: Path,
) -> None:
    app = tmp_path / "rec.pyz"
    app.write_bytes(bundle_bytes(main="scamperlab.mux.recordcmd", with_dns=False))
    assert not any(n.startswith("dns/") for n in zipfile.ZipFile(app).namelist())
    # -I: no site-packages, no PYTHONPATH: what a bare python3 on Ark has.
    argv = [sys.executable, "-I", str(app), "--mux", str(tmp_path / "none"), "--out", "x"]
    done = subprocess.run(
        [*argv, "--", "true"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 1
    assert f"no mux socket at {tmp_path / 'none'}" in done.stderr


def test_ready_is_told_to_systemds_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        notify_ready()
        assert sock.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    notify_ready()  # not under systemd: nothing to tell, no error
