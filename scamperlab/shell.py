"""Run a Python script with ``import scamper`` working, as ``scamperlab run`` does.

    python -m scamperlab.shell my_script.py ARGS...   # run a script
    python -m scamperlab.shell                        # print the PYTHONPATH to use

The script, and every Python it starts, gets its interpreter's own
``scamper`` (CAIDA's) where there is one, scamperlab's otherwise.
"""

from __future__ import annotations

import os
import runpy
import sys

from scamperlab.shim import environment, install


def main() -> int:
    if len(sys.argv) < 2:
        print(environment().get("PYTHONPATH", ""))
        return 0
    install()
    os.environ.update(environment())
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
