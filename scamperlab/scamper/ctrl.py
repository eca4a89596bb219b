"""``ScamperCtrl``: CAIDA's controller API, in pure Python.

Everything happens in the caller's thread, inside ``poll()``,
``responses()`` and synchronous ``do_*`` calls, as in the real module: there
is no background thread, so callbacks run exactly where a script expects.

The controller connects (:mod:`.transport`), attaches instances
(:mod:`.instance`) over sockets or mux channels (:mod:`.muxclient`), runs
the one poll loop and hands out what its :class:`~.collector.Collector`
gathered. It sees instances, tasks and muxes only through their modules'
accessors (``session_of``, ``task_state``, ``vp_ref``, ``connection_of``).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import os
import re
import select
import stat
from collections.abc import Callable, Iterator
from typing import Any

from scamperlab.scamper import commands
from scamperlab.scamper.collector import Collector
from scamperlab.scamper.errors import ScamperInstError
from scamperlab.scamper.instance import (
    Link,
    ScamperInst,
    ScamperTask,
    new_instance,
    session_of,
    task_state,
)
from scamperlab.scamper.muxclient import ScamperMux, ScamperVp, connection_of, open_mux, vp_ref
from scamperlab.scamper.transport import SocketTransport, connect_inet, connect_unix
from scamperlab.wire.tagging import TAG_BASE, TAGGABLE

# method -> (technique name for errors, result class it produces, accepts a list of instances)
MEASUREMENTS: dict[str, tuple[str, str, bool]] = {
    "do_trace": ("trace", "ScamperTrace", True),
    "do_tracelb": ("tracelb", "ScamperTracelb", True),
    "do_ping": ("ping", "ScamperPing", True),
    "do_dns": ("dns", "ScamperHost", True),
    "do_http": ("http", "ScamperHttp", True),
    "do_udpprobe": ("udpprobe", "ScamperUdpprobe", True),
    "do_tbit": ("tbit", "ScamperTbit", True),
    "do_sniff": ("sniff", "ScamperSniff", True),
    "do_owamp": ("owamp", "ScamperOwamp", True),
    "do_ally": ("ally", "ScamperDealias", False),
    "do_mercator": ("mercator", "ScamperDealias", True),
    "do_prefixscan": ("prefixscan", "ScamperDealias", False),
    "do_radargun": ("radargun", "ScamperDealias", True),
    "do_midarest": ("midarest", "ScamperDealias", False),
    "do_midardisc": ("midardisc", "ScamperDealias", False),
}
_REMOTE_NAME_RE = re.compile(r"(?:.+/)?(.+)-")


def _deadline(timeout: Any, until: Any) -> _dt.datetime | None:
    if timeout is not None and until is not None:
        raise ValueError("cannot provide both timeout and until parameters")
    if until is not None:
        if not isinstance(until, _dt.datetime):
            raise TypeError("until is not a datetime")
        return until
    if timeout is None:
        return None
    delta = timeout if isinstance(timeout, _dt.timedelta) else _dt.timedelta(seconds=timeout)
    return _dt.datetime.now() + delta


class ScamperCtrl:
    """Drives scamper instances: unix/TCP control sockets, sc_remoted sockets, mux VPs."""

    def __init__(
        self,
        meta: bool = False,
        morecb: Callable[..., Any] | None = None,
        eofcb: Callable[..., Any] | None = None,
        param: Any = None,
        unix: str | None = None,
        remote: str | None = None,
        remote_dir: str | None = None,
        mux: str | None = None,
        outfile: Any = None,
    ) -> None:
        from scamperlab.scamper.file import ScamperFile

        if outfile is not None:
            if not isinstance(outfile, ScamperFile):
                raise ValueError("outfile not ScamperFile")
            if not outfile.is_write():
                raise RuntimeError("outfile not opened in write mode")
        self.morecb = morecb
        self.eofcb = eofcb
        self.param = param
        self.outfile = outfile
        self._collector = Collector(self, bool(meta))
        self._muxes: list[ScamperMux] = []  # the pytest plugin closes these (see ScamperMux)
        self._tags = 0
        if unix is not None:
            self.add_unix(unix)
        if remote is not None:
            self.add_remote(remote)
        if remote_dir is not None:
            self.add_remote_dir(remote_dir)
        if mux is not None:
            self.add_mux(mux)

    def __enter__(self) -> ScamperCtrl:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        return None

    # -- properties ---------------------------------------------------------------

    @property
    def instc(self) -> int:
        return len(self._collector.attached)

    @property
    def taskc(self) -> int:
        return self._collector.taskc

    # -- instances --------------------------------------------------------------------

    def _attach(self, name: str | None, libname: str, link: Link, vp: Any = None) -> ScamperInst:
        return new_instance(self._collector, name, libname, link, vp)

    def add_unix(self, path: str) -> ScamperInst:
        transport = SocketTransport(connect_unix(str(path)))
        inst = self._attach(str(path), str(path), transport)
        session_of(inst).attach()
        return inst

    def add_inet(self, port: int, addr: str | None = None) -> ScamperInst:
        host = addr if addr is not None else "127.0.0.1"
        transport = SocketTransport(connect_inet(host, int(port)))
        name = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        inst = self._attach(name, name, transport)
        session_of(inst).attach()
        return inst

    def add_remote(self, path: str) -> ScamperInst:
        path = str(path)
        transport = SocketTransport(connect_unix(path))
        m = _REMOTE_NAME_RE.search(path)
        return self._attach(m.group(1) if m else path, path, transport)

    def add_remote_dir(self, path: str) -> None:
        for entry in os.listdir(path):
            full = os.path.join(path, entry)
            try:
                if not stat.S_ISSOCK(os.stat(full).st_mode):
                    continue
                self.add_remote(full)
            except (OSError, RuntimeError):
                continue

    def add_mux(self, path: str) -> None:
        self._muxes.append(open_mux(str(path)))

    def vps(self) -> list[ScamperVp]:
        return [vp for mux in self._muxes for vp in mux.vps()]

    def add_vps(self, vps: Any) -> list[ScamperInst]:
        if isinstance(vps, ScamperVp):
            items = [vps]
        elif isinstance(vps, list | set):
            items = list(vps)
            if not all(isinstance(v, ScamperVp) for v in items):
                raise TypeError("vps contains non ScamperVp")
        else:
            raise TypeError("vps not ScamperVp, list, or set")
        added = []
        for vp in items:
            ref = vp_ref(vp)
            if ref.mux not in self._muxes or not ref.conn.has_vp(ref.vp_id):
                continue
            if not ref.conn.is_open():
                continue
            name = vp.name or vp.ipv4 or vp.ipv6
            channel = ref.conn.open_channel(ref.vp_id)
            inst = self._attach(name, name or "", channel, vp)
            channel.deliver_to(session_of(inst))
            added.append(inst)
        return added

    def remove(self, inst: Any) -> None:
        if not isinstance(inst, ScamperInst):
            raise TypeError("inst is not a ScamperInst")
        session = session_of(inst)
        if session.removed or self._collector.attached.get(session.handle) is not inst:
            raise ValueError("instance not in this ctrl")
        session.remove()

    def instances(self) -> list[ScamperInst]:
        return list(self._collector.attached.values())

    def done(self) -> None:
        for inst in list(self._collector.attached.values()):
            inst.done()

    def is_done(self) -> bool:
        return self._collector.is_done()

    def exceptions(self) -> Iterator[BaseException]:
        pending = self._collector.exceptions
        while pending:
            yield pending.popleft()

    # -- collecting -------------------------------------------------------------------

    def poll(self, timeout: Any = None, until: Any = None) -> Any:
        collector = self._collector
        collector.raise_pending()
        obj = collector.pop_result()
        if obj is not None:
            collector.run_eofcbs(raise_direct=True)
            return obj
        deadline = _deadline(timeout, until)
        while True:
            collector.run_eofcbs(raise_direct=True)
            collector.raise_pending()
            obj = collector.pop_result()
            if obj is not None:
                collector.run_eofcbs(raise_direct=True)
                return obj
            if collector.is_done():
                return None
            if deadline is not None and _dt.datetime.now() >= deadline:
                return None
            self._wait(deadline)

    def responses(self, timeout: Any = None, until: Any = None) -> Iterator[Any]:
        collector = self._collector
        deadline = _deadline(timeout, until)
        while True:
            while (obj := collector.pop_result()) is not None:
                collector.run_eofcbs(raise_direct=False)
                yield obj
            collector.run_eofcbs(raise_direct=False)
            if collector.taskc <= 0:
                return
            if deadline is not None and _dt.datetime.now() >= deadline:
                return
            self._wait(deadline)

    # -- the event loop ------------------------------------------------------------

    def _wait(self, deadline: _dt.datetime | None) -> None:
        """Wait for and handle I/O until something happens or ``deadline`` passes."""
        poller = select.poll()
        handlers: dict[int, Callable[[], None]] = {}
        transports: dict[int, SocketTransport] = {}
        for inst in self._collector.attached.values():
            session = session_of(inst)
            transport = session.transport
            if transport is not None and not transport.closed:
                fd = transport.fileno()
                handlers[fd] = session.on_readable
                transports[fd] = transport
        for mux in self._muxes:
            conn = connection_of(mux)
            if conn.is_open():
                fd = conn.transport.fileno()
                handlers[fd] = conn.on_readable
                transports[fd] = conn.transport
        if not handlers:
            if deadline is None:
                raise RuntimeError("no connected ScamperInst")
            return
        for fd, transport in transports.items():
            poller.register(fd, select.POLLIN | (select.POLLOUT if transport.wants_write() else 0))
        if deadline is None:
            timeout_ms: float | None = None
        else:
            timeout_ms = max(0.0, (deadline - _dt.datetime.now()).total_seconds() * 1000)
        for fd, events in poller.poll(timeout_ms):
            if events & select.POLLOUT:
                transports[fd].flush()
            if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                handlers[fd]()

    # -- measurements -------------------------------------------------------------------

    def _select(
        self, inst: Any, technique: str, allow_list: bool, sync: Any
    ) -> list[ScamperInst] | ScamperInst:
        attached = self._collector.attached
        if inst is None:
            if not attached:
                raise RuntimeError("no connected ScamperInst")
            if len(attached) > 1:
                raise RuntimeError("specify a ScamperInst")
            only: ScamperInst = next(iter(attached.values()))
            return only
        if isinstance(inst, ScamperInst):
            session = session_of(inst)
            if session.removed:
                raise RuntimeError("ScamperInst removed from ctrl")
            if session.eof:
                if inst.name:
                    raise RuntimeError(f"ScamperInst {inst.name} has signalled EOF")
                raise RuntimeError("ScamperInst has signalled EOF")
            return inst
        if isinstance(inst, list | set):
            if not allow_list:
                kind = "list" if isinstance(inst, list) else "set"
                raise RuntimeError(f"{kind} of ScamperInst not allowed with {technique}")
            if not all(isinstance(i, ScamperInst) for i in inst):
                raise TypeError("inst list contains non ScamperInst")
            usable = sorted(
                {i for i in inst if not session_of(i).removed and not session_of(i).eof},
                key=lambda i: session_of(i).handle,
            )
            if not usable:
                raise RuntimeError("no usable ScamperInst")
            if sync is True:
                raise RuntimeError("cannot run synchronous measurements with list")
            return usable
        raise TypeError("inst not ScamperInst type")

    def _issue(self, method: str, line: str, userid: Any, inst: Any, sync: Any) -> Any:
        technique, expect, allow_list = MEASUREMENTS[method]
        chosen = self._select(inst, technique, allow_list, sync)
        user_userid = int(userid) if isinstance(userid, int) else 0
        if isinstance(chosen, list):
            out = []
            for one in chosen:
                try:
                    out.append(self._launch(one, line, expect, user_userid, bool(sync)))
                except RuntimeError:
                    continue
            if sync:
                return [self._wait_sync(t) for t in out]
            return out
        task = self._launch(chosen, line, expect, user_userid, bool(sync))
        return self._wait_sync(task) if sync else task

    def _launch(
        self, inst: ScamperInst, line: str, expect: str, userid: int, sync: bool
    ) -> ScamperTask:
        tag = None
        if line.split(" ", 1)[0].lower() in TAGGABLE:
            self._tags = (self._tags + 1) % 0x3FFFFFFF
            tag = TAG_BASE + self._tags
        return session_of(inst).schedule(line, expect, tag, userid, sync)

    def _wait_sync(self, task: ScamperTask) -> Any:
        state = task_state(task)
        while not state.finished:
            self._collector.raise_pending()
            if state.error is not None:
                raise state.error
            if state.dropped:
                session = state.session
                raise ScamperInstError(f"got fatal from {session.name}: task lost", session.inst)
            self._wait(None)
        return state.result


def _make_measurement(method: str, builder: Callable[..., str]) -> Callable[..., Any]:
    """A ``do_*`` method with the real module's signature: the builder's parameters
    (all positional-or-keyword, as in the module) followed by ``inst`` and ``sync``."""
    build_sig = inspect.signature(builder)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        p.replace(kind=kind) for name, p in build_sig.parameters.items() if name != "recordroute"
    ]
    params += [
        inspect.Parameter("inst", kind, default=None),
        inspect.Parameter("sync", kind, default=False),
    ]
    public = build_sig.replace(parameters=params, return_annotation=inspect.Signature.empty)
    legacy = "recordroute" in build_sig.parameters

    names = [p.name for p in params]
    known = frozenset(names)
    required = [p.name for p in params if p.default is inspect.Parameter.empty]

    def measure(self: ScamperCtrl, *args: Any, **kwargs: Any) -> Any:
        legacy_value = kwargs.pop("recordroute", None) if legacy else None
        # Signature.bind costs ~40 us a call, a fifth of the client's time per
        # ping at thousands of results a second: bind by hand when the call is
        # plainly well-formed, and let bind() word the error otherwise.
        values = dict(zip(names, args, strict=False))
        if (
            len(args) <= len(names)
            and known.issuperset(kwargs)
            and values.keys().isdisjoint(kwargs)
            and all(r in values or r in kwargs for r in required)
        ):
            values.update(kwargs)
        else:
            values = dict(public.bind(*args, **kwargs).arguments)
        inst = values.pop("inst", None)
        sync = values.pop("sync", False)
        if legacy_value is not None:
            values["recordroute"] = legacy_value
        line = builder(**values)
        return self._issue(method, line, values.get("userid"), inst, sync)

    measure.__name__ = method
    measure.__qualname__ = f"ScamperCtrl.{method}"
    doc = (builder.__doc__ or "").strip() or f"Issue a {method[3:]} measurement."
    if legacy:
        doc += "\n\n``recordroute`` (module 20260420's name for ``ip_rr``) is accepted too."
    measure.__doc__ = doc
    self_param = inspect.Parameter("self", kind)
    measure.__signature__ = public.replace(parameters=[self_param, *params])  # type: ignore[attr-defined]
    return measure


for _method in MEASUREMENTS:
    setattr(ScamperCtrl, _method, _make_measurement(_method, commands.BUILDERS[_method]))
