"""A lab's life from outside: bring one up detached, take one down, run a command against one.

``scamperlab up``/``down``/``run``/``audit``, the pytest plugin and Python
users all go through these functions, so a lab started one way can be
stopped another, and a command sees the same lab whoever started it:

- :func:`up_detached` spawns a daemon (``python -m scamperlab.lab.lifecycle``)
  that runs a :class:`~scamperlab.lab.Lab` until SIGTERM, and relays its
  start-up progress through a pipe of JSON lines to callbacks;
- :func:`down` stops a running lab through its owner (SIGTERM, then SIGKILL
  after a timeout), or cleans up after one whose owner died;
- :func:`run_with_lab` builds a lab in this process, runs one command
  against it (:func:`run_command`) and tears it down, whatever happens.
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
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scamperlab.emulation.netns import deferred_signals
from scamperlab.errors import CommandError, LabStartError, LabStateError, ScamperlabError
from scamperlab.lab.owner import exit_on_first_sigterm
from scamperlab.lab.state import (
    check_lab_name,
    cleanup_stale,
    is_running,
    process_starttime,
    read_state,
    state_root,
)

if TYPE_CHECKING:
    from scamperlab.lab.cluster import ClusterController
    from scamperlab.lab.core import Lab, Progress
    from scamperlab.shim import ImportChoice

#: How a lab's start-up is reported besides progress: (kind, text), kind one of
#: "event" (e.g. stale state cleaned), "warning", or "interrupted" (Ctrl-C: tearing down).
Notify = Callable[[str, str], None]

#: Exit status of ``scamperlab run``/``audit`` when the lab itself failed (a bad
#: topology, a start-up failure), as ``docker run`` uses 125: any other status
#: is the command's own.
LAB_FAILED_EXIT = 125

#: Seconds between two reads of what a running command's Pythons imported.
IMPORTS_EVERY = 0.25

#: Seconds ``down`` waits for a lab's owner to tear down before it kills the owner.
DOWN_TIMEOUT = 60.0


class MuxEndpoint(Protocol):
    """What a command is run against: a :class:`~scamperlab.lab.Lab` or a
    :class:`~scamperlab.lab.replay.Replay`, a name and a mux socket."""

    name: str

    @property
    def mux_path(self) -> Path: ...

    @property
    def import_log(self) -> Path:
        """Where the command's Pythons record what ``import scamper`` gave them."""
        ...

    def note_imports(self) -> list[ImportChoice]:
        """The choices recorded since the last call."""
        ...


def lab_environment(lab: MuxEndpoint) -> dict[str, str]:
    """Environment for a command run against ``lab``: ``SCAMPERLAB_MUX``, ``SCAMPERLAB_LAB``."""
    env = dict(os.environ)
    env["SCAMPERLAB_MUX"] = str(lab.mux_path)
    env["SCAMPERLAB_LAB"] = lab.name
    return env


# -- running a command against a lab ---------------------------------------------


def run_command(
    lab: MuxEndpoint,
    command: Sequence[str],
    *,
    stdout: int | None = None,
    on_import: Callable[[ImportChoice], None] = lambda _choice: None,
) -> int:
    """Run ``command`` against a running lab and return its exit status.

    ``{mux}`` in an argument becomes the mux socket's path; the environment
    is :func:`lab_environment` with ``import scamper`` made to work in every
    Python the command starts (:func:`scamperlab.shim.environment`: each
    interpreter's own module where it has one, scamperlab's otherwise).
    What each of them chose becomes an ``import`` event of the lab and goes
    to ``on_import`` while the command runs. ``stdout`` is a file descriptor
    for the command's standard output (default: ours). Ctrl-C is passed to
    the command as SIGINT, and the status is then 130.
    """
    from scamperlab.shim import environment

    if not command:
        raise ScamperlabError("nothing to run: give a command after --")
    argv = [part.replace("{mux}", str(lab.mux_path)) for part in command]
    env = environment(lab_environment(lab), import_log=lab.import_log)
    proc: subprocess.Popen[bytes] | None = None
    try:
        # Ctrl-C or SIGTERM as the command starts is handled below, with the command
        # known: else it would outlive the lab (holding the caller's pipes open).
        with deferred_signals():
            try:
                proc = subprocess.Popen(argv, env=env, stdout=stdout)
            except OSError as exc:
                status = 127 if isinstance(exc, FileNotFoundError) else 126
                raise CommandError(f"cannot run {argv[0]}: {exc.strerror}", status) from exc
        while True:
            try:
                status = proc.wait(timeout=IMPORTS_EVERY)
                break
            except subprocess.TimeoutExpired:
                # Read as they come: a long run says early which module it is using.
                for choice in lab.note_imports():
                    on_import(choice)
    except KeyboardInterrupt:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait()
        status = 130
    except BaseException:
        # SIGTERM (SystemExit) or an error: the command goes with the lab.
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait()
        raise
    for choice in lab.note_imports():
        on_import(choice)
    return status


def run_with_lab(
    lab: Lab,
    command: Sequence[str],
    *,
    starting: Callable[[], AbstractContextManager[Progress]] | None = None,
    on_warning: Callable[[str], None] = lambda _warning: None,
    around: Callable[[Lab], AbstractContextManager[object]] | None = None,
    stdout: int | None = None,
    on_import: Callable[[ImportChoice], None] = lambda _choice: None,
) -> int:
    """Start ``lab``, run ``command`` against it (:func:`run_command`), stop the lab.

    ``starting()`` is entered around the start-up and gives the progress
    callback (a progress bar that must be gone before the command writes).
    ``around(lab)`` is entered once the lab is up and exited when the
    command has ended, before the lab goes (an audit captures there).
    ``on_import`` hears what ``import scamper`` gave each Python the command
    started. Returns the command's status. A :class:`~scamperlab.errors.ScamperlabError`
    other than :class:`~scamperlab.errors.CommandError` means the lab (not
    the command) failed: ``scamperlab run`` turns it into exit status 125.
    """
    from scamperlab.shim import check_mode

    if not command:
        raise ScamperlabError("nothing to run: give a command after --")
    check_mode()  # a bad SCAMPERLAB_SCAMPER is refused before a lab is built for nothing
    try:
        # Inside the try: Ctrl-C just as the start-up ends must still stop the lab
        # (a start-up that fails has removed what it made itself: nothing runs).
        with starting() if starting is not None else contextlib.nullcontext(_quiet) as report:
            lab.start(progress=report)
        for warning in lab.warnings:
            on_warning(warning)
        with around(lab) if around is not None else contextlib.nullcontext():
            return run_command(lab, command, stdout=stdout, on_import=on_import)
    finally:
        if lab.running:
            lab.stop()


def _quiet(_phase: str, _done: int, _total: int) -> None:
    """Progress nobody watches."""


# -- up: a lab in a detached daemon ----------------------------------------------


@dataclass(frozen=True)
class DetachedLab:
    """A lab that :func:`up_detached` left running: stop it with :func:`down`."""

    name: str
    mux: Path
    vps: int
    seconds: float  # how long start-up took
    pid: int  # the daemon's


def up_detached(
    topology: str | Path,
    *,
    name: str | None = None,
    scamper_prefix: str | None = None,
    ssh: bool = False,
    group: str | None = None,
    state_dir: str | Path | None = None,
    progress: Progress | None = None,
    notify: Notify | None = None,
    standins: bool | None = None,
    cluster: str | Path | None = None,
    shard: str | None = None,
    on_answer: Callable[[], None] | None = None,
) -> DetachedLab:
    """Bring a lab up in a daemon of its own and return once every VP is on the mux.

    The topology is validated here first, so a bad file fails at once with
    its line number. ``progress(phase, done, total)`` and ``notify(kind,
    text)`` see the daemon's start-up. A start-up failure raises
    :class:`~scamperlab.errors.LabStartError` (the daemon has removed the
    lab); a ``KeyboardInterrupt`` meanwhile stops the daemon, which tears
    down what it built, and then propagates. ``on_answer()`` runs as soon as
    the daemon has answered (up, or failed), still under that rule: a caller
    that must report a lab it got, whatever comes next, stops taking Ctrl-C
    there (the CLI does), so no Ctrl-C can fall between "up" and its report.

    With a ``cluster`` file, this host is one of a cluster's
    (:mod:`scamperlab.lab.cluster`): lab host ``shard``, or with no ``shard``
    the controller host, which serves the mux and returns at once (lab hosts
    join it whenever they come up).
    """
    from scamperlab.topology.loader import load_topology

    topo = load_topology(topology)
    lab_name = check_lab_name(name or topo.name)
    report: Progress = progress or (lambda _p, _d, _t: None)
    tell: Notify = notify or (lambda _kind, _text: None)
    read_fd, write_fd = os.pipe()
    argv = [sys.executable, "-m", "scamperlab.lab.lifecycle", "--progress-fd", str(write_fd)]
    argv += ["--name", lab_name, str(Path(topology).resolve())]
    if scamper_prefix:
        argv += ["--scamper-prefix", str(scamper_prefix)]
    if ssh:
        argv.append("--ssh")
    if group:
        argv += ["--group", group]
    if standins is not None:
        argv.append("--standins" if standins else "--no-standins")
    if cluster is not None:
        from scamperlab.topology.cluster import load_cluster, make_cluster_plan

        planned = make_cluster_plan(topo, load_cluster(cluster), lab_name)
        if shard is not None:
            planned.shard(shard)  # an unknown host fails here, with its message
        argv += ["--cluster", str(Path(cluster).resolve())]
        argv += ["--shard", shard] if shard else []
    env = dict(os.environ)
    if state_dir is not None:
        env["SCAMPERLAB_STATE_DIR"] = str(state_dir)
    daemon = subprocess.Popen(
        argv,
        pass_fds=(write_fd,),
        start_new_session=True,  # Ctrl-C in the user's terminal must not reach it directly
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(write_fd)
    result: dict[str, Any] = {}
    try:
        with os.fdopen(read_fd) as reader:
            for line in reader:
                msg = json.loads(line)
                if "progress" in msg:
                    report(*msg["progress"])
                elif "warning" in msg:
                    tell("warning", msg["warning"])
                elif "event" in msg:
                    tell("event", msg["event"])
                else:
                    result = msg
                    break
        if on_answer is not None:
            on_answer()
        if "error" in result or not result:
            daemon.wait()
            raise LabStartError(result.get("error", "the lab daemon died during start-up"))
        return DetachedLab(
            lab_name, Path(result["mux"]), result["vps"], result["seconds"], daemon.pid
        )
    except KeyboardInterrupt:
        tell("interrupted", f"interrupted: tearing lab {lab_name} down...")
        daemon.send_signal(signal.SIGTERM)
        daemon.wait()
        raise


def _serve_detached(argv: Sequence[str]) -> int:
    """The daemon :func:`up_detached` spawns: run the lab until SIGTERM, then tear it down."""
    parser = argparse.ArgumentParser(prog="python -m scamperlab.lab.lifecycle")
    parser.add_argument("topology")
    parser.add_argument("--progress-fd", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--scamper-prefix")
    parser.add_argument("--ssh", action="store_true")
    parser.add_argument("--group")
    parser.add_argument("--standins", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--cluster")
    parser.add_argument("--shard")
    args = parser.parse_args(argv)

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
        lab = _daemon_lab(args)
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


def _daemon_lab(args: argparse.Namespace) -> Lab | ClusterController:
    """The daemon's lab: one host's whole lab, or its part of a cluster's."""
    from scamperlab.lab.core import Lab

    if args.cluster is None:
        return Lab.from_file(
            args.topology,
            name=args.name,
            scamper_prefix=args.scamper_prefix,
            ssh=args.ssh,
            group=args.group,
            standins=args.standins,
        )
    from scamperlab.lab.cluster import ClusterController, Shard
    from scamperlab.topology.cluster import load_cluster, make_cluster_plan
    from scamperlab.topology.loader import load_topology

    topo = load_topology(args.topology)
    cluster = make_cluster_plan(topo, load_cluster(args.cluster), args.name)
    if args.shard is None:
        return ClusterController(
            cluster,
            name=args.name,
            scamper_prefix=args.scamper_prefix,
            source=args.topology,
            group=args.group,
        )
    return Lab(
        topo,
        shard=Shard(cluster, args.shard),
        name=args.name,
        scamper_prefix=args.scamper_prefix,
        source=args.topology,
        group=args.group,
        standins=args.standins,
    )


# -- down ------------------------------------------------------------------------


def down(
    name: str, *, state_dir: str | Path | None = None, timeout: float = DOWN_TIMEOUT
) -> list[str]:
    """Stop lab ``name``, or clean up after it if its owner died; return what was cleaned.

    A running lab is asked to stop through its owner (the daemon, or the
    process with the ``with Lab`` block) by SIGTERM; an owner still there
    after ``timeout`` seconds is killed and its leftovers removed from the
    lab's record, by PID and start time, never by name.
    """
    root = Path(state_dir) if state_dir is not None else state_root()
    directory = root / check_lab_name(name)
    if not (directory / "lock").exists() and not (directory / "state.json").exists():
        raise LabStateError(f"no lab named {name!r}")
    state = read_state(name, root) or {}
    if not is_running(name, root):
        return cleanup_stale(directory)
    pid, starttime = state.get("owner_pid"), state.get("owner_starttime")
    if pid is None or process_starttime(int(pid)) != starttime:
        raise LabStateError(f"lab {name!r} is held by an unknown process; cannot stop it safely")
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    # Wait for the owner itself, not just its lock: it exits just after releasing it.
    while is_running(name, root) or process_starttime(int(pid)) == starttime:
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.5)
            return cleanup_stale(directory)
        time.sleep(0.1)
    return []


if __name__ == "__main__":
    sys.exit(_serve_detached(sys.argv[1:]))
