"""Stand-ins: measurements the lab performs itself where a VP's scamper cannot.

Debian's scamper (20211212) has no NS, SOA or TXT queries, no DNS over TCP,
no ``http`` and no ``udpprobe``. When a user's command needs such a feature
(:mod:`scamperlab.wire.releases`), scamperlab's mux hands it to a stand-in
prober instead of refusing it: the prober sends real packets from a socket
made inside the VP's network namespace, from the VP's address, at the VP's
``-p`` rate, to the lab's real servers, and answers the user with the
warts record modern scamper would have written, with the user's userid and
a task id, so CAIDA's module and scamperlab's decode it alike.

``vp`` (the VP as stand-ins see it, and the pacing of its packets),
``probers`` (which command and features each prober covers), ``dns`` (the
DNS prober), ``http`` (HTTP and HTTPS), ``channel`` (a channel's stand-in tasks and their results).

May import what ``scamperlab.mux`` may: ``processes`` and below.
"""
