"""Alarm settings: limits, delays and priorities, read from resources/alarm_defaults.toml.

The defaults are data, not code, so a ward's biomedical engineer can review them in one place; a bed
starts with them and may be given its own limits.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from wardwatch.app.alarms.model import Priority
from wardwatch.app.codes import MdcCode, channel_table
from wardwatch.app.domain import TechnicalKind


class SettingsError(ValueError):
    """The alarm settings file is not usable; the message names the entry and the key."""


@dataclass(frozen=True, slots=True)
class LimitRule:
    """One physiological limit alarm: `code` beyond `low`/`high` for `delay_s` raises it."""

    key: str  # e.g. "spo2_low"; unique per bed
    code: MdcCode
    low: float | None
    high: float | None
    priority: Priority
    delay_s: float
    enabled: bool = True
    # Once raised, the alarm's condition lasts until the value is back inside by this much, so a value
    # hovering at the limit (SpO₂ 89-90) gives one alarm a nurse can acknowledge, not one a minute.
    hysteresis: float = 1.0

    def breached(self, value: float, raised: bool = False) -> bool:
        margin = self.hysteresis if raised else 0.0
        return (self.low is not None and value < self.low + margin) or (
            self.high is not None and value > self.high - margin
        )


@dataclass(frozen=True, slots=True)
class AlarmSettings:
    limits: tuple[LimitRule, ...]
    technical: Mapping[TechnicalKind, Priority]
    # Condition delay per technical condition: a lead that is off for a moment while the patient turns
    # is not worth an alarm; a device that has gone silent is (the supervisor already waited 4 s).
    technical_delay_s: Mapping[TechnicalKind, float] = field(default_factory=dict)
    arrhythmia_priority: Priority = Priority.HIGH
    arrhythmia_window_s: float = 32.0
    arrhythmia_every_s: float = 1.0
    news2_medium: Priority = Priority.MEDIUM
    news2_high: Priority = Priority.HIGH
    audio_pause_s: float = 120.0
    escalate_after_s: float = 60.0
    latch_high: bool = True
    # How long an arrhythmia stays "present" after the analysis last saw it, so that a rhythm at the
    # edge of its definition (a rate hovering at 40/min) gives one alarm, not one every few seconds.
    arrhythmia_hold_s: float = 8.0

    def rule(self, key: str) -> LimitRule | None:
        return next((r for r in self.limits if r.key == key), None)

    def with_rule(self, rule: LimitRule) -> AlarmSettings:
        """These settings with one limit replaced (or added)."""
        if any(r.key == rule.key for r in self.limits):
            return replace(self, limits=tuple(rule if r.key == rule.key else r for r in self.limits))
        return replace(self, limits=(*self.limits, rule))


def _number(entry: Mapping[str, Any], key: str, where: str, *, minimum: float | None = None) -> float | None:
    if key not in entry:
        return None
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SettingsError(f"{where}: {key} must be a number, not {value!r}")
    if minimum is not None and value < minimum:
        raise SettingsError(f"{where}: {key} must be at least {minimum}, not {value!r}")
    return float(value)


def _priority(value: object, where: str) -> Priority:
    if not isinstance(value, str):
        raise SettingsError(f"{where}: priority must be high, medium or low, not {value!r}")
    try:
        return Priority.parse(value)
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def parse_settings(raw: Mapping[str, Any]) -> AlarmSettings:
    """Alarm settings from the parsed TOML document; raises SettingsError naming what is wrong."""
    by_key = {info.key: code for code, info in channel_table().items()}
    rules: list[LimitRule] = []
    for i, entry in enumerate(raw.get("limit", []), start=1):
        where = f"[[limit]] entry {i}"
        key = entry.get("kind")
        if not isinstance(key, str) or not key:
            raise SettingsError(f"{where}: kind is missing")
        where = f"[[limit]] {key}"
        parameter = entry.get("parameter")
        if parameter not in by_key:
            raise SettingsError(f"{where}: unknown parameter {parameter!r}")
        low, high = _number(entry, "low", where), _number(entry, "high", where)
        if low is None and high is None:
            raise SettingsError(f"{where}: needs a low or a high limit")
        if low is not None and high is not None and low >= high:
            raise SettingsError(f"{where}: low ({low}) must be below high ({high})")
        if any(r.key == key for r in rules):
            raise SettingsError(f"{where}: defined twice")
        rules.append(
            LimitRule(
                key=key,
                code=by_key[parameter],
                low=low,
                high=high,
                priority=_priority(entry.get("priority", "medium"), where),
                delay_s=_number(entry, "delay_s", where, minimum=0.0) or 0.0,
                enabled=bool(entry.get("enabled", True)),
                hysteresis=_number(entry, "hysteresis", where, minimum=0.0) or 0.0
                if "hysteresis" in entry
                else (0.2 if parameter == "TEMP" else 1.0),
            )
        )
    technical: dict[TechnicalKind, Priority] = {kind: Priority.MEDIUM for kind in TechnicalKind}
    for name, value in raw.get("technical", {}).items():
        try:
            kind = TechnicalKind(name)
        except ValueError:
            raise SettingsError(f"[technical]: unknown technical condition {name!r}") from None
        technical[kind] = _priority(value, f"[technical] {name}")
    technical_delay: dict[TechnicalKind, float] = {}
    for name, value in raw.get("technical_delay_s", {}).items():
        try:
            kind = TechnicalKind(name)
        except ValueError:
            raise SettingsError(f"[technical_delay_s]: unknown technical condition {name!r}") from None
        delay = _number({name: value}, name, "[technical_delay_s]", minimum=0.0)
        technical_delay[kind] = delay or 0.0
    arr = raw.get("arrhythmia", {})
    news = raw.get("news2", {})
    beh = raw.get("behaviour", {})
    defaults = AlarmSettings((), {})
    return AlarmSettings(
        limits=tuple(rules),
        technical=MappingProxyType(technical),
        technical_delay_s=MappingProxyType(technical_delay),
        arrhythmia_priority=_priority(arr.get("priority", "high"), "[arrhythmia]"),
        arrhythmia_window_s=_number(arr, "window_s", "[arrhythmia]", minimum=4.0)
        or defaults.arrhythmia_window_s,
        arrhythmia_every_s=_number(arr, "every_s", "[arrhythmia]", minimum=0.1)
        or defaults.arrhythmia_every_s,
        news2_medium=_priority(news.get("medium_priority", "medium"), "[news2]"),
        news2_high=_priority(news.get("high_priority", "high"), "[news2]"),
        audio_pause_s=_number(beh, "audio_pause_s", "[behaviour]", minimum=1.0) or defaults.audio_pause_s,
        escalate_after_s=_number(beh, "escalate_after_s", "[behaviour]", minimum=1.0)
        or defaults.escalate_after_s,
        latch_high=bool(beh.get("latch_high", True)),
    )


@cache
def default_settings() -> AlarmSettings:
    """The adult defaults shipped in resources/ (read once)."""
    text = resources.files("wardwatch.resources").joinpath("alarm_defaults.toml").read_text("utf-8")
    return parse_settings(tomllib.loads(text))
