"""``deploy --record FILE``: record a run on Ark and bring the recording home.

The recording is made on the far side, next to the mux, by scamperlab's
recorder shipped for the run as one zip application
(:mod:`scamperlab.mux.recordcmd`); nothing is installed there and the
remote directory is removed with the script's. The script sees a proxy of
the host's mux where ``{mux}`` would have named the mux itself, and imports
the host's own ``scamper`` module: the zip is on the recorder's path only.
"""

from __future__ import annotations

import io
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from scamperlab.deploy.remote import RemoteInfo
from scamperlab.deploy.sshconn import DeployError
from scamperlab.mux.zipbundle import bundle_bytes

if TYPE_CHECKING:
    import paramiko

__all__ = ["RECORDER", "check_destination", "fetch_recording", "install_recorder", "recorded_argv"]

RECORDER = ".scamperlab-record.pyz"
_REMOTE_FILE = ".scamperlab-recording.rec"
#: the oldest Python scamperlab's code (and so the recorder) runs on
_PYTHON = (3, 11)


def check_destination(path: Path) -> None:
    """Fail before connecting if the recording could not be written here."""
    if not path.parent.is_dir():
        raise DeployError(f"cannot record to {path}: no directory {path.parent}", status=2)


def install_recorder(sftp: paramiko.SFTPClient, info: RemoteInfo) -> None:
    if info.python[:2] < _PYTHON:
        have = ".".join(map(str, info.python[:2]))
        need = ".".join(map(str, _PYTHON))
        raise DeployError(
            f"--record runs scamperlab's recorder with {info.executable} on the remote host,"
            f" which is Python {have}: it needs {need} or newer (or deploy without --record)",
            status=1,
        )
    target = posixpath.join(info.dir, RECORDER)
    data = bundle_bytes(main="scamperlab.mux.recordcmd", with_dns=False)
    try:
        sftp.putfo(io.BytesIO(data), target)
    except OSError as exc:
        raise DeployError(f"uploading the recorder to {target} failed: {exc}") from None


def recorded_argv(info: RemoteInfo, mux: str, script: list[str]) -> list[str]:
    """What the launcher runs instead of ``script`` (``{mux}`` left for the recorder)."""
    return [RECORDER, "--mux", mux, "--out", _REMOTE_FILE, "--", info.executable, *script]


def fetch_recording(sftp: paramiko.SFTPClient, info: RemoteInfo, local: Path) -> bool:
    """Copy the recording home (atomically); False if the recorder wrote none."""
    tmp = local.with_name(local.name + ".part")
    try:
        sftp.get(posixpath.join(info.dir, _REMOTE_FILE), str(tmp))
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        return False
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DeployError(f"fetching the recording failed: {exc}", status=1) from None
    tmp.replace(local)
    return True
