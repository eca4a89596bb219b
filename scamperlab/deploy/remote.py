"""What runs on the far side, and the live run as seen from here.

Two small Python programs are sent as ``python3 -c`` arguments, so the remote
host needs nothing but the interpreter the script will use anyway:

- the **probe** reports that interpreter's version, whether ``import scamper``
  works there (and which module it finds), which of the script's other
  imports are missing, whether the mux socket exists, and makes the working
  directory;
- the **launcher** runs the script in a process group of its own, with
  stdin from ``/dev/null`` and unbuffered output, and watches its own stdin,
  which is the SSH channel: a line ``INT`` sends SIGINT to the group (Ctrl-C
  here), and end of file (the connection is gone, for whatever reason)
  terminates the group. Without it an exec channel without a terminal would
  leave the script running after the client went away.
"""

from __future__ import annotations

import json
import select
import shlex
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from scamperlab.deploy.sshconn import DeployError

if TYPE_CHECKING:
    import paramiko  # annotations only: sshconn imports it, or names the extra

PROBE = r"""
import importlib.util, json, os, stat, sys, tempfile
req = json.loads(sys.argv[1])
out = {"python": list(sys.version_info[:3]), "executable": sys.executable}
spec = importlib.util.find_spec("scamper")
if spec is None:
    out["scamper"] = None
else:
    info = {"origin": spec.origin}
    try:
        import scamper
        info["implementation"] = getattr(scamper, "IMPLEMENTATION", "caida")
        try:
            from importlib.metadata import version
            info["version"] = version("scamper")
        except Exception:
            info["version"] = getattr(scamper, "API_VERSION", None)
    except Exception as exc:
        info["error"] = repr(exc)
    out["scamper"] = info
out["missing"] = [m for m in req["modules"] if importlib.util.find_spec(m) is None]
try:
    out["mux"] = stat.S_ISSOCK(os.stat(req["mux"]).st_mode)
except OSError:
    out["mux"] = False
if req["dir"]:
    os.makedirs(req["dir"], exist_ok=True)
    out["dir"] = os.path.abspath(req["dir"])
else:
    out["dir"] = tempfile.mkdtemp(prefix="scamperlab-deploy-")
print(json.dumps(out))
"""

LAUNCHER = r"""
import os, signal, subprocess, sys, threading, time
os.chdir(sys.argv[1])
env = dict(os.environ, PYTHONUNBUFFERED="1")
child = subprocess.Popen([sys.executable] + sys.argv[2:], stdin=subprocess.DEVNULL,
                         start_new_session=True, env=env)
def kill(sig):
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
def watch():
    for line in sys.stdin:
        if line.strip() == "INT":
            kill(signal.SIGINT)
    kill(signal.SIGTERM)
    time.sleep(3)
    kill(signal.SIGKILL)
threading.Thread(target=watch, daemon=True).start()
rc = child.wait()
kill(signal.SIGKILL)
sys.stdout.flush()
os._exit(rc if rc >= 0 else 128 - rc)
"""

# After Ctrl-C, how long the script may take to finish on its own before it is killed.
INTERRUPT_GRACE = 10.0


def _exec(client: paramiko.SSHClient, command: str) -> paramiko.Channel:
    transport = client.get_transport()
    if transport is None or not transport.is_active():
        raise DeployError("the SSH connection was lost")
    chan = transport.open_session()
    chan.exec_command(command)
    return chan


def python_command(python: str, program: str, *args: str) -> str:
    return " ".join(shlex.quote(a) for a in (python, "-c", program, *args))


@dataclass
class RemoteInfo:
    python: tuple[int, int, int]
    executable: str
    scamper: dict[str, Any] | None
    missing: list[str]
    mux_exists: bool
    dir: str


def probe(
    client: paramiko.SSHClient, python: str, modules: list[str], mux: str, remote_dir: str | None
) -> RemoteInfo:
    request = json.dumps({"modules": modules, "mux": mux, "dir": remote_dir})
    chan = _exec(client, python_command(python, PROBE, request))
    out = chan.makefile("rb").read()
    err = chan.makefile_stderr("rb").read().decode(errors="replace").strip()
    status = chan.recv_exit_status()
    chan.close()
    if status == 127 or (status != 0 and "not found" in err):
        raise DeployError(
            f"there is no {python} on the remote host ({err}); pass --python with the"
            " interpreter Ark scripts run with there (python3)",
            status=1,
        )
    try:
        data = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise DeployError(
            f"the remote {python} could not run scamperlab's probe (exit {status}): {err}",
            status=1,
        ) from None
    return RemoteInfo(
        python=(int(data["python"][0]), int(data["python"][1]), int(data["python"][2])),
        executable=data["executable"],
        scamper=data["scamper"],
        missing=data["missing"],
        mux_exists=bool(data["mux"]),
        dir=data["dir"],
    )


def remove_dir(client: paramiko.SSHClient, path: str) -> None:
    chan = _exec(client, f"rm -rf -- {shlex.quote(path)}")
    chan.recv_exit_status()
    chan.close()


def _drain(chan: paramiko.Channel, stdout: BinaryIO, stderr: BinaryIO) -> bool:
    """Copy whatever has arrived; False once both streams are at their end."""
    moved = False
    while chan.recv_ready():
        data = chan.recv(65536)
        if not data:
            break
        stdout.write(data)
        moved = True
    while chan.recv_stderr_ready():
        data = chan.recv_stderr(65536)
        if not data:
            break
        stderr.write(data)
        moved = True
    if moved:
        stdout.flush()
        stderr.flush()
    return moved


def run(
    client: paramiko.SSHClient,
    python: str,
    directory: str,
    argv: list[str],
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> tuple[int, bool]:
    """Run ``python argv`` in ``directory`` remotely, streaming its output live.

    Returns (exit status, interrupted). The first Ctrl-C is passed on as
    SIGINT; a second one, or a script that is still running
    :data:`INTERRUPT_GRACE` seconds later, ends the channel, and the launcher
    then kills the script's whole process group.
    """
    out = stdout or sys.stdout.buffer
    err = stderr or sys.stderr.buffer
    chan = _exec(client, python_command(python, LAUNCHER, directory, *argv))
    interrupted_at: float | None = None
    try:
        while True:
            try:
                if _drain(chan, out, err):
                    continue
                if chan.exit_status_ready() and chan.eof_received:
                    _drain(chan, out, err)
                    break
                if chan.closed:
                    break
                if interrupted_at is not None and time.monotonic() - interrupted_at > (
                    INTERRUPT_GRACE
                ):
                    break
                select.select([chan], [], [], 0.2)
            except KeyboardInterrupt:
                if interrupted_at is not None:
                    break
                interrupted_at = time.monotonic()
                err.write(b"\ninterrupted: stopping the remote script (Ctrl-C again to kill it)\n")
                err.flush()
                try:
                    chan.sendall(b"INT\n")
                except OSError:
                    break
        if chan.exit_status_ready():
            return chan.recv_exit_status(), interrupted_at is not None
        return 130, True
    finally:
        # Closing the channel is the launcher's end of file: whatever is left is killed.
        chan.close()
