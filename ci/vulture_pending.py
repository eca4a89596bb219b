"""TEMPORARY: what vulture finds in files being moved by other branches of issue 14.

Delete this file when those branches are merged, run ``.venv/bin/vulture``, and
remove the dead code it still reports (or whitelist a reflective use in
ci/vulture_whitelist.py with who uses it).
"""

from typing import Any

_: Any = None

# scamperlab/deploy/labsshd.py
_.ssh_command
# scamperlab/lab.py
_.tb
_.signum
_.running_lab
# scamperlab/scamper/__init__.py
_.IMPLEMENTATION
# scamperlab/scamper/control.py
_.Callback
# scamperlab/scamper/ctrl.py
_.exc_value
_.traceback
# scamperlab/scamper/file.py
_.exc_value
_.traceback
# scamperlab/scamper/results/_ping_data.py
_.datalen
# scamperlab/scamper/results/_trace_data.py
_.ver
_.lss_stop
_.gss_stop
_.loopaction
# scamperlab/scamper/results/common.py
_.CYCLE_START
# scamperlab/scamper/results/owamp.py
_.errest
# scamperlab/scamper/results/ping.py
_.FLAG_ICMPSUM
_.FLAG_PAYLOAD
_.FLAG_TSONLY
_.FLAG_V4RR
# scamperlab/scamper/results/tbit.py
_.app_proto
_.server_mss
_.syn_retx
_.dat_retx
_.cookie
# scamperlab/wire/mux.py
_.ATTR_ORDER
# tests/integration/conftest.py
_.tmp_path_factory
