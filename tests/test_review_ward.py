"""The known ward the shift-review tests share: a record written here, row by row, whose alarms,
NEWS2 figures and counts the tests work out by hand (see the comments beside the data)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from wardwatch.app.codes import MdcCode
from wardwatch.storage import schema
from wardwatch.storage.database import open_record
from wardwatch.storage.recorder import trend_row, wave_row
from wardwatch.storage.review_tables import shift_notes
from wardwatch.storage.writer import RecordWriter, Retention, Row

T0 = 497_222 * 3600.0  # a whole UTC hour (2026-09-21 22:00 UTC)
END = T0 + 3 * 3600.0
JANE = {"mrn": "MRN-4711", "family_name": "Doe", "given_name": "Jane", "birth_date": "1950-03-04"}
JOHN = {"mrn": "MRN-0815", "family_name": "Smith", "given_name": "John", "birth_date": None}

# bed01, hour by hour: HR, SpO2, RR, NIBP sys; temperature 37.0 throughout
BED1_HOURS = ((80.0, 97.0, 16.0, 120.0), (95.0, 94.0, 22.0, 100.0), (120.0, 91.0, 26.0, 100.0))
# (offset s, bed, alarm id, key, priority, action, user, detail)
JOURNAL = (
    (-600, "bed01", None, "", None, "clinical_entry", "nurse.a", "consciousness A, air, SpO2 scale 1"),
    (1800, "bed02", 7, "arrhythmia:Asystole", "high", "raised", "station", "Asystole"),
    (
        1820,
        "bed02",
        7,
        "arrhythmia:Asystole",
        "high",
        "condition_ended",
        "station",
        "latched until acknowledged",
    ),
    (1860, "bed02", 7, "arrhythmia:Asystole", "high", "escalated", "station", "not acknowledged within 60 s"),
    (
        1875,
        "bed02",
        7,
        "arrhythmia:Asystole",
        "high",
        "acknowledged",
        "nurse.a",
        "latched alarm acknowledged",
    ),
    (
        1875,
        "bed02",
        7,
        "arrhythmia:Asystole",
        "high",
        "cleared",
        "nurse.a",
        "acknowledged after its condition ended",
    ),
    (3900, "bed01", 1, "spo2_low", "medium", "raised", "station", "SpO₂ 89 < 90"),
    (3930, "bed01", 1, "spo2_low", "medium", "acknowledged", "nurse.a", "after 30 s"),
    (4000, "bed01", 1, "spo2_low", "medium", "cleared", "station", "condition ended"),
    (7300, "bed01", 2, "hr_high", "medium", "raised", "station", "HR 125 > 120"),
    (7390, "bed01", 2, "hr_high", "medium", "acknowledged", "nurse.b", "after 90 s"),
    (7600, "bed01", 2, "hr_high", "medium", "cleared", "station", "condition ended"),
    (
        7700,
        "bed01",
        3,
        "arrhythmia:Ventricular_Tachycardia",
        "high",
        "held_back",
        "station",
        "VT held back: slow baseline drift on every lead, no run of alike fast beats",
    ),
    (7720, "bed01", 3, "arrhythmia:Ventricular_Tachycardia", "high", "cleared", "station", "condition ended"),
    (9000, "bed01", None, "", None, "clinical_entry", "nurse.b", "consciousness C, oxygen, SpO2 scale 1"),
    (9200, "bed01", 4, "spo2_low", "medium", "raised", "station", "SpO₂ 88 < 90"),
    (9210, "bed01", 4, "spo2_low", "medium", "cleared", "station", "condition ended"),
)
TECHNICAL = ((1800, 1860, "bed01", "lead_off", "leads off: RA"), (7000, None, "bed02", "low_battery", "12 %"))
NOTES = (
    (7200, "bed01", "nurse.a", "Anxious overnight; daughter called at 02:00 & will visit."),
    (8000, "bed02", "nurse.b", "Mobilised to chair."),
)


def write_known_ward(data: Path, key_file: Path) -> None:
    record = open_record(data, key_file=key_file)
    writer = RecordWriter(record.engine, Retention(math.inf, math.inf))
    writer.start()
    for bed, label in (("bed01", "Bed 1"), ("bed02", "Bed 2"), ("bed03", "Bed 3")):
        writer.put(Row(schema.beds, {"bed_id": bed, "label": label}))
    writer.put_critical(
        Row(schema.admissions, {"bed_id": "bed01", "admitted_at": T0 - 86400, "patient": JANE})
    )
    writer.put_critical(
        Row(schema.admissions, {"bed_id": "bed02", "admitted_at": T0 - 3600, "patient": JOHN})
    )
    for m in range(180):
        hr, spo2, rr, sbp = BED1_HOURS[m // 60]
        minute = int(T0 // 60) + m
        for code, value in (
            (MdcCode.ECG_HEART_RATE, hr),
            (MdcCode.PULS_OXIM_SAT_O2, spo2),
            (MdcCode.RESP_RATE, rr),
            (MdcCode.TEMP_BODY, 37.0),
        ):
            writer.put(trend_row("bed01", int(code), minute, np.full(60, value, np.float32)))
        if m % 15 == 0:  # a cuff every 15 minutes, in the minute's first second
            cuff = np.full(60, np.nan, np.float32)
            cuff[0] = sbp
            writer.put(trend_row("bed01", int(MdcCode.PRESS_BLD_NONINV_SYS), minute, cuff))
        writer.put(trend_row("bed02", int(MdcCode.ECG_HEART_RATE), minute, np.full(60, 70.0, np.float32)))
    for offset, bed, alarm_id, key, priority, action, user, detail in JOURNAL:
        values = {"time": T0 + offset, "bed_id": bed, "alarm_id": alarm_id, "key": key, "priority": priority}
        values |= {"action": action, "user": user, "detail": detail}
        writer.put_critical(Row(schema.alarm_events, values))
    for on, off, bed, kind, detail in TECHNICAL:
        writer.put(
            Row(
                schema.technical_events,
                {"time": T0 + on, "bed_id": bed, "kind": kind, "active": True, "detail": detail},
            )
        )
        if off is not None:
            writer.put(
                Row(
                    schema.technical_events,
                    {"time": T0 + off, "bed_id": bed, "kind": kind, "active": False, "detail": ""},
                )
            )
    for offset, bed, author, text in NOTES:
        writer.put_critical(
            Row(shift_notes, {"time": T0 + offset, "bed_id": bed, "author": author, "text": text})
        )
    # full disclosure of bed01 around its held-back VT (T0+7700): a minute of ECG and pleth
    for code, rate, unit in ((MdcCode.ECG_ELEC_POTL_II, 250.0, "mV"), (MdcCode.PULS_OXIM_PLETH, 125.0, "1")):
        for block in range(15):
            t0 = T0 + 7680 + 4 * block
            samples = np.sin(2 * np.pi * 1.2 * (np.arange(int(4 * rate)) / rate + 4 * block))
            writer.put(wave_row("bed01", int(code), rate, unit, t0, samples))
    assert writer.flush()
    writer.stop()
    record.close()
