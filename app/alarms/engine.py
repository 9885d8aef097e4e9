"""The alarm engine: turns each bed's conditions into alarms with delays, latching, acknowledgement,
audio pause, escalation and a journal of who did what, on its own thread.

Each tick reads the StreamHub (latest numerics, technical conditions) and the arrhythmia analysis,
updates every bed's alarms under one lock and publishes one immutable `AlarmSnapshot`. The display
reads the newest snapshot on its paint timer; actions from people (acknowledge, pause) take the same
lock and publish at once. Nothing here touches Qt or the disk.

Safety rules kept here:
- an alarm is only ever cleared when its condition has ended *and* (for a latching alarm) a person
  has acknowledged it; an arrhythmia the verification finds false is kept and shown as held back,
  and is raised at once if later analysis confirms it;
- a verified, sounding alarm is never downgraded by later analysis;
- if a tick fails, the snapshot says so (`fault`) so the display can raise a station alarm: the
  engine failing silently would be the worst alarm of all.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from wardwatch.app.alarms.findings import (
    ANALYSIS_KEY,
    ARRHYTHMIA_PREFIX,
    Finding,
    covered_keys,
    limit_findings,
    technical_findings,
)
from wardwatch.app.alarms.model import (
    Action,
    Alarm,
    AlarmEvent,
    AlarmSnapshot,
    AudioPause,
    Category,
    Priority,
    State,
    sort_key,
)
from wardwatch.app.alarms.settings import AlarmSettings, LimitRule, default_settings
from wardwatch.app.clock import Clock
from wardwatch.app.hub import StreamHub
from wardwatch.devices.base import stop_thread

log = logging.getLogger(__name__)

STATION_USER = "station"  # who acts until the users issue brings logins
TICK_S = 0.1
JOURNAL_SIZE = 100_000
HELD_BACK_HISTORY = 200

# Per bed: the arrhythmia findings of one analysis (held back or not), at a station time; None when
# an analysis running elsewhere has no new answer yet (what was seen stays seen for its hold time).
Analyser = Callable[[str, float], Sequence[Finding] | None]
# Per bed: findings from other rules that need more than the numerics (NEWS2 with nurse entries).
ExtraFindings = Callable[[str, float], Sequence[Finding]]

_Key = tuple[str, str]


class AlarmEngine:
    def __init__(
        self,
        hub: StreamHub,
        clock: Clock,
        beds: Callable[[], Iterable[str]],
        settings: AlarmSettings | None = None,
        analyser: Analyser | None = None,
        extra: ExtraFindings | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self._hub = hub
        self._clock = clock
        self._beds = beds
        self._defaults = settings or default_settings()
        self._bed_settings: dict[str, AlarmSettings] = {}
        self._analyser = analyser
        # more rules may join later (pumps, glucose, deterioration risk), each guarded on its own
        self._extra: list[ExtraFindings] = [extra] if extra is not None else []
        self._tick_s = tick_s
        self._lock = threading.RLock()
        self._open: dict[_Key, Alarm] = {}
        self._pending: dict[_Key, float] = {}
        self._arrhythmia: dict[str, dict[str, tuple[Finding, float]]] = {}
        self._next_analysis: dict[str, float] = {}
        self._analysis_failed: dict[str, str] = {}  # bed → why its last analysis failed
        self._held_history: deque[Alarm] = deque(maxlen=HELD_BACK_HISTORY)
        self._journal: deque[AlarmEvent] = deque(maxlen=JOURNAL_SIZE)
        self._subscribers: list[queue.SimpleQueue[AlarmEvent]] = []
        self._pause: AudioPause | None = None
        self._ids = itertools.count(1)
        self._version = 0
        self._fault: str | None = None
        self._snapshot = AlarmSnapshot(0, clock.now(), (), (), None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="alarm-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        stop_thread(self._stop, self._thread)

    def _run(self) -> None:
        while not self._clock.wait(self._tick_s, self._stop):
            self.tick_safely()

    def tick_safely(self) -> AlarmSnapshot:
        """One tick that never raises: a failure is published as the snapshot's `fault` (and logged),
        because an engine that died quietly would silence every alarm of the ward."""
        try:
            snapshot = self.tick()
        except Exception as exc:
            log.exception("alarm engine tick failed")
            with self._lock:
                self._fault = f"alarm engine error ({type(exc).__name__}): alarms may not be current"
                self._publish(self._clock.now())
                return self._snapshot
        if self._fault is not None:
            with self._lock:
                self._fault = None
                self._publish(self._clock.now())
                snapshot = self._snapshot
        return snapshot

    # ---- reading -----------------------------------------------------------------------------------
    @property
    def snapshot(self) -> AlarmSnapshot:
        """The newest state of every alarm (an immutable object, safe to read from any thread)."""
        return self._snapshot

    @property
    def fault(self) -> str | None:
        return self._fault

    def journal(self) -> tuple[AlarmEvent, ...]:
        with self._lock:
            return tuple(self._journal)

    def subscribe(self) -> queue.SimpleQueue[AlarmEvent]:
        """A queue receiving every journal event from now on (for the record and interfaces)."""
        q: queue.SimpleQueue[AlarmEvent] = queue.SimpleQueue()
        with self._lock:
            self._subscribers = [*self._subscribers, q]
        return q

    def unsubscribe(self, q: queue.SimpleQueue[AlarmEvent]) -> None:
        """Stop feeding a queue: a service closed while the station runs on must not leave it growing."""
        with self._lock:
            self._subscribers = [s for s in self._subscribers if s is not q]

    def settings_for(self, bed: str) -> AlarmSettings:
        return self._bed_settings.get(bed, self._defaults)

    # ---- the tick ----------------------------------------------------------------------------------
    def tick(self) -> AlarmSnapshot:
        now = self._clock.now()
        beds = list(self._beds())
        fresh = self._analyse(beds, now)  # outside the lock: the slow part, reads only the hub
        with self._lock:
            changed = False
            for bed, findings in fresh.items():
                seen = self._arrhythmia.setdefault(bed, {})
                for f in findings:
                    seen[f.key] = (f, now)
            for bed in beds:
                changed |= self._apply(bed, self._findings(bed, now), now)
            changed |= self._escalate(now)
            changed |= self._expire_pause(now)
            if changed:
                self._publish(now)
            return self._snapshot

    def _analyse(self, beds: Sequence[str], now: float) -> dict[str, Sequence[Finding]]:
        if self._analyser is None:
            return {}
        out: dict[str, Sequence[Finding]] = {}
        for i, bed in enumerate(beds):
            every = self.settings_for(bed).arrhythmia_every_s
            # staggered start, so the beds' analyses spread over the interval instead of one burst
            due = self._next_analysis.setdefault(bed, now + every * i / max(len(beds), 1))
            if now + 1e-9 < due:
                continue
            self._next_analysis[bed] = max(due + every, now)
            try:
                result = self._analyser(bed, now)
                self._analysis_failed.pop(bed, None)
                if result is not None:
                    out[bed] = result
            except Exception as exc:  # must never hide the bed's other alarms, nor go unnoticed
                reason = type(exc).__name__
                if self._analysis_failed.get(bed) != reason:  # once per failure, not once a second
                    log.warning("arrhythmia analysis failed on %s: %s: %s", bed, reason, exc)
                    log.debug("arrhythmia analysis failure on %s", bed, exc_info=True)
                self._analysis_failed[bed] = reason
        return out

    def _findings(self, bed: str, now: float) -> list[Finding]:
        settings = self.settings_for(bed)
        streams = self._hub.streams(bed)
        findings: list[Finding] = []
        if streams is not None:
            raised = {k[1] for k in self._open if k[0] == bed}
            findings += limit_findings(settings.limits, dict(streams.numerics), now, raised)
            conditions = [(c.kind, c.detail) for c in list(streams.conditions.values())]
            findings += technical_findings(conditions, settings)
        seen = self._arrhythmia.get(bed, {})
        for key, (finding, at) in list(seen.items()):
            if now - at <= settings.arrhythmia_every_s + settings.arrhythmia_hold_s:
                findings.append(finding)
            else:
                del seen[key]
        failed = self._analysis_failed.get(bed)
        if failed is not None:  # without analysis, asystole and VF would sound nothing: say so
            findings.append(
                Finding(
                    key=ANALYSIS_KEY,
                    category=Category.TECHNICAL,
                    priority=Priority.MEDIUM,
                    message="Arrhythmia analysis off",
                    reason=f"the analysis failed ({failed}); watch the bedside monitor",
                )
            )
        for rules in list(self._extra):
            try:
                findings += rules(bed, now)
            except Exception:
                log.exception("extra alarm rules failed on %s", bed)
        return findings

    def add_rules(self, rules: ExtraFindings) -> None:
        """More per-bed findings (e.g. pump or risk alarms); a rule that raises is logged, the others run."""
        self._extra.append(rules)

    def _apply(self, bed: str, findings: Iterable[Finding], now: float) -> bool:
        changed = False
        present: dict[str, Finding] = {}
        for f in findings:
            if f.key not in present or f.priority > present[f.key].priority:
                present[f.key] = f
        covered = covered_keys(present.values())
        for key, f in present.items():
            k = (bed, key)
            alarm = self._open.get(k)
            if key in covered and alarm is None:  # one event, one alarm; its delay counts underneath
                self._pending.setdefault(k, now)
                continue
            if alarm is None:
                since = self._pending.setdefault(k, now)
                if now - since + 1e-9 >= f.delay_s:
                    del self._pending[k]
                    self._raise(bed, f, since, now)
                    changed = True
            else:
                changed |= self._still_present(alarm, f, now)
        for k in [k for k in self._pending if k[0] == bed and k[1] not in present]:
            del self._pending[k]
        for k, alarm in list(self._open.items()):
            # a covered alarm already raised stays while its own condition lasts: ending it and raising
            # it again each time the covering alarm flickers would be worse than showing both
            if k[0] == bed and k[1] not in present:
                changed |= self._condition_ended(alarm, now)
        return changed

    # ---- state changes (under the lock) ---------------------------------------------------------------
    def _raise(self, bed: str, f: Finding, since: float, now: float) -> None:
        settings = self.settings_for(bed)
        latching = f.latching or (
            settings.latch_high and f.priority is Priority.HIGH and f.category is not Category.TECHNICAL
        )
        alarm = Alarm(
            alarm_id=next(self._ids),
            bed=bed,
            key=f.key,
            category=f.category,
            priority=f.priority,
            message=f.message,
            condition_since=since,
            raised_at=now,
            state=State.HELD_BACK if f.held_back else State.ACTIVE,
            latching=latching,
            reason=f.reason,
            evidence=f.evidence,
            audible=f.audible,
        )
        self._open[(bed, f.key)] = alarm
        if f.held_back:
            self._record(now, Action.HELD_BACK, alarm, STATION_USER, f.reason)
        else:
            self._record(now, Action.RAISED, alarm, STATION_USER, f.message)
            self._break_through(alarm, now)

    def _still_present(self, alarm: Alarm, f: Finding, now: float) -> bool:
        new = alarm
        if alarm.state is State.HELD_BACK and not f.held_back:
            new = replace(alarm, state=State.ACTIVE, raised_at=now, reason=f.reason, evidence=f.evidence)
            self._record(now, Action.RELEASED, new, STATION_USER, f.reason)
            self._break_through(new, now)
        elif alarm.state is State.LATCHED:  # the condition came back before anyone acknowledged
            new = replace(alarm, state=State.ACTIVE, condition_active=True, ended_at=None)
        if new.state is State.HELD_BACK:
            if (f.message, f.reason) != (new.message, new.reason):  # keep the reasoning current
                new = replace(new, message=f.message, reason=f.reason, evidence=f.evidence)
        elif f.message != new.message:  # the value moved ("SpO₂ 86 < 90" → "SpO₂ 84 < 90")
            new = replace(new, message=f.message, evidence=f.evidence or new.evidence)
        if new is alarm:
            return False
        self._open[(alarm.bed, alarm.key)] = new
        return True

    def _condition_ended(self, alarm: Alarm, now: float) -> bool:
        k = (alarm.bed, alarm.key)
        if alarm.state is State.LATCHED:
            return False
        if alarm.state is State.ACTIVE and alarm.latching:
            self._open[k] = replace(alarm, state=State.LATCHED, condition_active=False, ended_at=now)
            self._record(now, Action.CONDITION_ENDED, alarm, STATION_USER, "latched until acknowledged")
            return True
        cleared = replace(alarm, state=State.CLEARED, condition_active=False, ended_at=now, cleared_at=now)
        del self._open[k]
        if alarm.state is State.HELD_BACK:
            self._held_history.appendleft(cleared)
        self._record(now, Action.CLEARED, cleared, STATION_USER, "condition ended")
        return True

    def _escalate(self, now: float) -> bool:
        changed = False
        for k, alarm in list(self._open.items()):
            after = self.settings_for(alarm.bed).escalate_after_s
            if (
                alarm.priority is Priority.HIGH
                and alarm.sounding
                and alarm.escalated_at is None
                and now - alarm.raised_at + 1e-9 >= after
            ):
                self._open[k] = replace(alarm, escalated_at=now)
                self._record(
                    now, Action.ESCALATED, alarm, STATION_USER, f"not acknowledged within {after:.0f} s"
                )
                changed = True
        return changed

    def _break_through(self, alarm: Alarm, now: float) -> None:
        pause = self._pause
        if pause is not None and pause.ceiling is not None and alarm.priority > pause.ceiling:
            self._pause = None
            self._record(now, Action.AUDIO_RESUMED, alarm, STATION_USER, f"break-through: {alarm.message}")

    def _expire_pause(self, now: float) -> bool:
        if self._pause is None or now < self._pause.until:
            return False
        self._pause = None
        self._record(now, Action.AUDIO_RESUMED, None, STATION_USER, "audio pause ended")
        return True

    def _record(self, now: float, action: Action, alarm: Alarm | None, user: str, detail: str = "") -> None:
        event = AlarmEvent(
            time=now,
            action=action,
            bed=alarm.bed if alarm else "",
            alarm_id=alarm.alarm_id if alarm else None,
            key=alarm.key if alarm else "",
            priority=alarm.priority if alarm else None,
            user=user,
            detail=detail,
        )
        self._journal.append(event)
        for q in self._subscribers:
            q.put(event)
        # bed ids, alarm keys and staff names only: never a patient's name or number
        log.info("alarm %s %s %s %s by %s", action.value, event.bed, event.key, event.priority, user)

    def _publish(self, now: float) -> None:
        shown = sorted((a for a in self._open.values() if a.shown), key=sort_key)
        held_now = sorted(
            (a for a in self._open.values() if a.state is State.HELD_BACK), key=lambda a: -a.raised_at
        )
        self._version += 1
        self._snapshot = AlarmSnapshot(
            version=self._version,
            time=now,
            alarms=tuple(shown),
            held_back=(*held_now, *self._held_history),
            pause=self._pause,
            fault=self._fault,
        )

    # ---- what people do (any thread) ---------------------------------------------------------------------
    def acknowledge(self, alarm_id: int, user: str = STATION_USER) -> bool:
        """Acknowledge one alarm: silences it while its condition lasts; a latched alarm whose
        condition has ended is cleared. A held-back alarm is marked as seen."""
        with self._lock:
            now = self._clock.now()
            for k, alarm in self._open.items():
                if alarm.alarm_id == alarm_id:
                    self._acknowledge(k, alarm, user, now)
                    self._publish(now)
                    return True
            return False

    def acknowledge_bed(self, bed: str, user: str = STATION_USER) -> int:
        with self._lock:
            now = self._clock.now()
            done = 0
            for k, alarm in list(self._open.items()):
                if k[0] == bed and alarm.state in (State.ACTIVE, State.LATCHED):
                    self._acknowledge(k, alarm, user, now)
                    done += 1
            if done:
                self._publish(now)
            return done

    def acknowledge_all(self, user: str = STATION_USER) -> int:
        with self._lock:
            beds = {k[0] for k, a in self._open.items() if a.state in (State.ACTIVE, State.LATCHED)}
            return sum(self.acknowledge_bed(bed, user) for bed in beds)

    def _acknowledge(self, k: _Key, alarm: Alarm, user: str, now: float) -> None:
        if alarm.state is State.CLEARED or (
            alarm.acknowledged_at is not None and alarm.state is not State.LATCHED
        ):
            return
        if alarm.state is State.LATCHED:
            done = replace(
                alarm, state=State.CLEARED, acknowledged_by=user, acknowledged_at=now, cleared_at=now
            )
            del self._open[k]
            self._record(now, Action.ACKNOWLEDGED, done, user, "latched alarm acknowledged")
            self._record(now, Action.CLEARED, done, user, "acknowledged after its condition ended")
            return
        state = State.ACKNOWLEDGED if alarm.state is State.ACTIVE else alarm.state
        self._open[k] = replace(alarm, state=state, acknowledged_by=user, acknowledged_at=now)
        self._record(now, Action.ACKNOWLEDGED, alarm, user, f"after {now - alarm.raised_at:.0f} s")

    def pause_audio(self, user: str = STATION_USER) -> AudioPause:
        """AUDIO PAUSED for the configured time. A new alarm above the highest priority sounding now
        breaks through; when nothing sounds, only a high-priority alarm does."""
        with self._lock:
            now = self._clock.now()
            sounding = [a.priority for a in self._open.values() if a.sounding]
            ceiling = max(sounding) if sounding else Priority.MEDIUM
            seconds = self._defaults.audio_pause_s
            self._pause = AudioPause(now, now + seconds, user, ceiling)
            self._record(now, Action.AUDIO_PAUSED, None, user, f"{seconds:.0f} s")
            self._publish(now)
            return self._pause

    def resume_audio(self, user: str = STATION_USER) -> None:
        with self._lock:
            if self._pause is None:
                return
            now = self._clock.now()
            self._pause = None
            self._record(now, Action.AUDIO_RESUMED, None, user, "resumed by hand")
            self._publish(now)

    def set_limit(self, bed: str, rule: LimitRule, user: str = STATION_USER) -> None:
        """Give one bed its own limit; recorded with the old and new values."""
        with self._lock:
            now = self._clock.now()
            old = self.settings_for(bed).rule(rule.key)
            self._bed_settings[bed] = self.settings_for(bed).with_rule(rule)
            before = "none" if old is None else _limit_text(old)
            self._journal_limit(now, bed, rule, user, f"{before} -> {_limit_text(rule)}")
            self._publish(now)

    def reset_limits(self, bed: str, user: str = STATION_USER) -> None:
        with self._lock:
            if self._bed_settings.pop(bed, None) is not None:
                now = self._clock.now()
                self._journal.append(
                    AlarmEvent(now, Action.LIMITS_CHANGED, bed, None, "", None, user, "defaults")
                )
                self._publish(now)

    def _journal_limit(self, now: float, bed: str, rule: LimitRule, user: str, detail: str) -> None:
        event = AlarmEvent(now, Action.LIMITS_CHANGED, bed, None, rule.key, rule.priority, user, detail)
        self._journal.append(event)
        for q in self._subscribers:
            q.put(event)
        log.info("alarm limits changed on %s: %s %s by %s", bed, rule.key, detail, user)

    def record_entry(self, bed: str, detail: str, user: str = STATION_USER) -> None:
        """Journal what a person entered for a bed (no personal health information in `detail`)."""
        with self._lock:
            now = self._clock.now()
            event = AlarmEvent(now, Action.CLINICAL_ENTRY, bed, None, "", None, user, detail)
            self._journal.append(event)
            for q in self._subscribers:
                q.put(event)
            log.info("clinical entry on %s by %s: %s", bed, user, detail)

    def forget_bed(self, bed: str, user: str = STATION_USER) -> None:
        """The bed's patient left (discharge or move): end its alarms on the record and start afresh."""
        with self._lock:
            now = self._clock.now()
            for k, alarm in list(self._open.items()):
                if k[0] == bed:
                    del self._open[k]
                    done = replace(alarm, state=State.CLEARED, condition_active=False, cleared_at=now)
                    self._record(now, Action.CLEARED, done, user, "bed discharged")
            self._pending = {k: v for k, v in self._pending.items() if k[0] != bed}
            self._arrhythmia.pop(bed, None)
            self._bed_settings.pop(bed, None)
            self._publish(now)


def _limit_text(rule: LimitRule) -> str:
    parts = []
    if rule.low is not None:
        parts.append(f"low {rule.low:g}")
    if rule.high is not None:
        parts.append(f"high {rule.high:g}")
    parts.append(f"delay {rule.delay_s:g} s")
    parts.append(rule.priority.word)
    if not rule.enabled:
        parts.append("off")
    return " ".join(parts)


def arrhythmia_key(name: str) -> str:
    return ARRHYTHMIA_PREFIX + name


def open_alarms_by_bed(snapshot: AlarmSnapshot) -> Mapping[str, tuple[Alarm, ...]]:
    out: dict[str, list[Alarm]] = {}
    for a in snapshot.alarms:
        out.setdefault(a.bed, []).append(a)
    return {bed: tuple(v) for bed, v in out.items()}
