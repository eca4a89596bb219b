"""``scamperlab audit TOPOLOGY [--policy FILE] -- COMMAND``: ``run``, with a capture around it.

Kept out of ``scamperlab/cli.py`` so the shared CLI only registers the
command. The exit status is the command's when it failed, else 3 when the
policy was violated, else 0: CI can tell a broken script from a rude one.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scamperlab.errors import ScamperlabError

VIOLATION_EXIT = 3


def add_parser(
    sub: Any,  # argparse's _SubParsersAction is private
    lab_opts: Callable[[argparse.ArgumentParser], None],
) -> None:
    p = sub.add_parser(
        "audit", help="run a command against a lab and report exactly what each VP sent"
    )
    p.add_argument("topology")
    lab_opts(p)
    p.add_argument("--policy", help="policy file (YAML); a violation exits with status 3")
    p.add_argument(
        "--out", help="directory for report.json, manifest.txt, rate.png, pcap/ (default audit-LAB)"
    )
    p.add_argument("--json", action="store_true", help="print report.json instead of the table")
    p.add_argument("--no-plot", action="store_true", help="skip rate.png (no matplotlib import)")
    p.add_argument(
        "command", nargs="*", help="after --: the command and its arguments ({mux} is replaced)"
    )
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from rich.console import Console

    from scamperlab.audit.policy import load_policy
    from scamperlab.audit.report import print_report
    from scamperlab.audit.session import AuditSession
    from scamperlab.cli import _progress, console
    from scamperlab.lab import Lab, lab_environment
    from scamperlab.shim import environment

    command: list[str] = args.command
    if not command:
        raise ScamperlabError("nothing to run: scamperlab audit TOPOLOGY -- COMMAND [ARGS...]")
    policy = load_policy(args.policy) if args.policy else None  # a bad policy fails before the lab
    lab = Lab.from_file(args.topology, name=args.name, scamper_prefix=args.scamper_prefix)
    out_dir = Path(args.out or f"audit-{lab.name}")
    with _progress() as bar:
        task = bar.add_task("starting", total=None)
        lab.start(
            progress=lambda p, d, t: bar.update(task, description=p, completed=d, total=t or None)
        )
    session: AuditSession | None = None
    try:
        for warning in lab.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        session = AuditSession(
            lab, policy=policy, out_dir=out_dir, command=command, draw=not args.no_plot
        )
        session.policy_file = args.policy
        argv = [part.replace("{mux}", str(lab.mux_path)) for part in command]
        session.start()
        try:
            try:
                proc = subprocess.Popen(argv, env=environment(lab_environment(lab)))
            except OSError as exc:
                raise ScamperlabError(f"cannot run {argv[0]}: {exc.strerror}") from exc
            try:
                status = proc.wait()
            except KeyboardInterrupt:
                proc.send_signal(signal.SIGINT)
                proc.wait()
                status = 130
        finally:
            session.capture.stop()
    finally:
        lab.stop()
    # The lab is gone; the pcaps are all the analysis needs.
    report = session.stop()
    assert report is not None
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        wide = Console(width=None if Console().is_terminal else 160)
        print_report(report, wide, console)
    console.print(f"audit written to {out_dir}/ (report.json, manifest.txt, pcap/)")
    if status != 0:
        return status
    return 0 if report.ok else VIOLATION_EXIT
