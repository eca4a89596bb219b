"""A UDP responder: answers each datagram with itself (echo) or with a fixed reply.

Run inside a target as ``python -m scamperlab.emulation.services.udp``.
This is Python rather than a packaged daemon because no Debian package does
both halves of the job: inetd's built-in echo cannot send a configured
payload, and ``socat ... fork`` forks a process per datagram, which a
probe train at 100 packets per second turns into a fork storm. The job is
small (receive, send back, from the address that was asked), so the
standard library does it in a few lines with nothing to configure.

Each address gets a socket of its own so that the reply leaves from the
address the probe was sent to, as a UDP client that ``connect``s expects.
"""

from __future__ import annotations

import argparse
import contextlib
import selectors
import socket
import sys


def serve(addresses: list[str], port: int, reply: bytes | None) -> None:
    selector = selectors.DefaultSelector()
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((address, port))
        selector.register(sock, selectors.EVENT_READ)
    print(f"udp-echo listening on port {port} of {', '.join(addresses)}", flush=True)
    while True:
        for key, _ in selector.select():
            ready = key.fileobj
            assert isinstance(ready, socket.socket)
            try:
                data, peer = ready.recvfrom(65535)
                ready.sendto(reply if reply is not None else data, peer)
            except OSError as exc:  # e.g. the peer's ICMP error for an earlier reply
                print(f"udp-echo: {exc}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reply", help="send this text instead of echoing")
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args(argv)
    reply = args.reply.encode() if args.reply is not None else None
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.addresses, args.port, reply)


if __name__ == "__main__":
    main()
