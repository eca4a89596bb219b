"""The byte carrier under every client connection: a non-blocking stream socket.

Control sockets, sc_remoted's per-VP sockets and mux connections are all
stream sockets that one poll loop (:mod:`.ctrl`) watches in the caller's
thread, so none may block: this is the one place that knows about partial
writes, ``EAGAIN`` and end of stream, and how each kind of socket connects.
"""

from __future__ import annotations

import errno
import socket


class SocketTransport:
    """A non-blocking stream socket with an output buffer the poll loop drains."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.out = bytearray()
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def wants_write(self) -> bool:
        """Whether bytes are waiting for the socket to accept them (poll for ``POLLOUT``)."""
        return bool(self.out)

    def send(self, data: bytes) -> None:
        self.out += data
        self.flush()

    def flush(self) -> None:
        while self.out and not self.closed:
            try:
                sent = self.sock.send(self.out)
            except BlockingIOError:
                return
            except OSError:
                self.out.clear()
                return
            del self.out[:sent]

    def recv(self) -> bytes | None:
        """Bytes read, ``b""`` if nothing is ready, ``None`` at end of stream."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return b""
            return None
        return data or None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()


def connect_unix(path: str) -> socket.socket:
    """A connected unix stream socket, still blocking (a mux is read until *go* first)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"could not connect to {path}") from exc
    return sock


def connect_inet(host: str, port: int) -> socket.socket:
    """A TCP connection to a scamper control port (IPv6 when ``host`` has a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.connect((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"could not connect to {host}:{port}") from exc
    return sock
