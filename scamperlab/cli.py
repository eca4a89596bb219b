"""``scamperlab``: thin commands over :class:`~scamperlab.lab.Lab` and the lab state.

``up`` runs the lab in a detached daemon (``scamperlab _daemon``) and shows
its progress through a pipe; ``down`` asks that daemon to tear down;
``run`` keeps the lab in this process around one command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scamperlab import __version__
from scamperlab.errors import LabStateError, ScamperlabError
from scamperlab.state import (
    check_lab_name,
    cleanup_stale,
    is_running,
    list_labs,
    process_starttime,
    read_state,
    state_root,
)

console = Console(stderr=True)
out = Console()


def _lab_name(args: argparse.Namespace) -> str:
    if args.name:
        return check_lab_name(str(args.name))
    labs = list_labs()  # running ones and the stale state of crashed ones
    if len(labs) == 1:
        return labs[0]
    if not labs:
        raise LabStateError("no lab is running")
    raise LabStateError(f"several labs are running ({', '.join(labs)}): name one")


def _progress() -> Progress:
    """The bar shown while a lab comes up (phase, VPs on the mux, time)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# -- up / daemon ---------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    from scamperlab.topology.loader import load_topology

    topo = load_topology(args.topology)  # fail here, in the foreground, on a bad file
    name = args.name or topo.name
    read_fd, write_fd = os.pipe()
    argv = [sys.executable, "-m", "scamperlab.cli", "_daemon", "--progress-fd", str(write_fd)]
    argv += ["--name", name, str(Path(args.topology).resolve())]
    if args.scamper_prefix:
        argv += ["--scamper-prefix", args.scamper_prefix]
    if args.ssh:
        argv.append("--ssh")
    daemon = subprocess.Popen(
        argv,
        pass_fds=(write_fd,),
        start_new_session=True,  # Ctrl-C in this terminal must not reach it directly
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    reader = os.fdopen(read_fd)
    result: dict[str, Any] = {}
    try:
        with _progress() as bar:
            task = bar.add_task(f"starting lab {name}", total=None)
            for line in reader:
                msg = json.loads(line)
                if "progress" in msg:
                    phase, done, total = msg["progress"]
                    bar.update(task, description=phase, completed=done, total=total or None)
                elif "warning" in msg:
                    console.print(f"[yellow]warning:[/] {msg['warning']}")
                elif "event" in msg:
                    console.print(msg["event"])
                else:
                    result = msg
                    break
    except KeyboardInterrupt:
        console.print("interrupted: tearing the lab down...")
        daemon.send_signal(signal.SIGTERM)
        daemon.wait()
        console.print("lab removed")
        return 130
    finally:
        reader.close()
    if "error" in result or not result:
        daemon.wait()
        console.print(
            f"[red]error:[/] {result.get('error', 'the lab daemon died during start-up')}"
        )
        return 1
    out.print(result["mux"])
    console.print(
        f"lab [bold]{name}[/] is up: {result['vps']} VPs on mux {result['mux']}"
        f" ({result['seconds']:.1f} s); 'scamperlab status', 'scamperlab down {name}'"
    )
    return 0


def cmd_daemon(args: argparse.Namespace) -> int:
    from scamperlab.lab import Lab, exit_on_first_sigterm

    progress = os.fdopen(args.progress_fd, "w", buffering=1)

    def send(msg: dict[str, Any]) -> None:
        # If the foreground went away, keep running: the lab is still wanted.
        with contextlib.suppress(BrokenPipeError, ValueError):
            progress.write(json.dumps(msg) + "\n")

    signal.signal(signal.SIGTERM, exit_on_first_sigterm(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    start = time.monotonic()
    try:
        lab = Lab.from_file(
            args.topology, name=args.name, scamper_prefix=args.scamper_prefix, ssh=args.ssh
        )
    except SystemExit:
        return 0
    except ScamperlabError as exc:
        send({"error": str(exc)})
        return 1
    # From here on a SIGTERM may land between any two statements, including just
    # after start() returned: one try, whose finally always tears down, covers it all.
    try:
        try:
            lab.start(progress=lambda phase, done, total: send({"progress": [phase, done, total]}))
        except ScamperlabError as exc:
            send({"error": str(exc)})
            return 1
        except Exception as exc:  # SystemExit (a SIGTERM) is not one: it goes on out
            send({"error": f"unexpected: {exc!r}"})
            raise
        handler = logging.FileHandler(lab.state.path("logs", "daemon.log"))
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        for event in lab.events:
            send({"event": event.message})
        for warning in lab.warnings:
            send({"warning": warning})
        send({"mux": str(lab.mux_path), "vps": len(lab.vps), "seconds": time.monotonic() - start})
        progress.close()
        while True:
            signal.pause()
    except SystemExit:
        return 0
    finally:
        lab.stop()


# -- down / status ---------------------------------------------------------------


def cmd_down(args: argparse.Namespace) -> int:
    name = _lab_name(args)
    directory = state_root() / name
    if not (directory / "lock").exists() and not (directory / "state.json").exists():
        raise LabStateError(f"no lab named {name!r}")
    state = read_state(name) or {}
    if not is_running(name):
        for line in cleanup_stale(directory):
            console.print(line)
        return 0
    pid, starttime = state.get("owner_pid"), state.get("owner_starttime")
    if pid is None or process_starttime(int(pid)) != starttime:
        raise LabStateError(f"lab {name!r} is held by an unknown process; cannot stop it safely")
    os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 60
    with console.status(f"tearing down lab {name}"):
        # Wait for the daemon itself, not just its lock: it exits just after releasing it.
        while is_running(name) or process_starttime(int(pid)) == starttime:
            if time.monotonic() > deadline:
                os.kill(int(pid), signal.SIGKILL)
                time.sleep(0.5)
                cleanup_stale(directory)
                break
            time.sleep(0.1)
    console.print(f"lab {name} is down")
    return 0


def _age(since: float | None) -> str:
    if not since:
        return "-"
    secs = int(time.time() - since)
    return f"{secs // 3600}h{secs % 3600 // 60:02d}m{secs % 60:02d}s"


def cmd_status(args: argparse.Namespace) -> int:
    names = [check_lab_name(args.name)] if args.name else list_labs()
    if not names:
        console.print("no lab is running")
        return 0
    for name in names:
        state = read_state(name)
        if state is None:
            console.print(f"no lab named {name!r}")
            return 1
        running = is_running(name)
        if args.json:
            out.print_json(data=dict(state, running=running))
            continue
        health = "running" if running else f"STALE: owner died; run scamperlab down {name}"
        title = (
            f"lab {name} ({health})"
            f" - mux {state.get('mux')} - scamper {state.get('scamper_version')}"
            f" - up {_age(state.get('started_at'))}"
        )
        table = Table(title=title)
        for col in (
            "VP",
            "state",
            "pid",
            "IPv4",
            "IPv6",
            "cc",
            "place",
            "ASN",
            "tags",
            "uptime",
            "restarts",
        ):
            table.add_column(col)
        for vp in state.get("vps", []):
            table.add_row(
                vp["name"],
                vp["state"],
                str(vp["pid"] or "-"),
                vp["ipv4"],
                vp["ipv6"],
                vp["cc"] or "",
                vp["place"] or "",
                str(vp["asn4"] or ""),
                ",".join(vp["tags"]),
                _age(vp["up_since"]),
                str(vp["restarts"]),
            )
        out.print(table)
        targets = state.get("targets", [])
        if targets:
            t = Table(title="targets")
            for col in ("target", "IPv4", "IPv6"):
                t.add_column(col)
            for target in targets:
                t.add_row(target["name"], target["ipv4"], target["ipv6"])
            out.print(t)
        _print_links(state.get("links", []))
        ssh = state.get("ssh")
        if ssh:
            out.print(
                f"controller host: ssh -F {ssh['config']} {ssh['alias']}"
                f" ({ssh['user']}@{ssh['host']}:{ssh['port']}, mux {ssh['mux']});"
                f" deploy with: scamperlab deploy --lab {name} SCRIPT {{mux}}",
                soft_wrap=True,
            )
        for warning in state.get("warnings", []):
            console.print(f"[yellow]warning:[/] {warning}")
    return 0


def _print_links(links: list[dict[str, Any]]) -> None:
    """Each link and what applies its delay: the kernel's netem or scamperlab's holder."""
    if not links:
        return
    table = Table(title="links")
    for col in ("link", "delay", "jitter", "loss", "bandwidth", "mechanism"):
        table.add_column(col)
    for link in links:
        bandwidth = link.get("bandwidth_mbit")
        table.add_row(
            link["link"],
            f"{link['delay_ms']:g} ms",
            f"{link['jitter_ms']:g} ms" if link["jitter_ms"] else "",
            f"{link['loss_pct']:g} %" if link["loss_pct"] else "",
            f"{bandwidth:g} Mbit/s" if bandwidth else "",
            link["mechanism"],
        )
    out.print(table)


# -- run / check -----------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from scamperlab.lab import Lab, lab_environment

    command: list[str] = args.command
    if not command:
        raise ScamperlabError("nothing to run: scamperlab run TOPOLOGY -- COMMAND [ARGS...]")
    lab = Lab.from_file(
        args.topology, name=args.name, scamper_prefix=args.scamper_prefix, ssh=args.ssh
    )
    with _progress() as bar:
        task = bar.add_task("starting", total=None)
        lab.start(
            progress=lambda p, d, t: bar.update(task, description=p, completed=d, total=t or None)
        )
    try:
        for warning in lab.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        argv = [part.replace("{mux}", str(lab.mux_path)) for part in command]
        from scamperlab.shim import environment

        try:
            proc = subprocess.Popen(argv, env=environment(lab_environment(lab)))
        except OSError as exc:
            raise ScamperlabError(f"cannot run {argv[0]}: {exc.strerror}") from exc
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            proc.wait()
            return 130
    finally:
        lab.stop()


def cmd_check(args: argparse.Namespace) -> int:
    if args.topology.endswith(".py") or args.target_version:
        from scamperlab.deploy.command import cmd_check_script

        return cmd_check_script(args.topology, args.target_version)
    from scamperlab.topology.loader import load_topology
    from scamperlab.topology.plan import make_plan

    topo = load_topology(args.topology)
    plan = make_plan(topo)
    out.print(
        f"{args.topology}: ok - {len(topo.vps)} VPs, {len(topo.routers)} routers,"
        f" {len(topo.targets)} target(s), {len(plan.links)} links"
    )
    return 0


def cmd_truth(args: argparse.Namespace) -> int:
    """The ground truth of a topology towards one destination, as JSON (no lab needed)."""
    from scamperlab.topology.fakeroute import load_any
    from scamperlab.topology.plan import make_plan
    from scamperlab.topology.truth import lab_truth

    plan = make_plan(load_any(args.topology))
    if args.src is not None and args.src not in plan.nodes:
        raise LabStateError(f"{args.topology}: no node named {args.src!r}")
    try:
        doc = lab_truth(plan, args.dst, args.src)
    except (KeyError, ValueError) as exc:
        raise LabStateError(f"{args.topology}: {exc.args[0]}") from None
    print(json.dumps(doc, indent=2))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from scamperlab.topology.synthetic import synthetic_internet, to_yaml

    topo = synthetic_internet(args.vps, args.ases, args.seed, name=args.name)
    header = (
        f"Generated by: scamperlab generate --vps {args.vps} --ases {args.ases}"
        f" --seed {args.seed}{f' --name {args.name}' if args.name else ''}\n"
        "A synthetic Internet: an ordinary topology file, edit it freely (docs/topology.md).\n"
        "One-way link delay = great-circle distance / (2/3 c) + 0.5 ms."
    )
    text = to_yaml(topo, header)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ScamperlabError(f"cannot write {args.output}: {exc.strerror}") from exc
        console.print(
            f"{args.output}: {len(topo.vps)} VPs, {args.ases} ASes, {len(topo.routers)} routers,"
            f" {len(topo.targets)} targets, {len(topo.links)} router links"
        )
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from scamperlab.topology.draw import draw_topology
    from scamperlab.topology.loader import load_topology

    draw_topology(load_topology(args.topology), args.output, title=args.title)
    console.print(f"wrote {args.output}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from scamperlab.emulation.delay import fallback_problem
    from scamperlab.emulation.shaping import kernel_has_netem
    from scamperlab.processes.binaries import check_host_tools, find_scamper

    ok = True
    try:
        install = find_scamper(args.scamper_prefix)
        out.print(f"scamper {install.version} at {install.scamper}")
        mux = "sc_remoted serves it (-M)" if install.remoted_has_mux else "served by scamperlab"
        out.print(f"sc_remoted at {install.sc_remoted}; mux socket {mux}")
    except ScamperlabError as exc:
        out.print(f"[red]scamper:[/] {exc}")
        ok = False
    try:
        check_host_tools()
        out.print("root and mnexec: ok")
    except ScamperlabError as exc:
        out.print(f"[red]host:[/] {exc}")
        ok = False
    from scamperlab.shim import which_implementation

    out.print(f"import scamper: {which_implementation()}")
    if kernel_has_netem():
        out.print("link delay: netem (the kernel's sch_netem applies delay, jitter and loss)")
    elif (problem := fallback_problem()) is None:
        out.print(
            "link delay: no sch_netem; scamperlab's userspace NFQUEUE holder applies"
            " delay, jitter and loss (docs/delay.md)"
        )
    else:
        out.print(f"[red]link delay:[/] no sch_netem, and no userspace fallback: {problem}")
        ok = False
    return 0 if ok else 1


def cmd_inventory(args: argparse.Namespace) -> int:
    from scamperlab import inventory

    if args.to_topology:
        import yaml

        data = yaml.safe_load(Path(args.source).read_text()) or {}
        try:
            text = inventory.dump_topology(inventory.inventory_to_topology(data, args.name))
        except ValueError as exc:  # pydantic's ValidationError included
            raise LabStateError(f"{args.source}: {exc}") from None
    else:
        from scamperlab.topology.loader import load_topology

        topo = inventory.topology_to_inventory(load_topology(args.source))
        text = inventory.dump_inventory(topo, args.source)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scamperlab",
        description="An emulated Ark from a topology file: real scamper VPs, sc_remoted, a mux.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the lab does")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="cmd", required=True)

    def lab_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", help="lab name (default: the topology's name)")
        p.add_argument("--scamper-prefix", help="use scamper/sc_remoted from DIR/bin")
        p.add_argument(
            "--ssh", action="store_true", help="also run an Ark controller host with sshd"
        )

    up = sub.add_parser("up", help="bring a lab up and leave it running")
    up.add_argument("topology")
    lab_opts(up)
    up.set_defaults(func=cmd_up)

    daemon = sub.add_parser("_daemon", help=argparse.SUPPRESS)
    daemon.add_argument("topology")
    daemon.add_argument("--progress-fd", type=int, required=True)
    lab_opts(daemon)
    daemon.set_defaults(func=cmd_daemon)

    down = sub.add_parser("down", help="tear a running lab down")
    down.add_argument("name", nargs="?")
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", help="show running labs and their VPs")
    status.add_argument("name", nargs="?")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    run = sub.add_parser("run", help="bring a lab up, run a command against it, tear it down")
    run.add_argument("topology")
    lab_opts(run)
    run.add_argument(
        "command", nargs="*", help="after --: the command and its arguments ({mux} is replaced)"
    )
    run.set_defaults(func=cmd_run)

    from scamperlab.audit.cli import add_parser as add_audit_parser

    add_audit_parser(sub, lab_opts)

    check = sub.add_parser(
        "check", help="validate a topology file, or check a script (.py) against a scamper version"
    )
    check.add_argument("topology", metavar="TOPOLOGY|SCRIPT.py")
    check.add_argument("--target-version", help="scamper module version to check a script against")
    check.set_defaults(func=cmd_check)

    generate = sub.add_parser(
        "generate", help="write a synthetic Internet: VPs in real cities, delays from distance"
    )
    generate.add_argument("--vps", type=int, required=True, help="number of VPs")
    generate.add_argument("--ases", type=int, required=True, help="number of ASes")
    generate.add_argument("--seed", type=int, default=0, help="same seed, same file (default 0)")
    generate.add_argument("--name", help="the lab's name (default: synth-<vps>vp-<ases>as-s<seed>)")
    generate.add_argument("-o", "--output", help="file to write (default: standard output)")
    generate.set_defaults(func=cmd_generate)

    draw = sub.add_parser("draw", help="draw a topology file to a PNG or SVG picture")
    draw.add_argument("topology")
    draw.add_argument("-o", "--output", required=True, help="picture to write (.png or .svg)")
    draw.add_argument("--title", help="title (default: name, counts and description)")
    draw.set_defaults(func=cmd_draw)

    from scamperlab.deploy.cli import add_deploy_parser

    add_deploy_parser(sub)

    truth = sub.add_parser(
        "truth", help="what a perfect traceroute/MDA and alias resolution would find (JSON)"
    )
    truth.add_argument("topology", help="a topology file, or a fakeroute edge list")
    truth.add_argument("--dst", required=True, help="destination address or node name")
    truth.add_argument("--src", help="the measuring VP (default: every VP)")
    truth.set_defaults(func=cmd_truth)

    doctor = sub.add_parser("doctor", help="what scamperlab will use on this machine")
    doctor.add_argument("--scamper-prefix")
    doctor.set_defaults(func=cmd_doctor)

    inv = sub.add_parser(
        "inventory", help="a topology's VPs as an Ansible inventory for playbooks/, or back"
    )
    inv.add_argument("source", help="topology file (or, with --to-topology, an inventory)")
    inv.add_argument("-o", "--output", help="write here instead of stdout")
    inv.add_argument(
        "--to-topology", action="store_true", help="turn an inventory into a topology file"
    )
    inv.add_argument("--name", default="fleet", help="lab name of --to-topology's topology")
    inv.set_defaults(func=cmd_inventory)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is the user's command, whatever options it has.
    tail: list[str] | None = None
    if "--" in argv:
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    if tail is not None:
        if args.cmd == "deploy":
            args.args = [*args.args, *tail]
        elif args.cmd not in ("run", "audit"):
            build_parser().error("'--' is only for 'scamperlab run|audit TOPOLOGY -- COMMAND'")
        else:
            args.command = [*args.command, *tail]
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(message)s"
    )
    try:
        return int(args.func(args))
    except ScamperlabError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
