"""The cached Debian root file system that the playbook tests boot as throwaway hosts.

debootstrap is slow (minutes) and is the only step that needs the Debian
mirror, so it runs once per machine and its result is kept as a tar under
the cache directory. Everything the playbooks install (scamper, stunnel,
openssl, python3-apt for Ansible's apt module) is included at this point:
and what a lab host runs a lab with (mnexec, iptables, venv, the servers); the
containers themselves never reach any network but the lab's, so the
roles' apt step must find the packages already there. That is also how the
roles behave on real hardware with packages pre-installed: they refresh
apt's lists only when something is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CACHE_DIR = Path(os.environ.get("SCAMPERLAB_CACHE_DIR", "/var/cache/scamperlab"))
SUITE = "bookworm"
#: Bump when the recipe below changes, so that stale caches are rebuilt.
RECIPE = 3
PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "sudo",
    "python3",
    "python3-apt",
    "scamper",
    "stunnel4",
    "openssl",
    "iproute2",
    "iputils-ping",
    "procps",
    "nftables",
    # What a lab host runs a lab with (the scamperlab_host role, playbooks/cluster.yml).
    "mininet",
    "iptables",
    "python3-venv",
    # and its topologies' DNS and HTTP(S) servers (scamperlab_host_services)
    "nsd",
    "unbound",
    "nginx",
    "ca-certificates",
]
#: The login Ansible uses, like the first user of a Raspberry Pi OS image.
USER = "pi"
# Units that only slow a throwaway container's boot or make noise.
_MASK = [
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "console-getty.service",
    "getty.target",
    "systemd-networkd-wait-online.service",
    # A lab starts its own servers; the packages' system-wide ones would only hold port 53/80.
    "nsd.service",
    "unbound.service",
    "unbound-resolvconf.service",
    "nginx.service",
]


def rootfs_tar(suite: str = SUITE) -> Path:
    return CACHE_DIR / f"rootfs-{suite}-r{RECIPE}.tar"


def debian_mirror() -> str:
    """The mirror this machine's apt already uses (the only one known to be reachable)."""
    texts = []
    sources = Path("/etc/apt/sources.list.d")
    for path in [
        Path("/etc/apt/sources.list"),
        *sorted(sources.glob("*.list")),
        *sorted(sources.glob("*.sources")),
    ]:
        with contextlib.suppress(OSError):
            texts.append(path.read_text())
    for text in texts:
        for m in re.finditer(r"^(?:URIs:|deb)\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            uri = m.group(1)
            if "security" not in uri and uri.startswith(("http://", "https://")):
                return uri
    return "http://deb.debian.org/debian"


def ensure_rootfs(suite: str = SUITE) -> Path:
    """The cached tar, built first if this machine has none (flock: one builder at a time)."""
    tar = rootfs_tar(suite)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not tar.exists():
            _build(suite, tar)
    return tar


def _build(suite: str, tar: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap not found: apt-get install debootstrap")
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=CACHE_DIR))
    try:
        root = work / "root"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                suite,
                str(root),
                debian_mirror(),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _configure(root)
        partial = tar.with_suffix(".tar.partial")
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial), "."],
            check=True,
        )
        partial.rename(tar)
        for old in CACHE_DIR.glob(f"rootfs-{suite}-r*.tar"):
            if old != tar:
                old.unlink()  # an older recipe's cache is never used again
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _configure(root: Path) -> None:
    """What every container needs whatever its role: a sudo login, no shared host keys."""

    def chroot(*argv: str) -> None:
        subprocess.run(["chroot", str(root), *argv], check=True, stdout=subprocess.DEVNULL)

    chroot("useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", USER)
    sudoers = root / "etc/sudoers.d" / USER
    sudoers.write_text(f"{USER} ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)
    # Each container gets fresh host keys at boot time (see containers.py).
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    # An empty machine-id makes systemd generate a fresh one at each boot.
    (root / "etc/machine-id").write_text("")
    for unit in _MASK:
        link = root / "etc/systemd/system" / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()


if __name__ == "__main__":
    print(ensure_rootfs())
