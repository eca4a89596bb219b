"""The Ark-style mux socket as scamperlab serves it: VP registry, metadata and server.

May import: ``scamperlab.processes`` and the layers below it (``emulation``,
``topology``, ``wire``, ``errors``). Never ``scamperlab.scamper``, the client
beside it in the same layer: the framing both speak is ``scamperlab.wire.mux``.
Nothing above it either (shim, lab, tools, CLI).
"""
