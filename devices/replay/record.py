"""Loading a WFDB record into a `Recording`: its channels, ready to play, and the numerics derived from them.

Every way a record can be broken (a file missing, a header that is not WFDB, a signal file cut short or
damaged) ends in a `SourceError` whose message names the record and says what is wrong, in words a user
can act on. Record and signal names are not personal data and may be logged; header comments (age, sex,
medication in MIT-BIH headers) are never read into a Recording and never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import wfdb
from wardwatch.app.codes import MdcCode, is_ecg
from wardwatch.devices.base import SourceError
from wardwatch.devices.replay import derive
from wardwatch.devices.replay.signals import choose_signals, ucum_unit

log = logging.getLogger(__name__)

_EXTENSIONS = (".hea", ".dat")


@dataclass(frozen=True, slots=True, eq=False)
class Channel:
    """One signal of a record as the station shows it; `samples` are read-only, NaN where invalid."""

    code: MdcCode
    label: str  # the record's own signal name ("MLII", "V", "PLETH")
    unit: str  # UCUM
    samples: npt.NDArray[np.float32]
    adc_step: float  # physical size of one ADC unit


@dataclass(frozen=True, slots=True, eq=False)
class Recording:
    """A loaded record: every channel sampled at `rate`, and the numerics derived from them."""

    name: str
    rate: float
    channels: tuple[Channel, ...]
    numerics: tuple[derive.NumericTrack, ...]

    @property
    def n_samples(self) -> int:
        return len(self.channels[0].samples)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.rate

    def channel(self, code: MdcCode) -> Channel | None:
        return next((c for c in self.channels if c.code == code), None)


def record_path(path: str | Path) -> Path:
    """The record path without extension (a path to its .hea or .dat is accepted too)."""
    p = Path(path).expanduser()
    return p.with_suffix("") if p.suffix.lower() in _EXTENSIONS else p


def records_in(directory: Path) -> list[Path]:
    """Record paths of a folder: as listed in its RECORDS file if it has one, else every *.hea, sorted."""
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise SourceError(f"record folder {str(folder)!r} does not exist")
    listing = folder / "RECORDS"
    if listing.is_file():
        try:
            lines = listing.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            raise SourceError(f"the RECORDS file of {str(folder)!r} cannot be read ({exc.strerror})") from exc
        paths = [folder / line.strip() for line in lines if line.strip() and not line.startswith("#")]
    else:
        paths = sorted(p.with_suffix("") for p in folder.glob("*.hea"))
    if not paths:
        raise SourceError(f"record folder {str(folder)!r} holds no WFDB record")
    return paths


def _read(path: Path) -> wfdb.Record:
    """Header and digital samples, every failure turned into a message that names the record."""
    name = path.name
    header_file = path.parent / f"{name}.hea"
    if not header_file.is_file():
        raise SourceError(f"replay record {name!r}: header file {header_file.name} not found")
    try:
        header = wfdb.rdheader(str(path))
    except Exception as exc:  # wfdb's parser raises many types on garbage; any of them means the same
        raise SourceError(f"replay record {name!r}: {header_file.name} is not a valid WFDB header") from exc
    if not header.n_sig or not header.sig_name:
        raise SourceError(f"replay record {name!r} has no signals")
    for file_name in dict.fromkeys(header.file_name or ()):
        if not (path.parent / file_name).is_file():
            raise SourceError(f"replay record {name!r}: signal file {file_name} not found")
    try:
        record = wfdb.rdrecord(str(path), physical=False)
    except Exception as exc:  # a short or damaged .dat surfaces as ValueError, IndexError, ...
        raise SourceError(
            f"replay record {name!r}: the signal file is truncated or damaged and cannot be read"
        ) from exc
    if not isinstance(record, wfdb.Record) or record.d_signal is None or len(record.d_signal) == 0:
        raise SourceError(f"replay record {name!r} holds no samples")
    _check_checksums(record, name)
    return record


def _check_checksums(record: wfdb.Record, name: str) -> None:
    """Compare the header's per-signal checksums (when it has them) with the samples read."""
    declared = record.checksum
    # Checksums are over the raw frames; with several samples per frame wfdb has averaged them already.
    if not declared or any((spf or 1) != 1 for spf in (record.samps_per_frame or [1])):
        return
    actual = record.calc_checksum()
    for signal_name, want, got in zip(record.sig_name, declared, actual, strict=True):
        # Headers write the 16-bit checksum signed or unsigned; compare modulo 2**16.
        if want is not None and (int(want) - int(got)) % 65536 != 0:
            raise SourceError(
                f"replay record {name!r}: signal {signal_name!r} fails its checksum"
                " (the signal file is corrupt)"
            )


def load_record(path: str | Path) -> Recording:
    """Read a WFDB record (path without extension) and derive its numerics. Pure apart from reading files."""
    path = record_path(path)
    name = path.name
    record = _read(path)
    # Same values as wfdb.rdrecord(path).p_signal (physical units, NaN for invalid samples): this is the very
    # conversion rdrecord applies, done here because the checksum needs the digital samples first.
    physical = np.asarray(record.dac(return_res=64), np.float64)
    fs = float(record.fs)
    if fs <= 0:
        raise SourceError(f"replay record {name!r}: sampling frequency {fs} is not valid")

    channels: list[Channel] = []
    for choice in choose_signals(record.sig_name):
        if choice.code is None:
            log.info("replay record %s: signal %r skipped (%s)", name, choice.name, choice.reason)
            continue
        samples = physical[:, choice.index].astype(np.float32)
        samples.setflags(write=False)  # shared by every block played from it
        gain = float(record.adc_gain[choice.index] or 0.0)
        channels.append(
            Channel(
                code=choice.code,
                label=choice.name.strip(),
                unit=ucum_unit(record.units[choice.index] if record.units else None, choice.code),
                samples=samples,
                adc_step=1.0 / gain if gain > 0 else 0.0,
            )
        )
    if not channels:
        signals = ", ".join(record.sig_name)
        raise SourceError(f"replay record {name!r} holds no signal WardWatch can show (signals: {signals})")
    return Recording(name, fs, tuple(channels), derive_numerics(channels, fs))


def derive_numerics(channels: list[Channel], fs: float) -> tuple[derive.NumericTrack, ...]:
    """A track for each numeric the record's waves allow (a wave without usable signal gives an empty one)."""

    def wave(c: Channel) -> derive.Wave:
        return derive.Wave(c.label, c.samples, c.adc_step)

    by_code = {c.code: c for c in channels}
    tracks: list[derive.NumericTrack] = []
    heart = derive.heart_rate_track([wave(c) for c in channels if is_ecg(c.code)], fs)
    if heart is not None:
        tracks.append(heart)
    if (pleth := by_code.get(MdcCode.PULS_OXIM_PLETH)) is not None:
        tracks.append(derive.pulse_rate_track(wave(pleth), fs))
    if (resp := by_code.get(MdcCode.RESP)) is not None:
        tracks.append(derive.resp_rate_track(wave(resp), fs))
    if (abp := by_code.get(MdcCode.PRESS_BLD_ART_ABP)) is not None:
        tracks.extend(derive.pressure_tracks(wave(abp), fs))
    return tuple(tracks)
