"""The lab's "Ark controller" host: a real OpenSSH server next to sc_remoted.

Where it runs, and why:

- **Network**: the controller's network namespace. On Ark, users log in to
  the machine that runs sc_remoted and find the mux there; sharing the
  namespace reproduces that without a new node. sshd listens on
  ``127.0.0.1:22`` *inside* that namespace only, so neither VPs (which reach
  the controller over the management bridge) nor anything on the measurement
  topology can reach it.
- **Reaching it from the host**: the lab process listens on an ephemeral
  port of the host's loopback and relays each connection to that inner
  port, opening the inner socket from a thread that has entered the
  controller's network namespace (``setns``). No veth, address or route is
  added anywhere: the lab still has no path to the host's real interfaces,
  and nothing appears among the host's links.
- **Files**: its own mount namespace (a child of the controller's), with a
  private tmpfs on ``/run`` (holding ``/run/ark/mux``, a bind mount of the
  lab's mux socket, sshd's privilege-separation directory and its config),
  on ``/tmp`` and on ``/root``. What a deployed script writes stays in the
  lab and vanishes with it; the host's own ``/run/sshd``, ``/root`` and
  sshd are never touched.

Keys are throwaway ed25519 pairs made with ``ssh-keygen`` in the lab's state
directory, which teardown removes. The ``known_hosts`` written there pins the
host key, so clients check it strictly like any other host.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.errors import LabStartError, MissingDependencyError
from scamperlab.lab.loopthread import LoopThread
from scamperlab.lab.state import LabState, kill_process, process_starttime

ARK_MUX = "/run/ark/mux"
INNER_PORT = 22
_CLONE_NEWNET = 0x40000000
_RUN_DIR = "/run/scamperlab-ssh"  # inside the sshd's mount namespace only

# Runs inside the controller's namespaces as `sh -c SCRIPT sh RUN STATE MUX SSHD [SRC DST]...`.
# Everything is mounted inside a fresh tmpfs first and the tmpfs then moved onto
# /run, because /run/ark does not exist on the host and must not be created there.
_MOUNT_SCRIPT = r"""
set -eu
run=$1 ssh=$2 mux=$3 sshd=$4
shift 4
mount -n --make-rprivate /
mount -n -t tmpfs -o mode=0755,size=16m scamperlab-run "$run"
mkdir -m 0755 "$run/sshd" "$run/ark" "$run/scamperlab-ssh" "$run/scamperlab-ssh/python"
cp "$ssh/sshd_config" "$ssh/host_ed25519" "$ssh/authorized_keys" "$run/scamperlab-ssh/"
chmod 0600 "$run/scamperlab-ssh/host_ed25519" "$run/scamperlab-ssh/authorized_keys"
: > "$run/ark/mux"
mount -n --bind "$mux" "$run/ark/mux"
while [ $# -ge 2 ]; do
  mkdir -p "$run/scamperlab-ssh/python/$2"
  mount -n --bind -o ro "$1" "$run/scamperlab-ssh/python/$2"
  shift 2
done
mount -n --move "$run" /run
mount -n -t tmpfs -o mode=1777,size=256m scamperlab-tmp /tmp
mount -n -t tmpfs -o mode=0700,size=256m scamperlab-home /root
exec "$sshd" -D -e -f /run/scamperlab-ssh/sshd_config
"""


@dataclass(frozen=True)
class SshEndpoint:
    """How to reach the lab's controller host: what ``status`` shows and tests use."""

    alias: str
    host: str
    port: int
    user: str
    config: str
    identity: str
    known_hosts: str
    mux: str = ARK_MUX

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _setns(fd: int) -> None:
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, _CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def connect_in_netns(ns_fd: int, port: int, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to ``127.0.0.1:port`` as seen from inside another network namespace.

    A thread of its own enters the namespace, so no other thread (and no
    later socket of this process) is affected; a socket keeps the namespace
    it was created in after the thread is gone.
    """
    result: list[socket.socket | BaseException] = []

    def work() -> None:
        try:
            _setns(ns_fd)
            result.append(socket.create_connection(("127.0.0.1", port), timeout=timeout))
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=work, name="scamperlab-netns", daemon=True)
    thread.start()
    thread.join()
    got = result[0]
    if isinstance(got, BaseException):
        raise got
    got.settimeout(None)
    return got


def _keygen(path: Path, comment: str) -> None:
    done = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LabStartError(f"ssh-keygen failed: {done.stderr.strip()}")


def _python_binds() -> list[tuple[str, str]]:
    """What makes ``import scamper`` work for the controller host's Pythons.

    Ark has CAIDA's module installed system-wide; this machine's Pythons may
    or may not. scamperlab's package is bind-mounted (read-only) into the
    sessions' filesystem and its bootstrap directory put on their
    PYTHONPATH (:func:`_sshd_config`), so each interpreter there imports its
    own ``scamper`` where it has one and scamperlab's otherwise, as in
    ``scamperlab run``.
    """
    from scamperlab.shim import BOOT_DIR

    package = BOOT_DIR.parent.parent
    return [(str(package), "scamperlab")]


def _sshd_config() -> str:
    from scamperlab.shim import BOOT_DIR

    # The bootstrap inside the bind-mounted package (see _python_binds).
    inside = BOOT_DIR.relative_to(BOOT_DIR.parent.parent).as_posix()
    boot = f"{_RUN_DIR}/python/scamperlab/{inside}"
    lines = [
        f"ListenAddress 127.0.0.1:{INNER_PORT}",
        f"HostKey {_RUN_DIR}/host_ed25519",
        f"AuthorizedKeysFile {_RUN_DIR}/authorized_keys",
        f"PidFile {_RUN_DIR}/sshd.pid",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        # Forwarding only to this sshd itself: enough to test ProxyJump, no way out of the lab.
        "AllowTcpForwarding local",
        f"PermitOpen 127.0.0.1:{INNER_PORT}",
        "AllowAgentForwarding no",
        "Subsystem sftp internal-sftp",
        "LogLevel INFO",
        f"SetEnv PYTHONPATH={boot}",
    ]
    return "\n".join(lines) + "\n"


class LabSshd:
    """sshd for one lab, and the loopback relay that makes it reachable from the host."""

    def __init__(
        self, net: EmulatedNetwork, state: LabState, mux_path: Path, loop: LoopThread
    ) -> None:
        self.net = net
        self.state = state
        self.mux_path = mux_path
        self.loop = loop
        self.dir = state.path("ssh")
        self.endpoint: SshEndpoint | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._starttime: int | None = None
        self._ns_fd: int | None = None
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    def start(self) -> SshEndpoint:
        sshd = shutil.which("sshd", path="/usr/sbin:/usr/local/sbin:" + os.environ.get("PATH", ""))
        if sshd is None or shutil.which("ssh-keygen") is None:
            tool = "sshd" if sshd is None else "ssh-keygen"
            raise MissingDependencyError(
                f"the lab's controller host needs {tool}: apt-get install openssh-server"
            )
        for tool in ("unshare", "mount"):
            if shutil.which(tool) is None:
                raise MissingDependencyError(f"{tool} is missing: apt-get install util-linux mount")
        self.dir.mkdir(mode=0o700)
        _keygen(self.dir / "host_ed25519", f"scamperlab lab {self.state.name} host key")
        _keygen(self.dir / "id_ed25519", f"scamperlab lab {self.state.name} user key")
        (self.dir / "authorized_keys").write_text((self.dir / "id_ed25519.pub").read_text())
        binds = _python_binds()
        (self.dir / "sshd_config").write_text(_sshd_config())
        (self.dir / "run").mkdir()

        self._ns_fd = ns_fd = os.open(f"/proc/{self.net.pid(CONTROLLER)}/ns/net", os.O_RDONLY)
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _MOUNT_SCRIPT, "sh"]
        argv += [str(self.dir / "run"), str(self.dir), str(self.mux_path), sshd]
        for src, dst in binds:
            argv += [src, dst]
        log = open(self.state.path("logs", "sshd.log"), "ab")  # noqa: SIM115 (child keeps it)
        try:
            self._proc = proc = self.net.popen(
                CONTROLLER, argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        finally:
            log.close()
        self._starttime = process_starttime(proc.pid)
        self.state.track("sshd", CONTROLLER, proc.pid)
        self._wait_listening(proc, ns_fd)
        port = self.loop.call(self._serve(ns_fd))
        return self._write_client_files(port)

    def _wait_listening(self, proc: subprocess.Popen[bytes], ns_fd: int) -> None:
        deadline = time.monotonic() + 15.0
        while True:
            if proc.poll() is not None:
                raise LabStartError(
                    f"the controller's sshd exited with status {proc.returncode}: "
                    + self._log_tail()
                )
            try:
                with connect_in_netns(ns_fd, INNER_PORT, timeout=2.0) as probe:
                    probe.settimeout(2.0)
                    if probe.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise LabStartError(
                    "the controller's sshd did not start listening within 15 s"
                    f" (see {self.state.path('logs', 'sshd.log')})"
                )
            time.sleep(0.05)

    def _log_tail(self) -> str:
        try:
            lines = self.state.path("logs", "sshd.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return " / ".join(lines[-3:]) or "(nothing logged)"

    def _write_client_files(self, port: int) -> SshEndpoint:
        host_key = (self.dir / "host_ed25519.pub").read_text().split()
        known = self.dir / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
        alias = f"{self.state.name}-controller"
        endpoint = SshEndpoint(
            alias=alias,
            host="127.0.0.1",
            port=port,
            user="root",
            config=str(self.dir / "config"),
            identity=str(self.dir / "id_ed25519"),
            known_hosts=str(known),
        )
        (self.dir / "config").write_text(
            f"# The controller host of scamperlab lab {self.state.name}: ssh -F {endpoint.config}"
            f" {alias}\n"
            f"Host {alias}\n"
            f"  HostName 127.0.0.1\n  Port {port}\n  User root\n"
            f"  IdentityFile {endpoint.identity}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n"
        )
        self.endpoint = endpoint
        return endpoint

    # -- the loopback relay -------------------------------------------------------

    async def _serve(self, ns_fd: int) -> int:
        self._server = await asyncio.start_server(
            functools.partial(self._relay, ns_fd), "127.0.0.1", 0
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def _relay(
        self, ns_fd: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._conns.add(writer)
        inner_writer: asyncio.StreamWriter | None = None
        try:
            sock = await asyncio.to_thread(connect_in_netns, ns_fd, INNER_PORT)
            inner_reader, inner_writer = await asyncio.open_connection(sock=sock)
            self._conns.add(inner_writer)
            await asyncio.gather(_pipe(reader, inner_writer), _pipe(inner_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for w in (writer, inner_writer):
                if w is not None:
                    self._conns.discard(w)
                    w.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._conns):
            writer.close()
        self._conns.clear()

    # -- teardown ------------------------------------------------------------

    def stop(self) -> None:
        """Close the relay, then stop sshd; its sessions die with the controller's namespace."""
        with contextlib.suppress(Exception):
            self.loop.call(self._close(), timeout=5)
        if self._proc is not None:
            kill_process(self._proc.pid, self._starttime, timeout=3.0)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=1)
            self.state.untrack(self._proc.pid)
            self._proc = None
        if self._ns_fd is not None:
            os.close(self._ns_fd)
            self._ns_fd = None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()
