"""``scamperlab cluster up|down|status INVENTORY``: a lab over several hosts, by Ansible.

Provisioning is Ansible's job, not a cluster manager of scamperlab's own:
these verbs only run ``playbooks/cluster.yml`` (which installs scamperlab on
every host and starts the controller host's and each lab host's part of the
lab as a systemd unit) or ask the controller host for ``scamperlab status``.
Ansible's own output is the progress a person sees, and its exit status is
the verb's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from scamperlab.deploy.wheelhouse import SOURCE
from scamperlab.errors import ScamperlabError

__all__ = ["PLAYBOOK", "ansible_tool", "playbook_argv", "status_argv"]

PLAYBOOK = SOURCE / "playbooks" / "cluster.yml"


def ansible_tool(name: str) -> str:
    """``ansible-playbook`` or ``ansible``: beside this Python first (the ``ansible`` extra)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise ScamperlabError(
            f"{name} not found: install Ansible (pip install 'scamperlab[ansible]')"
        )
    return found


def _existing(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ScamperlabError(f"no {what} {path}")
    return p.resolve()


def playbook_argv(inventory: str, topology: str | None, *, down: bool = False) -> list[str]:
    """The ansible-playbook command that starts (or, ``down``, removes) the cluster."""
    if not PLAYBOOK.is_file():
        raise ScamperlabError(f"no {PLAYBOOK}: cluster runs the playbooks of a scamperlab checkout")
    argv = [ansible_tool("ansible-playbook"), "-i", str(_existing(inventory, "inventory"))]
    if down:
        argv += ["-e", "scamperlab_cluster_state=absent"]
    else:
        if topology is None:
            raise ScamperlabError("which lab? scamperlab cluster up INVENTORY TOPOLOGY")
        argv += ["-e", f"scamperlab_cluster_topology={_existing(topology, 'topology file')}"]
    return [*argv, str(PLAYBOOK)]


def status_argv(inventory: str) -> list[str]:
    """The ad-hoc command that shows the controller host's ``scamperlab status``."""
    return [
        ansible_tool("ansible"),
        "-i",
        str(_existing(inventory, "inventory")),
        "scamperlab_controller",
        "--become",
        "-m",
        "ansible.builtin.command",
        "-a",
        "scamperlab status",
    ]


def run(argv: list[str]) -> int:
    """Run an Ansible command in the foreground; its exit status."""
    return subprocess.run(argv, check=False).returncode
