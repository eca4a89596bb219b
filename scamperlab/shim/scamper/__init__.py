"""``import scamper`` in a Python without CAIDA's module: scamperlab's implementation.

This directory is never on ``sys.path``: the import hook of
:mod:`scamperlab.shim.finder` loads it under the name ``scamper`` only after
every other finder of the importing interpreter has come back empty (or when
``SCAMPERLAB_SCAMPER=scamperlab`` asks for it), so it never shadows a real
installation.
"""

from scamperlab.scamper import *  # noqa: F403
from scamperlab.scamper import IMPLEMENTATION  # noqa: F401
