"""The rapid-response overview: from a house snapshot, every bed of every viewed ward that needs the team
now, most urgent first, in the words the team reads. Pure: a snapshot in, a list out.

What is listed: every active high-priority alarm, every bed with NEWS2 ≥ 5, every bed whose
deterioration risk is above its threshold. Order: high alarms first, then NEWS2 ≥ 7 (the high band),
then NEWS2 5–6 and risks; within a class the longest-standing first (older first), because the team
goes to whoever has waited longest at the same urgency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from wardwatch.app.alarms.model import Priority, State
from wardwatch.app.hospital.house import NEWS2_RESPONSE, NEWS2_URGENT, HouseSnapshot, RemoteBed


class Urgency(IntEnum):
    """The classes of the list, most urgent first (the order of the enum is the order of the list)."""

    HIGH_ALARM = 0
    NEWS2_HIGH = 1
    NEWS2_MEDIUM = 2
    RISK = 3

    @property
    def rank(self) -> int:
        """The sorting class: a risk above threshold ranks with NEWS2 5–6 (older first between them)."""
        return min(int(self), 2)

    @property
    def word(self) -> str:
        return ("High alarm", "NEWS2 ≥ 7", "NEWS2 5–6", "Risk")[int(self)]


@dataclass(frozen=True, slots=True)
class RapidItem:
    """One line of the overview."""

    urgency: Urgency
    bed: str  # local key "<site>/<ward>/<bed>"
    ward: str
    bed_label: str
    station: str
    patient: str  # name, age and sex; "" for an empty bed
    what: str  # "*** SpO₂ 86 < 90", "NEWS2 7", "Deterioration risk 34 %"
    detail: str  # the words that follow: state, band, factors
    since: float  # when it began (the class's "older first" key)
    alarm_id: int | None = None  # for a high alarm: what an acknowledgement names
    key: str = ""
    acknowledged: bool = False
    station_lost: bool = False  # the information is as old as the station's last message

    def waited(self, now: float) -> str:
        """How long it has stood: "4 min", "2 h 05"."""
        minutes = max(0, int((now - self.since) // 60))
        return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d}"

    def sentence(self, now: float) -> str:
        """What a rapid-response nurse reads, e.g. "icu · Bed 3 (DOE, Jane · 71 F): *** SpO₂ 86 < 90,
        not acknowledged — since 10:42 (4 min)"."""
        who = f" ({self.patient})" if self.patient else ""
        detail = f", {self.detail}" if self.detail else ""
        lost = " — NO DATA FROM STATION, last known" if self.station_lost else ""
        since = dt.datetime.fromtimestamp(self.since).strftime("%H:%M")
        waited = self.waited(now)
        return f"{self.ward} · {self.bed_label}{who}: {self.what}{detail} — since {since} ({waited}){lost}"


def _patient(bed: RemoteBed) -> str:
    return bed.patient.text if bed.patient is not None else ""


def _item(
    bed: RemoteBed,
    urgency: Urgency,
    what: str,
    detail: str,
    since: float,
    alarm_id: int | None = None,
    key: str = "",
    acknowledged: bool = False,
) -> RapidItem:
    return RapidItem(
        urgency,
        bed.key,
        bed.ward,
        bed.label,
        bed.station,
        _patient(bed),
        what,
        detail,
        since,
        alarm_id,
        key,
        acknowledged,
        bed.station_lost,
    )


def rapid_response(snapshot: HouseSnapshot) -> tuple[RapidItem, ...]:
    """Every active high-priority alarm, every bed with NEWS2 ≥ 5 and every bed with a risk above its
    threshold, sorted by urgency class, then older first."""
    items: list[RapidItem] = []
    for bed in snapshot.beds:
        for alarm in bed.alarms:
            if alarm.priority is not Priority.HIGH or alarm.state not in (
                State.ACTIVE,
                State.LATCHED,
                State.ACKNOWLEDGED,
            ):
                continue
            if alarm.state is State.ACKNOWLEDGED:
                detail = f"acknowledged by {alarm.acknowledged_by or '?'}"
            elif alarm.state is State.LATCHED:
                detail = "ended, not yet acknowledged"
            else:
                detail = "ESCALATED, not acknowledged" if alarm.escalated else "not acknowledged"
            items.append(
                _item(
                    bed,
                    Urgency.HIGH_ALARM,
                    alarm.banner(),
                    detail,
                    alarm.raised_at,
                    alarm.alarm_id,
                    alarm.key,
                    alarm.state is State.ACKNOWLEDGED,
                )
            )
        news2 = bed.news2
        if news2 is not None and news2.score is not None and news2.score >= NEWS2_RESPONSE:
            urgent = news2.score >= NEWS2_URGENT or news2.band == "high"
            band = {"high": "high band", "medium": "medium band"}.get(news2.band or "", news2.band or "")
            parts = [band] if band else []
            if not news2.complete:
                parts.append("a parameter is missing: could be higher")
            items.append(
                _item(
                    bed,
                    Urgency.NEWS2_HIGH if urgent else Urgency.NEWS2_MEDIUM,
                    news2.text,
                    ", ".join(parts),
                    news2.since if news2.since is not None else news2.t,
                )
            )
        risk = bed.risk
        if risk is not None and risk.above and risk.risk is not None:
            threshold = f"threshold {risk.threshold * 100:.0f} %" if risk.threshold is not None else ""
            factors = "; ".join(risk.factors[:3])
            detail = ", ".join(p for p in (threshold, factors) if p)
            items.append(
                _item(
                    bed,
                    Urgency.RISK,
                    f"Deterioration risk {risk.percent_text}",
                    detail,
                    risk.since if risk.since is not None else risk.t,
                )
            )
    # high alarms not yet acknowledged before the acknowledged ones: both listed, the unseen first
    return tuple(sorted(items, key=lambda i: (i.urgency.rank, i.acknowledged, i.since, i.bed)))
