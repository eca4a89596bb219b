"""A cluster's tunnel device against the kernel: a crashed lab's, and deleted.

A VXLAN device's UDP socket is in the host's namespace, but the device is in
a lab's: killed with its holders, a lab leaves the device (and the VNI and
port) to the kernel, for as long as anything keeps that namespace. These
tests make that state with a real namespace holding a real VXLAN device.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.emulation import tunnel
from scamperlab.errors import LabStartError
from scamperlab.lab.state import cleanup_stale

# Not the cluster's own VNI and port, so a cluster lab elsewhere on the machine never clashes.
VNI = 777_001
PORT = 47_999


def _holder() -> subprocess.Popen[bytes]:
    """A process in a network namespace of its own, as a lab's node holder is."""
    proc = subprocess.Popen(["unshare", "--net", "sleep", "120"])
    own = os.stat("/proc/self/ns/net").st_ino
    deadline = time.monotonic() + 10
    while os.stat(f"/proc/{proc.pid}/ns/net").st_ino == own:
        assert time.monotonic() < deadline, "unshare did not make a namespace"
        time.sleep(0.01)
    return proc


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[bytes]]]:
    made = [_holder(), _holder()]
    yield made
    for proc in made:
        proc.kill()
        proc.wait()


def _config(pid: int) -> tunnel.TunnelConfig:
    create = (
        f"link add {tunnel.TUNNEL_IF} netns {pid} type vxlan id {VNI}"
        f" local 127.0.0.1 dstport {PORT} nolearning\n"
    )
    return tunnel.TunnelConfig(create, "", "")


def _sockets() -> list[str]:
    """UDP sockets on the test's port in this (the host's) namespace."""
    lines = Path("/proc/self/net/udp").read_text().splitlines()[1:]
    return [line for line in lines if line.split()[1].endswith(f":{PORT:04X}")]


def _up(pid: int, handle: Path) -> None:
    """A lab's tunnel device in the namespace of ``pid``, up, with its handle at ``handle``."""
    tunnel.pin(pid, handle)
    tunnel._create(_config(pid))
    up = ["mnexec", "-a", str(pid), "ip", "link", "set", tunnel.TUNNEL_IF, "up"]
    subprocess.run(up, check=True)


def test_a_crashed_labs_device_goes_with_its_cleanup_whatever_keeps_its_namespace(
    holders: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    crashed, new = holders
    state = tmp_path / "lab"
    state.mkdir()
    handle = state / tunnel.HANDLE
    _up(crashed.pid, handle)
    # Something besides the lab's processes keeps the namespace (in the kernel: TCP
    # sockets still closing, the namespace's own slow destruction): here, an open file.
    fd = os.open(f"/proc/{crashed.pid}/ns/net", os.O_RDONLY)
    keeper = subprocess.Popen(["sleep", "120"], pass_fds=(fd,))
    os.close(fd)
    try:
        crashed.kill()  # the lab crashes with every process in that namespace
        crashed.wait()
        assert _sockets() != []
        # The dead lab's device keeps the VNI and the port from a new one...
        with pytest.raises(LabStartError, match="another lab of this cluster"):
            tunnel._create(_config(new.pid))
        # ...until the dead lab's cleanup deletes it through the handle, at once.
        cleaned = cleanup_stale(state)
        assert _sockets() == []
        assert not state.exists() and cleaned
        assert keeper.poll() is None  # not one of the lab's processes: left alone
        _up(new.pid, tmp_path / tunnel.HANDLE)
        assert f"{tunnel.TUNNEL_IF}:" in Path(f"/proc/{new.pid}/net/dev").read_text()
    finally:
        # Deleted, not left to its namespace's end: the next test makes the same VNI.
        tunnel.close(handle)
        tunnel.close(tmp_path / tunnel.HANDLE)
        keeper.kill()
        keeper.wait()


def test_close_deletes_the_device_its_socket_and_its_handle(
    holders: list[subprocess.Popen[bytes]], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    lab, other = holders
    handle = tmp_path / tunnel.HANDLE
    assert tunnel.close(handle) is False  # no handle: nothing to do
    _up(lab.pid, handle)
    request.addfinalizer(lambda: tunnel.close(handle))
    assert os.path.ismount(handle)
    assert _sockets() != []
    assert tunnel.close(handle) is True
    # Gone now, while the namespace lives on: not whenever the kernel destroys it.
    assert _sockets() == []
    assert f"{tunnel.TUNNEL_IF}:" not in Path(f"/proc/{lab.pid}/net/dev").read_text()
    assert not handle.exists()
    tunnel.pin(other.pid, handle)  # a handle, but no device in that namespace
    assert tunnel.close(handle) is False
    assert not handle.exists()
