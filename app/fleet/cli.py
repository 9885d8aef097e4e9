"""Command-line and station hooks of this feature (see wardwatch.app.extensions)."""

from __future__ import annotations
