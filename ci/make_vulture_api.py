"""Write ``ci/vulture_caida_api.py``: every name of CAIDA's scamper module, for vulture.

    python ci/make_vulture_api.py

``scamperlab.scamper`` implements CAIDA's API, so its classes carry members that
nothing inside this repository calls (``ScamperHttpBuf.is_tls``...) but that a
user's script may, and that the conformance tests require. The names come from
the inventory the package ships (``scamperlab/deploy/api_versions.json``), so a
new module version is covered when that file is regenerated and this is re-run;
``tests/unit/test_dead_code.py`` fails while the two disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "scamperlab" / "deploy" / "api_versions.json"
OUT = ROOT / "ci" / "vulture_caida_api.py"


def api_names() -> list[str]:
    """Module-level names, classes and their members, of every recorded module version."""
    names: set[str] = set()
    for version in json.loads(INVENTORY.read_text())["versions"].values():
        names.update(version["module_names"])
        for name, cls in version["classes"].items():
            names.add(name)
            names.update(cls["attributes"])
            names.update(cls["methods"])
    return sorted(names)


def render() -> str:
    lines = [
        '"""Names of CAIDA\'s scamper API: used by scripts, not by this repository (vulture).',
        "",
        "Made by ci/make_vulture_api.py from scamperlab/deploy/api_versions.json; do not edit.",
        '"""',
        "",
        "from typing import Any",
        "",
        "_: Any = None",
        "",
        *(f"_.{name}" for name in api_names()),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
