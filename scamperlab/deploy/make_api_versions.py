"""Regenerate ``api_versions.json`` from CAIDA's API inventory and its recorded differences.

    python -m scamperlab.deploy.make_api_versions REFERENCE_DIR

``REFERENCE_DIR`` holds ``scamper-python-api.json`` (module 20260902, from
the module's stub) and ``golden/api-differences.json`` (what 20260420
lacks or has in addition). The package ships the result so that
``scamperlab check`` never needs those files at run time; this script is how
the copy is kept honest when a new module version is recorded.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("api_versions.json")

# Parameters renamed between versions (the module's API history; the differences
# file only shows one name vanishing and another appearing): {method: {old: new}}.
RENAMES = {"do_ping": {"recordroute": "ip_rr"}}


def _classes(inventory: dict[str, Any]) -> dict[str, Any]:
    classes: dict[str, Any] = {}
    for name, cls in inventory["classes"].items():
        enum = any("Enum" in base for base in cls.get("bases", []))
        attrs = set(cls.get("properties", [])) | set(cls.get("members", {}))
        classes[name] = {
            "methods": cls.get("methods", {}),
            "attributes": sorted(attrs),
            "returns": cls.get("returns", {}),
            "enum": enum,
        }
    return classes


def build(reference: Path) -> dict[str, Any]:
    inventory = json.loads((reference / "scamper-python-api.json").read_text())
    diff = json.loads((reference / "golden" / "api-differences.json").read_text())
    newest = str(inventory["version"])
    module_names = sorted(
        set(inventory["classes"])
        | {f["name"] for f in inventory.get("functions", []) if isinstance(f, dict)}
        | set(inventory.get("runtime_module_level_names_not_in_stub", []))
    )
    new: dict[str, Any] = {"module_names": module_names, "classes": _classes(inventory)}

    old = copy.deepcopy(new)
    for name in diff.get("classes_only_in_inventory", []):
        old["classes"].pop(name, None)
        old["module_names"].remove(name)
    for name, change in diff.get("members", {}).items():
        cls = old["classes"].get(name)
        if cls is None:
            continue
        for member in change.get(f"only_in_inventory_{newest}", []):
            cls["methods"].pop(member, None)
            cls["returns"].pop(member, None)
            if member in cls["attributes"]:
                cls["attributes"].remove(member)
        extra = [m for m in change.get("only_in_module_20260420", []) if m not in cls["methods"]]
        cls["attributes"] = sorted(set(cls["attributes"]) | set(extra))
    for method, change in diff.get("do_params", {}).items():
        old["classes"]["ScamperCtrl"]["methods"][method] = change["module_20260420"]
    return {
        "generated_by": "python -m scamperlab.deploy.make_api_versions REFERENCE_DIR",
        "sources": [
            f"scamper-python-api.json (module {newest})",
            "golden/api-differences.json (module 20260420 compared with it)",
        ],
        "renames": {newest: RENAMES},
        "stdlib_reexports": inventory.get("runtime_module_level_names_not_in_stub", []),
        "versions": {"20260420": old, newest: new},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    data = build(Path(argv[0]))
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({', '.join(data['versions'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
