"""The ``scamperlab deploy`` sub-command's options, kept here so ``cli.py`` only registers them.

paramiko is imported when the command runs, not when the parser is built:
``scamperlab up`` and friends must not pay for (or need) it.
"""

from __future__ import annotations

import argparse
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from scamperlab.deploy.command import cmd_deploy

    return cmd_deploy(args)


def add_deploy_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "deploy",
        help="run a script on Ark (or a lab's controller host) over SSH",
        description=(
            "Upload SCRIPT with its local modules and data, run it on HOST with {mux} in ARGS"
            " replaced by the remote mux path, stream its output, fetch its outputs, and exit"
            " with its status. Put script options after '--'."
        ),
    )
    p.add_argument("script", metavar="SCRIPT")
    p.add_argument(
        "args", nargs="*", metavar="ARG", help="the script's arguments ({mux} is replaced)"
    )
    p.add_argument("--host", help="[USER@]HOST, or a Host alias from your ssh config")
    p.add_argument("--lab", help="deploy to this running lab's controller host instead")
    p.add_argument("--mux", help="mux path on the host (default: where Ark has it)")
    p.add_argument("-F", "--ssh-config", help="ssh config file (default: ~/.ssh/config)")
    p.add_argument("-p", "--port", type=int, help="SSH port (default: from ssh config, or 22)")
    p.add_argument(
        "-i", "--identity", action="append", default=[], help="private key file (repeatable)"
    )
    p.add_argument(
        "--python", default="python3", help="interpreter on the host (default: %(default)s)"
    )
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="PATH",
        help="also upload this file or directory (under the script's directory; repeatable)",
    )
    p.add_argument(
        "--fetch",
        action="append",
        default=[],
        metavar="PATH",
        help="fetch this output file or directory back after the run (repeatable)",
    )
    p.add_argument(
        "--into", default=".", metavar="DIR", help="where fetched outputs go (default: .)"
    )
    p.add_argument(
        "--remote-dir", help="run in this directory on the host (kept) instead of a temporary one"
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        help="record what the script receives through the mux there, and fetch it to FILE"
        " (for 'scamperlab replay')",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary remote directory")
    p.add_argument("--target-version", help="scamper module version to check against")
    p.add_argument("--no-check", action="store_true", help="skip the scamper API check")
    p.set_defaults(func=_run)
