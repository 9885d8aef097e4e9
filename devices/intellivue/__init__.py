"""Philips IntelliVue Data Export over MIB/RS232 (../shared/PROTOCOLS.md §5)."""
