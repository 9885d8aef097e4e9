"""The station's colours, read once from resources/theme.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from PySide6.QtGui import QColor


@dataclass(frozen=True, slots=True)
class Theme:
    colours: dict[str, dict[str, str]]

    def colour(self, section: str, name: str) -> QColor:
        return QColor(self.colours[section][name])

    def parameter(self, key: str) -> QColor:
        table = self.colours["parameter"]
        return QColor(table.get(key, table["other"]))


@cache
def theme() -> Theme:
    raw = tomllib.loads(resources.files("wardwatch.resources").joinpath("theme.toml").read_text("utf-8"))
    colours = {
        k: v for k, v in raw.items() if isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    }
    return Theme(colours)
