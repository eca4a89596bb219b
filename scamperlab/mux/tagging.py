"""Unique wire userids that let a result be matched to its command.

scamper versions before 20230224 do not say which task a result belongs to;
the results of ping, trace, tracelb, host, dealias and sniff record the command's ``-U``
userid, so a unique one set on the wire identifies them. Both scamperlab's
client (``scamperlab.scamper``) and its mux (``scamperlab.mux.legacy``) tag
commands this way and put the user's userid back on the result.
"""

from __future__ import annotations

import re

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
