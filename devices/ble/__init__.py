"""Bluetooth LE health profiles: one decoder module per characteristic (see ../shared/PROTOCOLS.md §3)."""
