"""The hourly risk is recorded like any trend, in the real encrypted record, so the trend review can show
its history; and training is reproducible (the same data give the same model file, byte for byte)."""

from __future__ import annotations

import gzip
import itertools
import math
import time
from pathlib import Path

import numpy as np
import pytest
from wardwatch.app.cli import main
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.deterioration.model import load_model
from wardwatch.app.deterioration.service import RiskService
from wardwatch.app.domain import Observation
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.station_record import attach_record

BED = "bed01"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


def test_the_risk_is_recorded_as_a_trend_of_the_bed(tmp_path: Path, key_file: Path):
    station = Station(StationSetup("test", [BedSetup("Bed 1", None)]), ScaledClock(1.0))
    rec = attach_record(station, tmp_path / "data", key_file=key_file)
    service = RiskService(station.hub, station.clock, lambda: [BED], load_model())
    t0 = station.clock.now()
    try:
        for code, value in ((MdcCode.ECG_HEART_RATE, 112.0), (MdcCode.TEMP_BODY, 38.6)):
            station.hub.push_observation(Observation(BED, code, value, "", t0))
        service.refresh(BED)
        service.step(t0)
        risk = service.latest(BED)
        assert risk is not None
        time.sleep(2.0)  # the writer batches
    finally:
        rec.close()
    record = open_record(tmp_path / "data", key_file=key_file)
    try:
        series = record.reader().trends(BED, t0 - 60.0, t0 + 60.0)[int(MdcCode.RISK_DETERIORATION)]
        values = [v for v in series.values.tolist() if not math.isnan(v)]
        assert values == [pytest.approx(round(risk.risk * 100.0, 1), abs=1e-4)]
    finally:
        record.close()


def test_training_twice_on_the_same_rows_writes_the_same_model(tmp_path: Path, shared_data: Path):
    with gzip.open(shared_data / "physionet2019" / "setA.csv.gz", "rt") as f:
        lines = list(itertools.islice(f, 8001))
    data = tmp_path / "extract.csv"
    data.write_text("".join(lines))
    first, second = tmp_path / "a" / "m.txt.gz", tmp_path / "b" / "m.txt.gz"
    assert main(["train", "deterioration", str(data), "--out", str(first)]) == 0
    assert main(["train", "deterioration", str(data), "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    model = load_model(first)
    assert np.isfinite(model.threshold)
