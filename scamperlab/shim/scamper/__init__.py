"""``import scamper`` for machines without CAIDA's module: scamperlab's implementation.

This directory is put on ``sys.path``/``PYTHONPATH`` only when no real
``scamper`` module can be imported (see :mod:`scamperlab.shim`), so it never
shadows a real installation.
"""

from scamperlab.scamper import *  # noqa: F403
from scamperlab.scamper import IMPLEMENTATION  # noqa: F401
