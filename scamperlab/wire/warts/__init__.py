"""Warts records: the binary format of scamper's results, as plain data.

``records`` (framing and record types), ``reader`` / ``writer`` (the
flags-and-parameters primitives), one module per record type holding its
data classes and both directions of its layout (``listcycle``, ``ping``,
``trace``, ``host``, ...), ``addr`` (the address value type), and the
stateful stream codecs ``decoder`` and ``encoder``. Standard library only:
the mux reads results with it as they pass, and ``scamperlab.scamper`` wraps
its data in CAIDA's result classes.
"""
