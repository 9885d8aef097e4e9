"""The handover report: what a bed's shift was, gathered from the record, and the user action that
writes it as a PDF (`make_handover_report`, the one function the command line and the GUI button call).

Gathering reads the record only through `ReviewReader` and runs wherever it is called (a worker thread
in the station, the main thread of the command line). Personal health information goes into the PDF
and nowhere else: log lines name beds and counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wardwatch.app.alarms.model import Action
from wardwatch.app.alarms.news2_watch import ClinicalEntries
from wardwatch.app.review.episodes import (
    AlarmEpisode,
    TechnicalEpisode,
    alarm_episodes,
    technical_episodes,
)
from wardwatch.app.review.news2_history import News2History, entries_from_detail, news2_history
from wardwatch.app.review.vitals import Samples, VitalsTable, hourly_vitals
from wardwatch.storage.review_queries import NoteLine, Occupant, ReviewReader

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (beds done, beds in all)


@dataclass(frozen=True, slots=True)
class BedShift:
    """Everything the review knows about one bed over one period."""

    bed: str
    label: str
    start: float
    end: float
    occupants: tuple[Occupant, ...]
    trends: dict[int, Samples]
    news2: News2History
    alarms: tuple[AlarmEpisode, ...]
    technical: tuple[TechnicalEpisode, ...]
    notes: tuple[NoteLine, ...]

    @property
    def held_back(self) -> tuple[AlarmEpisode, ...]:
        return tuple(a for a in self.alarms if a.held_back)

    def vitals(self) -> VitalsTable:
        return hourly_vitals(self.trends, self.start, self.end)


def entries_in_force(
    reader: ReviewReader, bed: str, start: float, lines_entries: Sequence[tuple[float, str]]
) -> list[tuple[float, ClinicalEntries]]:
    """The nurse's NEWS2 entries that held during the period: the last one before it, then its own."""
    out: list[tuple[float, ClinicalEntries]] = []
    before = reader.last_entry_before(bed, start)
    if before is not None:
        out.append((before.time, entries_from_detail(before.detail)))
    out += [(t, entries_from_detail(detail)) for t, detail in lines_entries]
    return out


def bed_shift(reader: ReviewReader, bed: str, label: str, start: float, end: float) -> BedShift:
    lines = reader.alarm_lines(bed, start, end)
    entries = entries_in_force(
        reader, bed, start, [(x.time, x.detail) for x in lines if x.action == Action.CLINICAL_ENTRY]
    )
    trends = {code: (s.times, s.values) for code, s in reader.trends(bed, start, end).items()}
    return BedShift(
        bed=bed,
        label=label,
        start=start,
        end=end,
        occupants=tuple(reader.occupants(bed, start, end)),
        trends=trends,
        news2=news2_history(trends, entries, start, end),
        alarms=tuple(alarm_episodes(lines)),
        technical=tuple(technical_episodes(reader.technical_lines(bed, start, end))),
        notes=tuple(reader.notes(bed, start, end)),
    )


def ward_beds(reader: ReviewReader, only: str | None = None) -> list[tuple[str, str]]:
    """(bed id, label) of the ward's beds in ward order, or of the one bed asked for (by id, label or
    number: "bed04", "Bed 4", "4"); an empty list when there is no such bed."""
    beds = sorted(reader.bed_labels().items())
    if only is None:
        return beds
    wanted = only.strip().lower()
    for bed, label in beds:
        number = bed.removeprefix("bed").lstrip("0")
        if wanted in (bed.lower(), label.lower(), number):
            return [(bed, label)]
    return []


def make_handover_report(
    reader: ReviewReader,
    beds: Sequence[tuple[str, str]],
    start: float,
    end: float,
    out: Path,
    station: str,
    progress: Progress | None = None,
) -> Path:
    """Write the handover report of `beds` from `start` to `end` to `out` (a PDF, mode 0600).
    This is the user action "produce a handover report": it reads every bed's shift, then renders."""
    from wardwatch.app.review.handover_pdf import render_handover  # reportlab only when a report is made

    shifts = []
    for i, (bed, label) in enumerate(beds):
        shifts.append(bed_shift(reader, bed, label, start, end))
        if progress is not None:
            progress(i + 1, len(beds) + 1)
    render_handover(shifts, start, end, station, out)
    if progress is not None:
        progress(len(beds) + 1, len(beds) + 1)
    log.info("handover report of %d beds written", len(beds))
    return out
