"""The formats both sides of scamperlab speak, with one codec each: standard library only.

``mux`` (sc_remoted's mux framing and VP attributes), ``control`` (the
attached-mode text of a scamper session), ``uu`` (uuencoding of warts
objects on control sockets), ``tagging`` (unique wire userids for scamper
releases without task ids), ``warts`` (warts records) and ``recording``
(the file ``run --record`` writes and ``replay`` serves).

May import: the standard library and its own modules only. The mux server
(``scamperlab.mux``) and the client (``scamperlab.scamper``) both import it;
neither imports the other, and this package imports neither.
"""
