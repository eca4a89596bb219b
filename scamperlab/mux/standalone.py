"""scamperlab's mux as a service of its own, for a real controller whose sc_remoted lacks ``-M``.

In a lab, :class:`~scamperlab.lab.Lab` runs the mux server beside everything
else it manages. On a real controller (Debian's sc_remoted 20211212 under
systemd) there is no lab: this entry point serves the same mux from nothing
but sc_remoted's per-VP socket directory and its ``-m`` metadata file, so a
controller provisioned by ``playbooks/`` offers what Ark users expect.

It imports only the standard library, scamperlab's own modules and
dnspython, so it runs from a zip of those packages
(:mod:`scamperlab.mux.zipbundle`, ``bundle``) with the distribution's
``python3``.

    python -m scamperlab.mux serve --sockets DIR --metadata FILE --mux PATH
    python -m scamperlab.mux bundle OUT.pyz
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import grp
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.mux.registry import VpRegistry
from scamperlab.mux.server import MuxServer
from scamperlab.mux.zipbundle import write_bundle
from scamperlab.processes.sockets import VpSocket, scan_vp_sockets
from scamperlab.wire.mux import Attr, VpUpdate

log = logging.getLogger("scamperlab.mux")

# sc_remoted's -m keys, in the order sc_remoted sends them after name, arrival and address.
_KEYS: dict[str, Attr] = {
    "asn4": Attr.ASN4,
    "asn6": Attr.ASN6,
    "latlong": Attr.LATLONG,
    "cc": Attr.CC,
    "st": Attr.ST,
    "place": Attr.PLACE,
    "shortname": Attr.SHORTNAME,
    "iata": Attr.IATA,
    "tag": Attr.TAG,
}
_ORDER = {attr: i for i, attr in enumerate(_KEYS.values())}
# Not sc_remoted keys (it ignores unknown ones): the address a VP really has when
# it reaches sc_remoted through a local tunnel end, where sc_remoted sees loopback.
_ADDRESS_KEYS = ("ipv4", "ipv6")


class MetadataError(ValueError):
    pass


@dataclass
class Metadata:
    attrs: dict[str, list[tuple[Attr, str]]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)


def parse_metadata(text: str, source: str = "metadata") -> Metadata:
    """Read sc_remoted's ``-m`` format, failing on the lines sc_remoted fails on."""
    meta = Metadata()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise MetadataError(f"{source}:{number}: expected '<monitor> <attribute> <value>'")
        name, key, value = parts
        if key in _ADDRESS_KEYS:
            meta.addresses[name] = str(ipaddress.ip_address(value))
        elif key in _KEYS:
            meta.attrs.setdefault(name, []).append((_KEYS[key], value))
        else:
            log.info("%s:%d: ignoring unknown attribute %r", source, number, key)
    for name, attrs in meta.attrs.items():
        attrs.sort(key=lambda pair: _ORDER[pair[0]])  # stable: tags keep file order
        try:
            # The longest the live attributes can be: arrival time and an IPv6 address.
            worst = [(Attr.NAME, name), (Attr.ARRIVAL, "0" * 17), (Attr.IPV6, "f" * 39)]
            VpUpdate(1, (*worst, *attrs)).encode()
        except ValueError as exc:
            raise MetadataError(f"{source}: metadata of {name} is too large ({exc})") from None
    return meta


def choose_sockets(found: Sequence[VpSocket], meta: Metadata) -> dict[str, tuple[Path, str]]:
    """One socket per monitor name, and the address to announce for it.

    A VP whose TCP connection died unnoticed keeps its old socket until
    sc_remoted times it out while its restarted scamper already has a new one:
    the newest socket is the live VP. A VP reaching sc_remoted through a tunnel
    end on this host shows up from loopback; its own address, if the metadata
    file names one, is what Ark users expect to see.
    """
    newest: dict[str, tuple[float, VpSocket]] = {}
    for sock in found:
        assert sock.monitor is not None
        try:
            mtime = sock.path.stat().st_mtime
        except OSError:
            continue
        if sock.monitor not in newest or mtime > newest[sock.monitor][0]:
            newest[sock.monitor] = (mtime, sock)
    chosen = {}
    for name, (_, sock) in newest.items():
        address = sock.address
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(address).is_loopback and name in meta.addresses:
                address = meta.addresses[name]
        chosen[name] = (sock.path, address)
    return chosen


def notify_ready() -> None:
    """Tell systemd (``Type=notify``) that the mux serves and handles SIGHUP.

    Under ``Type=simple`` systemd counts the unit as started once the process
    exists, so a reload (SIGHUP) right after a restart can arrive before
    Python has its handler: SIGHUP's default action ends the process, and
    ``Restart=on-failure`` takes that as a clean exit, leaving no mux (seen on
    a loaded machine: the playbook's restart and metadata reload back to
    back). The protocol is one datagram, so the standard library does it (the
    hosts may have no python3-systemd).
    """
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    address = "\0" + path[1:] if path.startswith("@") else path
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(b"READY=1")


async def serve(
    sockets: Path,
    metadata: Path | None,
    mux: Path,
    *,
    group: str | None = None,
    mode: int = 0o660,
    legacy_version: str | None = None,
    interval: float = 0.2,
) -> None:
    """Serve the mux until SIGTERM or SIGINT; SIGHUP re-reads the metadata file."""

    def load() -> Metadata:
        if metadata is None:
            return Metadata()
        return parse_metadata(metadata.read_text(), str(metadata))

    meta = load()
    registry = VpRegistry(meta.attrs)
    with contextlib.suppress(FileNotFoundError):
        mux.unlink()  # a socket left by a killed predecessor; nothing else lives here
    server = MuxServer(mux, registry, legacy_version=legacy_version)
    await server.start()
    if group is not None:
        os.chown(mux, -1, grp.getgrnam(group).gr_gid)
    mux.chmod(mode)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def reload() -> None:
        nonlocal meta
        try:
            meta = load()
        except (OSError, MetadataError) as exc:
            log.error("keeping the old metadata: %s", exc)
            return
        # Like a restarted sc_remoted: VPs that arrive from now on get the new metadata.
        registry.metadata = meta.attrs
        log.info("metadata re-read for %d VP(s)", len(meta.attrs))

    loop.add_signal_handler(signal.SIGHUP, reload)
    log.info("serving the mux on %s for the VPs in %s", mux, sockets)
    notify_ready()
    try:
        while not stop.is_set():
            registry.sync(choose_sockets(scan_vp_sockets(sockets), meta))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scamperlab.mux", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the mux from sc_remoted's per-VP sockets")
    s.add_argument("--sockets", required=True, type=Path, help="sc_remoted's -U directory")
    s.add_argument("--metadata", type=Path, help="metadata file in sc_remoted's -m format")
    s.add_argument("--mux", required=True, type=Path, help="where to create the mux socket")
    s.add_argument("--group", help="group that owns the mux socket")
    s.add_argument("--mode", default="0660", help="mode of the mux socket (octal, default 0660)")
    s.add_argument(
        "--legacy-version",
        default=None,
        help="VPs run a scamper older than 20230224 (e.g. 20211212): tag their results"
        " with task ids so that modern clients can match them",
    )
    b = sub.add_parser("bundle", help="write the scamperlab package as an importable zip")
    b.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    if args.command == "bundle":
        print("written" if write_bundle(args.output) else "unchanged")
        return 0
    try:
        asyncio.run(
            serve(
                args.sockets,
                args.metadata,
                args.mux,
                group=args.group,
                mode=int(args.mode, 8),
                legacy_version=args.legacy_version or None,
            )
        )
    except (OSError, MetadataError, KeyError) as exc:
        log.error("%s", exc)
        return 1
    return 0
