"""A cluster's tunnel device against the kernel: made while a dead lab's lingers, and deleted.

A VXLAN device's UDP socket is in the host's namespace, but the device is in
a lab's: killed with its holders, a lab leaves the device (and the VNI and
port) to the kernel's asynchronous destruction of its namespaces. These
tests make that state with a real namespace holding a real VXLAN device.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.emulation import tunnel
from scamperlab.errors import LabStartError

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


def test_a_new_tunnel_waits_for_a_dying_labs_device(
    holders: list[subprocess.Popen[bytes]],
) -> None:
    dead, new = holders
    tunnel._create(_config(dead.pid))
    # While the old device holds the VNI and port, a new one cannot be made...
    with pytest.raises(LabStartError, match="another lab of this cluster"):
        tunnel._create(_config(new.pid), timeout=0.3)
    # ...and a lab starting meanwhile waits until the old namespace is gone.
    errors: list[BaseException] = []

    def create() -> None:
        try:
            tunnel._create(_config(new.pid), timeout=60)
        except BaseException as exc:  # reported by the test, below
            errors.append(exc)

    waiting = threading.Thread(target=create)
    waiting.start()
    time.sleep(0.5)
    assert waiting.is_alive()
    dead.kill()
    dead.wait()
    waiting.join(timeout=60)
    assert not waiting.is_alive() and errors == []
    names = Path(f"/proc/{new.pid}/net/dev").read_text()
    assert f"{tunnel.TUNNEL_IF}:" in names


def test_close_deletes_the_device_and_its_socket_at_once(
    holders: list[subprocess.Popen[bytes]],
) -> None:
    lab, other = holders
    assert tunnel.close(lab.pid) is False  # no device there: nothing to do
    tunnel._create(_config(lab.pid))
    up = ["mnexec", "-a", str(lab.pid), "ip", "link", "set", tunnel.TUNNEL_IF, "up"]
    subprocess.run(up, check=True)
    assert _sockets() != []
    assert tunnel.close(lab.pid) is True
    # Gone now, while the namespace lives on: not whenever the kernel destroys it.
    assert _sockets() == []
    assert f"{tunnel.TUNNEL_IF}:" not in Path(f"/proc/{lab.pid}/net/dev").read_text()
    tunnel._create(_config(other.pid), timeout=0)
    assert tunnel.close(other.pid) is True
