"""The fork server against the kernel: it enters each node's namespaces itself and comes back.

It makes every node's namespaces and runs every node's commands from its
own process (``posix_spawn`` in the node's namespaces, then back): after
each request it must be in the host's namespaces and directory again, or the
next holder or command would land inside another node.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.emulation import holders
from scamperlab.errors import LabStartError


def _ns(pid: int | str, kind: str) -> int:
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino


Server = tuple[holders.ForkServer, list[holders.NodeNamespace]]


@pytest.fixture
def server() -> Iterator[Server]:
    """A fork server and the holders it made (killed afterwards)."""
    forks = holders.ForkServer()
    made: list[holders.NodeNamespace] = []
    yield forks, made
    forks.close()
    for holder in made:
        holder.terminate()
        holder.wait(10)
        holder.close()


def _at_home(forks: holders.ForkServer) -> None:
    pid = forks.proc.pid
    assert _ns(pid, "net") == _ns("self", "net")
    assert _ns(pid, "mnt") == _ns("self", "mnt")
    assert os.readlink(f"/proc/{pid}/cwd") == os.getcwd()


def test_holders_get_namespaces_of_their_own_and_the_server_comes_back(server: Server) -> None:
    forks, made = server
    forks.holders([("a", {"net.ipv4.ip_forward": "1"}), ("b", {})], made.append)
    assert sorted(h.name for h in made) == ["a", "b"]
    nets = {_ns(h.pid, "net") for h in made}
    mnts = {_ns(h.pid, "mnt") for h in made}
    assert len(nets) == 2 and _ns("self", "net") not in nets
    assert len(mnts) == 2 and _ns("self", "mnt") not in mnts
    _at_home(forks)
    # Each holder's sysctls are its namespace's, read from inside it.
    by_name = {h.name: h for h in made}
    for name, want in (("a", "1"), ("b", "0")):
        argv = ["mnexec", "-a", str(by_name[name].pid), "cat", "/proc/sys/net/ipv4/ip_forward"]
        assert subprocess.run(argv, capture_output=True, text=True).stdout.strip() == want
    # A holder is sleep, in a session of its own, with nothing of the server's open.
    for h in made:
        assert Path(f"/proc/{h.pid}/comm").read_text().strip() == "sleep"
        assert os.getsid(h.pid) == h.pid
        fds = {os.readlink(f"/proc/{h.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{h.pid}/fd")}
        assert fds == {"/dev/null"}


def test_commands_run_in_their_node_and_a_failure_stops_the_rest(server: Server) -> None:
    forks, made = server
    forks.holders([("a", {}), ("b", {})], made.append)
    a, b = sorted(made, key=lambda h: h.name)
    ready: list[str] = []
    forks.run(
        [
            (a.pid, ["ip", "-batch", "-"], "addr add 192.0.2.1/32 dev lo\n", "in a", None),
            (b.pid, ["ip", "-batch", "-"], "addr add 192.0.2.2/32 dev lo\n", "in b", None),
        ],
        2,
    )
    forks.run([(a.pid, ["true"], "", "ready", lambda: ready.append("a"))], 1)
    assert ready == ["a"]
    _at_home(forks)
    assert "192.0.2.1" in Path(f"/proc/{a.pid}/net/fib_trie").read_text()
    assert "192.0.2.1" not in Path(f"/proc/{b.pid}/net/fib_trie").read_text()
    assert "192.0.2.1" not in Path("/proc/self/net/fib_trie").read_text()
    # A command that cannot start, then one that fails: reported, the rest skipped.
    with pytest.raises(LabStartError, match="cannot start no-such-program"):
        forks.run([(a.pid, ["no-such-program"], "", "missing", None)], 1)
    with pytest.raises(LabStartError, match="bad in a failed"):
        forks.run(
            [
                (a.pid, ["ip", "-batch", "-"], "addr add nonsense dev lo\n", "bad in a", None),
                (b.pid, ["true"], "", "after", lambda: ready.append("b")),
            ],
            1,
        )
    assert ready == ["a"]
    _at_home(forks)
    # A node that is gone: its command fails, and the server still serves the others.
    b.terminate()
    b.wait(10)
    with pytest.raises(LabStartError, match="cannot start"):
        forks.run([(b.pid, ["true"], "", "in the dead b", None)], 1)
    forks.run([(a.pid, ["true"], "", "a again", lambda: ready.append("a2"))], 1)
    assert ready == ["a", "a2"]
    _at_home(forks)


def test_bind_mounts_land_in_the_node_only_and_the_server_comes_back(
    server: Server, tmp_path: Path
) -> None:
    forks, made = server
    forks.holders([("a", {}), ("b", {})], made.append)
    a, b = sorted(made, key=lambda h: h.name)
    source = tmp_path / "resolv.conf"
    source.write_text("nameserver 192.0.2.53\n")

    def resolv(pid: int) -> str:
        argv = ["mnexec", "-a", str(pid), "cat", "/etc/resolv.conf"]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout

    host = Path("/etc/resolv.conf").read_text()
    forks.bind_mounts([(a.pid, str(source), "/etc/resolv.conf")])
    _at_home(forks)
    assert resolv(a.pid) == "nameserver 192.0.2.53\n"
    assert resolv(b.pid) == host
    assert Path("/etc/resolv.conf").read_text() == host
    # A mount that fails is reported; the server is still home and still serves.
    with pytest.raises(LabStartError, match="bind mount failed"):
        forks.bind_mounts([(b.pid, str(tmp_path / "missing"), "/etc/resolv.conf")])
    _at_home(forks)
    forks.bind_mounts([(b.pid, str(source), "/etc/resolv.conf")])
    assert resolv(b.pid) == "nameserver 192.0.2.53\n"
    _at_home(forks)
