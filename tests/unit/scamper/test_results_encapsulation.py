"""The result modules keep to their own private members and import only at
the top: two modules reaching into each other's underscore members are one
module in disguise, and an import inside a function is how a cycle hides
from both the interpreter and ``lint-imports``.

The check is syntactic (``ast``), over ``scamperlab/scamper/results/*.py``.
A private name (``_x``, not a dunder) may be used on ``self`` / ``cls``
inside a class of the module, on a class the module defines, or on any other
object only when a class of the module declares that name (in
``__slots__``, a class-level annotation or assignment, or a method).  It may
never be used on a name imported from another module, nor on a variable
annotated with a type imported from another module; ``getattr`` /
``setattr`` with a private literal count too.  Imports must sit at module
level (``if TYPE_CHECKING:`` blocks included: there is nothing left that
needs one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scamperlab.scamper.results as results_pkg

RESULTS_DIR = Path(results_pkg.__file__).parent
SOURCES = sorted(RESULTS_DIR.glob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _annotation_names(node: ast.expr | None) -> set[str]:
    """Every bare name mentioned in an annotation, string annotations included."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _owned_names(tree: ast.Module) -> set[str]:
    """Private attribute names declared by a class of this module."""
    owned: set[str] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                owned.add(stmt.name)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                owned.add(stmt.target.id)
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if not isinstance(target, ast.Name):
                        continue
                    owned.add(target.id)
                    if target.id == "__slots__":
                        owned.update(
                            c.value
                            for c in ast.walk(stmt.value)
                            if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        )
    return {n for n in owned if _private(n)}


class _Checker(ast.NodeVisitor):
    def __init__(self, tree: ast.Module) -> None:
        self.problems: list[str] = []
        self.imported: set[str] = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    self.imported.add((alias.asname or alias.name).split(".")[0])
        self.classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        self.owned = _owned_names(tree)
        self.class_depth = 0
        self.function_depth = 0
        # names annotated with an imported type, per enclosing function
        self.foreign_vars: list[set[str]] = [set()]

    def _say(self, node: ast.AST, text: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {text}")

    def _foreign(self, annotation: ast.expr | None) -> bool:
        names = _annotation_names(annotation)
        return any(n in self.imported and n not in self.classes for n in names)

    # -- scopes -------------------------------------------------------------

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.class_depth += 1
        self.generic_visit(node)
        self.class_depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = node.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        self.foreign_vars.append(
            {a.arg for a in params if a is not None and self._foreign(a.annotation)}
        )
        self.function_depth += 1
        self.generic_visit(node)
        self.function_depth -= 1
        self.foreign_vars.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name) and self._foreign(node.annotation):
            self.foreign_vars[-1].add(node.target.id)
        self.generic_visit(node)

    # -- imports ------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if self.function_depth:
            self._say(node, "import inside a function (move it to the top of the module)")

    def visit_Import(self, node: ast.Import) -> None:
        self._import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._import(node)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in _annotation_names(node.test):
            self._say(node, "import under TYPE_CHECKING (import it at the top, or not at all)")
        self.generic_visit(node)

    # -- private members ----------------------------------------------------

    def _check(self, node: ast.AST, base: ast.expr, attr: str) -> None:
        if not _private(attr):
            return
        if isinstance(base, ast.Name):
            if base.id in ("self", "cls") and self.class_depth:
                return
            if base.id in self.classes:
                return
            if base.id in self.imported:
                self._say(node, f"{base.id}.{attr}: private member of another module's object")
                return
            if base.id in self.foreign_vars[-1]:
                self._say(node, f"{base.id}.{attr}: private member of a foreign-typed object")
                return
        if attr not in self.owned:
            self._say(node, f".{attr}: no class of this module declares it")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check(node, node.value, node.attr)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            self._check(node, node.args[0], node.args[1].value)
        elif isinstance(func, ast.Name) and func.id == "__import__":
            self._say(node, "__import__ call")
        elif isinstance(func, ast.Attribute) and func.attr == "import_module":
            self._say(node, "import_module call (import at the top of the module)")
        self.generic_visit(node)


def violations(source: str) -> list[str]:
    """Every breach of the rule in one module's source."""
    tree = ast.parse(source)
    checker = _Checker(tree)
    checker.visit(tree)
    return checker.problems


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_result_module_keeps_to_its_own_privates(path: Path) -> None:
    assert violations(path.read_text()) == []


def test_the_rule_sees_the_results_package() -> None:
    names = {p.name for p in SOURCES}
    assert {"ping.py", "trace.py", "host.py", "common.py"} <= names


# -- the rule bites --------------------------------------------------------

_OWN_CLASS = """
class Box:
    __slots__ = ("_v",)
    _w: int

    @classmethod
    def _create(cls, v):
        obj = cls.__new__(cls)
        obj._v = v
        return obj

    def _peek(self):
        return self._v

def open_box(b):
    return Box._create(1)._peek(), b._v, b._w
"""


def test_own_classes_may_use_their_privates() -> None:
    assert violations(_OWN_CLASS) == []


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        # a private method of an imported class
        ("from .ping import ScamperPingReply\nScamperPingReply._create(1, 2)\n", "_create"),
        # a private attribute of a parameter typed with an imported class
        (
            "from .ping import ScamperPing\ndef f(p: ScamperPing):\n    return p._d\n",
            "foreign-typed",
        ),
        ("from .ping import ScamperPing\ndef f(p: 'ScamperPing | None'):\n    p._d\n", "p._d"),
        # a private member that no class of this module declares
        ("def f(ping):\n    return ping._compute_stats()\n", "_compute_stats"),
        ("def f(ping):\n    return getattr(ping, '_probes')\n", "_probes"),
        ("import enum\ndef f(e):\n    return enum.Enum._value2member_map_\n", "_value2member_map_"),
        # imports that dodge a cycle
        ("def f():\n    from .ping import METHOD_NAMES\n", "inside a function"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\n", "TYPE_CHECKING"),
        ("import importlib\ndef f():\n    importlib.import_module('x')\n", "import_module"),
    ],
)
def test_the_rule_bites(source: str, needle: str) -> None:
    found = violations(source)
    assert found, source
    assert any(needle in v for v in found), found
