"""``do_tbit`` → ``tbit ...``.

``method`` and ``url`` default to ``None`` in the signature yet are
required; the test name is passed through unchecked for scamper to judge.
"""

from __future__ import annotations

from typing import Any

from .common import CommandLine, quote

__all__ = ["build_tbit"]


def build_tbit(dst: Any, *, method: Any = None, url: Any = None, userid: Any = None) -> str:
    """Build the ``tbit`` command for ``ScamperCtrl.do_tbit``."""
    if dst is None or method is None or url is None:
        raise ValueError("must specify dst, method, and url")
    cmd = CommandLine("tbit")
    if userid is not None:
        cmd.add("-U", str(userid))
    cmd.add("-u", quote(url), "-t", str(method), str(dst))
    return cmd.render()
