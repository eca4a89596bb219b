"""Unique wire userids that let a result be matched to its command.

scamper versions before 20230224 do not say which task a result belongs to;
the results of ping, trace, tracelb, host, dealias and sniff record the command's ``-U``
userid, so a unique one set on the wire identifies them. Both scamperlab's
client (``scamperlab.scamper``) and its mux (``scamperlab.mux.legacy``) tag
commands this way and put the user's userid back on the result.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from .warts.host import qtype_str

T = TypeVar("T")

#: Commands whose results record the wire userid, so a unique one identifies them.
TAGGABLE = frozenset({"ping", "trace", "tracelb", "host", "dealias", "sniff"})
TAG_BASE = 0xC0000000
_USERID_RE = re.compile(r"(?<=\s)-U\s+(\S+)")


def tag_command(line: str, tag: int) -> str:
    """``line`` with its ``-U`` userid replaced by (or extended with) ``tag``."""
    word, _, rest = line.partition(" ")
    if word.lower() not in TAGGABLE:
        return line
    if _USERID_RE.search(" " + rest):
        return word + " " + _USERID_RE.sub(f"-U {tag}", " " + rest, count=1)[1:]
    return f"{word} -U {tag} {rest}"


def command_userid(line: str) -> int:
    m = _USERID_RE.search(" " + line.partition(" ")[2])
    if m is None:
        return 0
    try:
        return int(m.group(1), 0) & 0xFFFFFFFF
    except ValueError:
        return 0


def asked_by(line: str) -> str:
    """What a result of command ``line`` will say it measured, as :func:`answered` puts it:
    ``"AAAA www.example"`` for host, the destination for everything else."""
    words = line.split()
    target = words[-1].rstrip(".").lower()
    if words[0].lower() != "host":
        return target
    qtype = "A"
    if "-t" in words[1:-1]:
        qtype = words[words.index("-t") + 1].upper()
    elif _looks_like_address(target):
        qtype = "PTR"
    if qtype == "PTR" and _looks_like_address(target):
        target = ipaddress.ip_address(target).reverse_pointer  # the name a PTR result asks
    return f"{qtype} {target}"


def answered(result: object) -> str:
    """What a decoded result measured, comparable with :func:`asked_by`.

    ``result`` is a result's plain data (``scamperlab.wire.warts``) or a
    result object of the client, which has the same names: ``dst``, and for
    host ``qtype`` (the number in the data, the mnemonic in the object) and
    ``qname``.
    """
    qtype = getattr(result, "qtype", None)
    if qtype is not None:  # a host result: its dst is the nameserver, not what was asked
        name = qtype_str(qtype) if isinstance(qtype, int) else str(qtype)
        qname = getattr(result, "qname", None) or ""
        return f"{name.upper()} {qname.rstrip('.').lower()}"
    return str(getattr(result, "dst", "")).lower()


def find_task(
    result: object,
    candidates: Sequence[T],
    tag: Callable[[T], int | None],
    asked: Callable[[T], str],
) -> T | None:
    """The open task (oldest first) a result without a task id answers, or None.

    A unique wire userid identifies it exactly; where none came back (20211212
    does not record a host command's ``-U``), what the result measured does.
    """
    userid = getattr(result, "userid", None)
    for task in candidates:
        if tag(task) is not None and tag(task) == userid:
            return task
    target = answered(result)
    for task in candidates:
        if asked(task) == target:
            return task
    return None


def _looks_like_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
