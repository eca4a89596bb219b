"""Network namespaces, links, routes and link shaping that realise a lab's plan.

May import: ``scamperlab.topology`` (the plan it realises), ``scamperlab.wire`` and
``scamperlab.errors``. Never the processes, the mux, the scamper client or the lab
above it: they are started in the namespaces this package makes.
"""
