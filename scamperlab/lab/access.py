"""Who may use a lab: its sockets and state belong to the user who asked for it.

A lab runs as root (namespaces need it), but the person who asked for it is
often someone else, through ``sudo``: they are the owner (``SUDO_UID`` /
``SUDO_GID``), and nobody else on the machine may drive the lab's VPs or read
its results. Access is decided by the state directory, which holds every
socket (the mux, sc_remoted's per-VP sockets) and log: it is the owner's, mode
0700; with a group (``--group``, or ``controller.group`` in the topology, as
sc_remoted's ``-O allowgroup`` admits one group to Ark's mux) it is 0750 and
that group's, and the mux socket is 0660. A user who cannot enter the
directory cannot connect to anything in it, whatever a socket's own mode.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from scamperlab.errors import LabStateError


@dataclass(frozen=True)
class Access:
    """The lab's owner and the one group admitted besides (None: the owner alone)."""

    uid: int
    gid: int
    group: str | None = None

    @classmethod
    def for_caller(cls, group: str | None = None) -> Access:
        """The user who asked: ``sudo``'s caller when run through sudo, else this process's."""
        uid, gid = os.getuid(), os.getgid()
        if uid == 0 and os.environ.get("SUDO_UID", "").isdigit():
            uid = int(os.environ["SUDO_UID"])
            gid = int(os.environ.get("SUDO_GID", "") or pwd.getpwuid(uid).pw_gid)
        if group is None:
            return cls(uid, gid)
        try:
            return cls(uid, grp.getgrnam(group).gr_gid, group)
        except KeyError:
            raise LabStateError(
                f"no group named {group!r} on this machine (see 'getent group'); create it"
                " with 'groupadd' or drop --group / controller.group"
            ) from None

    @property
    def dir_mode(self) -> int:
        return 0o750 if self.group is not None else 0o700

    @property
    def socket_mode(self) -> int:
        return 0o660 if self.group is not None else 0o600

    def own_dir(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)
        path.chmod(self.dir_mode)

    def own_socket(self, path: Path) -> None:
        os.chown(path, self.uid, self.gid)
        path.chmod(self.socket_mode)

    def describe(self) -> str:
        """Who may connect, for ``scamperlab status``."""
        try:
            user = pwd.getpwuid(self.uid).pw_name
        except KeyError:
            user = f"uid {self.uid}"
        root = "" if self.uid == 0 else " (and root)"
        if self.group is None:
            return f"{user} only{root}"
        return f"{user} and group {self.group}{root}"

    def as_dict(self) -> dict[str, object]:
        return {"uid": self.uid, "gid": self.gid, "group": self.group, "who": self.describe()}
