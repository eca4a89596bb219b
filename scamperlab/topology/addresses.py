"""The address ranges a lab may use, and the one scamperlab keeps for its own network.

Both the cross-checks (a host's address) and the zone records (an ``A`` record's
data) refuse addresses outside these ranges, so they live apart from either.
"""

from __future__ import annotations

import ipaddress

# Lab addresses come from ranges that can never be someone else's network.
ALLOWED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in ("198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
ALLOWED_V6 = (ipaddress.IPv6Network("2001:db8::/32"),)
# The management network (VPs to sc_remoted) is carved out of 198.19.0.0/16.
MANAGEMENT_V4 = ipaddress.IPv4Network("198.19.240.0/20")
