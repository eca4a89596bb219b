"""Throwaway Debian hosts for the playbook tests: the cached root fs booted with systemd-nspawn.

Each container runs a real systemd (so the roles' units, restarts and
journald are the real thing) and a real sshd, inside the network namespace
of one lab host (``--network-namespace-path``): it has the lab host's
addresses and routes and nothing else, so it reaches the rest of the lab and
cannot reach this machine's own interfaces or the Internet.

Root file systems are overlays on one extraction of the cached tar, so a
container costs a few megabytes and its writes vanish with it. This machine
runs no systemd as PID 1 (and no D-Bus), so nspawn runs with
``--keep-unit --register=no``: no scope, no machined; containers are tracked
by the nspawn PID alone and stopped with SIGTERM, which nspawn turns into an
orderly poweroff of the container.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.playbooks.rootfs import USER

_NSPAWN_RUN = Path("/run/systemd/nspawn")


def listening(netns_pid: int, port: int) -> bool:
    """Whether anything in ``netns_pid``'s network namespace listens on TCP ``port``."""
    suffix = f":{port:04X}"
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{netns_pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[1].endswith(suffix) and fields[3] == "0A":
                    return True
    return False


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve())
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p == prefix or p.startswith(prefix + "/")]


@dataclass
class Container:
    name: str
    root: Path
    netns_pid: int
    proc: subprocess.Popen[bytes]
    log: Path
    lock: Path

    def init_pid(self) -> int | None:
        """PID (on this machine) of the container's systemd."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        with contextlib.suppress(OSError):
            pids = children.read_text().split()
            if pids:
                return int(pids[0])
        return None

    def exec(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a command inside the container, outside of SSH (for the tests' own checks)."""
        pid = self.init_pid()
        assert pid is not None, f"container {self.name} is not running"
        return subprocess.run(
            ["nsenter", "-t", str(pid), "-a", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@dataclass
class Fleet:
    """Containers sharing one extracted lower layer in ``workdir``; :meth:`close` removes all."""

    tar: Path
    workdir: Path
    containers: dict[str, Container] = field(default_factory=dict)
    _made_nspawn_run: bool = False

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True)
        self.lower = self.workdir / "lower"
        self.lower.mkdir()
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(self.lower), "-xf", str(self.tar)],
            check=True,
        )
        self._made_nspawn_run = not _NSPAWN_RUN.exists()

    def boot(
        self, name: str, netns_pid: int, authorized_key: str, nested: bool = False
    ) -> Container:
        """Boot a container in the network namespace of ``netns_pid``.

        A ``nested`` container is a lab host: a lab inside it makes namespaces,
        veths and tunnels and sets per-namespace sysctls, so it gets every
        capability and a writable ``/proc/sys/net`` (nspawn's
        ``SYSTEMD_NSPAWN_API_VFS_WRITABLE=network``), as root has on a real host.
        """
        base = self.workdir / name
        upper, work, root = base / "upper", base / "work", base / "root"
        for d in (upper, work, root):
            d.mkdir(parents=True)
        subprocess.run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                f"lowerdir={self.lower},upperdir={upper},workdir={work}",
                str(root),
            ],
            check=True,
        )
        self._personalise(root, name, authorized_key)
        # nspawn locks the image by its root's device and inode and removes the lock only
        # when it exits in order; a container killed after the grace period leaves it.
        st = root.stat()
        lock = _NSPAWN_RUN / "locks" / f"inode-{st.st_dev}:{st.st_ino}"
        log = base / "nspawn.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "--boot",
                    "--keep-unit",
                    "--register=no",
                    f"--directory={root}",
                    f"--machine={name}",
                    f"--network-namespace-path=/proc/{netns_pid}/ns/net",
                    # The lab namespace is the container's own: let its root manage it
                    # (the VP role's optional firewall), as root can on a real Pi.
                    "--capability=all" if nested else "--capability=CAP_NET_ADMIN",
                    "--console=passive",
                    "--resolv-conf=off",
                    "--timezone=off",
                    "--link-journal=no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=os.environ | {"SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"} if nested else None,
            )
        container = Container(name, root, netns_pid, proc, log, lock)
        self.containers[name] = container
        return container

    @staticmethod
    def _personalise(root: Path, name: str, authorized_key: str) -> None:
        """Hostname, fresh SSH host keys and the login key: what Pi Imager would set."""
        for etc in ("hostname", "hosts", "resolv.conf"):
            (root / "etc" / etc).unlink(missing_ok=True)  # never write through a symlink
        (root / "etc/hostname").write_text(name + "\n")
        # As an installed system has: sudo resolves its own host name without DNS.
        (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n")
        # No name server in the lab: lookups fail at once instead of timing out (scamper
        # refuses to start without any nameserver line).
        (root / "etc/resolv.conf").write_text("nameserver 127.0.0.1\n")
        subprocess.run(["ssh-keygen", "-A", "-f", str(root)], check=True, stdout=subprocess.DEVNULL)
        passwd = (root / "etc/passwd").read_text().splitlines()
        uid, gid = next(
            (int(f[2]), int(f[3])) for f in (line.split(":") for line in passwd) if f[0] == USER
        )
        ssh = root / "home" / USER / ".ssh"
        ssh.mkdir(mode=0o700)
        (ssh / "authorized_keys").write_text(authorized_key.strip() + "\n")
        for path in (ssh, ssh / "authorized_keys"):
            os.chown(path, uid, gid)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every container's sshd listens (systemd started it: the host is up)."""
        deadline = time.monotonic() + timeout
        for c in self.containers.values():
            while not listening(c.netns_pid, 22):
                if c.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"container {c.name} did not come up: {c.log.read_text()[-2000:]}"
                    )
                time.sleep(0.1)

    def close(self) -> None:
        """Power every container off (SIGKILL after 20 s), unmount, delete every copy."""
        for c in self.containers.values():
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        for c in self.containers.values():
            try:
                c.proc.wait(20)
            except subprocess.TimeoutExpired:
                # Killing the container's init ends its whole PID namespace; nspawn follows.
                init = c.init_pid()
                for pid in (init, c.proc.pid):
                    with contextlib.suppress(ProcessLookupError, TypeError):
                        os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
                c.proc.wait()
        for point in sorted(mounts_under(self.workdir), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.workdir)], check=False)
        # nspawn cannot delete its per-machine directories where /run is not a tmpfs.
        for c in self.containers.values():
            c.lock.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                (_NSPAWN_RUN / "propagate" / c.name).rmdir()
        if self._made_nspawn_run:
            for d in (_NSPAWN_RUN / "propagate", _NSPAWN_RUN / "locks", _NSPAWN_RUN):
                with contextlib.suppress(OSError):
                    d.rmdir()
