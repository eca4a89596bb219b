"""``scamperlab audit TOPOLOGY [--policy FILE] -- COMMAND``: ``run``, with a capture around it.

Kept out of ``scamperlab/cli.py`` so the shared CLI only registers the
command. The lab and the command are run exactly as ``run`` runs them
(:func:`scamperlab.lab.lifecycle.run_with_lab`). The exit status is the
command's when it failed, else 3 when the policy was violated, else 0: CI
can tell a broken script from a rude one; 125 when the lab itself failed.

With ``--json`` the report is the only thing on standard output: the
audited command's own standard output goes to standard error, so
``scamperlab audit --json ... | jq`` works.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scamperlab.errors import CommandError, ScamperlabError

if TYPE_CHECKING:
    from scamperlab.audit.session import AuditSession
    from scamperlab.lab.core import Lab

VIOLATION_EXIT = 3


def add_parser(
    sub: Any,  # argparse's _SubParsersAction is private
    lab_opts: Callable[[argparse.ArgumentParser], None],
) -> None:
    p = sub.add_parser(
        "audit",
        help="run a command against a lab and report exactly what each VP sent",
        epilog="exit status: the command's if it failed; else 3 if the policy was violated;"
        " 125 if the lab failed; 1 for a bad policy file",
    )
    p.add_argument("topology")
    lab_opts(p)
    p.add_argument("--policy", help="policy file (YAML); a violation exits with status 3")
    p.add_argument(
        "--out", help="directory for report.json, manifest.txt, rate.png, pcap/ (default audit-LAB)"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print report.json on stdout instead of the table (the command's stdout goes to"
        " stderr)",
    )
    p.add_argument("--no-plot", action="store_true", help="skip rate.png (no matplotlib import)")
    p.add_argument(
        "command", nargs="*", help="after --: the command and its arguments ({mux} is replaced)"
    )
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    from scamperlab.audit.policy import load_policy
    from scamperlab.audit.report import print_report
    from scamperlab.audit.session import AuditSession
    from scamperlab.lab import ui
    from scamperlab.lab.core import Lab
    from scamperlab.lab.lifecycle import LAB_FAILED_EXIT, run_with_lab

    policy = load_policy(args.policy) if args.policy else None  # a bad policy fails before the lab
    sessions: list[AuditSession] = []

    @contextlib.contextmanager
    def capturing(lab: Lab) -> Iterator[None]:
        session = AuditSession(
            lab,
            policy=policy,
            out_dir=Path(args.out or f"audit-{lab.name}"),
            command=args.command,
            draw=not args.no_plot,
        )
        session.policy_file = args.policy
        sessions.append(session)
        session.start()
        try:
            yield
        finally:
            session.capture.stop()

    try:
        lab = Lab.from_file(
            args.topology,
            name=args.name,
            scamper_prefix=args.scamper_prefix,
            ssh=args.ssh,
            group=args.group,
            standins=False if args.no_standins else None,
        )
        status = run_with_lab(
            lab,
            args.command,
            starting=ui.start_progress,
            on_warning=ui.warning,
            around=capturing,
            stdout=2 if args.json else None,  # the report alone on stdout
        )
    except CommandError as exc:
        ui.error(str(exc))
        return exc.status
    except ScamperlabError as exc:
        ui.error(str(exc))
        return LAB_FAILED_EXIT
    # The lab is gone; the pcaps are all the analysis needs.
    (session,) = sessions
    report = session.finish()
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print_report(report, ui.out, ui.err)
    ui.err.print(f"audit written to {session.out_dir}/ (report.json, manifest.txt, pcap/)")
    if status != 0:
        return status
    return 0 if report.ok else VIOLATION_EXIT
