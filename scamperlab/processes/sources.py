"""Where a modern scamper comes from, on this system: what ``doctor`` tells a user without one.

The lab runs with any scamper, but one whose ``sc_remoted`` lacks the mux
(``-M``, Debian's 20211212) costs something: scamperlab serves the mux
instead, and the newer primitives and CAIDA's module are out of reach.
CAIDA publishes modern scamper, with ``python3-scamper``, as a PPA for three
Ubuntu releases, and as a release tarball for everything else; a private
build is used with ``--scamper-prefix``. The PPA's commands live in one file
(``data/caida-ppa.sh``), which ``doctor`` prints, the docs page includes and
a test compares with the CI templates, so all of them say the same.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from pathlib import Path

PPA = "ppa:matthewluckie/scamper"
PPA_RELEASES = ("20.04", "22.04", "24.04")
TARBALL_URL = "https://www.caida.org/catalog/software/scamper/"
PPA_COMMANDS_FILE = Path(__file__).resolve().parent.parent / "data" / "caida-ppa.sh"


def costs(version: str) -> list[str]:
    """What a lab on scamper ``version``, whose sc_remoted lacks the mux, cannot do."""
    lines = [
        "the mux socket is scamperlab's own, not sc_remoted's -M: scripts meet a stand-in"
        " for Ark's mux",
    ]
    if version < "20240117":
        # The lab's stand-ins (mux.standin) perform those DNS queries, HTTP(S) fetches
        # and UDP probes.
        standin = (
            "DNS NS, SOA and TXT queries, http and udpprobe"
            if version <= "20211212"
            else "http and udpprobe"
        )
        refused = f"{standin} (the lab's stand-ins perform them), "
        lines.append(
            f"scamper {version} refuses {refused}owamp and the newer options"
            " (scamperlab check SCRIPT says what a script needs)"
        )
    if version < "20230224":
        lines.append("its results carry no task ids: scamperlab's mux adds them")
    lines.append(
        "CAIDA's scamper module (python3-scamper) comes with modern scamper: without it,"
        " scripts run with scamperlab's pure-Python twin"
    )
    return lines


def ppa_commands() -> list[str]:
    """The shell commands that install modern scamper and CAIDA's module from the PPA."""
    return [line for line in PPA_COMMANDS_FILE.read_text().splitlines() if line.strip()]


def this_system() -> Mapping[str, str]:
    """``/etc/os-release`` (empty where there is none)."""
    try:
        return platform.freedesktop_os_release()
    except OSError:
        return {}


def ppa_applies(release: Mapping[str, str]) -> bool:
    """Whether CAIDA's PPA has packages for this system (Ubuntu 20.04, 22.04, 24.04)."""
    return release.get("ID") == "ubuntu" and release.get("VERSION_ID") in PPA_RELEASES


def modern_guidance(release: Mapping[str, str]) -> list[str]:
    """How to get modern scamper here: the PPA's commands, or CAIDA's tarball, and the prefix."""
    name = release.get("PRETTY_NAME") or release.get("NAME") or "this system"
    ubuntus = ", ".join(PPA_RELEASES[:-1]) + f" and {PPA_RELEASES[-1]}"
    private = "a build of your own: scamperlab ... --scamper-prefix DIR (DIR/bin/scamper)"
    if ppa_applies(release):
        return [
            f"on {name}, install it from CAIDA's PPA ({PPA}):",
            *(f"    {command}" for command in ppa_commands()),
            f"elsewhere, CAIDA's release tarball: {TARBALL_URL}",
            f"or {private}",
        ]
    return [
        f"CAIDA's PPA ({PPA}) is for Ubuntu {ubuntus}, not {name}:",
        f"here, build CAIDA's release tarball: {TARBALL_URL}",
        f"and use {private}",
    ]
