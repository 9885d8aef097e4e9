"""Replay of WFDB records: exact samples, honest numerics, contiguous time, visible failures.

The records are read in place from the shared data folder next to the repository (never copied in);
broken records are made as damaged copies under tmp_path.
"""

from __future__ import annotations

import logging
import math
import queue
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import wfdb
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode, info, is_ecg
from wardwatch.app.domain import LinkState, Observation, TechnicalEvent, TechnicalKind, Validity
from wardwatch.app.hub import StreamHub
from wardwatch.app.sources import SourceContext
from wardwatch.app.sources import make_source as make_any_source
from wardwatch.devices.base import SourceError
from wardwatch.devices.replay import ReplayCursor, ReplaySource, load_record, make_source, records_in
from wardwatch.devices.replay.signals import choose_signals, code_for

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MITDB_100 = DATA / "mitdb" / "100"
CHALLENGE = DATA / "physionet2015"

needs_mitdb = pytest.mark.skipif(
    not MITDB_100.with_suffix(".hea").is_file(), reason=f"MIT-BIH record 100 not found under {DATA}"
)
needs_challenge = pytest.mark.skipif(
    not (CHALLENGE / "RECORDS").is_file(), reason=f"PhysioNet 2015 records not found under {DATA}"
)


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    """Poll until `condition` holds or the time is up (a bound on the wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def played(cursor: ReplayCursor, until: float, step: float) -> dict[MdcCode, tuple[np.ndarray, np.ndarray]]:
    """Drive a cursor up to station time `until`; per channel the samples and sample times handed out."""
    values: dict[MdcCode, list[np.ndarray]] = {}
    times: dict[MdcCode, list[np.ndarray]] = {}
    t = cursor.origin
    while t < until:
        t = min(until, t + step)
        for block in cursor.due_until(t):
            assert block.t_end <= t, "a sample was stamped in the future"
            values.setdefault(block.code, []).append(block.samples)
            times.setdefault(block.code, []).append(block.t0 + np.arange(len(block.samples)) / block.rate)
    return {code: (np.concatenate(values[code]), np.concatenate(times[code])) for code in values}


@pytest.fixture(scope="module")
def mitdb_100():
    if not MITDB_100.with_suffix(".hea").is_file():
        pytest.skip(f"MIT-BIH record 100 not found under {DATA}")
    return load_record(MITDB_100)


# ---- signal names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("II", MdcCode.ECG_ELEC_POTL_II),
        ("MLII", MdcCode.ECG_ELEC_POTL_II),
        ("I", MdcCode.ECG_ELEC_POTL_I),
        ("III", MdcCode.ECG_ELEC_POTL_III),
        ("aVR", MdcCode.ECG_ELEC_POTL_AVR),
        ("aVL", MdcCode.ECG_ELEC_POTL_AVL),
        ("aVF", MdcCode.ECG_ELEC_POTL_AVF),
        ("V5", MdcCode.ECG_ELEC_POTL_V5),
        ("V", MdcCode.ECG_ELEC_POTL),
        ("V1", MdcCode.ECG_ELEC_POTL),
        ("MCL", MdcCode.ECG_ELEC_POTL),
        ("PLETH", MdcCode.PULS_OXIM_PLETH),
        ("ABP", MdcCode.PRESS_BLD_ART_ABP),
        ("ART", MdcCode.PRESS_BLD_ART_ABP),
        ("RESP", MdcCode.RESP),
        ("CO2", None),
        ("V7", None),
    ],
)
def test_signal_names_map_to_channel_codes(name: str, code: MdcCode | None):
    assert code_for(name) == code


def test_second_signal_of_a_code_and_unknown_signals_are_skipped():
    choices = choose_signals(["MLII", "II", "FOO", "V", "MCL"])
    assert [(c.name, c.code) for c in choices] == [
        ("MLII", MdcCode.ECG_ELEC_POTL_II),
        ("II", None),
        ("FOO", None),
        ("V", MdcCode.ECG_ELEC_POTL),
        ("MCL", None),
    ]
    assert "MLII" in choices[1].reason
    assert choices[2].reason == "unknown signal"


def test_record_keeps_labels_and_logs_skipped_signals_but_no_header_comments(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    fs = 250
    t = np.arange(10 * fs) / fs
    wave = np.sin(2 * np.pi * 1.2 * t)
    wfdb.wrsamp(
        "syn",
        fs=fs,
        units=["mV", "mV", "mV", "NU"],
        sig_name=["MLII", "II", "FOO", "PLETH"],
        p_signal=np.column_stack([wave, wave, wave, wave]),
        fmt=["16"] * 4,
        comments=["69 M", "Aldomet, Inderal"],  # the kind of personal detail headers carry
        write_dir=str(tmp_path),
    )
    with caplog.at_level(logging.INFO, logger="wardwatch.devices.replay"):
        rec = load_record(tmp_path / "syn")
    assert [(c.code, c.label, c.unit) for c in rec.channels] == [
        (MdcCode.ECG_ELEC_POTL_II, "MLII", "mV"),
        (MdcCode.PULS_OXIM_PLETH, "PLETH", "1"),
    ]
    logged = caplog.text
    assert "syn" in logged and "'II' skipped" in logged and "'FOO' skipped (unknown signal)" in logged
    assert "Aldomet" not in logged and "69 M" not in logged


# ---- playing into the hub -------------------------------------------------------------------------


@needs_mitdb
def test_mitdb_100_replayed_into_the_hub_gives_exactly_the_recorded_samples():
    expected = wfdb.rdrecord(str(MITDB_100)).p_signal.astype(np.float32)
    hub = StreamHub()
    source = make_source(str(MITDB_100), "bed-1", SourceContext(ScaledClock(50.0)))
    source.start(hub)
    try:

        def enough() -> bool:
            streams = hub.streams("bed-1")
            waves = streams.waves if streams else {}
            return len(waves) == 2 and all(w.ring.count >= 3600 for w in waves.values())

        assert wait_for(enough), f"no 10 s of playback; status {source.status}"
    finally:
        source.stop()
    assert source.status.state is LinkState.STOPPED
    streams = hub.streams("bed-1")
    assert streams is not None
    for column, (code, label) in enumerate(
        [(MdcCode.ECG_ELEC_POTL_II, "MLII"), (MdcCode.ECG_ELEC_POTL_V5, "V5")]
    ):
        channel = streams.waves[code]
        assert (channel.rate, channel.unit, channel.label) == (360.0, "mV", label)
        n = min(channel.ring.count, channel.ring.capacity)
        chunk = channel.ring.latest(n)
        first = channel.ring.count - n  # index of the oldest sample still in the ring
        np.testing.assert_array_equal(chunk.values, expected[first : first + n, column], strict=True)
        np.testing.assert_allclose(np.diff(chunk.times), 1 / 360.0, rtol=0, atol=1e-6)


@needs_mitdb
def test_mitdb_100_heart_rate_is_within_a_few_bpm_of_the_annotated_beats(mitdb_100):
    cursor = ReplayCursor(mitdb_100, "bed-1", origin=0.0, loop=False)
    heart_rates = [o for o in cursor.numerics_until(math.inf) if o.code is MdcCode.ECG_HEART_RATE]
    assert len(heart_rates) == math.floor(mitdb_100.duration_s)
    ann = wfdb.rdann(str(MITDB_100), "atr")
    beat_symbols = set("NLRBAaJSVrFejnE/fQ?")
    is_beat = np.array([sym in beat_symbols for sym in ann.symbol])
    beats = ann.sample[is_beat] / 360.0
    errors = []
    for obs in heart_rates:
        recent = beats[(beats > obs.time - 10.0) & (beats <= obs.time)]
        if len(recent) >= 4 and obs.validity is Validity.VALID:
            errors.append(abs(obs.value - 60.0 / float(np.median(np.diff(recent)))))
    assert len(errors) >= 0.99 * len(heart_rates)
    assert np.median(errors) <= 1.0
    assert max(errors) <= 5.0
    assert all(o.unit == info(MdcCode.ECG_HEART_RATE).ucum == "/min" for o in heart_rates)
    assert {o.source_label for o in heart_rates} == {"MLII"}


# ---- every challenge record ---------------------------------------------------------------------------


@needs_challenge
def test_records_in_lists_all_450_challenge_records():
    paths = records_in(CHALLENGE)
    assert len(paths) == 450
    assert paths[0] == CHALLENGE / "v100s"
    assert all(p.with_suffix(".hea").is_file() for p in paths)


@needs_challenge
def test_every_challenge_record_loads_and_plays_a_first_block():
    problems: list[str] = []
    for path in records_in(CHALLENGE):
        try:
            rec = load_record(path)
        except SourceError as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if not any(is_ecg(c.code) for c in rec.channels):
            problems.append(f"{path.name}: no ECG channel among {[c.label for c in rec.channels]}")
        cursor = ReplayCursor(rec, "bed-1", origin=100.0)
        blocks = cursor.due_until(100.04)
        if sorted(b.code for b in blocks) != sorted(c.code for c in rec.channels):
            problems.append(f"{path.name}: first step gave blocks for {[b.label for b in blocks]}")
        for block in blocks:
            if len(block.samples) != 11 or block.t0 != 100.0 or block.rate != rec.rate:
                problems.append(f"{path.name}/{block.label}: first block {len(block.samples)} samples")
        for obs in cursor.numerics_until(100.0 + rec.duration_s):
            if obs.validity is Validity.VALID and not (np.isfinite(obs.value) and obs.value > 0):
                problems.append(f"{path.name}: {obs.code.name} valid but {obs.value}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:20])


@needs_challenge
def test_invalid_samples_are_played_as_nan_exactly_where_recorded():
    path = CHALLENGE / "a152s"  # about two thirds of II, V and RESP invalid
    expected = wfdb.rdrecord(str(path)).p_signal.astype(np.float32)
    assert np.isnan(expected).any() and not np.isnan(expected).all()
    rec = load_record(path)
    got = played(ReplayCursor(rec, "bed-1", origin=0.0, loop=False), rec.duration_s + 1.0, step=0.37)
    for column, code in enumerate(c.code for c in rec.channels):
        values, _ = got[code]
        np.testing.assert_array_equal(values, expected[:, column], strict=True)  # NaN equals NaN here


@needs_challenge
@pytest.mark.parametrize(
    ("record", "codes"),
    [
        ("v623l", {MdcCode.ECG_HEART_RATE, MdcCode.RESP_RATE}),  # II and RESP all invalid, V flat
        ("a391l", {MdcCode.ECG_HEART_RATE}),  # both ECG leads flat
        ("b215l", {MdcCode.PRESS_BLD_ART_SYS, MdcCode.PRESS_BLD_ART_DIA, MdcCode.PRESS_BLD_ART_MEAN}),
    ],
)
def test_numerics_of_invalid_or_flat_waves_are_invalid_never_made_up(record: str, codes: set[MdcCode]):
    rec = load_record(CHALLENGE / record)
    obs = ReplayCursor(rec, "bed-1", origin=0.0, loop=False).numerics_until(math.inf)
    concerned = [o for o in obs if o.code in codes]
    assert {o.code for o in concerned} == codes
    assert all(o.validity is Validity.INVALID and math.isnan(o.value) for o in concerned)
    assert any(o.validity is Validity.VALID for o in obs), "the record's good channels still give numerics"


@needs_challenge
def test_numerics_use_only_played_data_and_come_once_a_second():
    rec = load_record(CHALLENGE / "f120s")
    cursor = ReplayCursor(rec, "bed-1", origin=500.0, loop=False)
    assert cursor.numerics_until(500.999) == []
    cursor.due_until(505.5)
    first = cursor.numerics_until(505.5)
    assert sorted({o.time for o in first}) == [501.0, 502.0, 503.0, 504.0, 505.0]
    at_one_second = [o for o in first if o.time == 501.0]
    # One second in, there cannot yet be three RR intervals, pulses or pressure beats.
    assert at_one_second and all(o.validity is Validity.INVALID for o in at_one_second)
    later = [o for o in cursor.numerics_until(560.0) if o.validity is Validity.VALID]
    codes = {o.code for o in later}
    assert {MdcCode.ECG_HEART_RATE, MdcCode.PULS_OXIM_PULS_RATE, MdcCode.PRESS_BLD_ART_SYS} <= codes
    for o in later:
        assert o.unit == info(o.code).ucum
    sys_ = np.array([o.value for o in later if o.code is MdcCode.PRESS_BLD_ART_SYS])
    dia = np.array([o.value for o in later if o.code is MdcCode.PRESS_BLD_ART_DIA])
    mean = np.array([o.value for o in later if o.code is MdcCode.PRESS_BLD_ART_MEAN])
    assert np.all((dia < mean) & (mean < sys_))


# ---- time -------------------------------------------------------------------------------------------


@needs_challenge
def test_looping_continues_timestamps_without_a_jump():
    rec = load_record(CHALLENGE / "v100s")
    n = rec.n_samples
    cursor = ReplayCursor(rec, "bed-1", origin=1_000.0, loop=True)
    got = played(cursor, 1_000.0 + 2.5 * rec.duration_s, step=0.73)
    for channel in rec.channels:
        values, times = got[channel.code]
        assert len(values) == math.floor(2.5 * n) + 1
        np.testing.assert_allclose(np.diff(times), 1 / rec.rate, rtol=0, atol=1e-6)
        assert times[n] == pytest.approx(1_000.0 + rec.duration_s, abs=1e-6)
        # The second pass is the record again.
        np.testing.assert_array_equal(values[n : 2 * n], channel.samples)


@needs_challenge
def test_looping_restarts_the_derived_numerics():
    rec = load_record(CHALLENGE / "v100s")  # 60 s: each pass starts on a whole second
    cursor = ReplayCursor(rec, "bed-1", origin=0.0, loop=True)
    obs = cursor.numerics_until(2 * rec.duration_s)
    seconds = int(rec.duration_s)

    def pass_values(k: int) -> list[tuple[MdcCode, float | None, Validity]]:
        in_pass = [o for o in obs if k * seconds < o.time <= (k + 1) * seconds]
        return [(o.code, None if math.isnan(o.value) else round(o.value, 9), o.validity) for o in in_pass]

    assert pass_values(0) == pass_values(1)
    # The first second of the new pass knows nothing of the end of the old one.
    start_of_second_pass = [o for o in obs if o.time == seconds + 1]
    assert start_of_second_pass and all(o.validity is Validity.INVALID for o in start_of_second_pass)


@needs_challenge
def test_a_faster_clock_plays_larger_blocks_and_nothing_ahead_of_time():
    rec = load_record(CHALLENGE / "v100s")
    cursor = ReplayCursor(rec, "bed-1", origin=0.0)
    assert cursor.due_until(-0.1) == []
    assert [len(b.samples) for b in cursor.due_until(0.0)] == [1] * len(rec.channels)
    assert cursor.due_until(0.001) == []  # the next sample is due at 0.004 s
    big = cursor.due_until(2.0)  # e.g. 40 ms of wall time at speed 50
    assert {len(b.samples) for b in big} == {500}
    assert {b.t0 for b in big} == {0.004}


@needs_challenge
def test_without_loop_the_source_stops_at_the_end_of_the_record():
    hub = StreamHub()
    ctx = SourceContext(ScaledClock(300.0), options={"loop": False})
    source = make_source(str(CHALLENGE / "t112s"), "bed-1", ctx)
    source.start(hub)
    try:
        assert wait_for(lambda: source.status.state is LinkState.STOPPED and source.status.detail != "")
        assert hub.streams("bed-1").status.detail == "end of record"
    finally:
        source.stop()
    counts = {code: w.ring.count for code, w in hub.streams("bed-1").waves.items()}
    assert set(counts.values()) == {15_000}


# ---- failures ---------------------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, how: str) -> Path:
    for suffix in (".hea", ".dat"):
        target = tmp_path / f"v100s{suffix}"
        shutil.copyfile(CHALLENGE / f"v100s{suffix}", target)
        target.chmod(0o644)
    hea, dat = tmp_path / "v100s.hea", tmp_path / "v100s.dat"
    if how == "missing header":
        hea.unlink()
    elif how == "missing signal file":
        dat.unlink()
    elif how == "truncated signal file":
        dat.write_bytes(dat.read_bytes()[:50_000])
    elif how == "garbage header":
        hea.write_bytes(b"\x00\xffthis is not\na header at all\n")
    elif how == "corrupt samples":
        raw = bytearray(dat.read_bytes())
        raw[1000:1100] = bytes(100)
        dat.write_bytes(bytes(raw))
    return tmp_path / "v100s"


@needs_challenge
@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("missing header", "v100s.hea not found"),
        ("missing signal file", "v100s.dat not found"),
        ("truncated signal file", "truncated or damaged"),
        ("garbage header", "not a valid WFDB header"),
        ("corrupt samples", "checksum"),
    ],
)
def test_a_broken_record_raises_source_error_naming_it(tmp_path: Path, how: str, words: str):
    path = _broken_copy(tmp_path, how)
    with pytest.raises(SourceError) as caught:
        load_record(path)
    message = str(caught.value)
    assert "'v100s'" in message and words in message
    assert "Traceback" not in message and "\n" not in message


def test_records_in_refuses_a_missing_or_empty_folder(tmp_path: Path):
    with pytest.raises(SourceError, match="does not exist"):
        records_in(tmp_path / "nowhere")
    with pytest.raises(SourceError, match="holds no WFDB record"):
        records_in(tmp_path)


def test_records_in_without_a_records_file_lists_headers_sorted(tmp_path: Path):
    for name in ("b2", "a1", "c3"):
        (tmp_path / f"{name}.hea").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert records_in(tmp_path) == [tmp_path / "a1", tmp_path / "b2", tmp_path / "c3"]


@needs_challenge
def test_a_failing_source_is_visible_while_another_bed_keeps_playing(tmp_path: Path):
    hub = StreamHub()
    events = hub.subscribe()
    clock = ScaledClock(20.0)
    good = make_any_source(f"replay:{CHALLENGE / 'v100s'}", "bed-good", SourceContext(clock))
    bad = make_any_source(f"replay:{tmp_path / 'absent'}", "bed-bad", SourceContext(clock))
    assert isinstance(good, ReplaySource) and isinstance(bad, ReplaySource)
    good.start(hub)
    bad.start(hub)
    try:
        assert wait_for(lambda: bad.status.state is LinkState.FAILED)
        assert "absent" in bad.status.detail and "not found" in bad.status.detail
        assert hub.streams("bed-bad").status.state is LinkState.FAILED

        def ring_count() -> int:
            streams = hub.streams("bed-good")
            wave = streams.waves.get(MdcCode.ECG_ELEC_POTL_II) if streams else None
            return 0 if wave is None else wave.ring.count

        before = ring_count()
        assert wait_for(lambda: ring_count() > before + 250)
        assert good.status.state is LinkState.CONNECTED and good.status.detail == "v100s"
    finally:
        good.stop()
        bad.stop()
    failures: list[TechnicalEvent] = []
    while True:
        try:
            message = events.get_nowait()
        except queue.Empty:
            break
        if isinstance(message, TechnicalEvent):
            failures.append(message)
        else:
            assert isinstance(message, Observation) and message.bed == "bed-good"
    assert [(e.bed, e.kind, e.active) for e in failures] == [("bed-bad", TechnicalKind.SOURCE_FAILED, True)]
    assert bad.status.state is LinkState.FAILED  # stop() leaves a failure visible


def test_bad_options_are_refused_when_the_source_is_made():
    clock = ScaledClock(1.0)
    with pytest.raises(SourceError, match="loop"):
        make_source("/x/100", "bed-1", SourceContext(clock, options={"loop": "sometimes"}))
    with pytest.raises(SourceError, match="block_interval_s"):
        make_source("/x/100", "bed-1", SourceContext(clock, options={"block_interval_s": 0}))
    with pytest.raises(SourceError, match="record path"):
        make_source("  ", "bed-1", SourceContext(clock))
