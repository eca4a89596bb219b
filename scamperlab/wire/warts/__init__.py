"""Warts records: the binary format of scamper's results, as plain data."""
