"""Nurses' notes on a bed: written into the encrypted record (committed before they count as kept)
and kept with the bed's current patient in memory, so the bed view shows them without a query and
they follow the patient on a move (the station copies `Bed.notes`) and leave with them at discharge.

`add_note` is the user action "add a note"; its text is personal health information and is never
logged (a log line names the bed and the author only).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Future

from wardwatch.app.station import Station
from wardwatch.storage.review_tables import shift_notes
from wardwatch.storage.writer import Row

log = logging.getLogger(__name__)

MAX_NOTE_CHARS = 2000


class NoteError(ValueError):
    """A note that cannot be kept (empty, too long, no record); the message is for the user."""


def note_line(when: float, author: str, text: str) -> str:
    """A note as the bed keeps it in memory and the bed view lists it."""
    return f"{dt.datetime.fromtimestamp(when).strftime('%H:%M')}  {author}: {text}"


def add_note(
    station: Station,
    put_critical: Callable[[Row], Future[None]] | None,
    bed_id: str,
    author: str,
    text: str,
) -> Future[None]:
    """Add a nurse's note to a bed: recorded with its author and time, and shown on the bed at once.
    The Future completes when the record has committed it (or fails, e.g. with the disk full: the
    writer keeps it and writes it when it can)."""
    clean = text.strip()
    if not clean:
        raise NoteError("the note is empty")
    if len(clean) > MAX_NOTE_CHARS:
        raise NoteError(f"a note holds at most {MAX_NOTE_CHARS} characters")
    if put_critical is None:
        raise NoteError("the station is not recording, so a note could not be kept")
    bed = station.bed(bed_id)
    when = station.clock.now()
    future = put_critical(Row(shift_notes, {"time": when, "bed_id": bed_id, "author": author, "text": clean}))
    bed.notes.append(note_line(when, author, clean))
    log.info("note added on %s by %s", bed_id, author)
    return future
