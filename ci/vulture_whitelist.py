"""What vulture cannot see being used: called by a framework, by Python, or by users.

Each name says who uses it. Decorator- and name-based cases (pydantic
validators, pytest fixtures and hooks, warts writers) are configured in
pyproject.toml's ``[tool.vulture]``; CAIDA's API is in ci/vulture_caida_api.py.
"""

from typing import Any

_: Any = None

# Module __getattr__ (PEP 562): lazy exports of scamperlab and scamperlab.audit.
_.__getattr__
# paramiko calls its MissingHostKeyPolicy's hook (deploy/sshconn.py).
_.missing_host_key
# zipfile reads these ZipInfo attributes when writing (mux/standalone.py).
_.external_attr
_.compress_type
# The introspection a wrapped CAIDA method must answer like the original (scamper/ctrl.py).
_.__qualname__
_.__signature__
# The marker by which any copy of scamperlab/shim/finder.py finds an installed hook,
# read with getattr(finder, MARKER) (also by the probe that `doctor` runs).
_.scamperlab_scamper_finder
# What the import system reads of a module that shim/boot/sitecustomize.py makes by hand.
_.__loader__
_.__spec__
# Public API documented for users, not called inside this repository:
_.session_lab  # scamperlab_pool.session_lab(), docs/testing.md
_.fakeroute_yaml  # docs/routers.md
_.raise_for_violations  # docs/audit.md
# The context-manager protocol's parameters, required by name and position (Lab,
# ScamperCtrl, ScamperFile).
_.tb
_.exc_value
_.traceback
# Read with getattr by deploy/remote.py (which module a remote script got).
_.IMPLEMENTATION
# Fields of warts structures: written and read by NAME through the flags/params
# tables of scamperlab/wire/warts (Reader.params, Writer.params), so that a record
# read and written back keeps every field, though no result property shows them.
_.errest
_.datalen
_.app_proto
_.server_mss
_.syn_retx
_.dat_retx
_.cookie
_.ver
_.lss_stop
_.gss_stop
_.loopaction
