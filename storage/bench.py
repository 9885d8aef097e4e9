"""`wardwatch bench storage`: ingest speed, bytes on disk, query times and opening a big record.

Waveforms come from the simulator (one minute per bed, generated before the clock starts and then
replayed with shifted times, so the figure is the record's cost, not the simulator's); numerics are
one value per second for eight channels. Every row goes through the same encoders and the same
writer thread the station uses.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from sqlalchemy import insert, text
from wardwatch.app.codes import MdcCode
from wardwatch.devices.simulator.patient import SimulatedPatient
from wardwatch.storage import schema
from wardwatch.storage.codec import encode_hour
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.recorder import BLOCK_S, trend_row, wave_row
from wardwatch.storage.writer import RecordWriter, Retention, compact_slice

WAVES = (
    (MdcCode.ECG_ELEC_POTL_II, 250.0, "mV"),
    (MdcCode.PULS_OXIM_PLETH, 125.0, "1"),
    (MdcCode.RESP, 62.5, "1"),
)
NUMERIC_CODES = (
    MdcCode.ECG_HEART_RATE,
    MdcCode.PULS_OXIM_SAT_O2,
    MdcCode.RESP_RATE,
    MdcCode.TEMP_BODY,
    MdcCode.PRESS_BLD_NONINV_SYS,
    MdcCode.PRESS_BLD_NONINV_DIA,
    MdcCode.PRESS_BLD_NONINV_MEAN,
    MdcCode.PULS_OXIM_PULS_RATE,
)
T0 = 1_790_000_000.0  # a fixed UTC start, so runs are comparable


def _minute_of_waves(beds: int, seed: int) -> list[list[tuple[int, float, str, np.ndarray]]]:
    out = []
    for b in range(beds):
        patient = SimulatedPatient("stable", seed=seed, bed_index=b)
        out.append(
            [(int(code), rate, unit, patient.samples(code, 0, int(60 * rate))) for code, rate, unit in WAVES]
        )
    return out


def _ingest(path: Path, key_file: Path, beds: int, minutes: float, seed: int) -> dict[str, float]:
    record = open_record(path, key_file=key_file)
    # the bench's data lies at a fixed date in the past: retention must not purge it while it runs
    writer = RecordWriter(record.engine, Retention(math.inf, math.inf))
    waves = _minute_of_waves(beds, seed)
    writer.start()
    proc = psutil.Process()
    cpu0, wall0 = proc.cpu_times(), time.perf_counter()
    n_minutes = int(np.ceil(minutes))
    for m in range(n_minutes):
        base = T0 + 60.0 * m
        for b in range(beds):
            bed = f"bed{b + 1:02d}"
            for code, rate, unit, samples in waves[b]:
                per_block = int(BLOCK_S * rate)
                for i in range(0, len(samples), per_block):
                    block = samples[i : i + per_block]
                    writer.put(wave_row(bed, code, rate, unit, base + i / rate, block))
            values = np.full(60, 80.0, np.float32) + np.arange(60, dtype=np.float32) % 3
            for code in NUMERIC_CODES:
                writer.put(trend_row(bed, int(code), int(base // 60), values))
    writer.stop(timeout=600)
    wall = time.perf_counter() - wall0
    cpu1 = proc.cpu_times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    with record.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(f.stat().st_size for f in path.glob("wardwatch.db*") if f.is_file())
    record.close()
    simulated_s = 60.0 * n_minutes
    return {
        "ingest_x_realtime": round(simulated_s / wall, 1),
        "ingest_cpu_percent": round(100.0 * cpu / wall, 1),
        "mb_per_bed_hour": round(size / 2**20 / (beds * simulated_s / 3600.0), 2),
        "db_mb": round(size / 2**20, 1),
    }


def _queries(path: Path, key_file: Path, minutes: float) -> dict[str, float]:
    """24 h of trends are added to bed01 first, so the trend query reads a full day."""
    record = open_record(path, key_file=key_file)
    day_start = T0 - 86400.0 + 60.0 * np.ceil(minutes)
    rows = []
    for m in range(1440):
        minute = int(day_start // 60) + m
        for code in NUMERIC_CODES:
            values = np.full(60, 70.0 + m % 20, np.float32)
            rows.append(trend_row("bed01", int(code), minute, values).values)
    with record.engine.begin() as conn:
        conn.execute(text("DELETE FROM trends WHERE bed_id = 'bed01'"))
        conn.execute(insert(schema.trends), rows)
    end = day_start + 86400.0
    # the running station's writer folds completed hours as it goes (compact_slice every minute)
    while compact_slice(record.engine, end, limit=20_000):
        pass
    record.close()
    record = open_record(path, key_file=key_file)  # the first query below is a cold one
    reader = record.reader()
    trend_ms, snippet_ms = [], []
    rng = np.random.default_rng(0)
    for _ in range(20):
        t = time.perf_counter()
        day = reader.trends("bed01", end - 86400.0, end)
        assert len(day) == len(NUMERIC_CODES), "the trend query missed channels"
        trend_ms.append(1000 * (time.perf_counter() - t))
        start = T0 + float(rng.uniform(0, max(1.0, 60.0 * minutes - 10.0)))
        bed = f"bed{int(rng.integers(1, 3)):02d}"
        t = time.perf_counter()
        got = reader.waves(bed, start, start + 10.0)
        snippet_ms.append(1000 * (time.perf_counter() - t))
        assert got, "the snippet query found no waveforms"
    record.close()
    return {
        "trend_24h_ms": round(statistics.median(trend_ms), 1),
        "trend_24h_ms_first": round(trend_ms[0], 1),
        "trend_24h_ms_max": round(max(trend_ms), 1),
        "snippet_10s_ms": round(statistics.median(snippet_ms), 1),
        "snippet_10s_ms_max": round(max(snippet_ms), 1),
    }


def _build_big(path: Path, key_file: Path, beds: int, hours: float, seed: int) -> float:
    """A record of `hours` × `beds` of full disclosure and trends: each bed's encoded minute is
    inserted again and again with shifted times, in large transactions on one raw connection (the
    writer thread would take the same rows, only slower to build)."""
    record = open_record(path, key_file=key_file)
    waves = _minute_of_waves(beds, seed)
    encoded = []
    for b in range(beds):
        per_bed = []
        for code, rate, unit, samples in waves[b]:
            per_block = int(BLOCK_S * rate)
            for i in range(0, len(samples), per_block):
                row = wave_row(f"bed{b + 1:02d}", code, rate, unit, i / rate, samples[i : i + per_block])
                per_bed.append(row.values)
        encoded.append(per_bed)
    columns = ("bed_id", "code", "t0", "t_end", "rate", "unit", "count", "gain", "offset", "data")
    sql = f"INSERT INTO waveforms ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    trend_sql = "INSERT OR REPLACE INTO trends (bed_id, code, minute, samples) VALUES (?, ?, ?, ?)"
    hour_sql = "INSERT OR REPLACE INTO trend_hours (bed_id, code, hour, samples) VALUES (?, ?, ?, ?)"
    minute_values = trend_row("x", 0, 0, np.full(60, 80.0, np.float32)).values["samples"]
    hour_values = encode_hour(np.full(3600, 80.0, np.float32) + np.arange(3600, dtype=np.float32) % 3)
    last_hour_from = int(hours * 60) - 60
    start = time.perf_counter()
    raw = record.engine.raw_connection()
    try:
        cur = raw.cursor()
        for m in range(int(hours * 60)):
            base = T0 - hours * 3600.0 + 60.0 * m
            batch = [
                tuple(
                    v["t0"] + base if k == "t0" else v["t_end"] + base if k == "t_end" else v[k]
                    for k in columns
                )
                for per_bed in encoded
                for v in per_bed
            ]
            cur.executemany(sql, batch)
            # trends as the station leaves them: the last hour as minute rows, earlier ones folded
            trend: tuple[str, int, bytes] | None = None
            if m >= last_hour_from:
                trend = (trend_sql, int(base // 60), minute_values)
            elif m % 60 == 59:
                trend = (hour_sql, int(base // 3600), hour_values)
            if trend is not None:
                trend_insert, index, blob = trend
                cur.executemany(
                    trend_insert,
                    [(f"bed{b + 1:02d}", int(c), index, blob) for b in range(beds) for c in NUMERIC_CODES],
                )
            if m % 60 == 59:
                raw.commit()
        raw.commit()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    record.close()
    return time.perf_counter() - start


def _open_ready(path: Path, key_file: Path) -> float:
    """Open the big record as the station does (key, lock, schema check) and read the newest trend."""
    t = time.perf_counter()
    record = open_record(path, key_file=key_file)
    reader = record.reader()
    reader.trend("bed01", int(MdcCode.ECG_HEART_RATE), T0 - 120.0, T0)
    elapsed = time.perf_counter() - t
    record.close()
    return elapsed


def bench_storage(
    beds: int, minutes: float, hours_big: float, where: Path | None, seed: int
) -> dict[str, object]:
    root = Path(where) if where is not None else Path(tempfile.mkdtemp(prefix="wardwatch-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    key_file = root / "bench.key"
    if not key_file.exists():
        write_key_file(key_file, DatabaseKey.new())
    ingest_dir = root / "ingest"
    shutil.rmtree(ingest_dir, ignore_errors=True)
    result: dict[str, object] = {"beds": beds, "minutes": minutes}
    result.update(_ingest(ingest_dir, key_file, beds, minutes, seed))
    result.update(_queries(ingest_dir, key_file, minutes))
    big_dir = root / f"big-v2-{beds}x{hours_big:g}h"  # v2: trends folded into hour rows
    marker = big_dir / "complete"
    if not marker.exists():
        shutil.rmtree(big_dir, ignore_errors=True)
        result["big_build_s"] = round(_build_big(big_dir, key_file, beds, hours_big, seed), 1)
        marker.touch()
    result["big_db_gb"] = round(sum(f.stat().st_size for f in big_dir.glob("wardwatch.db*")) / 2**30, 2)
    opens = [_open_ready(big_dir, key_file) for _ in range(5)]
    result["open_ms"] = round(1000 * statistics.median(opens), 1)
    result["open_ms_max"] = round(1000 * max(opens), 1)
    result["hours_big"] = hours_big
    result["cores"] = os.cpu_count()
    result["dir"] = str(root)
    return result
