"""The client's modules talk through interfaces, never through each other's private members.

The rule (issue 14): no module of ``scamperlab/scamper/`` reads or writes an
underscore attribute, or calls an underscore method, of an object whose class
is defined in another module. A public class keeps its state in one private
slot, touched only in its own module; other modules go through that module's
accessor function (``session_of``, ``task_state``, ``vp_ref``, ``connection_of``).

The check is syntactic, so it knows a private member by name: an access
``x._name`` is the module's own when one of its classes declares ``_name``
(``__slots__``, a class attribute or method, ``self._name = ...``), when
``x`` is ``self``/``cls`` or one of the module's classes. For that to be
sound, a private name a checked module declares must not be declared by a
class anywhere else the client can reach (``scamperlab.scamper``, ``scamperlab.wire``);
that is checked too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import scamperlab
import scamperlab.scamper

CLIENT = Path(scamperlab.scamper.__file__).parent
# What the client may import, so the classes of the objects it may hold.
REACHABLE = (CLIENT, Path(scamperlab.__file__).parent / "wire")

# Top-level modules of scamperlab/scamper/ that the warts codec's side owns; the
# rule is enforced on every other one, including modules added later.
NOT_CHECKED = frozenset({"addr.py", "file.py"})

# Private members of classes owned elsewhere that the client must touch, each
# the one place it does so. Both classes are the real module's C objects, with
# no Python-level interface for what the controller does here.
ALLOWED = {
    # a tagged result carries the wire tag: the user's userid is put back on it
    ("instance.py", "_userid"): "scamperlab.scamper.results (no userid setter)",
    # the outfile receives every record as it came, which only the controller has
    ("collector.py", "_write_record"): "scamperlab.scamper.file.ScamperFile",
}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.name} belongs to a class of another module"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def declared(tree: ast.Module) -> set[str]:
    """Private member names the module's classes declare."""
    names: set[str] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(stmt.name)
            targets: list[ast.expr] = []
            if isinstance(stmt, ast.Assign):
                targets = stmt.targets
            elif isinstance(stmt, ast.AnnAssign):
                targets = [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
                    if target.id == "__slots__" and stmt.value is not None:
                        names |= {
                            c.value
                            for c in ast.walk(stmt.value)
                            if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        }
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                names.add(node.attr)
    return {n for n in names if _private(n)}


def violations(source: str, module: str = "<string>") -> list[Violation]:
    """Every access in ``source`` to a private member its own classes do not declare."""
    tree = ast.parse(source)
    own = declared(tree)
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        receiver = node.value
        if isinstance(receiver, ast.Name) and receiver.id in {"self", "cls", *classes}:
            continue  # the object's class is this module's (or inherits what it touches)
        if node.attr in own or (module, node.attr) in ALLOWED:
            continue
        found.append(Violation(module, node.lineno, node.attr))
    return found


def _checked() -> list[Path]:
    return sorted(p for p in CLIENT.glob("*.py") if p.name not in NOT_CHECKED)


@pytest.mark.parametrize("path", _checked(), ids=lambda p: p.name)
def test_no_module_touches_another_modules_private_members(path: Path) -> None:
    found = violations(path.read_text(), path.name)
    assert not found, "\n".join(map(str, found))


def test_private_names_are_unambiguous() -> None:
    """A private name a checked module declares is declared nowhere else the client reaches."""
    elsewhere: dict[str, set[str]] = {}
    checked = set(_checked())
    for path in (p for root in REACHABLE for p in root.rglob("*.py")):
        if path not in checked:
            for name in declared(ast.parse(path.read_text())):
                elsewhere.setdefault(name, set()).add(path.name)
    by_module: dict[str, set[str]] = {}
    for path in checked:
        for name in declared(ast.parse(path.read_text())):
            by_module.setdefault(name, set()).add(path.name)
    clashes = {
        name: sorted(modules | elsewhere.get(name, set()))
        for name, modules in by_module.items()
        if len(modules) > 1 or name in elsewhere
    }
    assert not clashes, clashes


def test_the_allowed_exceptions_are_still_needed() -> None:
    for module, name in ALLOWED:
        assert f"._{name[1:]}" in (CLIENT / module).read_text(), (module, name)


CTRL_REACHING_IN = """
class ScamperCtrl:
    def __init__(self):
        self._collector = None

    def remove(self, inst):
        inst._session.remove()        # ScamperInst's slot, instance.py's
        self._collector.detach(inst)  # its own: fine
"""

INSTANCE_POKING_CTRL = """
class Session:
    def drop(self, task):
        self.ctrl._taskc -= 1         # the controller's private counter
        task._state.dropped = True    # ScamperTask is not declared here
"""

OWN_CLASSES = """
class ScamperTask:
    __slots__ = ("_state",)

    def __lt__(self, other):
        return self._state.handle < other._state.handle

def task_state(task):
    t = ScamperTask._new()
    return task._state
"""


def test_the_checker_bites() -> None:
    assert [(v.line, v.name) for v in violations(CTRL_REACHING_IN)] == [(7, "_session")]
    assert [(v.line, v.name) for v in violations(INSTANCE_POKING_CTRL)] == [
        (4, "_taskc"),
        (5, "_state"),
    ]
    assert violations(OWN_CLASSES) == []
