"""Exports of the record for review elsewhere: full disclosure as EDF+, WFDB or CSV; trends and events as CSV.

Everything goes through `RecordReader`, so an export sees exactly what the review screens see. Times are
UTC. A sample that was not recorded (lead off, dropout, nothing stored) stays "no value" in every format:
NaN in WFDB, an empty cell in CSV, the physical minimum plus a "gap" annotation in EDF+ (EDF has no
"no value" code). Files carry the bed and times only, never the patient: no names go into headers, file
names or logs. Each file is written under a temporary name beside its destination and renamed when
complete, with mode 0600 like the record itself, so a failed export never leaves a half file behind.
"""

from __future__ import annotations

import csv
import math
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from functools import reduce
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyedflib
import wfdb
from pyedflib._extensions._pyedflib import set_starttime_subsecond
from wardwatch.app.codes import ECG_LEADS, MdcCode, channel_table
from wardwatch.storage.reader import RecordReader, Series

EDF_DIGITAL_MIN = -32768
EDF_DIGITAL_MAX = 32767
# EDF headers hold a data record's length in 8 characters; longer records make huge blocks anyway.
MAX_RECORD_S = 60
# Rates are kept as fractions with a bounded denominator: 62.5 Hz is 125/2, never 62.5000001.
_RATE_DENOMINATOR = 1000
# A sample closer than this share of its period to a grid time is that grid time (float time noise).
_SAME_TIME = 1e-3
# Samples further apart than this many periods are two sides of a gap, never joined by interpolation.
_GAP_PERIODS = 1.5
_WFDB_NAME = re.compile(r"[-\w]+", re.ASCII)


class ExportError(ValueError):
    """Nothing to export, or a request an export format cannot hold; `str(error)` is for a person."""


@dataclass(frozen=True, slots=True)
class _Channel:
    code: int
    label: str
    unit: str
    rate: Fraction
    series: Series


# -- names and units ----------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    """EDF and WFDB headers are ASCII: SpO₂ becomes SpO2, °C becomes degC, µV becomes uV."""
    text = text.replace("°", "deg").replace("µ", "u").replace("μ", "u")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").strip()


def channel_label(code: int) -> str:
    """A short ASCII name for a channel: the code table's label ("II", "Pleth", "HR"), else its MDC code."""
    try:
        return _ascii(channel_table()[MdcCode(code)].label) or f"MDC-{code}"
    except (ValueError, KeyError):
        return f"MDC-{code}"


def channel_unit(code: int, unit: str = "") -> str:
    """The unit as people write it (mmHg, NU, bpm) for a stored UCUM unit; an unusual unit is kept."""
    try:
        row = channel_table()[MdcCode(code)]
    except (ValueError, KeyError):
        return _ascii(unit)
    if not unit or unit == row.ucum:
        return _ascii(row.unit_label)
    return _ascii(unit)


def _unique(labels: Sequence[str], codes: Sequence[int]) -> list[str]:
    """Two channels with the same label (two generic ECG leads) must stay apart in every format."""
    return [
        label if labels.count(label) == 1 else f"{label}-{code}"
        for label, code in zip(labels, codes, strict=True)
    ]


def _order(code: int) -> tuple[int, int]:
    """ECG leads first, in the station's lead order, then the other channels by code."""
    return (ECG_LEADS.index(code), 0) if code in ECG_LEADS else (len(ECG_LEADS), code)


def iso_utc(times: npt.ArrayLike) -> list[str]:
    """ISO-8601 UTC with milliseconds ("2025-01-02T03:04:05.678Z"), rounded to the nearest millisecond."""
    ms = np.rint(np.asarray(times, np.float64) * 1000.0).astype(np.int64)
    return [s + "Z" for s in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()]


def _period(start: float, end: float) -> str:
    first, last = iso_utc([start, end])
    return f"between {first} and {last}"


def export_file_name(bed: str | None, start: float, what: str, suffix: str) -> str:
    """A file name for an export made only of the bed, the start time and the kind of export (never a
    patient): "bed03-20250102T030405Z-waves.edf"."""
    stamp = datetime.fromtimestamp(math.floor(start), UTC).strftime("%Y%m%dT%H%M%SZ")
    name = "-".join(part for part in (bed or "ward", stamp, what) if part)
    return re.sub(r"[^-\w.]", "_", name, flags=re.ASCII) + suffix


# -- writing files whole or not at all ----------------------------------------------------------------


def _need_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ExportError(f"the folder {folder} does not exist")


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that becomes `path` when the block ends without an exception."""
    _need_folder(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- sample grids ---------------------------------------------------------------------------------------


def _rate(rate: float) -> Fraction:
    if not (rate > 0 and math.isfinite(rate)):
        raise ExportError(f"a channel has an unusable sample rate ({rate})")
    return Fraction(rate).limit_denominator(_RATE_DENOMINATOR)


def _channels(reader: RecordReader, bed: str, start: float, end: float) -> list[_Channel]:
    if not end > start:
        raise ExportError(f"the period to export is empty ({_period(start, end)})")
    waves = {code: s for code, s in reader.waves(bed, start, end).items() if len(s.times)}
    if not waves:
        raise ExportError(f"no waveforms recorded for {bed} {_period(start, end)}")
    codes = sorted(waves, key=_order)
    labels = _unique([channel_label(c) for c in codes], codes)
    channels = []
    for code, label in zip(codes, labels, strict=True):
        series = waves[code]
        # blocks come oldest first, but a block written twice (a restart) may overlap its neighbour
        order = np.argsort(series.times, kind="stable")
        series = Series(series.times[order], series.values[order], series.rate, series.unit)
        channels.append(_Channel(code, label, channel_unit(code, series.unit), _rate(series.rate), series))
    return channels


def _in_phase_period(rates: Iterable[Fraction]) -> Fraction:
    """The shortest time after which every channel's sample grid is back in step: 1 / gcd(rates)
    (16 ms for 250, 125 and 62.5 Hz)."""
    rates = list(rates)
    numerators = reduce(math.gcd, (r.numerator for r in rates))
    denominators = reduce(math.lcm, (r.denominator for r in rates))
    return Fraction(denominators, numerators)


def _anchor(channels: Sequence[_Channel], start: float) -> float:
    """The first grid time at or after `start` that falls on the recorded samples' own grid (less than
    one in-phase period after `start`), so samples are written as recorded instead of interpolated.

    Channels of one device share a clock and sample in step: a time on the slowest channel's samples
    lies on all of them. When they do not (devices with their own clocks), the fastest channel, the
    ECG as a rule, keeps its samples and the others are interpolated."""
    slowest = min(channels, key=lambda c: c.rate)
    reference = float(slowest.series.times[0])
    if all(_on_grid(float(c.series.times[0]) - reference, c.rate) for c in channels):
        step = float(_in_phase_period(c.rate for c in channels))
    else:
        fastest = max(channels, key=lambda c: c.rate)
        reference, step = float(fastest.series.times[0]), 1.0 / float(fastest.rate)
    return reference - math.floor((reference - start) / step + _SAME_TIME) * step


def _on_grid(offset: float, rate: Fraction) -> bool:
    samples = offset * float(rate)
    return abs(samples - round(samples)) <= _SAME_TIME


def _last_time(channels: Sequence[_Channel]) -> float:
    return max(float(c.series.times[-1]) for c in channels)


def _resample(series: Series, rate: Fraction, grid: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The channel's values at the `grid` times: a sample that lies on a grid time is taken as is,
    between two neighbouring samples the value is interpolated linearly, and where a neighbour is NaN or
    missing (a gap) the result is NaN: a gap is never bridged."""
    t = series.times
    v = series.values.astype(np.float64)
    out = np.full(grid.shape, np.nan)
    if len(t) == 0:
        return out
    period = 1.0 / float(rate)
    j = np.searchsorted(t, grid)  # t[j-1] < grid <= t[j]
    left, right = np.maximum(j - 1, 0), np.minimum(j, len(t) - 1)
    span = t[right] - t[left]
    between = (j > 0) & (j < len(t)) & (span <= _GAP_PERIODS * period)
    weight = (grid - t[left]) / np.where(span > 0, span, 1.0)
    out[between] = (v[left] + weight * (v[right] - v[left]))[between]
    on_left = np.abs(t[left] - grid) <= _SAME_TIME * period
    on_right = np.abs(t[right] - grid) <= _SAME_TIME * period
    out[on_left] = v[left][on_left]
    out[on_right] = v[right][on_right]
    return out


def _grid(anchor: float, rate: Fraction, count: int) -> npt.NDArray[np.float64]:
    return anchor + np.arange(count, dtype=np.float64) / float(rate)


def _count_until(anchor: float, rate: Fraction, last: float) -> int:
    """Grid points from `anchor` up to and including the one on `last`."""
    return math.floor((last - anchor) * float(rate) + _SAME_TIME) + 1


def _runs(missing: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """First index and end (exclusive) of each stretch of True."""
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _join_runs(
    starts: npt.NDArray[np.intp], stops: npt.NDArray[np.intp], limit: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """At most `limit` stretches: those closest together are joined first. A joined stretch covers the
    few samples between its parts too (a little signal called a gap, never a gap left unsaid)."""
    if len(starts) <= limit:
        return starts, stops
    spaces = starts[1:] - stops[:-1]
    kept = np.ones(len(spaces), bool)
    kept[np.argsort(spaces, kind="stable")[: len(starts) - max(limit, 1)]] = False
    return starts[np.concatenate(([True], kept))], stops[np.concatenate((kept, [True]))]


# -- EDF+ ------------------------------------------------------------------------------------------------


def _record_duration(rates: Sequence[Fraction]) -> int:
    """Whole seconds per EDF data record so that every channel has a whole number of samples in one:
    1 s for 250 and 125 Hz, 2 s once 62.5 Hz is among them."""
    seconds = reduce(math.lcm, (r.denominator for r in rates))
    if seconds > MAX_RECORD_S:
        rates_text = ", ".join(f"{float(r):g}" for r in rates)
        raise ExportError(f"EDF cannot hold these sample rates together ({rates_text} Hz)")
    return seconds


def _edf_number(value: float, upward: bool) -> float:
    """`value` rounded outward to a number EDF's 8-character header field holds exactly, so that
    readers scale the samples with the very numbers they were digitised with."""
    for decimals in range(7, -1, -1):
        scale = 10.0**decimals
        rounded = (math.ceil if upward else math.floor)(value * scale) / scale
        text = f"{rounded:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if len(text) <= 8:
            return float(text)
    raise ExportError(f"a value ({value:g}) is too large for an EDF header; export it in another unit")


def _value_range(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Lowest and highest value. Both formats divide by the range: a flat channel (or one without a
    single value) gets a small one around its value."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (-1.0, 1.0)
    if hi - lo < 1e-6 * max(1.0, abs(lo), abs(hi)):
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def _physical_range(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    lo, hi = _value_range(values)
    return _edf_number(lo, upward=False), _edf_number(hi, upward=True)


def _digitise(values: npt.NDArray[np.float64], lo: float, hi: float) -> npt.NDArray[np.int32]:
    scale = (EDF_DIGITAL_MAX - EDF_DIGITAL_MIN) / (hi - lo)
    codes = np.rint((np.nan_to_num(values, nan=lo) - lo) * scale + EDF_DIGITAL_MIN)
    return np.clip(codes, EDF_DIGITAL_MIN, EDF_DIGITAL_MAX).astype(np.int32)


def export_waves_edf(reader: RecordReader, bed: str, start: float, end: float, path: Path) -> None:
    """Full disclosure of `bed` from `start` to `end` as an EDF+ file at `path`.

    One signal per channel at its own rate. The file starts at `start` (UTC), moved on by less than one
    sample period when that lets the samples be written exactly as recorded, and ends with the last
    recorded sample, filled up to a whole data record. Samples that were not recorded are written as the
    signal's physical minimum and listed as "gap <label>" annotations.
    """
    channels = _channels(reader, bed, start, end)
    seconds = _record_duration([c.rate for c in channels])
    anchor = _anchor(channels, start)
    # enough whole records for every channel's last sample
    needed = max(_count_until(anchor, c.rate, float(c.series.times[-1])) / c.rate for c in channels)
    records = max(1, math.ceil(needed / seconds))
    headers: list[dict[str, object]] = []
    digital: list[npt.NDArray[np.int32]] = []
    runs: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
    for channel in channels:
        count = records * int(channel.rate * seconds)
        values = _resample(channel.series, channel.rate, _grid(anchor, channel.rate, count))
        lo, hi = _physical_range(values)
        digital.append(_digitise(values, lo, hi))
        runs.append(_runs(np.isnan(values)))
        headers.append(
            {
                "label": channel.label[:16],
                "dimension": channel.unit[:8],
                "sample_frequency": float(channel.rate),
                "physical_min": lo,
                "physical_max": hi,
                "digital_min": EDF_DIGITAL_MIN,
                "digital_max": EDF_DIGITAL_MAX,
                "transducer": "",
                "prefilter": "",
            }
        )
    # edflib stores one annotation per annotation signal and data record, and allows 64 such signals;
    # a channel that drops out very often has its closest gaps joined to fit
    total = sum(len(starts) for starts, _ in runs)
    annotation_signals = min(64, max(1, math.ceil(total / records)))
    room = annotation_signals * records
    gaps: list[tuple[float, float, str]] = []
    for channel, (starts, stops) in zip(channels, runs, strict=True):
        starts, stops = _join_runs(starts, stops, room * len(starts) // max(total, 1))
        period = 1.0 / float(channel.rate)
        gaps += [(a * period, (b - a) * period, channel.label) for a, b in zip(starts, stops, strict=True)]
    started = datetime.fromtimestamp(anchor, UTC).replace(tzinfo=None)
    with _replacing(path) as tmp:
        writer = pyedflib.EdfWriter(str(tmp), len(channels), file_type=pyedflib.FILETYPE_EDFPLUS)
        try:
            writer.setSignalHeaders(headers)
            writer.setStartdatetime(started.replace(microsecond=0))
            writer.setEquipment("WardWatch")
            # EDF+ header fields are ASCII without spaces
            writer.setRecordingAdditional(f"bed={_ascii(bed).replace(' ', '_')};times=UTC")
            writer.set_number_of_annotation_signals(annotation_signals)
            with warnings.catch_warnings():
                # pyedflib warns that a forced duration may alter rates; ours is exact by construction
                warnings.simplefilter("ignore", UserWarning)
                writer.setDatarecordDuration(seconds)
            if started.microsecond:
                # pyedflib 0.1.42 and older write the sub-second start 10 times too large (its reader
                # undoes it, no other reader does: holgern/pyedflib#315); edflib counts in 100 ns
                set_starttime_subsecond(writer.handle, started.microsecond * 10)
            writer.writeSamples(digital, digital=True)
            for onset, duration, label in sorted(gaps):
                writer.writeAnnotation(onset, duration, f"gap {label}")
        finally:
            writer.close()


# -- WFDB ------------------------------------------------------------------------------------------------

# Format 16 keeps -32768 for "no sample"; the margin of a step keeps rounding off that code.
_WFDB_LEVELS = 2 * 32767 - 2


def _wfdb_adc(values: npt.NDArray[np.float64]) -> tuple[float, int]:
    """(gain, baseline) spreading the channel over format 16's codes. wfdb would work them out itself,
    but fails on a channel without a single value (a lead off for the whole period)."""
    lo, hi = _value_range(values)
    # WFDB keeps the baseline in 32 bits: a narrow range far from zero gets a coarser gain to fit
    gain = min(_WFDB_LEVELS / (hi - lo), (2**31 - 1 - 32767) / max(abs(lo), abs(hi)))
    return gain, round(-32767 - lo * gain)


def export_waves_wfdb(
    reader: RecordReader, bed: str, start: float, end: float, directory: Path, record_name: str
) -> list[Path]:
    """Full disclosure of `bed` from `start` to `end` as the WFDB record `record_name` in `directory`
    (a header and one signal file, format 16). The files written are returned.

    WFDB keeps one sample rate per record: every channel is put on the fastest channel's grid (slower
    channels interpolated linearly between neighbouring samples, never across a gap; NaN where nothing
    was recorded). The record starts at `start` (moved on by less than one sample period, as for EDF+)
    and ends with the last recorded sample; its base time is UTC.
    """
    if not _WFDB_NAME.fullmatch(record_name):
        raise ExportError(
            f"a WFDB record name may hold only letters, digits, '-' and '_' (not {record_name!r})"
        )
    _need_folder(directory)
    channels = _channels(reader, bed, start, end)
    rate = max(c.rate for c in channels)
    anchor = _anchor(channels, start)
    grid = _grid(anchor, rate, _count_until(anchor, rate, _last_time(channels)))
    signal = np.column_stack([_resample(c.series, c.rate, grid) for c in channels])
    gains, baselines = zip(*(_wfdb_adc(signal[:, i]) for i in range(len(channels))), strict=True)
    names = [f"{record_name}.hea", f"{record_name}.dat"]
    # wfdb writes its files one by one; they are made in a private folder and moved in together
    with tempfile.TemporaryDirectory(prefix=f".{record_name}.", dir=directory) as tmp:
        wfdb.wrsamp(
            record_name,
            fs=float(rate),
            units=[(c.unit or "NU").replace(" ", "_") for c in channels],
            sig_name=[c.label for c in channels],
            p_signal=signal,
            fmt=["16"] * len(channels),
            adc_gain=list(gains),
            baseline=list(baselines),
            comments=[f"WardWatch export of bed {_ascii(bed)}", "base time in UTC"],
            base_datetime=datetime.fromtimestamp(anchor, UTC).replace(tzinfo=None),
            write_dir=tmp,
        )
        for name in names:
            os.chmod(Path(tmp) / name, 0o600)
            os.replace(Path(tmp) / name, directory / name)
    return [directory / name for name in names]


# -- CSV -------------------------------------------------------------------------------------------------


def _cells(values: npt.NDArray[np.float64]) -> list[str]:
    """Six significant digits (the monitor's own resolution is far coarser); nothing for no value."""
    text = np.char.mod("%.6g", values)
    return np.where(np.isfinite(values), text, "").tolist()


def _write_csv(path: Path, header: Sequence[str], columns: Sequence[list[str]]) -> None:
    with _replacing(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(zip(*columns, strict=True))


def export_waves_csv(reader: RecordReader, bed: str, start: float, end: float, path: Path) -> None:
    """Full disclosure of `bed` from `start` to `end` as CSV: `time_utc`, then one column per channel
    ("II [mV]"), one row per sample time of the fastest channel. Slower channels are interpolated
    between neighbouring samples (never across a gap); a cell is empty where nothing was recorded, and
    a row where no channel has a value is left out."""
    channels = _channels(reader, bed, start, end)
    rate = max(c.rate for c in channels)
    anchor = _anchor(channels, start)
    grid = _grid(anchor, rate, _count_until(anchor, rate, _last_time(channels)))
    values = [_resample(c.series, c.rate, grid) for c in channels]
    keep = np.any(np.isfinite(np.vstack(values)), axis=0)
    _write_csv(
        path,
        ["time_utc", *(f"{c.label} [{c.unit}]" for c in channels)],
        [iso_utc(grid[keep]), *(_cells(v[keep]) for v in values)],
    )


def export_trends_csv(reader: RecordReader, bed: str, start: float, end: float, path: Path) -> None:
    """The one-second numerics of `bed` from `start` to `end` as CSV: `time_utc`, then one column per
    numeric ("HR [bpm]"), one row per second in which any numeric has a value."""
    if not end > start:
        raise ExportError(f"the period to export is empty ({_period(start, end)})")
    trends = {code: reader.trend(bed, code, start, end) for code in reader.trend_codes(bed)}
    trends = {code: s for code, s in trends.items() if len(s.times)}
    if not trends:
        raise ExportError(f"no trends recorded for {bed} {_period(start, end)}")
    codes = sorted(trends)
    labels = _unique([channel_label(c) for c in codes], codes)
    times = np.unique(np.concatenate([trends[c].times for c in codes]))
    columns = []
    for code in codes:
        column = np.full(times.shape, np.nan)
        column[np.searchsorted(times, trends[code].times)] = trends[code].values
        columns.append(_cells(column))
    header = [f"{label} [{channel_unit(code)}]" for label, code in zip(labels, codes, strict=True)]
    _write_csv(path, ["time_utc", *header], [iso_utc(times), *columns])


EVENT_COLUMNS = ("time_utc", "bed", "kind", "key", "priority", "user", "detail")


def export_events_csv(reader: RecordReader, bed: str | None, start: float, end: float, path: Path) -> None:
    """The alarm journal and technical events of `bed` (or of the whole ward, for None) from `start` to
    `end` as CSV, oldest first, with the columns of EVENT_COLUMNS."""
    if not end > start:
        raise ExportError(f"the period to export is empty ({_period(start, end)})")
    events = reader.events(bed, start, end)
    if not events:
        raise ExportError(f"no events recorded for {bed or 'the ward'} {_period(start, end)}")
    columns = [
        iso_utc([e.time for e in events]),
        [e.bed for e in events],
        [e.kind for e in events],
        [e.key for e in events],
        [e.priority or "" for e in events],
        [e.user for e in events],
        [e.detail for e in events],
    ]
    _write_csv(path, EVENT_COLUMNS, columns)
