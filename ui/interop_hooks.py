"""Main-window hooks of this feature (see wardwatch.ui.window_extensions)."""

from __future__ import annotations
