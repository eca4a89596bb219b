"""``scamperlab``: thin commands over :class:`~scamperlab.lab.Lab` and its lifecycle.

Every command that starts, stops or runs against a lab is a few lines over
:mod:`scamperlab.lab.lifecycle` (which Python users and the pytest plugin
share): ``up`` leaves a lab running in a detached daemon, ``down`` asks it
to tear down, ``run`` keeps a lab in this process around one command and
exits with that command's status, or :data:`LAB_FAILED_EXIT` (125) when
the lab itself failed, as ``docker run`` does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import platform
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from scamperlab import __version__
from scamperlab.errors import CommandError, LabStateError, ScamperlabError
from scamperlab.lab import ui
from scamperlab.lab.lifecycle import LAB_FAILED_EXIT
from scamperlab.lab.state import check_lab_name, is_running, list_labs

if TYPE_CHECKING:
    from scamperlab.shim import ImportChoice


def _lab_name(args: argparse.Namespace) -> str:
    if args.name:
        return check_lab_name(str(args.name))
    labs = list_labs()  # running ones and the stale state of crashed ones
    if len(labs) == 1:
        return labs[0]
    if not labs:
        raise LabStateError("no lab is running")
    raise LabStateError(f"several labs are running ({', '.join(labs)}): name one")


# -- up / down / status ------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    from scamperlab.lab.lifecycle import up_detached

    if (args.shard or args.controller) and not args.cluster:
        raise ScamperlabError("--shard and --controller need --cluster FILE")
    if args.cluster and not (args.shard or args.controller):
        raise ScamperlabError(
            "with --cluster, say which host this is: --shard HOST or --controller"
        )

    def notify(kind: str, text: str) -> None:
        if kind == "warning":
            ui.warning(text)
        else:
            ui.err.print(escape(text))

    try:
        with ui.start_progress("starting lab") as report:
            up = up_detached(
                args.topology,
                name=args.name,
                scamper_prefix=args.scamper_prefix,
                ssh=args.ssh,
                group=args.group,
                standins=False if args.no_standins else None,
                progress=report,
                notify=notify,
                cluster=args.cluster,
                shard=args.shard,
                # From the daemon's answer on, the lab is reported, whatever comes: a
                # Ctrl-C landing between "up" and the report would leave it up, unsaid.
                on_answer=_stop_taking_ctrl_c,
            )
    except KeyboardInterrupt:
        ui.err.print("lab removed")
        return 130
    if args.shard:
        ui.err.print(
            f"lab host [bold]{escape(args.shard)}[/] of lab [bold]{escape(up.name)}[/] is up:"
            f" {up.vps} VPs connected to the controller host ({up.seconds:.1f} s);"
            f" 'scamperlab down {escape(up.name)}'"
        )
        return 0
    ui.out.print(str(up.mux), markup=False, highlight=False)
    ui.err.print(
        f"lab [bold]{escape(up.name)}[/] is up: {up.vps} VPs on mux {escape(str(up.mux))}"
        f" ({up.seconds:.1f} s); 'scamperlab status', 'scamperlab down {escape(up.name)}'"
    )
    return 0


def _stop_taking_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def cmd_down(args: argparse.Namespace) -> int:
    from scamperlab.lab.lifecycle import down

    name = _lab_name(args)
    if not is_running(name):  # a crashed lab: say what was cleaned up
        for line in down(name):
            ui.err.print(escape(line))
        return 0
    with ui.err.status(f"tearing down lab {escape(name)}"):
        cleaned = down(name)
    for line in cleaned:
        ui.err.print(escape(line))
    ui.err.print(f"lab {escape(name)} is down")
    return 0


def _age(since: float | None) -> str:
    if not since:
        return "-"
    secs = int(time.time() - since)
    return f"{secs // 3600}h{secs % 3600 // 60:02d}m{secs % 60:02d}s"


def cmd_status(args: argparse.Namespace) -> int:
    from scamperlab.lab.status import all_status, lab_status

    if args.name:
        found = lab_status(args.name)
        if found is None:
            raise LabStateError(f"no lab named {args.name!r}")
        labs = [found]
    else:
        labs = all_status()
    if args.json:
        # One document, a list, whatever the number of labs: scripts parse it as is.
        ui.out.print_json(data=labs)
        return 0
    if not labs:
        ui.err.print("no lab is running")
        return 0
    for state in labs:
        _print_lab(state)
    return 0


def _table(title: str, columns: Sequence[str]) -> Table:
    """A table whose cells fold in a narrow terminal instead of ending in '…'."""
    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


def _print_lab(state: dict[str, Any]) -> None:
    from scamperlab.lab.standins import standins_summary

    name = state["name"]
    health = "running" if state["running"] else f"STALE: owner died; run scamperlab down {name}"
    title = (
        f"lab {name} ({health})"
        f" - {'mux ' + state['mux'] if state.get('mux') else 'no mux here'}"
        f" - scamper {state.get('scamper_version')}"
        f" - up {_age(state.get('started_at'))}"
    )
    columns = ("VP", "state", "pid", "IPv4", "IPv6", "cc", "place", "ASN", "tags", "uptime")
    table = _table(escape(title), (*columns, "restarts"))
    for vp in state.get("vps", []):
        table.add_row(
            *map(
                escape,
                (
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
                ),
            )
        )
    ui.out.print(table)
    targets = state.get("targets", [])
    if targets:
        t = _table("targets", ("target", "IPv4", "IPv6"))
        for target in targets:
            t.add_row(*map(escape, (target["name"], target["ipv4"], target["ipv6"])))
        ui.out.print(t)
    _print_links(state.get("links", []))
    _print_cluster(state.get("cluster"))
    access = state.get("access")
    if access:
        ui.out.print(
            f"who may connect: {access['who']}", soft_wrap=True, markup=False, highlight=False
        )
    said = standins_summary(state.get("standins") or {})
    if said is not None:
        ui.out.print(said, soft_wrap=True, markup=False, highlight=False)
    ssh = state.get("ssh")
    if ssh:
        ui.out.print(
            f"controller host: ssh -F {ssh['config']} {ssh['alias']}"
            f" ({ssh['user']}@{ssh['host']}:{ssh['port']}, mux {ssh['mux']});"
            f" deploy with: scamperlab deploy --lab {name} SCRIPT {{mux}}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    for warning in state.get("warnings", []):
        ui.warning(warning)


def _encryption(cluster: dict[str, Any]) -> str:
    return "clear text" if cluster.get("encryption") == "none" else "TLS (stunnel)"


def _print_cluster(cluster: dict[str, Any] | None) -> None:
    """A cluster's controller: its lab hosts and their VPs on the mux; a lab host: its place."""
    if not cluster:
        return
    if cluster["role"] == "controller":
        table = _table(
            f"lab hosts (VXLAN {cluster['vni']}, {_encryption(cluster)})",
            ("host", "address", "VPs up", "tunnel"),
        )
        for host in cluster["hosts"]:
            health = "down" if host["up"] == 0 else f"{host['up']}/{host['vps']}"
            tunnel = host.get("tunnel", "-")
            table.add_row(*map(escape, (host["host"], host["underlay"], health, tunnel)))
        ui.out.print(table)
        return
    ui.out.print(
        f"lab host {cluster['host']} ({cluster['underlay']}) of a cluster: {cluster['vps']} VPs,"
        f" controller host {cluster['controller']}, VXLAN {cluster['vni']},"
        f" {_encryption(cluster)}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


def _print_links(links: list[dict[str, Any]]) -> None:
    """Each link and what applies its delay: the kernel's netem or scamperlab's holder."""
    if not links:
        return
    table = _table("links", ("link", "delay", "jitter", "loss", "bandwidth", "mechanism"))
    for link in links:
        bandwidth = link.get("bandwidth_mbit")
        table.add_row(
            escape(link["link"]),
            f"{link['delay_ms']:g} ms",
            f"{link['jitter_ms']:g} ms" if link["jitter_ms"] else "",
            f"{link['loss_pct']:g} %" if link["loss_pct"] else "",
            f"{bandwidth:g} Mbit/s" if bandwidth else "",
            escape(link["mechanism"]),
        )
    ui.out.print(table)


# -- run / check -----------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    """The command's own exit status; 125 when the lab failed; 126/127 when the command
    could not be started (as a shell would say)."""
    from scamperlab.lab.core import Lab
    from scamperlab.lab.lifecycle import run_with_lab
    from scamperlab.lab.replay import recording_of

    try:
        lab = Lab.from_file(
            args.topology,
            name=args.name,
            scamper_prefix=args.scamper_prefix,
            ssh=args.ssh,
            group=args.group,
            standins=False if args.no_standins else None,
        )
        recording = (
            recording_of(lab, args.record, args.command)
            if args.record is not None
            else contextlib.nullcontext()
        )
        with recording:
            return run_with_lab(
                lab,
                args.command,
                starting=ui.start_progress,
                on_warning=ui.warning,
                on_import=_say_imports(),
            )
    except CommandError as exc:
        ui.error(str(exc))
        return exc.status
    except ScamperlabError as exc:
        ui.error(str(exc))
        return LAB_FAILED_EXIT


def cmd_replay(args: argparse.Namespace) -> int:
    """The command's own exit status, as ``run``'s; 1 when the recording cannot be read."""
    from scamperlab.lab.replay import Replay, load_recording, parse_speed, run_with_replay

    if args.list:
        _print_recording(args.recording, load_recording(args.recording, results=False))
        return 0

    def unrecorded(_command: str, _vp: str, message: str) -> None:
        ui.warning(message)

    replay = Replay(args.recording, speed=parse_speed(args.speed), on_unrecorded=unrecorded)
    try:
        return run_with_replay(replay, args.command, on_import=_say_imports())
    except CommandError as exc:
        ui.error(str(exc))
        return exc.status


def cmd_record(args: argparse.Namespace) -> int:
    """The command's own exit status; 1 when there is nothing to record from."""
    import os

    from scamperlab.lab.lifecycle import run_command
    from scamperlab.lab.replay import RecordedMux

    upstream = args.mux or os.environ.get("SCAMPERLAB_MUX")
    if not upstream:
        raise LabStateError("which mux? give --mux PATH (or set SCAMPERLAB_MUX)")
    try:
        with RecordedMux(upstream, args.recording, args.command) as mux:
            return run_command(mux, args.command, on_import=_say_imports())
    except CommandError as exc:
        ui.error(str(exc))
        return exc.status


def _print_recording(path: str, recording: Any) -> None:
    """``replay --list``: where a recording comes from, its VPs, and its commands by VP."""
    from scamperlab.lab.replay import summary

    info = summary(recording)
    ui.out.print(
        f"{path}: recording version {info.version}, {info.sessions} mux session(s),"
        f" {info.commands} command(s), {info.results} result(s), {info.errors} error(s)"
        + (f"; recorded from: {' '.join(info.command)}" if info.command else ""),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    # A column for departures only where one happened: narrow terminals have no room to spare.
    departures = any(vp.departed for vp in info.vps)
    columns = ("VP", "id", "IPv4", "cc", "place", "tags")
    vps = _table("VPs", (*columns, "departed") if departures else columns)
    for vp in info.vps:
        cells = [vp.name, str(vp.id), vp.ipv4, vp.cc, vp.place, ",".join(vp.tags)]
        vps.add_row(*map(escape, [*cells, vp.departed] if departures else cells))
    ui.out.print(vps)
    commands = _table("commands", ("VP", "command", "times", "results", "errors"))
    for row in info.rows:
        commands.add_row(
            *map(escape, (row.vp, row.command, str(row.times), str(row.results), str(row.errors)))
        )
    ui.out.print(commands)


def _say_imports() -> Callable[[ImportChoice], None]:
    """Say which scamper module the command's Pythons use: once per interpreter and module."""
    seen: set[tuple[str, str, str]] = set()

    def say(choice: ImportChoice) -> None:
        key = (choice.python, choice.module, choice.origin)
        if key not in seen:
            seen.add(key)
            ui.err.print(
                f"import scamper in {escape(choice.python)}: {escape(choice.describe())}",
                highlight=False,
            )

    return say


def cmd_check(args: argparse.Namespace) -> int:
    if args.topology.endswith(".py") or args.target_version:
        from scamperlab.deploy.command import cmd_check_script

        return cmd_check_script(args.topology, args.target_version)
    from scamperlab.topology.loader import load_topology
    from scamperlab.topology.plan import make_plan

    topo = load_topology(args.topology)
    plan = make_plan(topo)
    ui.out.print(
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
        ui.err.print(
            f"{args.output}: {len(topo.vps)} VPs, {args.ases} ASes, {len(topo.routers)} routers,"
            f" {len(topo.targets)} targets, {len(topo.links)} router links"
        )
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from scamperlab.topology.draw import draw_topology
    from scamperlab.topology.loader import load_topology

    draw_topology(load_topology(args.topology), args.output, title=args.title)
    ui.err.print(f"wrote {args.output}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import shutil

    from scamperlab.emulation.delay import fallback_problem
    from scamperlab.emulation.shaping import kernel_has_netem
    from scamperlab.processes.binaries import check_host_tools, find_scamper
    from scamperlab.processes.sources import costs

    ok = True
    modern = False
    try:
        install = find_scamper(args.scamper_prefix)
        ui.out.print(f"scamper {install.version} at {install.scamper}")
        mux = "sc_remoted serves it (-M)" if install.remoted_has_mux else "served by scamperlab"
        ui.out.print(f"sc_remoted at {install.sc_remoted}; mux socket {mux}")
        from scamperlab.mux.standin.probers import offered

        legacy = not (install.remoted_has_mux or install.emits_task_ids)
        for gives in offered(install.version) if legacy else []:
            ui.out.print(f"stand-in (the lab performs what this scamper lacks): {escape(gives)}")
        modern = install.remoted_has_mux
        if not modern:
            _doctor_modern(costs(install.version))
    except ScamperlabError as exc:
        ui.out.print(f"[red]scamper:[/] {escape(str(exc))}")
        _doctor_modern([])
        ok = False
    try:
        check_host_tools()
        ui.out.print("root and mnexec: ok")
    except ScamperlabError as exc:
        ui.out.print(f"[red]host:[/] {escape(str(exc))}")
        ok = False
    own = _doctor_import("scamperlab's Python", sys.executable)
    on_path = _doctor_import("python3 on PATH", shutil.which("python3"))
    own_is_caida = own is not None and not isinstance(own, str) and own.real
    ok = ok and not isinstance(own, str) and not isinstance(on_path, str)
    if kernel_has_netem():
        ui.out.print("link delay: netem (the kernel's sch_netem applies delay, jitter and loss)")
    elif (problem := fallback_problem()) is None:
        ui.out.print(
            "link delay: no sch_netem; scamperlab's userspace NFQUEUE holder applies"
            " delay, jitter and loss (docs/delay.md)"
        )
    else:
        ui.out.print(
            f"[red]link delay:[/] no sch_netem, and no userspace fallback: {escape(problem)}"
        )
        ok = False
    if args.require_modern and not (modern and own_is_caida):
        missing = [
            *([] if modern else ["sc_remoted's mux (-M)"]),
            *([] if own_is_caida else ["CAIDA's module in scamperlab's Python"]),
        ]
        ui.out.print(f"[red]--require-modern:[/] no {' and no '.join(missing)}")
        ok = False
    return 0 if ok else 1


def _doctor_modern(costs: list[str]) -> None:
    """Why and how to get a scamper whose sc_remoted serves the mux itself (-M)."""
    from scamperlab.processes.sources import modern_guidance, this_system

    if costs:
        ui.out.print("modern scamper: this one has no sc_remoted mux (-M), so")
        for line in costs:
            ui.out.print(f"  - {escape(line)}", highlight=False)
    else:
        ui.out.print("modern scamper: the lab wants scamper and sc_remoted; for the modern ones,")
    for line in modern_guidance(this_system()):
        ui.out.print(f"  {escape(line)}", highlight=False)


def _doctor_import(label: str, python: str | None) -> ImportChoice | str | None:
    """What ``import scamper`` gives ``python`` in a lab's commands (said), or why it fails.

    None where there is no such interpreter: not a fault of the lab's.
    """
    from scamperlab.shim import probe

    if python is None:
        ui.out.print(f"import scamper, {label}: there is none")
        return None
    found = probe(python)
    if isinstance(found, str):
        ui.out.print(f"[red]import scamper, {label}[/] ({escape(python)}): {escape(found)}")
        return found
    ui.out.print(
        f"import scamper, {label} ({escape(found.python)}, {found.version}):"
        f" {escape(found.describe())}",
        highlight=False,
    )
    return found


def cmd_cluster(args: argparse.Namespace) -> int:
    from scamperlab.deploy import cluster

    if args.action == "certs":
        from scamperlab.deploy.certs import make_certs
        from scamperlab.topology.cluster import load_cluster

        path = Path(args.file)
        ca = Path(args.ca) if args.ca else path.parent / "ca"
        for made in make_certs(load_cluster(path), ca):
            ui.err.print(f"wrote {escape(str(made))}/{{ca,cert,key}}.pem")
        ui.err.print(f"the CA's key is in {escape(str(ca))}: keep it, or remove it")
        return 0
    if args.action == "status":
        return cluster.run(cluster.status_argv(args.inventory))
    return cluster.run(
        cluster.playbook_argv(args.inventory, args.topology, down=args.action == "down")
    )


def cmd_wheelhouse(args: argparse.Namespace) -> int:
    from scamperlab.deploy.wheelhouse import build_wheelhouse

    wheels = build_wheelhouse(Path(args.dir), args.arch, args.python)
    for wheel in wheels:
        print(wheel.name)
    ui.err.print(
        escape(f"{len(wheels)} wheels in {args.dir} for {args.arch}, Python {args.python}")
    )
    return 0


def cmd_inventory(args: argparse.Namespace) -> int:
    import yaml

    from scamperlab import inventory

    if args.to_topology:
        try:
            data = yaml.safe_load(Path(args.source).read_text()) or {}
        except OSError as exc:
            raise ScamperlabError(f"cannot read {args.source}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ScamperlabError(f"{args.source}: not valid YAML: {exc}") from None
        try:
            text = inventory.dump_topology(inventory.inventory_to_topology(data, args.name))
        except ValueError as exc:  # pydantic's ValidationError included
            raise LabStateError(f"{args.source}: {exc}") from None
    else:
        from scamperlab.topology.loader import load_topology

        topo = inventory.topology_to_inventory(load_topology(args.source))
        text = inventory.dump_inventory(topo, args.source)
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as exc:
            raise ScamperlabError(f"cannot write {args.output}: {exc.strerror}") from None
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
        p.add_argument(
            "--group",
            metavar="NAME",
            help="let this group use the lab's mux and VP sockets (default: you only)",
        )
        p.add_argument(
            "--no-standins",
            action="store_true",
            help="refuse what the VPs' scamper lacks instead of performing it (docs/standins.md)",
        )

    up = sub.add_parser("up", help="bring a lab up and leave it running")
    up.add_argument("topology")
    lab_opts(up)
    part = up.add_argument_group("a lab over several hosts (docs/cluster.md)")
    part.add_argument(
        "--cluster", metavar="FILE", help="this host is one of the cluster FILE describes"
    )
    role = part.add_mutually_exclusive_group()
    role.add_argument("--shard", metavar="HOST", help="run lab host HOST's VPs (with --cluster)")
    role.add_argument(
        "--controller",
        action="store_true",
        help="run the controller host: sc_remoted and the mux of every VP (with --cluster)",
    )
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="tear a running lab down")
    down.add_argument("name", nargs="?")
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", help="show running labs and their VPs")
    status.add_argument("name", nargs="?")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    run = sub.add_parser(
        "run",
        help="bring a lab up, run a command against it, tear it down",
        epilog="exit status: the command's own; 125 if the lab failed (bad topology, start-up"
        " failure); 126/127 if the command could not be run; 130 on Ctrl-C",
    )
    run.add_argument("topology")
    lab_opts(run)
    run.add_argument(
        "--record",
        metavar="FILE",
        help="write what the command sent and received through the mux to FILE"
        " (for 'scamperlab replay')",
    )
    run.add_argument(
        "command", nargs="*", help="after --: the command and its arguments ({mux} is replaced)"
    )
    run.set_defaults(func=cmd_run)

    replay = sub.add_parser(
        "replay",
        help="serve a recording (run --record) on a mux socket and run a command against it",
        epilog="no root, namespaces or scamper needed. exit status: the command's own;"
        " 1 if the recording cannot be read; 126/127 if the command could not be run",
    )
    replay.add_argument("recording", metavar="FILE")
    replay.add_argument(
        "--list", action="store_true", help="print what the recording holds and exit"
    )
    replay.add_argument(
        "--speed",
        default="1",
        metavar="FACTOR|max",
        help="divide the recorded delays by FACTOR (default 1: as recorded); max: at once",
    )
    replay.add_argument(
        "command", nargs="*", help="after --: the command and its arguments ({mux} is replaced)"
    )
    replay.set_defaults(func=cmd_replay)

    record = sub.add_parser(
        "record",
        help="record what a command receives through any mux socket (Ark's, a lab's) to FILE",
        epilog="for 'scamperlab replay'. no root needed: only access to the mux socket."
        " exit status: the command's own; 1 if there is no mux to record from",
    )
    record.add_argument("recording", metavar="FILE")
    record.add_argument(
        "--mux", metavar="PATH", help="the mux socket to record (default: $SCAMPERLAB_MUX)"
    )
    record.add_argument(
        "command",
        nargs="*",
        help="after --: the command and its arguments ({mux} is replaced by the recording"
        " socket's path)",
    )
    record.set_defaults(func=cmd_record)

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
    doctor.add_argument("--scamper-prefix", help="check scamper/sc_remoted from DIR/bin")
    doctor.add_argument(
        "--require-modern",
        action="store_true",
        help="fail unless sc_remoted serves the mux (-M) and scamperlab's Python imports"
        " CAIDA's module (for CI that installs them)",
    )
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

    cluster = sub.add_parser(
        "cluster",
        help="a lab over several hosts, provisioned by Ansible (playbooks/cluster.yml)",
    )
    verbs = cluster.add_subparsers(dest="action", required=True, metavar="ACTION")
    inventory = "Ansible inventory: scamperlab_controller and scamperlab_hosts"
    for verb, text in (
        ("up", "install scamperlab on every host and start the lab"),
        ("down", "take the lab down on every host, leaving nothing"),
        ("status", "the controller host's scamperlab status"),
    ):
        action = verbs.add_parser(verb, help=text)
        action.add_argument("inventory", help=inventory)
        if verb == "up":
            action.add_argument("topology", help="the lab's topology file")
        action.set_defaults(func=cmd_cluster, topology=None)
    certs = verbs.add_parser(
        "certs", help="each host's TLS files for an encrypted cluster run without Ansible"
    )
    certs.add_argument("file", help="the cluster file (its tls names each host's directory)")
    certs.add_argument("--ca", help="the CA's directory (default: ca beside FILE)")
    certs.set_defaults(func=cmd_cluster)

    wheels = sub.add_parser(
        "wheelhouse",
        help="scamperlab and its dependencies as wheels, for hosts that install from them",
    )
    wheels.add_argument("dir", help="directory to write the wheels to")
    wheels.add_argument(
        "--arch",
        default=platform.machine(),
        help="the hosts' machine, as uname -m prints it (default: this machine's)",
    )
    wheels.add_argument(
        "--python",
        default=f"{sys.version_info.major}.{sys.version_info.minor}",
        help="the hosts' Python, e.g. 3.11 (default: this one's)",
    )
    wheels.set_defaults(func=cmd_wheelhouse)
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
        elif args.cmd not in ("run", "audit", "replay", "record"):
            build_parser().error(
                "'--' is only for 'scamperlab run|audit TOPOLOGY -- COMMAND'"
                " and 'scamperlab replay|record FILE -- COMMAND'"
            )
        else:
            args.command = [*args.command, *tail]
    if args.cmd in ("run", "audit") and not args.command:
        build_parser().error(f"nothing to run: scamperlab {args.cmd} TOPOLOGY -- COMMAND [ARGS...]")
    if args.cmd == "replay" and not args.command and not args.list:
        build_parser().error("nothing to run: scamperlab replay FILE -- COMMAND [ARGS...]")
    if args.cmd == "record" and not args.command:
        build_parser().error("nothing to run: scamperlab record FILE -- COMMAND [ARGS...]")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(message)s"
    )
    try:
        return int(args.func(args))
    except ScamperlabError as exc:
        ui.error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
