"""The deterioration risk beside a running station: each bed's hours, its hourly (and on-demand) risk,
the advisory alarm when the risk crosses the threshold, and the risk as a numeric channel of the bed.

One worker thread samples every monitored bed's current numerics once a minute into hourly means, scores
each bed when an hour completes (or when asked), and pushes the risk through the hub as the bed's
RISK_DETERIORATION numeric, so the recorder stores its history like any trend. The alarm rule runs in
the engine's tick and only reads what the worker last published (no model work in the alarm path).
Nothing here logs patient data: bed ids and numbers only.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from wardwatch.app.alarms.findings import DETERIORATION_KEY, Finding, is_current
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.clock import Clock
from wardwatch.app.codes import MdcCode
from wardwatch.app.deterioration.explain import calibration_note, top_factors
from wardwatch.app.deterioration.features import STAY_HORIZON_H, Features, compute_features
from wardwatch.app.deterioration.hourly import HOUR_S, VITAL_SOURCES, BedHours, hour_of
from wardwatch.app.deterioration.model import DeteriorationModel, load_model
from wardwatch.app.domain import Observation, Validity
from wardwatch.app.hub import StreamHub

if TYPE_CHECKING:
    from wardwatch.app.extensions import ServiceContext
    from wardwatch.app.station import WardChange

log = logging.getLogger(__name__)

ADVISORY_KEY = DETERIORATION_KEY
SERVICE_NAME = "deterioration"
SAMPLE_EVERY_S = 60.0
# Once raised, the advisory holds until the risk falls below this share of the threshold: an hourly
# risk hovering at the threshold must not raise and clear the advisory hour after hour.
HYSTERESIS = 0.8
STALE_AFTER_S = 2 * HOUR_S  # a risk older than this (no data) no longer raises anything
HISTORY_HOURS = 48
# every hour the features read (see STAY_HORIZON_H), so a restarted station scores a bed as before
BACKFILL_HOURS = STAY_HORIZON_H

Reader = Callable[[str, float, float], Mapping[int, object]]  # the record's trends(bed, start, end)


@dataclass(frozen=True, slots=True)
class BedRisk:
    bed: str
    risk: float  # 0-1
    time: float  # when computed
    hours: int  # hours of data it rests on
    factors: tuple[str, ...]  # the top contributing factors, in words
    note: str  # what such a risk has meant (calibration)
    alert: bool  # at or above the threshold (with hysteresis)
    history: tuple[tuple[float, float], ...] = ()  # (time, risk) of the last hours, oldest first

    @property
    def trend(self) -> float | None:
        """Change since about an hour before (None: no earlier risk)."""
        earlier = [r for t, r in self.history if self.time - t >= 0.5 * HOUR_S]
        return self.risk - earlier[-1] if earlier else None

    @property
    def arrow(self) -> str:
        trend = self.trend
        if trend is None or abs(trend) < 0.002:  # risks are small numbers: 0.2 points is a real move
            return "→" if trend is not None else ""
        return "↑" if trend > 0 else "↓"

    @property
    def percent_text(self) -> str:
        if self.risk < 0.001:
            return "<0.1 %"
        return f"{self.risk * 100:.1f} %" if self.risk < 0.1 else f"{self.risk * 100:.0f} %"


@dataclass
class _Bed:
    hours: BedHours
    latest: BedRisk | None = None
    history: list[tuple[float, float]] = field(default_factory=list)
    scored_hour: int | None = None  # the last completed hour scored (on-demand scores aside)


class RiskService:
    def __init__(
        self,
        hub: StreamHub,
        clock: Clock,
        beds: Callable[[], Iterable[str]],
        model: DeteriorationModel | Callable[[], DeteriorationModel],
        *,
        threshold: float | None = None,
        tone: bool = False,
        reader: Reader | None = None,
        sample_every_s: float = SAMPLE_EVERY_S,
    ) -> None:
        self._hub = hub
        self._clock = clock
        self._beds = beds
        # a loader is called on the worker thread: reading the model file is I/O, kept off the caller
        self._load = model if callable(model) and not isinstance(model, DeteriorationModel) else None
        self.model: DeteriorationModel | None = None if self._load is not None else model  # type: ignore[assignment]
        self._threshold = threshold
        self.tone = tone
        self._reader = reader
        self._sample_every_s = sample_every_s
        self._lock = threading.Lock()
        self._state: dict[str, _Bed] = {}
        self._requests: set[str] = set()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.fault: str | None = None  # the last failure, in words (shown by the window)

    # ---- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="deterioration-risk", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)

    @property
    def threshold(self) -> float:
        if self._threshold is not None:
            return self._threshold
        return self.model.threshold if self.model is not None else math.inf

    def _run(self) -> None:
        if self._load is not None:
            try:
                self.model = self._load()
            except Exception as exc:
                self._failed("loading the model", exc)
                return
        try:
            self.backfill(self._clock.now())
        except Exception as exc:
            self._failed("reading the recorded trends", exc)
        while not self._stopping:
            try:
                self.step(self._clock.now())
            except Exception as exc:
                self._failed("the hourly risk", exc)
            self._clock.wait(self._sample_every_s, self._wake)
            self._wake.clear()

    def _failed(self, what: str, exc: Exception) -> None:
        self.fault = f"{what} failed ({type(exc).__name__})"
        log.exception("deterioration risk: %s failed", what)

    # ---- what others ask (any thread) ----------------------------------------------------------------
    def latest(self, bed: str) -> BedRisk | None:
        state = self._state.get(bed)
        return None if state is None else state.latest

    def refresh(self, bed: str) -> None:
        """Score the bed now, including the hour under way (the worker does it and publishes it)."""
        with self._lock:
            self._requests.add(bed)
        self._wake.set()

    def set_labs(self, bed: str, values: Mapping[str, float], taken_at: float) -> None:
        """Laboratory values taken at `taken_at` (a nurse's entry, or an interface's result)."""
        with self._lock:
            hours = self._bed(bed, taken_at).hours
            for name, value in values.items():
                if value is not None and math.isfinite(value):
                    hours.add_lab(name, float(value), taken_at)
        self.refresh(bed)

    def set_demographics(self, bed: str, age: float | None, female: bool | None) -> None:
        with self._lock:
            hours = self._bed(bed, self._clock.now()).hours
            hours.age, hours.female = age, female
        self.refresh(bed)

    def forget(self, bed: str) -> None:
        """The patient left the bed: the next one starts with no hours and no risk."""
        with self._lock:
            self._state.pop(bed, None)
            self._requests.discard(bed)

    def hours(self, bed: str) -> BedHours | None:
        state = self._state.get(bed)
        return None if state is None else state.hours

    # ---- the worker ----------------------------------------------------------------------------------
    def _bed(self, bed: str, now: float) -> _Bed:
        state = self._state.get(bed)
        if state is None:
            state = _Bed(BedHours(first_hour=hour_of(now)))
            self._state[bed] = state
        return state

    def backfill(self, now: float) -> None:
        """Hours recorded before this run (the station restarted): rebuilt from the record's trends."""
        if self._reader is None:
            return
        start = (hour_of(now) - BACKFILL_HOURS) * HOUR_S
        for bed in list(self._beds()):
            trends = self._reader(bed, start, now)
            got = False
            with self._lock:
                for name, codes in VITAL_SOURCES.items():
                    series = next((trends[int(c)] for c in codes if int(c) in trends), None)
                    if series is None:
                        continue
                    times = np.asarray(getattr(series, "times", ()), dtype=np.float64)
                    values = np.asarray(getattr(series, "values", ()), dtype=np.float64)
                    keep = np.isfinite(values)
                    if not keep.any():
                        continue
                    state = self._bed(bed, float(times[keep][0]))
                    state.hours.first_hour = min(state.hours.first_hour, hour_of(float(times[keep][0])))
                    # one value a minute, as the live sampling takes
                    minute = np.floor(times[keep] / 60.0)
                    _, first = np.unique(minute, return_index=True)
                    for t, v in zip(times[keep][first], values[keep][first], strict=True):
                        state.hours.add_vital(name, float(v), float(t))
                    got = True
            if got:
                self.refresh(bed)

    def step(self, now: float) -> None:
        """One pass: sample every monitored bed, then score the beds whose hour ended or that were asked."""
        beds = list(self._beds())
        with self._lock:
            for bed in beds:
                self._sample(bed, now)
            wanted = set(self._requests)
            self._requests.clear()
        hour = hour_of(now)
        for bed in beds:
            state = self._state.get(bed)
            if state is None:
                continue
            if state.scored_hour is None or state.scored_hour < hour - 1:
                self._score(bed, state, now, hour - 1, completed=True)  # the hour that just ended
            if bed in wanted:
                self._score(bed, state, now, hour, completed=False)

    def _sample(self, bed: str, now: float) -> None:
        streams = self._hub.streams(bed)
        if streams is None:
            return
        numerics = dict(streams.numerics)
        values: dict[str, float] = {}
        for name, codes in VITAL_SOURCES.items():
            for code in codes:
                obs = numerics.get(code)
                if obs is not None and is_current(obs, now):
                    values[name] = float(obs.value)
                    break
        if not values:
            return
        state = self._bed(bed, now)
        for name, value in values.items():
            state.hours.add_vital(name, value, now)

    def _score(self, bed: str, state: _Bed, now: float, last_hour: int, completed: bool) -> None:
        model = self.model
        if model is None:
            return
        with self._lock:
            if last_hour < state.hours.first_hour:
                return
            columns = state.hours.columns(last_hour)
            previous = state.latest
        if not any(np.isfinite(columns[name]).any() for name in VITAL_SOURCES):
            return
        starts = np.zeros(len(columns["ICULOS"]), dtype=np.int64)
        features = compute_features(columns, starts)
        last = features.matrix[-1:]
        risk = float(model.risk(Features(features.names, last))[0])
        contributions = model.contributions(Features(features.names, last))[0]
        factors = tuple(f.text for f in top_factors(features.names, last[0], contributions))
        raised = previous is not None and previous.alert
        alert = risk >= self.threshold * (HYSTERESIS if raised else 1.0)
        with self._lock:
            if self._state.get(bed) is not state:  # discharged meanwhile
                return
            state.history = [(t, r) for t, r in state.history if now - t <= HISTORY_HOURS * HOUR_S]
            state.history.append((now, risk))
            if completed:
                state.scored_hour = last_hour
            state.latest = BedRisk(
                bed=bed,
                risk=risk,
                time=now,
                hours=len(columns["ICULOS"]),
                factors=factors,
                note=calibration_note(risk, model.band(risk)),
                alert=alert,
                history=tuple(state.history),
            )
        self._hub.push_observation(
            Observation(
                bed,
                MdcCode.RISK_DETERIORATION,
                round(risk * 100.0, 1),
                "%",
                now,
                Validity.VALID,
                "deterioration model",
            ),
            from_monitor=False,
        )
        log.info("deterioration risk %s: %.3f (%d h)", bed, risk, len(columns["ICULOS"]))

    # ---- the alarm rule (the engine's tick) ----------------------------------------------------------
    def __call__(self, bed: str, now: float) -> list[Finding]:
        latest = self.latest(bed)
        if latest is None or not latest.alert or now - latest.time > STALE_AFTER_S:
            return []
        why = "; ".join(latest.factors) if latest.factors else "no single factor stands out"
        return [
            Finding(
                key=ADVISORY_KEY,
                category=Category.ADVISORY,
                priority=Priority.LOW,
                message=f"Deterioration risk {latest.percent_text} {latest.arrow}".rstrip(),
                reason=f"Predicted risk {latest.percent_text} (threshold {self.threshold * 100:.1f} %): "
                f"{why}. {latest.note} Not a diagnosis: review the patient.",
                evidence={"risk": latest.risk, "threshold": self.threshold},
                audible=self.tone,
            )
        ]


def start_risk_service(ctx: ServiceContext) -> RiskService | None:
    """The risk service of a running station (None when the configuration turns it off)."""
    if not ctx.config.deterioration_enabled:
        return None
    station = ctx.station
    threshold = ctx.config.deterioration_threshold_percent
    reader = getattr(ctx.record, "reader", None)
    service = RiskService(
        station.hub,
        station.clock,
        lambda: [b.bed_id for b in station.beds if b.source_spec],
        load_model,
        threshold=None if threshold is None else threshold / 100.0,
        tone=ctx.config.deterioration_tone,
        reader=None if reader is None else reader.trends,
    )

    def on_ward_change(change: WardChange) -> None:
        if change.kind not in ("admit", "discharge"):
            return
        service.forget(change.bed_id)  # a new stay starts from its own first hour
        patient = change.patient
        if change.kind == "admit" and patient is not None:
            today = dt.datetime.fromtimestamp(change.time, dt.UTC).date()
            age = patient.age_years(today)
            service.set_demographics(change.bed_id, None if age is None else float(age), None)

    station.ward_listeners.append(on_ward_change)
    station.alarms.add_rules(service)
    station.services[SERVICE_NAME] = service
    service.start()
    return service
