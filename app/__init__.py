"""WardWatch domain, hub, orchestration and command line (no widgets)."""
