"""pytest fixtures for measurement code: a real lab, its mux, a ``ScamperCtrl``, and faults.

Loaded by pytest through the ``pytest11`` entry point wherever scamperlab
is installed. It costs nothing until a test asks for a lab: fixtures import
the lab lazily, so suites that never use them are unaffected.

Labs are expensive (a second or more each) and measurement tests mostly only
read them, so a lab is shared by every test that asks for the same topology
with the same scope, and every fault a test injects is undone before the
next test gets the lab. Each lab is named after this process's PID (and the
xdist worker), so concurrent runs and xdist workers never clash.

Where a lab cannot be built (not root, no ``mnexec``, no scamper), tests that
use these fixtures are skipped with the reason, unless ``--scamperlab-require``
(or ``SCAMPERLAB_REQUIRE_LAB=1``) turns that into a failure, as CI should.

**Replay mode** (``--scamperlab-mode replay``, or ``auto``: a lab where one
can be built, else the recording): ``scamperlab_mux`` and ``scamperlab_ctrl``
are served from a recording (``scamperlab run --record``), named by the
marker's ``replay``, ``--scamperlab-replay`` or ini ``scamperlab_replay``,
without root (:class:`scamperlab.lab.replay.Replay`, one per recording for
the whole session); fixtures that need the lab itself skip.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from scamperlab.lab.core import Lab
    from scamperlab.lab.replay import Replay
    from scamperlab.lab.views import LabNode, LabVp
    from scamperlab.mux.recorder import Recorder

SCOPES = ("session", "module", "function")
MODES = ("lab", "replay", "auto")
BUILTIN_TOPOLOGIES = Path(__file__).resolve().parent / "data" / "topologies"
DEFAULT_TOPOLOGY = "ark-mini"


class ScamperlabWarning(UserWarning):
    """The lab differs from what the test asked for (e.g. delay not applied without netem)."""


class Hooks:
    """Hooks other plugins implement to extend scamperlab's fixtures."""

    @pytest.hookspec(firstresult=True)
    def pytest_scamperlab_sent(self, lab: Lab, vp: str) -> Any:
        """What ``vp`` has sent so far (extension point for an audit backend).

        Return an object describing the VP's probes, or None to leave it to
        another plugin. The ``scamperlab_sent`` fixture hands it to tests; with
        no implementation, tests using that fixture are skipped.
        """


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("scamperlab", "scamperlab: measurement code against a real lab")
    group.addoption(
        "--scamperlab-topology",
        metavar="PATH",
        help=f"topology file of the labs (default: ini scamperlab_topology, else the built-in"
        f" {DEFAULT_TOPOLOGY!r})",
    )
    group.addoption(
        "--scamperlab-scope", choices=SCOPES, help="how long a lab lives (default: session)"
    )
    group.addoption(
        "--scamperlab-state-dir",
        metavar="DIR",
        help="root of the labs' state directories (default: $SCAMPERLAB_STATE_DIR or"
        " /run/scamperlab)",
    )
    group.addoption(
        "--scamperlab-require",
        action="store_true",
        default=None,
        help="fail, instead of skip, when a lab cannot be built (also SCAMPERLAB_REQUIRE_LAB=1)",
    )
    group.addoption(
        "--scamperlab-mode",
        choices=MODES,
        help="lab: a real lab (default); replay: serve the tests' recording instead; auto: a"
        " lab where one can be built, else the recording",
    )
    group.addoption(
        "--scamperlab-replay",
        metavar="FILE",
        help="recording to serve in replay mode (default: the marker's replay=, else ini"
        " scamperlab_replay)",
    )
    group.addoption(
        "--scamperlab-record",
        metavar="FILE",
        help="record what the tests received through their labs' muxes to FILE, for replay mode",
    )
    parser.addini("scamperlab_topology", "topology file of the labs (relative to the rootdir)")
    parser.addini("scamperlab_mode", "lab, replay or auto (see --scamperlab-mode)")
    parser.addini(
        "scamperlab_replay", "recording to serve in replay mode (relative to the rootdir)"
    )
    parser.addini("scamperlab_scope", "how long a lab lives: session, module or function")
    parser.addini("scamperlab_state_dir", "root of the labs' state directories")
    parser.addini("scamperlab_require", "fail instead of skip without a lab", type="bool")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(Hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "scamperlab(topology=None, scope=None, replay=None): the lab this test runs in"
        " (topology file, and how long the lab lives: session, module or function), and the"
        " recording it is served from in replay mode",
    )
    _make_scamper_importable()
    pool = config.stash[_POOL] = LabPool(config)
    pool.scope(None)  # a bad --scamperlab-scope or ini value is a usage error, now
    pool.mode()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    # Before any conftest.py runs: one that imports scamper gets the same choice.
    _make_scamper_importable()


def _make_scamper_importable() -> None:
    """Measurement code says ``import scamper``: this interpreter's own module if it has
    one (CAIDA's), scamperlab's otherwise (see :mod:`scamperlab.shim`)."""
    from scamperlab.shim import install

    try:
        install()
    except Exception as exc:  # ScamperlabError: a bad SCAMPERLAB_SCAMPER
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> str:
    """Which module ``import scamper`` gives these tests, first thing in the report."""
    import importlib.util

    from scamperlab.shim import choices_here

    try:
        importlib.util.find_spec("scamper")  # the hook decides (and records), nothing runs
    except ImportError as exc:
        return f"scamperlab: import scamper fails: {exc}"
    choices = choices_here()
    if not choices:  # imported before the plugin was loaded, or not at all
        where = getattr(sys.modules.get("scamper"), "__file__", "no module")
        return f"scamperlab: import scamper gives {where} (not scamperlab's choice)"
    return f"scamperlab: import scamper gives {choices[-1].describe()}"


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.close(lambda key: True)
        pool.close_replays()
        pool.save_recording()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    # After every fixture of the test is gone: a module's labs end with its last test.
    try:
        yield
    finally:
        module = _module_of(item)
        if nextitem is None or _module_of(nextitem) != module:
            item.config.stash[_POOL].close(lambda key: key[1] == ("module", module))


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


class LabPool:
    """The running labs of this pytest process, by (topology file, lifetime)."""

    _names = itertools.count(1)

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.labs: dict[tuple[Path, tuple[str, str]], Lab] = {}
        self._unavailable: str | None = None
        self._checked = False
        self._swept = False
        self._made_root: Path | None = None
        self.replays: dict[Path, Replay] = {}
        self.recorder: Recorder | None = None  # --scamperlab-record: every lab's mux sessions

    # -- settings -----------------------------------------------------------

    def mode(self) -> str:
        value = self.config.getoption("scamperlab_mode") or self.config.getini("scamperlab_mode")
        value = value or "lab"
        if value not in MODES:
            raise pytest.UsageError(f"scamperlab mode {value!r}: use one of {', '.join(MODES)}")
        return str(value)

    def recording(self, marker: pytest.Mark | None, test_dir: Path) -> Path | None:
        """The marker's ``replay`` (relative to the test's file), else the option's, else ini's."""
        if marker is not None and marker.kwargs.get("replay"):
            return self._relative(str(marker.kwargs["replay"]), test_dir)
        if option := self.config.getoption("scamperlab_replay"):
            return self._relative(option, self.config.invocation_params.dir)
        if ini := self.config.getini("scamperlab_replay"):
            return self._relative(str(ini), self.config.rootpath)
        return None

    def replay_for(self, marker: pytest.Mark | None, test_dir: Path) -> Replay | None:
        """The replay this test is served from, or None where it gets a lab."""
        mode = self.mode()
        if mode == "lab" or (mode == "auto" and self.unavailable() is None):
            return None
        path = self.recording(marker, test_dir)
        if path is None:
            if mode == "auto":
                return None  # no recording either: a lab, or the reason there is none
            raise pytest.UsageError(
                "scamperlab replay mode: no recording: give @pytest.mark.scamperlab(replay=...),"
                " --scamperlab-replay or ini scamperlab_replay"
            )
        replay = self.replays.get(path.resolve())
        if replay is None:
            from scamperlab.lab.replay import Replay

            replay = Replay(path, speed=float("inf"))
            replay.start()
            self.replays[path.resolve()] = replay
        return replay

    def save_recording(self) -> None:
        path = self.config.getoption("scamperlab_record")
        if path and self.recorder is not None:
            self.recorder.save(self._relative(path, self.config.invocation_params.dir))

    def close_replays(self) -> None:
        for replay in self.replays.values():
            replay.stop()
        self.replays.clear()

    def require(self) -> bool:
        flag = self.config.getoption("scamperlab_require")
        if flag is None:
            flag = self.config.getini("scamperlab_require")
        return bool(flag) or os.environ.get("SCAMPERLAB_REQUIRE_LAB") == "1"

    def state_root(self) -> Path:
        from scamperlab.lab.state import state_root

        chosen = self.config.getoption("scamperlab_state_dir") or self.config.getini(
            "scamperlab_state_dir"
        )
        return self._relative(chosen, self.config.rootpath) if chosen else state_root()

    def topology(self, marker: pytest.Mark | None, test_dir: Path) -> Path:
        """The marker's topology (relative to the test's file), else the option's, else ini's."""
        if marker is not None and (marker.args or "topology" in marker.kwargs):
            value = marker.kwargs.get("topology", marker.args[0] if marker.args else None)
            return self._resolve(str(value), test_dir)
        if option := self.config.getoption("scamperlab_topology"):
            return self._resolve(option, self.config.invocation_params.dir)
        if ini := self.config.getini("scamperlab_topology"):
            return self._resolve(str(ini), self.config.rootpath)
        return self._resolve(DEFAULT_TOPOLOGY, self.config.rootpath)

    def scope(self, marker: pytest.Mark | None) -> str:
        value = (marker.kwargs.get("scope") if marker is not None else None) or (
            self.config.getoption("scamperlab_scope") or self.config.getini("scamperlab_scope")
        )
        value = value or "session"
        if value not in SCOPES:
            raise pytest.UsageError(f"scamperlab scope {value!r}: use one of {', '.join(SCOPES)}")
        return str(value)

    @staticmethod
    def _relative(value: str, base: Path) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path

    def _resolve(self, value: str, base: Path) -> Path:
        # A bare name ("ark-mini") is one of the topologies shipped with scamperlab.
        if "/" not in value and not value.endswith((".yaml", ".yml")):
            path = BUILTIN_TOPOLOGIES / f"{value}.yaml"
            known = sorted(p.stem for p in BUILTIN_TOPOLOGIES.glob("*.yaml"))
            if not path.is_file():
                raise pytest.UsageError(
                    f"scamperlab: no built-in topology {value!r} (built-in: {', '.join(known)});"
                    " give a path to a topology file instead"
                )
            return path
        path = self._relative(value, base).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"scamperlab: topology file {path} does not exist")
        return path

    # -- labs ---------------------------------------------------------------

    def unavailable(self) -> str | None:
        """Why no lab can be built here (checked once per process), or None."""
        if not self._checked:
            self._checked = True
            self._unavailable = _missing_prerequisite()
        return self._unavailable

    def get(self, topology: Path, key: tuple[str, str]) -> Lab:
        """The running lab for ``topology`` and lifetime ``key``, started if need be."""
        reason = self.unavailable()
        if reason is not None:
            message = f"scamperlab: cannot build a lab: {reason}"
            if self.require():
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        lab = self.labs.get((topology, key))
        if lab is not None:
            return lab
        from scamperlab.lab.core import Lab

        self._sweep()
        lab = Lab.from_file(topology, name=self._name(), state_dir=self.state_root())
        if self.config.getoption("scamperlab_record"):
            from scamperlab.lab.replay import lab_info
            from scamperlab.mux.recorder import Recorder

            if self.recorder is None:
                self.recorder = Recorder(
                    lab_info(lab, ["pytest", *self.config.invocation_params.args])
                )
            lab.recorder = self.recorder
        lab.start()
        self.labs[(topology, key)] = lab
        return lab

    def session_lab(self, topology: str | Path | None = None) -> Lab:
        """The lab that tests of session scope get for ``topology``.

        ``topology`` is resolved like the ini option (relative to the rootdir,
        or a built-in name); without it, the command line's or ini's topology.
        """
        if topology is None:
            path = self.topology(None, self.config.rootpath)
        else:
            path = self._resolve(str(topology), self.config.rootpath)
        return self.get(path, ("session", ""))

    def close(self, which: Callable[[tuple[Path, tuple[str, str]]], bool]) -> None:
        for key in [k for k in self.labs if which(k)]:
            self.labs.pop(key).stop()
        if not self.labs and self._made_root is not None:
            with contextlib.suppress(OSError):
                self._made_root.rmdir()  # only if empty: another run may be using it

    def _name(self) -> str:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        return f"pytest-{worker}-{os.getpid()}-{next(self._names)}"

    def _sweep(self) -> None:
        """Remove labs of earlier pytest runs that died (SIGKILL) before tearing down."""
        if self._swept:
            return
        self._swept = True
        from scamperlab.lab.state import cleanup_stale, is_running, list_labs, process_starttime

        root = self.state_root()
        if not root.exists():
            self._made_root = root
        for name in list_labs(root):
            match = re.fullmatch(r"pytest-[^-]+-(\d+)-\d+", name)
            if match is None or process_starttime(int(match.group(1))) is not None:
                continue  # not ours, or its pytest is still running
            if not is_running(name, root):
                cleanup_stale(root / name)


def _missing_prerequisite() -> str | None:
    """Root, ``mnexec``, ``ip`` and ``tc`` (all from apt), and scamper: what a lab needs."""
    from scamperlab.processes.binaries import check_host_tools, find_scamper

    try:
        check_host_tools()
        find_scamper()
    except Exception as exc:  # MissingDependencyError: its message says what to install
        return str(exc)
    return None


_POOL = pytest.StashKey[LabPool]()


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture
def scamperlab_lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The running :class:`~scamperlab.lab.Lab` this test measures in.

    Its topology is the ``scamperlab`` marker's ``topology`` (a path relative
    to the test's file), else ``--scamperlab-topology``, else the ini option
    ``scamperlab_topology``, else the built-in ``ark-mini``. Its lifetime is
    the marker's ``scope``, else ``--scamperlab-scope`` or ini
    ``scamperlab_scope``, else ``session``: tests with the same topology and
    scope share one lab. Faults injected through the lab (``kill_vp``,
    ``cut_link``, ``set_link``...) are undone after the test, so the next
    test sees the lab its topology file describes. Skipped (with the reason)
    where no lab can be built.
    """
    pool = request.config.stash[_POOL]
    marker = request.node.get_closest_marker("scamperlab")
    if pool.replay_for(marker, request.path.parent) is not None:
        pytest.skip("scamperlab: replay mode: this test needs a lab, and a recording has none")
    topology = pool.topology(marker, request.path.parent)
    scope = pool.scope(marker)
    owner = {
        "session": "",
        "module": _module_of(request.node) if isinstance(request.node, pytest.Item) else "",
        "function": request.node.nodeid,
    }[scope]
    key = (scope, owner)
    fresh = (topology, key) not in pool.labs
    lab = pool.get(topology, key)
    # Warnings go to the test that saw them: the one that started the lab, or changed it.
    seen = 0 if fresh else len(lab.warnings)
    yield lab
    for message in lab.warnings[seen:]:
        request.node.warn(ScamperlabWarning(message))
    if scope == "function":
        pool.close(lambda k: k == (topology, key))
    else:
        lab.reset_faults()


@pytest.fixture(scope="session")
def scamperlab_pool(request: pytest.FixtureRequest) -> LabPool:
    """The labs of this test process, for fixtures of wider scope than a test.

    ``scamperlab_pool.session_lab("topology.yaml")`` is the lab that
    ``scamperlab_lab`` gives tests of session scope, so a session-scoped
    fixture can prepare something in it once.
    """
    pool: LabPool = request.config.stash[_POOL]
    return pool


@pytest.fixture
def scamperlab_mux(request: pytest.FixtureRequest) -> str:
    """Path of the lab's mux socket, as a string: what ``ScamperCtrl(mux=...)`` takes on Ark.

    In replay mode, the mux socket of the test's recording, served as fast as it
    can answer (see :mod:`scamperlab.lab.replay`).
    """
    replay = _recorded(request)
    if replay is not None:
        return str(replay.mux_path)
    lab: Lab = request.getfixturevalue("scamperlab_lab")
    return str(lab.mux_path)


@pytest.fixture
def scamperlab_ctrl(scamperlab_mux: str) -> Iterator[Any]:
    """A ``ScamperCtrl`` connected to the lab's mux, which has announced the lab's VPs.

    It comes from ``import scamper``: CAIDA's module where installed,
    scamperlab's pure-Python one otherwise, so the test sees the behaviour
    its code will meet. No VP is added: ``ctrl.add_vps(ctrl.vps())`` as on
    Ark. Its instances are removed after the test.
    """
    scamper = importlib.import_module("scamper")
    ctrl = scamper.ScamperCtrl(mux=scamperlab_mux)
    yield ctrl
    for inst in list(ctrl.instances()):
        with contextlib.suppress(Exception):
            ctrl.remove(inst)
    # CAIDA's module closes its mux connection when the object goes; scamperlab's
    # has no public close either, so do it here rather than leak the socket.
    for mux in getattr(ctrl, "_muxes", []):
        mux._transport.close()


def _recorded(request: pytest.FixtureRequest) -> Replay | None:
    """The test's replay in replay mode, None where it gets a lab."""
    pool: LabPool = request.config.stash[_POOL]
    return pool.replay_for(request.node.get_closest_marker("scamperlab"), request.path.parent)


@pytest.fixture
def scamperlab_vps(request: pytest.FixtureRequest) -> dict[str, LabVp]:
    """The lab's VPs by name, in file order: ``ipv4``, ``ipv6`` and ``metadata`` (cc, tags...).

    In replay mode, those of the lab the recording was made in (from its topology)."""
    replay = _recorded(request)
    if replay is None:
        lab: Lab = request.getfixturevalue("scamperlab_lab")
        return {vp.name: vp for vp in lab.vps}
    if replay.vps is None:
        pytest.skip("scamperlab: replay mode: the recording holds no topology")
    return {vp.name: vp for vp in replay.vps}


@pytest.fixture
def scamperlab_targets(request: pytest.FixtureRequest) -> dict[str, LabNode]:
    """The lab's target hosts by name, with the ``ipv4`` and ``ipv6`` to measure.

    In replay mode, those of the lab the recording was made in (from its topology)."""
    replay = _recorded(request)
    if replay is None:
        lab: Lab = request.getfixturevalue("scamperlab_lab")
        return {target.name: target for target in lab.targets}
    if replay.targets is None:
        pytest.skip("scamperlab: replay mode: the recording holds no topology")
    return {target.name: target for target in replay.targets}


@pytest.fixture
def scamperlab_sent(request: pytest.FixtureRequest, scamperlab_lab: Lab) -> Callable[[str], Any]:
    """``sent(vp)``: what a VP has sent, from whichever plugin implements
    ``pytest_scamperlab_sent`` (an audit backend). Without one, the test is skipped."""
    hook = request.config.hook

    def sent(vp: str) -> Any:
        found = hook.pytest_scamperlab_sent(lab=scamperlab_lab, vp=vp)
        if found is None:
            pytest.skip(
                "scamperlab: no plugin implements pytest_scamperlab_sent (no audit backend)"
            )
        return found

    return sent
