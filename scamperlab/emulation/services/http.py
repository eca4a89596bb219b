"""Web servers in targets (nginx), and the lab's own certificate authority.

nginx is Debian's most used web server, reads one configuration file, and
can be kept entirely inside a directory (``-p``/``-e`` and explicit paths
for its pid, logs and temporary files). It runs with ``master_process off``:
one process per target, so the PID the lab tracks is the only one there is,
and stopping it cannot orphan a worker that would keep a namespace alive.

Each lab makes its own CA with ``openssl`` under its state directory and
signs one certificate per HTTPS target, naming every DNS name whose A or
AAAA record points at the target plus its addresses. Every node of the lab
trusts the CA by default (``LabServices`` mounts a bundle with it over the
node's OpenSSL CA file); clients outside point at ``<state>/ca/ca.pem``
(``curl --cacert``). The CA and its key disappear with the lab.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from scamperlab.emulation import pki
from scamperlab.topology.plan import LabPlan, NodePlan
from scamperlab.topology.services import Http, Https, absolute


def make_ca(directory: Path, lab: str) -> tuple[Path, Path]:
    """A fresh CA for ``lab``: (certificate, key)."""
    return pki.make_ca(directory, f"scamperlab lab {lab} CA")


def names_for(plan: LabPlan, node: NodePlan, service: Https) -> list[str]:
    """The DNS names a target's certificate covers: the service's own, then every
    name whose A/AAAA record in the lab's zones points at the target."""
    addresses = {str(node.ipv4), str(node.ipv6)}
    for intf in node.interfaces:
        addresses |= {str(intf.ipv4.ip), str(intf.ipv6.ip)}
    names = [n.rstrip(".") for n in service.names]
    for zone in plan.topology.zones:
        for record in zone.parsed():
            if record.rtype in ("A", "AAAA") and record.rdata[0] in addresses:
                name = absolute(record.owner, zone.name).rstrip(".")
                if name and name not in names:
                    names.append(name)
    return names


def issue_cert(
    ca: tuple[Path, Path], directory: Path, node: NodePlan, names: list[str]
) -> tuple[Path, Path]:
    """A server certificate for its names and addresses, signed by the lab CA: (cert, key)."""
    sans = [f"DNS:{n}" for n in names]
    sans += [f"IP:{ipaddress.ip_address(a)}" for a in (node.ipv4, node.ipv6)]
    return pki.issue(ca, directory, names[0] if names else str(node.ipv4), sans)


def default_body(node: NodePlan, kind: str) -> str:
    return f"scamperlab {kind} server on {node.name}\n"


def nginx_conf(
    node: NodePlan,
    services: list[Http | Https],
    directory: Path,
    cert: tuple[Path, Path] | None,
    log: Path,
) -> str:
    """One nginx for every HTTP(S) service of ``node``; writes each body to a file."""
    servers = []
    for service in services:
        root = directory / f"{service.kind}-{service.port}"
        root.mkdir(parents=True, exist_ok=True)
        body = service.body if service.body is not None else default_body(node, service.kind)
        (root / "index.txt").write_text(body)
        ssl = " ssl" if isinstance(service, Https) else ""
        tls = ""
        if isinstance(service, Https):
            assert cert is not None
            tls = f"    ssl_certificate {cert[0]};\n    ssl_certificate_key {cert[1]};\n"
        servers.append(
            "  server {\n"
            f"    listen {node.ipv4}:{service.port}{ssl};\n"
            f"    listen [{node.ipv6}]:{service.port}{ssl};\n"
            f"{tls}"
            f"    root {root};\n"
            "    index index.txt;\n"
            "  }\n"
        )
    temp = directory / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    return (
        f"# nginx on {node.name} (scamperlab)\n"
        "daemon off;\n"
        "master_process off;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {log} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {directory / 'access.log'};\n"
        f"  client_body_temp_path {temp / 'body'};\n"
        f"  proxy_temp_path {temp / 'proxy'};\n"
        f"  fastcgi_temp_path {temp / 'fastcgi'};\n"
        f"  uwsgi_temp_path {temp / 'uwsgi'};\n"
        f"  scgi_temp_path {temp / 'scgi'};\n"
        "  types { }\n"
        "  default_type text/plain;\n"
        "  charset utf-8;\n" + "".join(servers) + "}\n"
    )
