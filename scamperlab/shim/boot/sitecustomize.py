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
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(_here()), "finder.py")
    spec = importlib.util.spec_from_file_location("_scamperlab_scamper_finder", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"scamperlab's import hook is missing: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.install()


def _run_hidden_sitecustomize() -> None:
    import importlib.machinery
    import importlib.util
    import os

    # Only the entries after this one: another copy of this file further down
    # then looks further down still, so a chain of them ends.
    here = _here()
    found = [i for i, p in enumerate(sys.path) if os.path.realpath(p or os.curdir) == here]
    rest = sys.path[found[0] + 1 :] if found else []
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


try:
    _install_finder()
finally:
    _run_hidden_sitecustomize()
