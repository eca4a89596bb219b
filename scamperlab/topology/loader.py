"""Reading a topology file: YAML -> validated :class:`Topology`, errors with line numbers.

PyYAML's composed node tree keeps the line of every key and value; we keep
it beside the parsed data so that both pydantic's errors and our own
cross-checks can be reported as ``file:line: field: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scamperlab.errors import TopologyError
from scamperlab.topology.checks import Loc, check_topology, fmt_loc
from scamperlab.topology.model import Topology


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the deepest node on ``loc`` that exists in the file."""
    node = root
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    node = value_node
                    # Scalars and flow items sit on their key's line; report where the key is.
                    line = key_node.start_mark.line + 1
                    break
            else:
                return line
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _file_loc(data: Any, loc: Loc) -> Loc:
    """``loc`` without the tags pydantic inserts for tagged unions (a service's ``kind``).

    The file has ``services[0].port``; pydantic says ``services[0].http.port``.
    """
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def load_topology(path: str | Path) -> Topology:
    """Parse and validate ``path``; raise :class:`TopologyError` naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError(
            str(path), None, None, f"cannot read topology file: {exc.strerror}"
        ) from exc
    return parse_topology(text, str(path))


def parse_topology(text: str, filename: str = "<topology>") -> Topology:
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise TopologyError(filename, line, None, f"not valid YAML: {exc.problem}") from exc
    if not isinstance(data, dict):
        raise TopologyError(
            filename, 1, None, "a topology file is a mapping with 'routers' and 'vps'"
        )
    data.setdefault("name", Path(filename).stem if filename != "<topology>" else "lab")

    try:
        topo = Topology.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = _file_loc(data, tuple(p for p in first["loc"] if isinstance(p, str | int)))
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field (check its spelling)"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise TopologyError(filename, _line_of(root, loc), fmt_loc(loc), msg) from None

    problems = check_topology(topo)
    if problems:
        first_problem = problems[0]
        msg = first_problem.message
        if len(problems) > 1:
            msg += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        raise TopologyError(
            filename, _line_of(root, first_problem.loc), fmt_loc(first_problem.loc), msg
        )
    return topo
