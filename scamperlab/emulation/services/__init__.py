"""Real servers in target namespaces, and the resolver every node is told to use.

What a topology declares under a target's ``services`` becomes one program
in that target's namespace: NSD for ``dns-authoritative``, Unbound for
``dns-resolver``, nginx for ``http``/``https``, a small responder for
``udp-echo``. Their configurations, certificates, PID files and logs live
under ``<state>/services/``, so removing the lab's state directory removes
them; the processes are reported to the caller (who tracks them by PID and
start time) and stopped by PID.

Each VP and target also gets an ``/etc/resolv.conf`` of its own, bind-mounted
in the node's private mount namespace before any program starts there:
scamper reads it once, at start-up, to find its default nameserver, and
``curl`` or ``dig`` run in a node read it too. It names the nearest lab
resolver, or loopback when there is none, and never the host's resolver.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.emulation.netns import default_ca_file
from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.emulation.services import dns, http, udp
from scamperlab.errors import LabStartError, MissingDependencyError
from scamperlab.topology.plan import NodePlan
from scamperlab.topology.services import (
    DnsAuthoritative,
    DnsResolver,
    Http,
    Https,
    UdpEcho,
    service_ports,
)

ProcessSink = Callable[[str, str, int], None]  # (program, node, pid)
Progress = Callable[[str, int, int], None]

_PACKAGES = {"nsd-checkzone": "nsd"}
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


def find_program(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=_SBIN)
    if found is None:
        raise MissingDependencyError(
            f"the topology's services need {name}: install it with"
            f" 'apt-get install {_PACKAGES.get(name, name)}' (ci/install.sh does)"
        )
    return found


@dataclass
class Server:
    """One server program in one target."""

    program: str
    node: str
    kinds: list[str]
    argv: list[str]
    log: Path
    ports: list[tuple[str, int]]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def label(self) -> str:
        return f"{' and '.join(self.kinds)} service on {self.node} ({self.program})"


@dataclass
class LabServices:
    """The servers and resolv.conf files of one lab; :meth:`stop` stops every server."""

    net: EmulatedNetwork
    directory: Path
    lab: str
    on_process: ProcessSink = lambda _program, _node, _pid: None
    servers: list[Server] = field(default_factory=list)
    ca: tuple[Path, Path] | None = None
    _resolv_mounted: bool = False
    _resolvers: dict[str, NodePlan | None] | None = None

    @property
    def ca_path(self) -> Path | None:
        """The lab CA's certificate, for clients of its HTTPS servers (None without any)."""
        return self.ca[0] if self.ca else None

    def resolv_conf_path(self, node: str) -> Path:
        """The file bind-mounted over ``node``'s /etc/resolv.conf: its resolver's."""
        resolver = self._resolver_of().get(node)
        # "-" cannot start a node's name: no clash with a resolver called "none".
        return self.directory / "resolv" / f"{resolver.name if resolver else '-none'}.conf"

    def _resolver_of(self) -> dict[str, NodePlan | None]:
        """Each VP's and target's resolver, computed once (a shortest-path search)."""
        if self._resolvers is None:
            self._resolvers = dns.resolver_of(self.net.plan)
        return self._resolvers

    # -- start ------------------------------------------------------------------

    def start(self, progress: Progress | None = None, timeout: float = 15.0) -> None:
        report: Progress = progress or (lambda _p, _d, _t: None)
        self._check_programs()
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self._resolv_mounted:
            report("resolv.conf", 0, 0)
            self.mount_resolv_confs()
        self._plan_servers()
        if self.ca is not None:
            self._mount_trust(self.ca[0])
        total = len(self.servers)
        if not total:
            return
        report("services", 0, total)
        for server in self.servers:
            with open(server.log, "ab") as log:
                server.proc = self.net.popen(server.node, server.argv, stdout=log, stderr=log)
            self.on_process(server.program, server.node, server.proc.pid)
        self._wait_ready(timeout, lambda done: report("services", done, total))
        report("services", total, total)

    def _check_programs(self) -> None:
        """Name a missing server program before anything is started."""
        kinds = {s.kind for t in self.net.plan.topology.targets for s in t.services}
        needed = {
            "dns-authoritative": ["nsd", "nsd-checkzone"],
            "dns-resolver": ["unbound"],
            "http": ["nginx"],
            "https": ["nginx", "openssl"],
        }
        for kind in sorted(kinds):
            for program in needed.get(kind, []):
                find_program(program)

    def mount_resolv_confs(self) -> None:
        """Give each VP and target its resolver's /etc/resolv.conf: before any program starts
        in it (scamper reads it once, at start-up), so as soon as the namespaces exist.
        Nodes with the same resolver share one source file."""
        (self.directory / "resolv").mkdir(parents=True, exist_ok=True)
        mounts: list[tuple[str, Path, str]] = []
        written: set[Path] = set()
        for node, resolver in self._resolver_of().items():
            path = self.resolv_conf_path(node)
            if path not in written:
                written.add(path)
                path.write_text(dns.resolv_conf(self.lab, resolver))
                path.chmod(0o644)
            mounts.append((node, path, "/etc/resolv.conf"))
        self._bind_mounts(mounts, "its own /etc/resolv.conf")
        self._resolv_mounted = True

    @property
    def trust_bundle_path(self) -> Path:
        """The CA bundle every node's OpenSSL reads: the host's bundle plus the lab CA."""
        return self.directory / "trust" / "ca-certificates.crt"

    def _mount_trust(self, ca_cert: Path) -> None:
        """Each node's default CA file (OpenSSL's, resolved on the host: Debian's
        ``/usr/lib/ssl/cert.pem`` is a link to ``/etc/ssl/certs/ca-certificates.crt``)
        becomes, in that node only, the host's bundle with the lab CA appended."""
        target = default_ca_file()
        if target is None:
            raise MissingDependencyError(
                "the lab's HTTPS servers need a system CA bundle for its nodes to trust the"
                " lab CA: install it with 'apt-get install ca-certificates' (ci/install.sh does)"
            )
        bundle = self.trust_bundle_path
        bundle.parent.mkdir(parents=True, exist_ok=True)
        text = Path(target).read_text(errors="replace")
        lab_ca = ca_cert.read_text()
        bundle.write_text(text + ("" if text.endswith("\n") or not text else "\n") + lab_ca)
        bundle.chmod(0o644)
        nodes = self._resolver_of()  # every VP and target
        self._bind_mounts([(node, bundle, target) for node in nodes], "the lab CA to trust")

    def _bind_mounts(self, mounts: list[tuple[str, Path, str]], what: str) -> None:
        """Bind-mount each (node, file, over) in the node's private mount namespace."""
        own_mnt = os.stat("/proc/self/ns/mnt").st_ino
        for node, _path, _over in mounts:
            if os.stat(f"/proc/{self.net.pid(node)}/ns/mnt").st_ino == own_mnt:
                # Never mount over the host's own files.
                raise LabStartError(f"node {node} has no private mount namespace")
        try:
            self.net.bind_mounts([(node, str(path), over) for node, path, over in mounts])
        except LabStartError as exc:
            raise LabStartError(f"could not give the lab's nodes {what}: {exc}") from None

    def _plan_servers(self) -> None:
        plan = self.net.plan
        topo = plan.topology
        zone_dir = self.directory / "zones"
        if topo.zones:
            zone_dir.mkdir(parents=True, exist_ok=True)
            checkzone = find_program("nsd-checkzone")
            for zone in topo.zones:
                path = zone_dir / dns.zone_file_name(zone.name)
                path.write_text(dns.zone_text(plan, zone))
                done = subprocess.run(
                    [checkzone, zone.name, str(path)], capture_output=True, text=True, check=False
                )
                if done.returncode != 0:
                    detail = (done.stderr or done.stdout).strip()[-800:]
                    raise LabStartError(f"zone {zone.name} is not valid for NSD: {detail}")

        for target in topo.targets:
            if not target.services:
                continue
            node = plan.nodes[target.name]
            home = self.directory / target.name
            home.mkdir(parents=True, exist_ok=True)
            web: list[Http | Https] = []
            for service in target.services:
                if isinstance(service, DnsAuthoritative):
                    self._nsd(node, service, home / "nsd", zone_dir)
                elif isinstance(service, DnsResolver):
                    self._unbound(node, home / "unbound")
                elif isinstance(service, Http | Https):
                    web.append(service)
                elif isinstance(service, UdpEcho):
                    self._udp(node, service, home / f"udp-{service.port}")
            if web:
                self._nginx(node, web, home / "nginx")

    def _add(
        self,
        program: str,
        node: NodePlan,
        kinds: list[str],
        argv: list[str],
        log: Path,
        ports: list[tuple[str, int]],
    ) -> None:
        self.servers.append(Server(program, node.name, kinds, argv, log, ports))

    def _nsd(self, node: NodePlan, service: DnsAuthoritative, home: Path, zone_dir: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        log, conf = home / "nsd.log", home / "nsd.conf"
        conf.write_text(dns.nsd_conf(node, service, home, zone_dir, log))
        argv = [find_program("nsd"), "-d", "-c", str(conf)]
        self._add("nsd", node, [service.kind], argv, log, service_ports(service))

    def _unbound(self, node: NodePlan, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        log, conf, hints = home / "unbound.log", home / "unbound.conf", home / "root.hints"
        hints.write_text(dns.root_hints(self.net.plan))
        conf.write_text(dns.unbound_conf(node, home, hints, log))
        argv = [find_program("unbound"), "-d", "-c", str(conf)]
        self._add("unbound", node, ["dns-resolver"], argv, log, [("udp", 53), ("tcp", 53)])

    def _nginx(self, node: NodePlan, services: list[Http | Https], home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        cert = None
        https = [s for s in services if isinstance(s, Https)]
        if https:
            if self.ca is None:
                self.ca = http.make_ca(self.directory / "ca", self.lab)
            names = http.names_for(self.net.plan, node, https[0])
            for extra in https[1:]:
                names += [n for n in http.names_for(self.net.plan, node, extra) if n not in names]
            cert = http.issue_cert(self.ca, home / "tls", node, names)
        log, conf = home / "error.log", home / "nginx.conf"
        conf.write_text(http.nginx_conf(node, services, home, cert, log))
        argv = [find_program("nginx"), "-c", str(conf), "-p", str(home), "-e", str(log)]
        kinds: list[str] = sorted({s.kind for s in services})
        ports = [("tcp", s.port) for s in services]
        self._add("nginx", node, kinds, argv, log, ports)

    def _udp(self, node: NodePlan, service: UdpEcho, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, str(Path(udp.__file__)), "--port", str(service.port)]
        if service.reply is not None:
            argv += ["--reply", service.reply]
        argv += [str(node.ipv4), str(node.ipv6)]
        self._add(
            "udp-echo", node, [service.kind], argv, home / "udp-echo.log", [("udp", service.port)]
        )

    def _wait_ready(self, timeout: float, progress: Callable[[int], None]) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.servers)
        while waiting:
            for server in list(waiting):
                assert server.proc is not None
                missing = _not_listening(self.net.pid(server.node), server.ports)
                if not missing:
                    waiting.remove(server)
                    continue
                code = server.proc.poll()
                if code is not None:
                    self._failed(server, f"exited with status {code}")
                if time.monotonic() > deadline:
                    proto, port = missing[0]
                    self._failed(
                        server,
                        f"is not listening on {proto.upper()} port {port} after {timeout:g} s",
                    )
            progress(len(self.servers) - len(waiting))
            if waiting:
                time.sleep(0.02)

    def _failed(self, server: Server, how: str) -> None:
        tail = _tail(server.log)
        raise LabStartError(
            f"the {server.label} {how}"
            + (f": {tail}" if tail else "")
            + f" (log: {server.log}, removed with the lab)"
        )

    # -- stop -------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM every server, SIGKILL those that linger; reap them all."""
        running = [s.proc for s in self.servers if s.proc is not None]
        for proc in running:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.terminate()
        deadline = time.monotonic() + 3.0
        for proc in running:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    proc.kill()
                proc.wait()


def _not_listening(pid: int, ports: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Which of ``ports`` nothing in ``pid``'s namespace listens on, for IPv4 and IPv6."""
    missing = []
    for proto, port in ports:
        want = "0A" if proto == "tcp" else "07"  # LISTEN; unconnected UDP socket
        suffix = f":{port:04X}"
        for table in (proto, proto + "6"):
            try:
                lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                lines = []
            if not any((f := line.split())[1].endswith(suffix) and f[3] == want for line in lines):
                missing.append((proto, port))
                break
    return missing


def _tail(path: Path, lines: int = 3) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace").strip().splitlines()
        return " | ".join(line.strip() for line in text[-lines:])[-600:]
    return ""
