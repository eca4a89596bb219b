"""``ScamperCtrl``: CAIDA's controller API, in pure Python.

Everything happens in the caller's thread, inside ``poll()``,
``responses()`` and synchronous ``do_*`` calls, as in the real module: there
is no background thread, so callbacks run exactly where a script expects.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import os
import re
import select
import socket
import stat
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from scamperlab.scamper import commands
from scamperlab.scamper.control import (
    ScamperInst,
    ScamperMux,
    ScamperTask,
    ScamperVp,
    SocketTransport,
    connect_unix,
)
from scamperlab.scamper.errors import ScamperInstError
from scamperlab.scamper.results import ScamperCycle, ScamperList
from scamperlab.wire.tagging import TAG_BASE, TAGGABLE, asked_by

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
        self._meta = bool(meta)
        self.morecb = morecb
        self.eofcb = eofcb
        self.param = param
        self.outfile = outfile
        self._insts: dict[int, ScamperInst] = {}
        self._muxes: list[ScamperMux] = []
        self._results: deque[tuple[Any, ScamperInst]] = deque()
        self._exceptions: deque[BaseException] = deque()
        self._taskc = 0
        self._tags = 0
        self._eof_waiting: list[ScamperInst] = []
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
        return len(self._insts)

    @property
    def taskc(self) -> int:
        return self._taskc

    # -- instances --------------------------------------------------------------------

    def _adopt(self, inst: ScamperInst) -> ScamperInst:
        self._insts[inst._handle] = inst
        return inst

    def add_unix(self, path: str) -> ScamperInst:
        sock = connect_unix(str(path))
        inst = ScamperInst._create(self, "unix", str(path), str(path))
        inst._transport = SocketTransport(sock)
        inst._awaiting.append(("attach", None, "attach"))
        inst._transport.send(b"attach\n")
        return self._adopt(inst)

    def add_inet(self, port: int, addr: str | None = None) -> ScamperInst:
        host = addr if addr is not None else "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.connect((host, int(port)))
        except OSError as exc:
            sock.close()
            raise RuntimeError(f"could not connect to {host}:{port}") from exc
        name = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
        inst = ScamperInst._create(self, "inet", name, name)
        inst._transport = SocketTransport(sock)
        inst._awaiting.append(("attach", None, "attach"))
        inst._transport.send(b"attach\n")
        return self._adopt(inst)

    def add_remote(self, path: str) -> ScamperInst:
        path = str(path)
        sock = connect_unix(path)
        m = _REMOTE_NAME_RE.search(path)
        inst = ScamperInst._create(self, "remote", m.group(1) if m else path, path)
        inst._transport = SocketTransport(sock)
        return self._adopt(inst)

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
        self._muxes.append(ScamperMux._connect(str(path)))

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
            mux = vp._mux
            if mux not in self._muxes or vp._id not in mux._vps or mux._transport.closed:
                continue
            name = vp.name or vp.ipv4 or vp.ipv6
            inst = ScamperInst._create(self, "mux", name, name or "")
            inst._vp = vp
            inst._mux = mux
            inst._mux_chan = mux._open_channel(vp)
            mux._channels[inst._mux_chan] = inst
            added.append(self._adopt(inst))
        return added

    def remove(self, inst: Any) -> None:
        if not isinstance(inst, ScamperInst):
            raise TypeError("inst is not a ScamperInst")
        if inst._removed or self._insts.get(inst._handle) is not inst:
            raise ValueError("instance not in this ctrl")
        del self._insts[inst._handle]
        for task in list(inst._open_tasks):
            inst._drop(task)
        inst._close()
        inst._removed = True

    def instances(self) -> list[ScamperInst]:
        return list(self._insts.values())

    def done(self) -> None:
        for inst in list(self._insts.values()):
            inst.done()

    def is_done(self) -> bool:
        return not self._results and not self._insts and not self._eof_waiting

    def exceptions(self) -> Iterator[BaseException]:
        while self._exceptions:
            yield self._exceptions.popleft()

    # -- collecting -------------------------------------------------------------------

    def _pop_result(self) -> Any:
        while self._results:
            obj, inst = self._results.popleft()
            inst._resultc -= 1
            if inst._eofcb_pending and inst._resultc == 0:
                self._eof_waiting.append(inst)
            if isinstance(obj, ScamperList | ScamperCycle) and not self._meta:
                continue
            return obj
        return None

    def _run_deferred_eofcbs(self, raise_direct: bool) -> None:
        while self._eof_waiting:
            inst = self._eof_waiting.pop(0)
            inst._eofcb_pending = False
            if self.eofcb is None:
                continue
            if raise_direct:
                self.eofcb(self, inst, self.param)
            else:
                try:
                    self.eofcb(self, inst, self.param)
                except Exception as exc:
                    self._exceptions.append(exc)

    def poll(self, timeout: Any = None, until: Any = None) -> Any:
        if self._exceptions:
            raise self._exceptions.popleft()
        obj = self._pop_result()
        if obj is not None:
            self._run_deferred_eofcbs(raise_direct=True)
            return obj
        deadline = _deadline(timeout, until)
        while True:
            self._run_deferred_eofcbs(raise_direct=True)
            if self._exceptions:
                raise self._exceptions.popleft()
            obj = self._pop_result()
            if obj is not None:
                self._run_deferred_eofcbs(raise_direct=True)
                return obj
            if self.is_done():
                return None
            if deadline is not None and _dt.datetime.now() >= deadline:
                return None
            self._wait(deadline)

    def responses(self, timeout: Any = None, until: Any = None) -> Iterator[Any]:
        deadline = _deadline(timeout, until)
        while True:
            while (obj := self._pop_result()) is not None:
                self._run_deferred_eofcbs(raise_direct=False)
                yield obj
            self._run_deferred_eofcbs(raise_direct=False)
            if self._taskc <= 0:
                return
            if deadline is not None and _dt.datetime.now() >= deadline:
                return
            self._wait(deadline)

    # -- the event loop ------------------------------------------------------------

    def _wait(self, deadline: _dt.datetime | None) -> None:
        """Wait for and handle I/O until something happens or ``deadline`` passes."""
        poller = select.poll()
        handlers: dict[int, Callable[[], None]] = {}
        flushers: dict[int, SocketTransport] = {}
        for inst in self._insts.values():
            transport = inst._transport
            if transport is not None and not transport.closed:
                fd = transport.fileno()
                handlers[fd] = inst._on_readable
                flushers[fd] = transport
        for mux in self._muxes:
            if not mux._transport.closed:
                fd = mux._transport.fileno()
                handlers[fd] = mux._on_readable
                flushers[fd] = mux._transport
        if not handlers:
            if deadline is None:
                raise RuntimeError("no connected ScamperInst")
            return
        for fd, transport in flushers.items():
            poller.register(fd, select.POLLIN | (select.POLLOUT if transport.out else 0))
        if deadline is None:
            timeout_ms: float | None = None
        else:
            timeout_ms = max(0.0, (deadline - _dt.datetime.now()).total_seconds() * 1000)
        for fd, events in poller.poll(timeout_ms):
            if events & select.POLLOUT:
                flushers[fd].flush()
            if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                handlers[fd]()

    def _callback(self, which: str, inst: ScamperInst) -> None:
        if which == "more" and self.morecb is not None:
            try:
                self.morecb(self, inst, self.param)
            except Exception as exc:
                self._exceptions.append(exc)

    def _on_inst_eof(self, inst: ScamperInst) -> None:
        self._insts.pop(inst._handle, None)
        if inst._resultc > 0:
            inst._eofcb_pending = True
        else:
            self._eof_waiting.append(inst)

    def _write_outfile(self, obj: Any, record: bytes) -> None:
        if self.outfile is None:
            return
        with contextlib.suppress(Exception):  # the real module swallows write errors too
            self.outfile._write_record(obj, record)

    # -- measurements -------------------------------------------------------------------

    def _select(
        self, inst: Any, technique: str, allow_list: bool, sync: Any
    ) -> list[ScamperInst] | ScamperInst:
        if inst is None:
            if not self._insts:
                raise RuntimeError("no connected ScamperInst")
            if len(self._insts) > 1:
                raise RuntimeError("specify a ScamperInst")
            return next(iter(self._insts.values()))
        if isinstance(inst, ScamperInst):
            if inst._removed:
                raise RuntimeError("ScamperInst removed from ctrl")
            if inst._eof:
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
                {i for i in inst if not i._removed and not i._eof}, key=lambda i: i._handle
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
                    out.append(self._start(one, line, expect, user_userid, bool(sync)))
                except RuntimeError:
                    continue
            if sync:
                return [self._wait_sync(t) for t in out]
            return out
        task = self._start(chosen, line, expect, user_userid, bool(sync))
        return self._wait_sync(task) if sync else task

    def _start(
        self, inst: ScamperInst, line: str, expect: str, userid: int, sync: bool
    ) -> ScamperTask:
        tag = None
        if line.split(" ", 1)[0].lower() in TAGGABLE:
            self._tags = (self._tags + 1) % 0x3FFFFFFF
            tag = TAG_BASE + self._tags
        task = ScamperTask._create(inst, expect, tag, userid, asked_by(line), sync)
        inst._schedule(line, task)
        if not sync:
            self._taskc += 1
        return task

    def _wait_sync(self, task: ScamperTask) -> Any:
        while not task._finished:
            if self._exceptions:
                raise self._exceptions.popleft()
            if task._error is not None:
                raise task._error
            if task._dropped:
                raise ScamperInstError(f"got fatal from {task._inst.name}: task lost", task._inst)
            self._wait(None)
        return task._result


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
