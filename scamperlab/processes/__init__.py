"""The real scamper programs of a lab: sc_remoted, one scamper per VP, their supervision."""
