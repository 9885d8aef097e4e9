"""Feature modules that add menus, dialogs and views to the main window.

Each listed module may define `extend_window(window: MainWindow) -> None` (called once, after the
window's own menus exist) and `extend_bed_menu(window: MainWindow, menu: QMenu, bed_id: str) -> None`
(called each time a bed's context menu opens). A hook that fails is logged; the window still opens,
because a broken review screen must never cost the ward its monitoring.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from wardwatch.ui.main_window import MainWindow

log = logging.getLogger(__name__)

WINDOW_FEATURES: tuple[str, ...] = (
    "wardwatch.ui.security_hooks",
    "wardwatch.ui.interop_hooks",
    "wardwatch.ui.fleet_hooks",
    "wardwatch.ui.review_hooks",
    "wardwatch.ui.deterioration_hooks",
    "wardwatch.ui.hospital_hooks",
)


def _modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in WINDOW_FEATURES]


def extend_window(window: MainWindow) -> None:
    for module in _modules():
        hook = getattr(module, "extend_window", None)
        if hook is None:
            continue
        try:
            hook(window)
        except Exception:
            log.exception("%s could not extend the window", module.__name__)


def extend_bed_menu(window: MainWindow, menu: QMenu, bed_id: str) -> None:
    for module in _modules():
        hook = getattr(module, "extend_bed_menu", None)
        if hook is None:
            continue
        try:
            hook(window, menu, bed_id)
        except Exception:
            log.exception("%s could not extend the bed menu", module.__name__)
