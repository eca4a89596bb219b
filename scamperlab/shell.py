"""Run a Python script with ``import scamper`` working, as ``scamperlab run`` does.

    python -m scamperlab.shell my_script.py ARGS...   # run a script
    python -m scamperlab.shell                        # print the PYTHONPATH to use

Where CAIDA's module is installed it is used; otherwise scamperlab's.
"""

from __future__ import annotations

import os
import runpy
import sys

from scamperlab.shim import SHIM_DIR, environment, real_scamper_available


def main() -> int:
    if len(sys.argv) < 2:
        print(environment().get("PYTHONPATH", ""))
        return 0
    if not real_scamper_available():
        sys.path.insert(0, str(SHIM_DIR))
        os.environ.update(environment())
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
