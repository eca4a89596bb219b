"""The files a run needs, up over SFTP, and the files it made, back.

Everything is laid out on the far side as it is next to the script here
(``lib/helpers.py`` stays ``lib/helpers.py``), so relative paths in the
script mean the same thing in the lab and on Ark.
"""

from __future__ import annotations

import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from scamperlab.deploy.scriptcheck import local_dependencies
from scamperlab.deploy.sshconn import DeployError

if TYPE_CHECKING:
    import paramiko  # annotations only: sshconn imports it, or names the extra

_SKIP_DIRS = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Upload:
    local: Path
    remote: str  # relative to the remote working directory


def _relative(path: Path, base: Path, what: str) -> str:
    try:
        return PurePosixPath(path.resolve().relative_to(base)).as_posix()
    except ValueError:
        raise DeployError(
            f"{what} {path} is not under the script's directory {base}: deploy keeps the"
            " layout next to the script, so move it there (or copy it) first",
            status=2,
        ) from None


def files_to_upload(script: Path, data: list[Path]) -> list[Upload]:
    """The script, the local modules it imports (transitively) and the declared data files."""
    base = script.resolve().parent
    uploads = [Upload(script.resolve(), script.name)]
    extra: list[Path] = []
    for dep in local_dependencies(script):
        extra.append(dep)
    extra += data
    for item in extra:
        if not item.exists():
            raise DeployError(f"data file {item} does not exist", status=2)
        if item.is_dir():
            for file in sorted(item.rglob("*")):
                if file.is_file() and not (_SKIP_DIRS & set(file.relative_to(item).parts)):
                    uploads.append(Upload(file, _relative(file, base, "data file")))
        else:
            uploads.append(Upload(item, _relative(item, base, "data file")))
    unique = {u.remote: u for u in uploads}
    return list(unique.values())


def _mkdirs(sftp: paramiko.SFTPClient, path: str, made: set[str]) -> None:
    if path in made or path in ("", "/"):
        return
    _mkdirs(sftp, posixpath.dirname(path), made)
    try:
        sftp.mkdir(path)
    except OSError:
        try:
            if not stat.S_ISDIR(sftp.stat(path).st_mode or 0):
                raise DeployError(f"remote {path} exists and is not a directory") from None
        except FileNotFoundError:
            raise DeployError(f"cannot create remote directory {path}") from None
    made.add(path)


def upload(sftp: paramiko.SFTPClient, directory: str, uploads: list[Upload]) -> None:
    made = {directory}
    for item in uploads:
        target = posixpath.join(directory, item.remote)
        _mkdirs(sftp, posixpath.dirname(target), made)
        try:
            sftp.put(str(item.local), target)
            sftp.chmod(target, item.local.stat().st_mode & 0o777)
        except OSError as exc:
            raise DeployError(f"uploading {item.local} to {target} failed: {exc}") from None


def _get_tree(sftp: paramiko.SFTPClient, remote: str, local: Path) -> None:
    mode = sftp.stat(remote).st_mode or 0
    if stat.S_ISDIR(mode):
        local.mkdir(parents=True, exist_ok=True)
        for entry in sftp.listdir(remote):
            _get_tree(sftp, posixpath.join(remote, entry), local / entry)
    else:
        local.parent.mkdir(parents=True, exist_ok=True)
        sftp.get(remote, str(local))


def fetch(
    sftp: paramiko.SFTPClient, directory: str, outputs: list[str], into: Path
) -> tuple[list[Path], list[str]]:
    """Copy each declared output (file or directory) back; (fetched, missing)."""
    fetched, missing = [], []
    for name in outputs:
        remote = posixpath.join(directory, name)
        relative = PurePosixPath(name)
        local = into / (relative.name if relative.is_absolute() else Path(*relative.parts))
        try:
            _get_tree(sftp, remote, local)
        except FileNotFoundError:
            missing.append(name)
            continue
        except OSError as exc:
            raise DeployError(f"fetching {remote} failed: {exc}", status=1) from None
        fetched.append(local)
    return fetched, missing
