"""Record a command's mux sessions on a host that has nothing but ``python3``.

``scamperlab deploy --record FILE`` uploads scamperlab as a zip application
(:mod:`scamperlab.mux.zipbundle`) whose entry point is :func:`main`, and
runs the user's script through it on Ark:

    python3 scamperlab-record.pyz --mux /run/ark/mux --out run.rec -- python3 script.py {mux}

It serves a :class:`~scamperlab.mux.recordproxy.RecordingProxy` in front of
the host's mux, runs the command with ``{mux}`` (and ``SCAMPERLAB_MUX``)
naming the proxy, and writes the recording when the command ends, however
it ends; the deploy then fetches the file. Standard library and
scamperlab's wire formats only: the zip on this process's ``sys.path`` is
never on the command's, so the script imports the host's modules as it
would without recording.

The command runs in this process's own process group, so a signal to the
group (the deploy's launcher passes Ctrl-C on that way) reaches both; this
process only waits for the command and then saves, which is why it ignores
SIGINT and SIGTERM rather than forwarding them a second time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scamperlab.mux.recorder import Recorder
from scamperlab.mux.recordproxy import RecordingProxy

__all__ = ["main", "record_command"]


def _say(message: str) -> None:
    print(f"scamperlab-record: {message}", file=sys.stderr, flush=True)


async def record_command(
    upstream: Path, out: Path, command: Sequence[str], info: dict[str, Any]
) -> int:
    """Run ``command`` against a recording proxy for ``upstream``; its exit status
    (128+N for signal N, 126/127 when it could not be started, 1 without a mux)."""
    if not upstream.exists():
        _say(f"no mux socket at {upstream}")
        return 1
    recorder = Recorder({"mux": str(upstream), "command": list(command), **info})
    directory = Path(tempfile.mkdtemp(prefix="scamperlab-record-"))
    proxy = RecordingProxy(directory / "mux", upstream, recorder)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: None)
    try:
        await proxy.start()
        argv = [a.replace("{mux}", str(proxy.path)) for a in command]
        env = dict(os.environ, SCAMPERLAB_MUX=str(proxy.path))
        try:
            child = await asyncio.create_subprocess_exec(*argv, env=env)
        except FileNotFoundError as exc:
            _say(f"cannot run {argv[0]}: {exc.strerror}")
            return 127
        except OSError as exc:
            _say(f"cannot run {argv[0]}: {exc.strerror}")
            return 126
        status = await child.wait()
    finally:
        await proxy.close()
        shutil.rmtree(directory, ignore_errors=True)
        recorder.save(out)
    return status if status >= 0 else 128 - status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scamperlab-record",
        description="Run COMMAND with {mux} naming a proxy of --mux; record its sessions.",
    )
    parser.add_argument("--mux", required=True, type=Path, help="the mux socket to record")
    parser.add_argument("--out", required=True, type=Path, help="the recording to write")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="after --: the command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("nothing to run: give -- COMMAND [ARGS...]")
    info = {"recorded_on": socket.gethostname(), "recorded_by": "scamperlab deploy --record"}
    try:
        return asyncio.run(record_command(args.mux, args.out, command, info))
    except OSError as exc:
        _say(f"cannot record to {args.out}: {exc}")
        return 1
