"""Ping one target from every VP of a lab, speaking the mux protocol directly.

    scamperlab run topologies/ark-mini.yaml -- python3 examples/demo_mux.py {mux} [TARGET]

This is the raw protocol a ``ScamperCtrl(mux=...)`` speaks underneath: read VP
updates until *go*, open one channel per VP, send a ping and ``done`` on each,
collect the warts results until every channel closes. RTTs are decoded with
scamper's own ``sc_warts2json``.
"""

from __future__ import annotations

import binascii
import json
import socket
import struct
import subprocess
import sys
import tempfile

ATTRS = {1: "name", 3: "ipv4", 5: "cc", 7: "place"}


def frames(sock: socket.socket):  # type: ignore[no-untyped-def]
    buf = b""
    while True:
        while len(buf) >= 8:
            chan, length = struct.unpack(">II", buf[:8])
            if len(buf) < 8 + length:
                break
            yield chan, buf[8 : 8 + length]
            buf = buf[8 + length :]
        data = sock.recv(65536)
        if not data:
            return
        buf += data


def warts_records(text: bytes) -> bytes:
    """The warts bytes carried by a channel's ``DATA`` blocks (uuencoded lines)."""
    out, pos = b"", 0
    while pos < len(text):
        end = text.index(b"\n", pos)
        line, pos = text[pos:end], end + 1
        if line.startswith(b"DATA "):
            length = int(line.split()[1])
            for uu in text[pos : pos + length].split(b"\n"):
                if uu and uu != b"`":
                    out += binascii.a2b_uu(uu)
            pos += length
    return out


def main() -> int:
    mux_path = sys.argv[1]
    target = sys.argv[2] if len(sys.argv) > 2 else "203.0.113.80"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(mux_path)
    stream = frames(sock)
    vps: dict[int, dict[str, str]] = {}
    for _chan, payload in stream:
        kind = struct.unpack(">H", payload[:2])[0]
        if kind == 2:  # go
            break
        if kind == 0:  # VP update: id, then (code, NUL-terminated value) pairs
            vp_id = struct.unpack(">I", payload[2:6])[0]
            attrs, rest = {}, payload[6:]
            while rest:
                code = struct.unpack(">H", rest[:2])[0]
                end = rest.index(b"\0", 2)
                if code in ATTRS:
                    attrs[ATTRS[code]] = rest[2:end].decode()
                rest = rest[end + 1 :]
            vps[vp_id] = attrs
    print(f"{len(vps)} VPs on the mux; pinging {target} from each")

    text: dict[int, bytes] = {}
    for vp_id in vps:
        sock.sendall(struct.pack(">IIHII", 0, 10, 3, vp_id, vp_id))  # channel open
        command = f"ping -c 3 {target}\ndone\n".encode()
        sock.sendall(struct.pack(">II", vp_id, len(command)) + command)
        text[vp_id] = b""
    open_channels = set(vps)
    for chan, payload in stream:
        if chan:
            text[chan] += payload
        elif struct.unpack(">H", payload[:2])[0] == 4:  # channel close
            open_channels.discard(struct.unpack(">I", payload[2:6])[0])
            if not open_channels:
                break

    rows = []
    for vp_id, attrs in vps.items():
        with tempfile.NamedTemporaryFile(suffix=".warts") as f:
            f.write(warts_records(text[vp_id]))
            f.flush()
            done = subprocess.run(
                ["sc_warts2json", f.name], capture_output=True, text=True, check=True
            )
        ping = next(json.loads(line) for line in done.stdout.splitlines() if '"ping"' in line)
        rtts = [r["rtt"] for r in ping.get("responses", [])]
        rows.append((min(rtts) if rtts else float("inf"), attrs, len(rtts)))
    print(f"{'VP':<18} {'cc':<3} {'place':<14} {'replies':>7} {'min RTT':>10}")
    for rtt, attrs, replies in sorted(rows, key=lambda r: r[0]):
        shown = f"{rtt:.3f} ms" if replies else "-"
        name, cc, place = attrs["name"], attrs.get("cc", ""), attrs.get("place", "")
        print(f"{name:<18} {cc:<3} {place:<14} {replies:>7} {shown:>10}")
    return 0 if all(replies for _, _, replies in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
