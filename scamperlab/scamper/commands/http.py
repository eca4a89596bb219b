"""``do_http`` → ``http ...``.

Observed in module 20260420 and kept: ``userid`` is accepted but never
sent (real HTTP results carry ``userid == 0``), ``insecure`` only counts
when it is the object ``True``, the URL has its single quotes escaped
while header values are sent verbatim, and an empty ``ech_config_list``
is silently dropped.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, quote, seconds_arg

__all__ = ["build_http"]


def _is_ascii_str(value: object) -> bool:
    return isinstance(value, str) and value.isascii()


def _add_headers(cmd: CommandLine, headers: Any) -> None:
    if not isinstance(headers, dict):
        raise ValueError("headers not dictionary")
    for name, body in headers.items():
        if not _is_ascii_str(name):
            raise ValueError("header field-name is not ascii")
        if not _is_ascii_str(body):
            raise ValueError("header field-body is not ascii")
        cmd.add("-H", f"'{name}: {body}'")


def build_http(
    dst: Any,
    url: Any,
    *,
    headers: Any = None,
    insecure: Any = False,
    limit_time: Any = None,
    ech_grease: Any = False,
    ech_config_list: Any = None,
    userid: Any = None,
) -> str:
    """Build the ``http`` command for ``ScamperCtrl.do_http``."""
    del userid  # accepted for signature compatibility; the module never sends it
    if dst is None:
        raise ValueError("invalid dst")
    if url is None:
        raise ValueError("invalid url")

    cmd = CommandLine("http")
    if insecure is True:
        cmd.add("-O", "insecure")
    if limit_time is not None:
        cmd.add("-m", seconds_arg(limit_time))
    if headers is not None:
        _add_headers(cmd, headers)
    if ech_config_list is not None:
        if ech_grease:
            raise ValueError("cannot provide both grease and config list")
        if not _is_ascii_str(ech_config_list):
            raise ValueError("ech_config_list is not ascii")
    if ech_grease:
        cmd.add("-O", "grease")
    if ech_config_list:
        cmd.add("-O", "ecl=" + ech_config_list)
    cmd.add("-u", quote(url), str(dst))
    return cmd.render()
