"""Where the shared reference material is: ``shared/reference`` beside the checkout.

CI clones the repository with ``shared/`` beside it; ``SCAMPERLAB_REFERENCE``
overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def _find() -> Path:
    env = os.environ.get("SCAMPERLAB_REFERENCE")
    if env:
        return Path(env)
    for candidate in (_ROOT.parent / "shared" / "reference", Path("/work/shared/reference")):
        if candidate.is_dir():
            return candidate
    return _ROOT.parent / "shared" / "reference"


REFERENCE = _find()
GOLDEN = REFERENCE / "golden"
INVENTORY_PATH = REFERENCE / "scamper-python-api.json"
