"""The Ark-style mux socket: its wire format, VP registry, metadata and server."""
