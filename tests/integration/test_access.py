"""Only the lab's owner (and one group, if named) may use its sockets (issue: locked-down labs).

Real users, made for the test, connect to a running lab's mux and per-VP
sockets from their own processes: the kernel's permission checks are what is
tested, not the modes alone.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from tests.integration.conftest import TINY

GROUP = "slx-ark"
OWNER, MEMBER, OTHER = "slx-owner", "slx-member", "slx-other"

# Run by each user with the system's python3: connect, read the first bytes, exit
# 0 when that worked and 13 (EACCES) when the kernel refused.
CONNECT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(13)
if sys.argv[2] == "read":
    s.settimeout(10)
    assert s.recv(8), "connected, but nothing came"
"""


def _remove_users() -> None:
    for user in (OWNER, MEMBER, OTHER):
        subprocess.run(["userdel", user], capture_output=True, check=False)
    subprocess.run(["groupdel", GROUP], capture_output=True, check=False)


@pytest.fixture(scope="module")
def users() -> Iterator[dict[str, pwd.struct_passwd]]:
    _remove_users()  # a run killed halfway left them
    try:
        subprocess.run(["groupadd", "--system", GROUP], check=True, capture_output=True)
        for user, extra in ((OWNER, []), (MEMBER, ["-G", GROUP]), (OTHER, [])):
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--user-group",
                 "--shell", "/usr/sbin/nologin", *extra, user],
                check=True, capture_output=True,
            )  # fmt: skip
        yield {user: pwd.getpwnam(user) for user in (OWNER, MEMBER, OTHER)}
    finally:
        _remove_users()


def connects(user: pwd.struct_passwd, path: Path, read: bool = False) -> bool:
    done = subprocess.run(
        ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
         "/usr/bin/python3", "-c", CONNECT, str(path), "read" if read else "-"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 13), done.stderr
    return done.returncode == 0


@contextlib.contextmanager
def sudo_from(user: pwd.struct_passwd) -> Iterator[None]:
    """As if ``sudo`` had been run by ``user``: what a lab reads to find its owner."""
    saved = {k: os.environ.get(k) for k in ("SUDO_UID", "SUDO_GID")}
    os.environ.update(SUDO_UID=str(user.pw_uid), SUDO_GID=str(user.pw_gid))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _vp_socket(lab: Lab) -> Path:
    return next(p for p in lab.socket_dir.iterdir() if p.is_socket())


def test_a_lab_is_its_owners_alone(users: dict[str, pwd.struct_passwd], state_dir: Path) -> None:
    owner, member, other = users[OWNER], users[MEMBER], users[OTHER]
    with sudo_from(owner), Lab.from_file(TINY, name="mine", state_dir=state_dir) as lab:
        st = lab.state.dir.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (owner.pw_uid, owner.pw_gid, 0o700)
        mux = lab.mux_path.stat()
        assert (mux.st_uid, mux.st_mode & 0o777) == (owner.pw_uid, 0o600)
        assert lab.state.info["access"]["who"] == f"{OWNER} only (and root)"
        assert connects(owner, lab.mux_path, read=True)
        assert connects(owner, _vp_socket(lab))
        for stranger in (member, other):
            assert not connects(stranger, lab.mux_path)
            assert not connects(stranger, _vp_socket(lab))


def test_a_group_admits_its_members_only(
    users: dict[str, pwd.struct_passwd], state_dir: Path
) -> None:
    owner, member, other = users[OWNER], users[MEMBER], users[OTHER]
    with (
        sudo_from(owner),
        Lab.from_file(TINY, name="ours", state_dir=state_dir, group=GROUP) as lab,
    ):
        st = lab.state.dir.stat()
        assert (st.st_gid, st.st_mode & 0o777) == (grp.getgrnam(GROUP).gr_gid, 0o750)
        assert lab.mux_path.stat().st_mode & 0o777 == 0o660
        assert lab.state.info["access"]["who"] == f"{OWNER} and group {GROUP} (and root)"
        for allowed in (owner, member):
            assert connects(allowed, lab.mux_path, read=True)
            assert connects(allowed, _vp_socket(lab))
        assert not connects(other, lab.mux_path)
        assert not connects(other, _vp_socket(lab))


def test_an_unknown_group_is_refused_before_anything_is_built(state_dir: Path) -> None:
    from scamperlab.errors import LabStateError

    with pytest.raises(LabStateError, match="no group named 'no-such-group-here'"):
        Lab.from_file(TINY, name="nogroup", state_dir=state_dir, group="no-such-group-here")
    assert not (state_dir / "nogroup").exists()
