"""Ports: the Protocols between layers (clock, channel adapter, store and its repositories)."""
