"""Network namespaces, links, routes and link shaping that realise a lab's plan."""
