"""scamperlab's bootstrap, run by every Python a lab starts (this directory is on PYTHONPATH).

It is the only file here, so putting the directory first on PYTHONPATH
shadows no module: Python's ``site`` imports it at start-up, it installs
the import hook of ``../finder.py`` (which lets each interpreter import its
own ``scamper`` if it has one, scamperlab's otherwise), and then runs the
``sitecustomize`` it hides, if there is one further down the path, as
Python would have. It may run in any interpreter, with or without
scamperlab installed, so it names nothing but the standard library.
"""

import sys


def _here() -> str:
    import os

    return os.path.dirname(os.path.realpath(__file__))


def _install_finder() -> None:
    # importlib.machinery is part of the import system, loaded already; importlib.util
    # would cost every Python start-up several milliseconds.
    import os
    from importlib.machinery import SourceFileLoader
    from types import ModuleType

    name = "_scamperlab_scamper_finder"
    loader = SourceFileLoader(name, os.path.join(os.path.dirname(_here()), "finder.py"))
    module = ModuleType(name)
    module.__file__ = loader.path
    module.__loader__ = loader
    sys.modules[name] = module
    loader.exec_module(module)
    module.install()


def _run_hidden_sitecustomize() -> None:
    import importlib.machinery
    import os
    from types import ModuleType

    # Only the entries after this one: another copy of this file further down
    # then looks further down still, so a chain of them ends.
    here = _here()
    found = [i for i, p in enumerate(sys.path) if os.path.realpath(p or os.curdir) == here]
    rest = sys.path[found[0] + 1 :] if found else []
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = ModuleType("sitecustomize")
    module.__spec__, module.__file__, module.__loader__ = spec, spec.origin, spec.loader
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


try:
    _install_finder()
finally:
    _run_hidden_sitecustomize()
