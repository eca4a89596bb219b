"""``scamperlab deploy`` and ``scamperlab check SCRIPT``: the pieces put together.

A deploy is: resolve the host (ssh config, or a lab's own), check the script
statically, connect (strict host keys), probe the remote interpreter, upload,
run with live output, fetch outputs, clean up, and exit with the script's
status. Every failure before the script runs exits 255 like ``ssh`` does,
except "the script would not work there" (missing module, API mismatch),
which exits 1 with the reasons; after it runs, the script's own status wins.

The SSH side (paramiko, the ``deploy`` extra) is imported by the deploy's own
functions, not with this module: ``scamperlab check SCRIPT`` needs none of it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scamperlab.deploy.scriptcheck import (
    Report,
    check_script,
    debian_package,
    known_versions,
    latest_version,
)
from scamperlab.errors import ScamperlabError

if TYPE_CHECKING:
    import paramiko

    from scamperlab.deploy.remote import RemoteInfo
    from scamperlab.deploy.upload import Upload


def _say(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr, flush=True)


def _print_report(report: Report, script: str) -> None:
    for finding in report.findings:
        print(f"{finding}", file=sys.stderr)
    if report.third_party:
        packages = " ".join(sorted(set(report.third_party.values())))
        print(f"  Debian packages to ask Ark's operators for: {packages}", file=sys.stderr)


def cmd_check_script(script: str, version: str | None) -> int:
    """``scamperlab check SCRIPT [--target-version V]``: exit 1 if anything would break."""
    path = Path(script)
    if not path.is_file():
        raise ScamperlabError(f"{script}: no such file")
    target = version or latest_version()
    if target not in known_versions():
        raise ScamperlabError(
            f"unknown scamper module version {target!r}: known versions are"
            f" {', '.join(known_versions())}"
        )
    report = check_script(path, target)
    if report.ok:
        names = ", ".join(str(p.name) for p in report.checked)
        print(f"{script}: ok for scamper {target} ({names})")
        return 0
    _print_report(report, script)
    print(f"{script}: {len(report.findings)} problem(s) for scamper {target}", file=sys.stderr)
    return 1


def _lab_host(lab: str) -> tuple[str, str]:
    """(config file, host alias) of a running lab's controller host."""
    from scamperlab.deploy.sshconn import DeployError
    from scamperlab.lab.state import check_lab_name, read_state

    state = read_state(check_lab_name(lab))
    if state is None:
        raise DeployError(f"no lab named {lab!r} is running ('scamperlab status' lists them)")
    ssh = state.get("ssh")
    if not ssh:
        raise DeployError(
            f"lab {lab!r} has no controller host: start it with 'scamperlab up --ssh ...'"
            " (or 'controller: {ssh: true}' in the topology)"
        )
    return str(ssh["config"]), str(ssh["alias"])


def _remote_version(info: RemoteInfo) -> str | None:
    scamper = info.scamper or {}
    if scamper.get("implementation") == "scamperlab":
        return latest_version()  # scamperlab's own module implements the newest inventory
    version = scamper.get("version")
    return str(version) if version else None


def cmd_deploy(args: argparse.Namespace) -> int:
    """``scamperlab deploy``: the script's exit status, or 255/2/1 as above."""
    from scamperlab.deploy.sshconn import DeployError

    try:
        return _deploy(args)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("deploy: interrupted", file=sys.stderr)
        return 130


def _deploy(args: argparse.Namespace) -> int:
    from scamperlab.deploy import remote as remote_mod
    from scamperlab.deploy.sshconn import DeployError, connect, load_config, resolve
    from scamperlab.deploy.upload import files_to_upload
    from scamperlab.lab.sshd import ARK_MUX

    script = Path(args.script)
    if not script.is_file():
        raise DeployError(f"{script}: no such file", status=2)
    if args.target_version and args.target_version not in known_versions():
        raise DeployError(
            f"unknown scamper module version {args.target_version!r}: known versions are"
            f" {', '.join(known_versions())}",
            status=2,
        )
    config_path = args.ssh_config
    host = args.host
    if args.lab:
        config_path, host = _lab_host(args.lab)
    if not host:
        raise DeployError("say where to deploy: --host [USER@]HOST, or --lab NAME", status=2)
    config = load_config(config_path)
    spec = resolve(host, config, port=args.port, identity=args.identity)
    uploads = files_to_upload(script, [Path(d) for d in args.data])
    mux: str = args.mux or ARK_MUX
    if args.record is not None:
        from scamperlab.deploy.recording import check_destination

        check_destination(Path(args.record))

    # Which non-standard modules the script needs: the remote must have every one.
    report = check_script(script, args.target_version or latest_version())
    modules = sorted(report.third_party)
    if any(f.kind == "scamperlab" for f in report.findings):
        _print_report(report, str(script))
        raise DeployError(
            "the script imports scamperlab, which Ark does not have: use the scamper module",
            status=1,
        )

    _say(
        f"connecting to {spec.where}"
        + (f" via {','.join(spec.proxy_jump)}" if spec.proxy_jump else "")
    )
    with connect(spec, config) as conn:
        client = conn.client
        info = remote_mod.probe(client, args.python, ["scamper", *modules], mux, args.remote_dir)
        keep = args.keep or args.remote_dir is not None
        try:
            return _run_there(args, script, mux, uploads, info, client, keep)
        finally:
            if not keep:
                try:
                    remote_mod.remove_dir(client, info.dir)
                except Exception:  # the connection may be gone: say so, keep the script's status
                    _say(f"could not remove {info.dir} on the remote host")


def _run_there(
    args: argparse.Namespace,
    script: Path,
    mux: str,
    uploads: list[Upload],
    info: RemoteInfo,
    client: paramiko.SSHClient,
    keep: bool,
) -> int:
    from scamperlab.deploy import remote as remote_mod
    from scamperlab.deploy.sshconn import DeployError
    from scamperlab.deploy.upload import fetch, upload

    py = ".".join(str(n) for n in info.python)
    if info.scamper is None or "error" in (info.scamper or {}):
        detail = (info.scamper or {}).get("error", "ModuleNotFoundError")
        raise DeployError(
            f"the remote {info.executable} (Python {py}) cannot import scamper ({detail}):"
            " install CAIDA's scamper Python module there (on Ark it is installed for"
            " python3), or choose the interpreter that has it with --python",
            status=1,
        )
    local = sys.version_info[:2]
    if tuple(info.python[:2]) < local:
        _say(
            f"note: the remote Python is {py}, older than this one"
            f" ({local[0]}.{local[1]}); the script was tested with a newer language"
        )
    missing = [m for m in info.missing if m != "scamper"]
    if missing:
        packages = " ".join(debian_package(m) for m in missing)
        raise DeployError(
            f"the script imports {', '.join(missing)}, not installed for {info.executable}"
            f" on the remote host: ask its operators for the Debian package(s) {packages}"
            " (Ark installs third-party modules only that way), or drop the import(s)",
            status=1,
        )
    version = args.target_version or _remote_version(info)
    implementation = (info.scamper or {}).get("implementation", "?")
    _say(
        f"remote Python {py} ({info.executable}), scamper module"
        f" {version or 'of unknown version'} ({implementation})"
    )
    if not args.no_check and version in known_versions():
        report = check_script(script, version, installed=lambda m: m not in info.missing)
        if not report.ok:
            _print_report(report, str(script))
            raise DeployError(
                f"the script would fail with scamper module {version}, which the remote host"
                " has (problems above): fix them, or pass --no-check to run it anyway",
                status=1,
            )
    elif not args.no_check:
        known = ", ".join(known_versions())
        _say(f"scamper module version unknown here: API check skipped (known: {known})")
    if not info.mux_exists and any("{mux}" in a for a in args.args):
        _say(f"warning: {mux} is not a socket on the remote host")

    sftp = client.open_sftp()
    try:
        upload(sftp, info.dir, uploads)
        if args.record is None:
            argv = [script.name, *(a.replace("{mux}", mux) for a in args.args)]
        else:
            from scamperlab.deploy import recording

            recording.install_recorder(sftp, info)
            argv = recording.recorded_argv(info, mux, [script.name, *args.args])
        _say(f"uploaded {len(uploads)} file(s) to {info.dir}; running {script.name}")
        status, interrupted = remote_mod.run(client, args.python, info.dir, argv)
        if args.record is not None:
            if recording.fetch_recording(sftp, info, Path(args.record)):
                _say(f"recorded the run's mux sessions in {args.record}")
            else:
                _say("the recorder on the remote host wrote no recording")
                status = status or 1
        if interrupted:
            _say("interrupted: the remote script was stopped")
            return 130
        into = Path(args.into)
        fetched, absent = fetch(sftp, info.dir, args.fetch, into) if args.fetch else ([], [])
        for path in fetched:
            _say(f"fetched {path}")
        if keep:
            _say(f"kept the remote directory {info.dir}")
    finally:
        sftp.close()
    if status != 0:
        _say(f"the remote script exited with status {status}")
        return status
    if absent:
        _say(
            f"the script did not write {', '.join(absent)} in its working directory on the"
            " remote host"
        )
        return 1
    return 0
