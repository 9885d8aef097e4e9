"""`wardwatch bench review`: opening the 24 h and 72 h trend review of one bed, and building the
12 h handover report of a 32-bed ward, on a 72 h × 32-bed record.

The record is the storage bench's big one (`storage.bench`: every bed's encoded minute of simulated
waves inserted again and again, trends as the station folds them), built once into `--dir` and kept,
with a shift's worth of review data added: alarms with acknowledgements, held-back alarms, technical
problems, nurses' entries and notes, one admission per bed. "Open" is timed as a nurse meets it: the
query and NEWS2 on the review worker, then (when Qt can run) the view painted with the result.
"""

from __future__ import annotations

import importlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from pypdf import PdfReader
from wardwatch.app.review.handover import bed_shift, make_handover_report, ward_beds
from wardwatch.app.review.service import ReviewService
from wardwatch.storage.bench import T0, _build_big
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.review_queries import review_reader

# alarms a simulated shift raises: (key, priority, share of alarms, median length s)
_ALARM_MIX = (
    ("spo2_low", "medium", 0.35, 12.0),
    ("hr_high", "medium", 0.15, 90.0),
    ("rr_high", "medium", 0.10, 60.0),
    ("nibp_sys_high", "medium", 0.05, 300.0),
    ("technical:lead_off", "medium", 0.15, 40.0),
    ("arrhythmia:Ventricular_Tachycardia", "high", 0.10, 10.0),
    ("arrhythmia:Asystole", "high", 0.05, 8.0),
    ("news2_medium", "medium", 0.05, 1800.0),
)
ALARMS_PER_BED_HOUR = 3.0
EVENTS_MARKER = "review-events-v1"


def _add_review_events(path: Path, key_file: Path, beds: int, hours: float, seed: int) -> int:
    """A shift's review data on every bed of the big record; the number of journal lines added."""
    rng = np.random.default_rng(seed)
    start = T0 - hours * 3600.0
    journal: list[tuple[object, ...]] = []
    technical: list[tuple[object, ...]] = []
    notes: list[tuple[object, ...]] = []
    keys = [m[0] for m in _ALARM_MIX]
    shares = np.array([m[2] for m in _ALARM_MIX])
    record = open_record(path, key_file=key_file)
    try:
        with record.engine.begin() as conn:
            for b in range(beds):
                bed = f"bed{b + 1:02d}"
                patient = conn.exec_driver_sql(
                    "INSERT INTO patients (mrn, family_name, given_name, birth_date) VALUES (?, ?, ?, ?)",
                    (f"BENCH-{b + 1:04d}", f"Patient{b + 1:02d}", "Bench", "1950-01-01"),
                ).lastrowid
                conn.exec_driver_sql(
                    "INSERT INTO admissions (patient_id, bed_id, admitted_at) VALUES (?, ?, ?)",
                    (patient, bed, start - 3600.0),
                )
                conn.exec_driver_sql(
                    "INSERT OR REPLACE INTO beds (bed_id, label) VALUES (?, ?)", (bed, f"Bed {b + 1}")
                )
                journal.append(
                    (
                        start - 60.0,
                        bed,
                        None,
                        "",
                        None,
                        "clinical_entry",
                        "nurse",
                        "consciousness A, air, SpO2 scale 1",
                    )
                )
                n = rng.poisson(ALARMS_PER_BED_HOUR * hours)
                times = np.sort(rng.uniform(start, T0 - 600.0, n))
                for i, t in enumerate(times):
                    k = int(rng.choice(len(keys), p=shares))
                    key, priority, _share, median = _ALARM_MIX[k]
                    lasted = float(rng.lognormal(np.log(median), 0.8))
                    alarm_id = b * 100_000 + i
                    held = key.startswith("arrhythmia:") and rng.random() < 0.7
                    first = "held_back" if held else "raised"
                    detail = "held back: the verification found no run of alike fast beats" if held else key
                    journal.append((t, bed, alarm_id, key, priority, first, "station", detail))
                    if not held:
                        ack = float(rng.uniform(5.0, 150.0))
                        if ack < lasted:
                            journal.append(
                                (t + ack, bed, alarm_id, key, priority, "acknowledged", "nurse", "")
                            )
                    journal.append(
                        (t + lasted, bed, alarm_id, key, priority, "cleared", "station", "condition ended")
                    )
                    if key == "technical:lead_off":
                        technical.append((t, bed, "lead_off", True, "leads off"))
                        technical.append((t + lasted, bed, "lead_off", False, ""))
                for h in range(0, int(hours), 4):
                    notes.append(
                        (
                            start + h * 3600.0 + 1800.0,
                            bed,
                            "nurse",
                            f"Bench note {h // 4 + 1} on bed {b + 1}.",
                        )
                    )
                technical.append((start + 3600.0 * rng.uniform(0, hours), bed, "low_battery", True, "15 %"))
            conn.exec_driver_sql("DELETE FROM alarm_events")
            conn.exec_driver_sql("DELETE FROM technical_events")
            conn.exec_driver_sql("DELETE FROM shift_notes")
            cursor = conn.connection.cursor()
            cursor.executemany(
                "INSERT INTO alarm_events (time, bed_id, alarm_id, key, priority, action, user, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                journal,
            )
            cursor.executemany(
                "INSERT INTO technical_events (time, bed_id, kind, active, detail) VALUES (?, ?, ?, ?, ?)",
                technical,
            )
            cursor.executemany(
                "INSERT INTO shift_notes (time, bed_id, author, text) VALUES (?, ?, ?, ?)", notes
            )
    finally:
        record.close()
    return len(journal)


def _gui_timer() -> object | None:
    """The Qt half of the bench, found by name as the command line finds the Qt front end (app/
    never imports ui/); None when Qt cannot run here."""
    if not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        return importlib.import_module("wardwatch.ui.review_bench")
    except ImportError:
        return None


def bench_review(
    beds: int, hours: float, report_hours: float, repeat: int, where: str | None, seed: int
) -> dict[str, object]:
    root = Path(where) if where else Path(tempfile.gettempdir()) / "wardwatch-review-bench"
    root.mkdir(parents=True, exist_ok=True)
    key_file = root / "bench.key"
    if not key_file.exists():
        write_key_file(key_file, DatabaseKey.new())
    big = root / f"big-{beds}x{hours:g}h"
    result: dict[str, object] = {"beds": beds, "hours_in_record": hours}
    if not (big / "complete").exists():
        result["build_s"] = round(_build_big(big, key_file, beds, hours, seed), 1)
        (big / "complete").touch()
    if not (big / EVENTS_MARKER).exists():
        result["journal_lines_added"] = _add_review_events(big, key_file, beds, hours, seed)
        (big / EVENTS_MARKER).touch()
    result["db_gb"] = round(sum(f.stat().st_size for f in big.glob("wardwatch.db*")) / 2**30, 2)
    record = open_record(big, key_file=key_file)
    try:
        reader = review_reader(record.reader())
        ward = ward_beds(reader)
        bed, label = ward[len(ward) // 2]
        for span in (24, 72):
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                shift = bed_shift(reader, bed, label, T0 - span * 3600.0, T0)
                times.append(1000 * (time.perf_counter() - t))
            result[f"trend_{span}h_query_ms_first"] = round(times[0], 1)
            result[f"trend_{span}h_query_ms"] = round(statistics.median(times), 1)
            result[f"trend_{span}h_points"] = int(sum(len(v[0]) for v in shift.trends.values()))
            result[f"trend_{span}h_alarms"] = len(shift.alarms)
        gui = _gui_timer()
        if gui is not None:
            service = ReviewService(reader, lambda: list(ward), "Bench ward")
            try:
                for span in (24, 72):
                    opened = gui.open_trend_view(service, bed, span, T0, repeat)  # type: ignore[attr-defined]
                    result[f"trend_{span}h_open_ms_first"] = round(opened[0], 1)
                    result[f"trend_{span}h_open_ms"] = round(statistics.median(opened), 1)
            finally:
                service.close()
        out = root / "ward-report.pdf"
        t = time.perf_counter()
        make_handover_report(reader, ward, T0 - report_hours * 3600.0, T0, out, "Bench ward")
        result[f"ward_report_{report_hours:g}h_s"] = round(time.perf_counter() - t, 2)
        result["report_pages"] = len(PdfReader(out).pages)
        result["report_kb"] = round(out.stat().st_size / 1024, 1)
        result["report"] = str(out)
    finally:
        record.close()
    result["cores"] = os.cpu_count()
    return result
