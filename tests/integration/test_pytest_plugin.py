"""The pytest plugin, run the way users run it: pytest in a subprocess, real labs.

Every inner run records, from inside each test, the lab it got (name,
namespaces, processes, state directory); the outer test then checks which
tests shared which lab and that every lab left nothing behind.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from scamperlab.lab.state import process_starttime
from tests.integration.conftest import ROOT, TINY
from tests.integration.leftovers import Snapshot, describe, processes_in, root_links

pytest_plugins = ["pytester"]
_roots = itertools.count()

# Records, from inside the inner run, what each test's lab is (see the module docstring).
RECORDER = """
import json, os, time
import pytest


def _record(item, lab, when):
    if lab is None or not lab.running:
        return
    row = {
        "test": item.nodeid.split("::")[-1],
        "when": when,
        "lab": lab.name,
        "topology": os.path.basename(str(lab.source)),
        "vps": [vp.name for vp in lab.vps],
        "state_dir": str(lab.state.dir),
        "namespaces": sorted(set(lab.net.namespace_ids().values())),
        "processes": {str(p.pid): p.starttime for p in lab.state.processes.values()},
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        "ticks": int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK")) + 1,
    }
    with open(os.environ["PLUGIN_RECORD"], "a") as f:
        f.write(json.dumps(row) + "\\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    lab = item.funcargs.get("scamperlab_lab")
    _record(item, lab, "start")
    try:
        return (yield)
    finally:
        _record(item, lab, "end")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    lab = item.funcargs.get("scamperlab_lab")
    try:
        return (yield)
    finally:
        _record(item, lab, "after")  # a lab that outlives the test: its restored VPs
"""

DUO = """
name: duo
routers: [{name: r1}]
vps:
  - {name: a.duo, cc: DE, uplink: {router: r1}}
  - {name: b.duo, cc: FR, uplink: {router: r1}}
targets:
  - {name: t.duo, ipv4: 192.0.2.9, uplink: {router: r1}}
"""


@dataclass
class Inner:
    result: pytest.RunResult
    records: list[dict[str, Any]]

    def labs(self) -> dict[str, str]:
        """Test name -> the lab it ran in."""
        return {r["test"]: r["lab"] for r in self.records}

    def assert_nothing_left(self, links_before: set[str], state_root: Path) -> None:
        for lab in {r["lab"] for r in self.records}:
            rows = [r for r in self.records if r["lab"] == lab]
            # The kernel hands a freed namespace's inode number to the next namespace
            # made on this machine (another lab, perhaps another user's): only a
            # process that was already running while the lab was up can be its leftover.
            last_seen = max(r["ticks"] for r in rows)
            namespaces = {ns for r in rows for ns in r["namespaces"]}
            left = [
                describe(pid)
                for pid in processes_in(namespaces)
                if (process_starttime(pid) or last_seen + 1) <= last_seen
            ]
            assert left == [], f"processes left in the namespaces of lab {lab}: {left}"
            processes = {int(pid): start for r in rows for pid, start in r["processes"].items()}
            Snapshot(
                namespaces=set(),  # checked above
                processes=processes,
                state_dir=Path(rows[0]["state_dir"]),
                links_before=links_before,
            ).assert_gone()
        assert not state_root.exists() or list(state_root.iterdir()) == []


def plugin_args() -> list[str]:
    """Load the plugin by name unless its entry point already does (installed package)."""
    if entry_points(group="pytest11", name="scamperlab"):
        return []
    return ["-p", "scamperlab.pytest_plugin"]


@pytest.fixture
def inner(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> Iterator[Any]:
    """Run pytest with the plugin in a subprocess, in a fresh state root; returns an Inner."""
    record = pytester.path / "record.jsonl"
    root = state_dir / f"p{next(_roots)}"  # short: unix socket paths are at most 107 bytes
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PLUGIN_RECORD", str(record))
    monkeypatch.delenv("SCAMPERLAB_REQUIRE_LAB", raising=False)
    monkeypatch.delenv("SCAMPERLAB_STATE_DIR", raising=False)
    pytester.makeconftest(RECORDER)
    shutil.copy(TINY, pytester.path / "tiny.yaml")
    (pytester.path / "duo.yaml").write_text(DUO)
    links_before = root_links()

    def run(*args: str, state: bool = True, check_leftovers: bool = True) -> Inner:
        record.unlink(missing_ok=True)
        argv = [*plugin_args(), "-p", "no:cacheprovider"]
        if state:
            argv += ["--scamperlab-state-dir", str(root)]
        result = pytester.runpytest_subprocess(*argv, *args, timeout=300)
        rows = (
            [json.loads(line) for line in record.read_text().splitlines()]
            if record.exists()
            else []
        )
        done = Inner(result, rows)
        if check_leftovers:
            done.assert_nothing_left(links_before, root)
        return done

    yield run
    shutil.rmtree(root, ignore_errors=True)


# -- fixtures, scopes, sharing -------------------------------------------------------


def test_every_fixture_on_a_session_lab_shared_by_tests_of_the_same_topology(
    pytester: pytest.Pytester, inner: Any
) -> None:
    pytester.makeini("[pytest]\nscamperlab_topology = tiny.yaml\n")
    pytester.makepyfile(
        test_a="""
        from scamper import ScamperCtrl

        def test_fixtures(scamperlab_lab, scamperlab_mux, scamperlab_ctrl, scamperlab_vps,
                          scamperlab_targets):
            assert scamperlab_mux == str(scamperlab_lab.mux_path)
            assert isinstance(scamperlab_ctrl, ScamperCtrl)
            assert sorted(v.name for v in scamperlab_ctrl.vps()) == sorted(scamperlab_vps)
            assert list(scamperlab_vps) == ["vp1.test", "vp2.test", "vp3.test"]
            vp1 = scamperlab_vps["vp1.test"]
            assert vp1.metadata.cc == "NZ" and vp1.metadata.tags == ["os:linux"]
            assert vp1.ipv4.startswith("198.18.") and vp1.ipv6.startswith("2001:db8:")
            assert scamperlab_targets["target"].ipv4 == "192.0.2.1"
            (inst,) = scamperlab_ctrl.add_vps(
                [vp for vp in scamperlab_ctrl.vps() if vp.name == "vp2.test"])
            ping = scamperlab_ctrl.do_ping("192.0.2.1", attempts=1, inst=inst, sync=True)
            assert ping.nreplies == 1

        def test_again(scamperlab_lab):
            pass
        """,
        test_b="""
        def test_other_module(scamperlab_ctrl):
            assert len(scamperlab_ctrl.vps()) == 3
        """,
    )
    done = inner()
    done.result.assert_outcomes(passed=3)
    labs = done.labs()
    assert len(set(labs.values())) == 1, labs
    assert next(iter(labs.values())).startswith("pytest-main-")
    assert {r["topology"] for r in done.records} == {"tiny.yaml"}


def test_module_scope_from_a_module_marker_ends_with_the_module(
    pytester: pytest.Pytester, inner: Any
) -> None:
    module = """
        import json, os
        from pathlib import Path
        import pytest

        pytestmark = pytest.mark.scamperlab(topology="tiny.yaml", scope="module")

        def test_one(scamperlab_lab):
            earlier = [json.loads(line) for line in open(os.environ["PLUGIN_RECORD"])]
            others = {r["state_dir"] for r in earlier if r["lab"] != scamperlab_lab.name}
            assert not any(Path(d).exists() for d in others)  # the other module's lab is gone

        def test_two(scamperlab_lab):
            pass
        """
    pytester.makepyfile(test_m1=module, test_m2=module)
    done = inner()
    done.result.assert_outcomes(passed=4)
    by_module: dict[str, set[str]] = {}
    for row in done.records:
        by_module.setdefault(row["state_dir"], set()).add(row["test"])
    assert sorted(map(sorted, by_module.values())) == [["test_one", "test_two"]] * 2


def test_function_scope_from_the_command_line_gives_each_test_its_own_lab(
    pytester: pytest.Pytester, inner: Any
) -> None:
    pytester.makepyfile(
        """
        def test_one(scamperlab_lab):
            pass

        def test_two(scamperlab_lab):
            pass
        """
    )
    done = inner("--scamperlab-scope", "function", "--scamperlab-topology", "duo.yaml")
    done.result.assert_outcomes(passed=2)
    labs = done.labs()
    assert labs["test_one"] != labs["test_two"]
    assert {r["topology"] for r in done.records} == {"duo.yaml"}


def test_marker_beats_option_beats_ini_and_the_default_is_ark_mini(
    pytester: pytest.Pytester, inner: Any
) -> None:
    (pytester.path / "sub").mkdir()
    shutil.copy(pytester.path / "duo.yaml", pytester.path / "sub" / "near.yaml")
    pytester.makeini("[pytest]\nscamperlab_topology = tiny.yaml\nscamperlab_scope = module\n")
    (pytester.path / "sub" / "test_sub.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.scamperlab("near.yaml")  # next to this file
            def test_marker(scamperlab_lab):
                pass

            def test_plain(scamperlab_lab):
                pass

            @pytest.mark.scamperlab(topology="ark-mini", scope="function")
            def test_builtin(scamperlab_lab):
                assert len(scamperlab_lab.vps) == 14
            """
        )
    )
    done = inner("--scamperlab-topology", "duo.yaml")
    done.result.assert_outcomes(passed=3)
    topo = {r["test"]: r["topology"] for r in done.records}
    assert topo == {
        "test_marker": "near.yaml",
        "test_plain": "duo.yaml",
        "test_builtin": "ark-mini.yaml",
    }
    # Without the option, the ini file's topology; with nothing at all, ark-mini.
    done = inner("-k", "plain")
    assert {r["topology"] for r in done.records} == {"tiny.yaml"}
    (pytester.path / "tox.ini").unlink()  # where makeini writes
    done = inner("-k", "plain", "--scamperlab-scope", "function")
    assert {r["topology"] for r in done.records} == {"ark-mini.yaml"}


def test_scope_and_state_directory_from_the_ini_file_or_the_environment(
    pytester: pytest.Pytester, inner: Any, monkeypatch: pytest.MonkeyPatch, state_dir: Path
) -> None:
    pytester.makepyfile(
        """
        def test_one(scamperlab_lab):
            pass

        def test_two(scamperlab_lab):
            pass
        """
    )
    from_ini = state_dir / f"i{next(_roots)}"
    pytester.makeini(
        "[pytest]\nscamperlab_topology = duo.yaml\nscamperlab_scope = function\n"
        f"scamperlab_state_dir = {from_ini}\n"
    )
    done = inner(state=False, check_leftovers=False)
    done.result.assert_outcomes(passed=2)
    assert len(set(done.labs().values())) == 2
    assert {Path(r["state_dir"]).parent for r in done.records} == {from_ini}
    done.assert_nothing_left(root_links(), from_ini)
    # The plugin made that root, so it removes it; a root it found stays.
    assert not from_ini.exists()

    from_env = state_dir / f"e{next(_roots)}"
    from_env.mkdir()
    monkeypatch.setenv("SCAMPERLAB_STATE_DIR", str(from_env))
    pytester.makeini("[pytest]\nscamperlab_topology = duo.yaml\n")
    done = inner(state=False, check_leftovers=False)
    done.result.assert_outcomes(passed=2)
    assert len(set(done.labs().values())) == 1
    assert {Path(r["state_dir"]).parent for r in done.records} == {from_env}
    done.assert_nothing_left(root_links(), from_env)
    assert from_env.is_dir()


def test_labs_of_a_killed_run_are_removed_by_the_next_run(
    pytester: pytest.Pytester, inner: Any
) -> None:
    pytester.makepyfile(
        """
        import os, signal

        def test_dies(scamperlab_lab):
            os.kill(os.getpid(), signal.SIGKILL)  # no teardown at all
        """
    )
    killed = inner("--scamperlab-topology", "tiny.yaml", check_leftovers=False)
    assert killed.result.ret != 0
    (row,) = [r for r in killed.records if r["when"] == "start"]
    assert Path(row["state_dir"]).is_dir()  # left behind
    pytester.makepyfile("def test_dies(scamperlab_lab):\n    pass\n")
    inner("--scamperlab-topology", "tiny.yaml").result.assert_outcomes(passed=1)
    killed.assert_nothing_left(root_links(), Path(row["state_dir"]).parent)


def test_wider_fixtures_get_the_session_lab_through_the_pool(
    pytester: pytest.Pytester, inner: Any
) -> None:
    pytester.makeconftest(
        RECORDER
        + """
@pytest.fixture(scope="session")
def prepared(scamperlab_pool):
    return scamperlab_pool.session_lab("tiny.yaml").name


@pytest.fixture(scope="session")
def configured(scamperlab_pool):
    return scamperlab_pool.session_lab().name
"""
    )
    pytester.makepyfile(
        """
        def test_same(prepared, configured, scamperlab_lab):
            assert prepared == configured == scamperlab_lab.name
        """
    )
    inner("--scamperlab-topology", "tiny.yaml").result.assert_outcomes(passed=1)


def test_bad_settings_are_usage_errors(pytester: pytest.Pytester, inner: Any) -> None:
    pytester.makepyfile("def test_x(scamperlab_lab):\n    pass\n")
    done = inner("--scamperlab-topology", "no-such-builtin")
    done.result.assert_outcomes(errors=1)
    done.result.stdout.fnmatch_lines(
        ["*no built-in topology 'no-such-builtin' (built-in: ark-mini)*"]
    )
    done = inner("--scamperlab-topology", "missing.yaml")
    done.result.stdout.fnmatch_lines(["*topology file */missing.yaml does not exist*"])
    pytester.makeini("[pytest]\nscamperlab_scope = forever\n")
    done = inner()
    assert done.result.ret == pytest.ExitCode.USAGE_ERROR
    done.result.stderr.fnmatch_lines(["*scamperlab scope 'forever': use one of session, module*"])


# -- faults ---------------------------------------------------------------------------


def test_faults_are_seen_by_the_test_and_undone_for_the_next(
    pytester: pytest.Pytester, inner: Any
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from scamper import ScamperInstError

        TARGET = "192.0.2.1"

        def ping(lab, vp, wait=3):
            # A reply takes a millisecond; a loaded machine may stall for longer.
            return lab.run_in(vp, ["ping", "-c", "1", "-W", str(wait), TARGET]).returncode

        def test_faults(scamperlab_lab, scamperlab_ctrl):
            lab = scamperlab_lab
            insts = {i.name: i for i in scamperlab_ctrl.add_vps(scamperlab_ctrl.vps())}
            lab.kill_vp("vp1.test")
            with pytest.raises(ScamperInstError, match="vp1.test"):
                scamperlab_ctrl.do_ping(TARGET, inst=insts["vp1.test"], sync=True)
            assert insts["vp1.test"].is_eof()
            assert ping(lab, "vp2.test") == 0
            lab.cut_link("core", "edge")
            assert ping(lab, "vp1.test", wait=1) != 0 and ping(lab, "vp2.test") == 0
            lab.restore_link("core", "edge")
            assert ping(lab, "vp1.test") == 0
            lab.cut_link("core", "edge")  # left cut: undone after the test
            change = lab.set_link("edge", "vp2.test", bandwidth=2)
            assert change.applied
            tc = lab.run_in("edge", ["tc", "qdisc", "show", "dev", "eth1"]).stdout
            assert "tbf" in tc and "2Mbit" in tc
            change = lab.set_link("vp2.test", "edge", delay="20ms", loss=5)
            assert change.params.delay == 20 and change.params.bandwidth == 2
            if not change.applied:
                assert change.unapplied == ("delay", "loss") and "sch_netem" in change.reason
            lab.kill_vp("vp3.test")
            with pytest.raises(KeyError):
                lab.kill_vp("core")

        def test_next(scamperlab_lab, scamperlab_ctrl):
            assert sorted(vp.name for vp in scamperlab_ctrl.vps()) == [
                "vp1.test", "vp2.test", "vp3.test"]
            assert ping(scamperlab_lab, "vp1.test") == 0
            assert "tbf" not in scamperlab_lab.run_in("edge", ["tc", "qdisc", "show"]).stdout
        """
    )
    done = inner("--scamperlab-topology", "tiny.yaml")
    done.result.assert_outcomes(passed=2)
    assert len(set(done.labs().values())) == 1
    if not any("sch_netem" in line for line in done.result.outlines):
        return
    done.result.stdout.fnmatch_lines(
        [
            "*ScamperlabWarning: this kernel has no sch_netem: delay, loss on link edge<->vp2.test"
            " is NOT applied*"
        ]
    )


def test_sent_is_an_extension_point(pytester: pytest.Pytester, inner: Any) -> None:
    pytester.makepyfile(
        """
        def test_sent(scamperlab_sent):
            assert scamperlab_sent("vp1.test") == ["probe from vp1.test"]
        """
    )
    done = inner("--scamperlab-topology", "tiny.yaml", "-rs")
    done.result.assert_outcomes(skipped=1)
    done.result.stdout.fnmatch_lines(["*no plugin implements pytest_scamperlab_sent*"])
    pytester.makeconftest(
        RECORDER
        + """
def pytest_scamperlab_sent(lab, vp):
    assert vp in {v.name for v in lab.vps}
    return [f"probe from {vp}"]
"""
    )
    inner("--scamperlab-topology", "tiny.yaml").result.assert_outcomes(passed=1)


# -- skipping, requiring ----------------------------------------------------------------


def _no_lab_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_lab(scamperlab_ctrl):
            pass

        def test_without_lab():
            pass
        """
    )


def test_missing_program_skips_with_the_reason_and_require_fails(
    pytester: pytest.Pytester, inner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_lab_tests(pytester)
    bare = pytester.path / "bin"
    bare.mkdir()
    for tool in ("ip", "tc"):  # everything but Mininet's mnexec
        found = shutil.which(tool)
        assert found is not None
        (bare / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bare))
    done = inner("-rs")
    done.result.assert_outcomes(passed=1, skipped=1)
    done.result.stdout.fnmatch_lines(
        ["SKIPPED*scamperlab: cannot build a lab: mnexec not found: apt-get install mininet"]
    )
    for how in (["--scamperlab-require"], ["-o", "scamperlab_require=true"]):
        done = inner(*how)
        done.result.assert_outcomes(passed=1, errors=1)
        done.result.stdout.fnmatch_lines(["*scamperlab: cannot build a lab: mnexec not found*"])
    monkeypatch.setenv("SCAMPERLAB_REQUIRE_LAB", "1")
    inner().result.assert_outcomes(passed=1, errors=1)


def test_not_root_skips_with_the_reason(pytester: pytest.Pytester) -> None:
    # pytester's own directory is private to root: run from one nobody can read.
    where = Path(tempfile.mkdtemp(prefix="scamperlab-nobody-"))
    try:
        where.chmod(0o755)
        (where / "test_nobody.py").write_text(
            "def test_lab(scamperlab_lab):\n    pass\n\ndef test_plain():\n    pass\n"
        )
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(where),
        }
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
        probe = subprocess.run(
            [*argv, "-c", "import pytest, scamperlab.pytest_plugin"], env=env, capture_output=True
        )
        if probe.returncode != 0:  # e.g. a venv inside a directory private to root
            pytest.skip(f"{sys.executable} cannot import pytest and scamperlab as nobody")
        argv += ["-m", "pytest", *plugin_args(), "-p", "no:cacheprovider", "-rs", str(where)]
        done = subprocess.run(argv, env=env, cwd=where, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(where)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    assert (
        "scamperlab: cannot build a lab: scamperlab needs root to create network namespaces"
        in done.stdout
    )


# -- xdist --------------------------------------------------------------------------------


def test_two_xdist_workers_each_build_their_own_lab(pytester: pytest.Pytester, inner: Any) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_ping(scamperlab_lab, scamperlab_ctrl, n):
            (inst,) = scamperlab_ctrl.add_vps(
                [vp for vp in scamperlab_ctrl.vps() if vp.name == "vp2.test"])
            ping = scamperlab_ctrl.do_ping("192.0.2.1", attempts=1, inst=inst, sync=True)
            assert ping.nreplies == 1
            if n == 0:
                scamperlab_lab.kill_vp("vp1.test")
        """
    )
    done = inner("-n", "2", "--scamperlab-topology", "tiny.yaml")
    done.result.assert_outcomes(passed=6)
    workers = {r["worker"]: r["lab"] for r in done.records}
    assert sorted(workers) == ["gw0", "gw1"]
    assert all(lab.startswith(f"pytest-{w}-") for w, lab in workers.items())
