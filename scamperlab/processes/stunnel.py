"""stunnel, one at each end of a cluster's management network: TLS between hosts.

Debian's scamper and sc_remoted (20211212) have no TLS, so across hosts the
VPs' connections to sc_remoted travel in stunnel, as the playbooks' real
VPs' do (``playbooks/roles/scamper_vp``). Unlike a VP's own stunnel, these
keep each VP's identity: ``transparent = source`` makes every connection
stunnel opens come from the address and port of the connection it carries,
so sc_remoted sees the VP itself connect (the routing that returns the
answers is :mod:`scamperlab.emulation.tunnel`'s). One stunnel per host, not
per VP: a lab host's stunnel accepts all its VPs' connections.

Both ends verify each other against the cluster's CA: a lab host checks the
controller host's certificate for the controller's address, the controller
host accepts the certificates of the cluster's lab hosts' names only.
``transparent`` needs stunnel to keep root (its manual: no ``setuid``); it
runs inside the lab's namespace, which has no route to the host's networks.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.errors import LabStartError, MissingDependencyError
from scamperlab.processes import terminate
from scamperlab.processes.liveness import listening

#: What Debian and Ubuntu call stunnel 5 (package ``stunnel4``).
STUNNEL = "stunnel4"
#: The files of a host's TLS directory.
TLS_FILES = ("ca.pem", "cert.pem", "key.pem")


def find_stunnel() -> str:
    path = shutil.which(STUNNEL) or shutil.which("stunnel")
    if path is None:
        raise MissingDependencyError(
            "an encrypted cluster needs stunnel: apt install stunnel4"
            " (or 'encryption: none' in the cluster file, on a network you trust)"
        )
    return path


def check_tls_dir(directory: Path, host: str) -> None:
    """Fail early, naming the file, if host ``host``'s TLS directory is incomplete."""
    missing = [name for name in TLS_FILES if not (directory / name).is_file()]
    if missing:
        raise LabStartError(
            f"host {host}: no {', '.join(str(directory / n) for n in missing)}: an encrypted"
            " cluster needs each host's ca.pem, cert.pem and key.pem there"
            " ('scamperlab cluster certs' makes them; the playbook does it for you)"
        )


@dataclass
class Stunnel:
    """One stunnel in namespace ``node`` of ``net``: accept at one address, connect to another.

    ``client`` is the lab host's end (it accepts the VPs' clear connections
    and opens TLS); ``peers`` are the names (``checkHost``) or addresses
    (``checkIP``) the other end's certificate must carry.
    """

    net: EmulatedNetwork
    node: str
    client: bool
    accept: tuple[str, int]
    connect: tuple[str, int]
    tls_dir: Path
    peer_names: list[str] = field(default_factory=list)
    peer_addresses: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        lines = [
            "foreground = yes",
            "syslog = no",
            "pid =",
            # The VP <-> sc_remoted protocol is small messages both ways: no Nagle delays.
            "socket = l:TCP_NODELAY=1",
            "socket = r:TCP_NODELAY=1",
            "[remoted]",
            f"client = {'yes' if self.client else 'no'}",
            f"accept = {self.accept[0]}:{self.accept[1]}",
            f"connect = {self.connect[0]}:{self.connect[1]}",
            "transparent = source",
            f"cert = {self.tls_dir / 'cert.pem'}",
            f"key = {self.tls_dir / 'key.pem'}",
            f"CAfile = {self.tls_dir / 'ca.pem'}",
            "verifyChain = yes",
            "sslVersionMin = TLSv1.2",
            *(f"checkHost = {name}" for name in self.peer_names),
            *(f"checkIP = {address}" for address in self.peer_addresses),
        ]
        return "\n".join(lines) + "\n"

    def start(self, conf_path: Path, log_path: Path, timeout: float = 10.0) -> int:
        """Start stunnel and wait until it accepts; return its PID."""
        check_tls_dir(self.tls_dir, self.node)
        conf_path.write_text(self.config())
        conf_path.chmod(0o600)
        with open(log_path, "ab") as log:
            self.proc = proc = self.net.popen(
                self.node, [find_stunnel(), str(conf_path)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while not listening(proc.pid, self.accept[1]):
            if proc.poll() is not None or time.monotonic() > deadline:
                detail = log_path.read_text(errors="replace").strip()[-500:]
                self.stop()
                raise LabStartError(f"stunnel did not start listening: {detail or 'no output'}")
            time.sleep(0.02)
        return proc.pid

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, timeout=5.0)
