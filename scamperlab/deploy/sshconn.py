"""Connecting to an SSH host the way OpenSSH would, with paramiko, or refusing clearly.

What is honoured from ``ssh_config`` (``~/.ssh/config``, or ``-F FILE``):
``HostName``, ``User``, ``Port``, ``IdentityFile``, ``IdentitiesOnly``,
``ProxyJump`` (any number of hops, each resolved through the same config),
``ProxyCommand``, ``UserKnownHostsFile``, ``GlobalKnownHostsFile`` and
``ConnectTimeout``. Keys come from ``IdentityFile``, the agent and the
default ``~/.ssh/id_*`` files, as with ``ssh``.

Host keys are always checked strictly against known_hosts, whatever
``StrictHostKeyChecking`` says: a deploy runs unattended code as you on the
far side, so an unknown key is refused (with its fingerprint, to be checked
out of band) and never added behind the user's back.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scamperlab.errors import ScamperlabError, needs_extra

with needs_extra("deploy", "scamperlab deploy"):
    import paramiko

DEFAULT_CONFIG = Path("~/.ssh/config")
DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")


class DeployError(ScamperlabError):
    """Deploy could not do its job; ``status`` is the exit status (255, like ssh's own errors)."""

    def __init__(self, message: str, status: int = 255) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HostSpec:
    """One SSH destination, resolved through ssh_config."""

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: list[str] = field(default_factory=list)
    identities_only: bool = False
    known_hosts: list[str] = field(default_factory=list)
    proxy_jump: list[str] = field(default_factory=list)
    proxy_command: str | None = None
    timeout: float = 15.0

    @property
    def where(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """The name this host is looked up by in known_hosts (as OpenSSH writes it)."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"


def _split_destination(destination: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (ProxyJump's syntax; also accepted for --host)."""
    user = None
    if "@" in destination:
        user, destination = destination.rsplit("@", 1)
    port = None
    if destination.startswith("["):  # [v6addr]:port
        host, _, rest = destination[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
        return user, host, port
    if destination.count(":") == 1:
        host, _, port_text = destination.partition(":")
        if port_text.isdigit():
            return user, host, int(port_text)
    return user, destination, port


def load_config(path: str | Path | None) -> paramiko.SSHConfig:
    if path is None:
        default = DEFAULT_CONFIG.expanduser()
        return (
            paramiko.SSHConfig.from_path(str(default))
            if default.is_file()
            else (paramiko.SSHConfig())
        )
    try:
        return paramiko.SSHConfig.from_path(str(Path(path).expanduser()))
    except OSError as exc:
        raise DeployError(f"cannot read ssh config {path}: {exc.strerror}") from None


def resolve(
    destination: str,
    config: paramiko.SSHConfig,
    *,
    port: int | None = None,
    identity: list[str] | None = None,
) -> HostSpec:
    """What ``ssh destination`` would connect to, with which user, keys and jumps."""
    user, alias, dest_port = _split_destination(destination)
    found: dict[str, Any] = dict(config.lookup(alias))
    hostname = str(found.get("hostname", alias))
    identities = list(identity or []) + [str(p) for p in found.get("identityfile", [])]
    known = []
    for key in ("userknownhostsfile", "globalknownhostsfile"):
        if key in found:
            known += str(found[key]).split()
    if "userknownhostsfile" not in found:
        known += list(DEFAULT_KNOWN_HOSTS)
    if "globalknownhostsfile" not in found:
        known += list(GLOBAL_KNOWN_HOSTS)
    jumps = []
    jump = str(found.get("proxyjump", "none"))
    if jump.lower() != "none":
        jumps = [hop.strip() for hop in jump.split(",") if hop.strip()]
    proxy_command = found.get("proxycommand")
    timeout = float(found.get("connecttimeout", 15))
    return HostSpec(
        alias=alias,
        hostname=hostname,
        port=int(port or dest_port or found.get("port", 22)),
        user=str(user or found.get("user") or getpass.getuser()),
        identity_files=[os.path.expanduser(p) for p in identities],
        identities_only=str(found.get("identitiesonly", "no")).lower() == "yes",
        known_hosts=[os.path.expanduser(p) for p in known],
        proxy_jump=jumps,
        proxy_command=None if proxy_command in (None, "none") else str(proxy_command),
        timeout=timeout,
    )


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """Refuse a host whose key is in no known_hosts file, saying how to check it."""

    def __init__(self, spec: HostSpec) -> None:
        self.spec = spec

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        files = ", ".join(self.spec.known_hosts) or "(none)"
        raise DeployError(
            f"host key of {self.spec.known_hosts_name} is unknown ({key.get_name()}"
            f" {key.fingerprint}); it is in none of: {files}. scamperlab never accepts an"
            " unknown host key: check this fingerprint with the host's administrators (on the"
            " host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add the key to"
            " known_hosts, e.g. by logging in once with ssh, which asks"
        )


def _connect_one(spec: HostSpec, sock: Any) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    for path in spec.known_hosts:
        if os.path.isfile(path):
            try:
                client.get_host_keys().load(path)
            except (OSError, paramiko.SSHException) as exc:
                raise DeployError(f"cannot read known_hosts file {path}: {exc}") from None
    client.set_missing_host_key_policy(_RefuseUnknown(spec))
    keys = [p for p in spec.identity_files if os.path.isfile(p)]
    try:
        client.connect(
            spec.hostname,
            port=spec.port,
            username=spec.user,
            key_filename=keys or None,  # type: ignore[arg-type]  # the stub says str only
            allow_agent=not (spec.identities_only and keys),
            look_for_keys=not (spec.identities_only and keys),
            timeout=spec.timeout,
            banner_timeout=spec.timeout,
            auth_timeout=spec.timeout,
            sock=sock,
        )
    except DeployError:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        files = ", ".join(p for p in spec.known_hosts if os.path.isfile(p))
        raise DeployError(
            f"host key of {spec.known_hosts_name} does NOT match known_hosts ({files}):"
            f" the server offered {exc.key.get_name()} {exc.key.fingerprint}, known_hosts has"
            f" {exc.expected_key.fingerprint}. Someone may be intercepting the connection, or"
            " the host was reinstalled: ask its administrators. Only if the change is expected,"
            f" remove the old key (ssh-keygen -R '{spec.known_hosts_name}') and check the new"
            " one before adding it"
        ) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        tried = ", ".join(keys) if keys else "the default ~/.ssh/id_* files"
        agent = "" if spec.identities_only and keys else " and any keys in your ssh-agent"
        raise DeployError(
            f"authentication as {spec.user} on {spec.hostname}:{spec.port} failed ({exc}):"
            f" tried {tried}{agent}. Check the user name (User/--host USER@HOST), name the"
            " right key (IdentityFile in ssh config, or -i), load it with ssh-add, or have its"
            " public key added to the account's authorized_keys"
        ) from None
    except TimeoutError:
        client.close()
        raise DeployError(
            f"timed out connecting to {spec.hostname}:{spec.port}: is the host up and the"
            " port right (Port in ssh config, or --port)?"
        ) from None
    except (OSError, paramiko.SSHException) as exc:
        client.close()
        raise DeployError(
            f"cannot connect to {spec.hostname}:{spec.port} ({spec.alias}): {exc}."
            " Check the host name, port and any ProxyJump in your ssh config"
        ) from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(30)
    return client


@dataclass
class Connection:
    """An authenticated connection, plus the jump hosts it goes through (closed with it)."""

    spec: HostSpec
    client: paramiko.SSHClient
    hops: list[paramiko.SSHClient] = field(default_factory=list)

    def close(self) -> None:
        for c in [self.client, *reversed(self.hops)]:
            with contextlib.suppress(Exception):
                c.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(spec: HostSpec, config: paramiko.SSHConfig) -> Connection:
    """Connect through ``ProxyJump`` hops (each checked and authenticated) or ``ProxyCommand``."""
    hops: list[paramiko.SSHClient] = []
    sock: Any = None
    try:
        if spec.proxy_jump:
            hop_specs = [resolve(hop, config) for hop in spec.proxy_jump]
            for hop_spec in hop_specs:
                hop_spec.proxy_jump = []  # the chain is this host's; a hop's own would loop
            for hop_spec, target in zip(hop_specs, [*hop_specs[1:], spec], strict=True):
                client = _connect_one(hop_spec, sock)
                hops.append(client)
                sock = _forward(client, target)
        elif spec.proxy_command:
            sock = paramiko.ProxyCommand(spec.proxy_command)
        return Connection(spec, _connect_one(spec, sock), hops)
    except BaseException:
        for c in reversed(hops):
            c.close()
        raise


def _forward(client: paramiko.SSHClient, target: HostSpec) -> paramiko.Channel:
    """A direct-tcpip channel through ``client`` to ``target``: the next hop's socket."""
    transport = client.get_transport()
    assert transport is not None
    try:
        return transport.open_channel(
            "direct-tcpip", (target.hostname, target.port), ("127.0.0.1", 0)
        )
    except paramiko.SSHException as exc:
        raise DeployError(
            f"the jump host could not reach {target.hostname}:{target.port}: {exc}"
        ) from None
