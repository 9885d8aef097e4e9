"""Reading the challenge's hourly table (`patient` then the challenge's columns; `SepsisLabel` optional).

A malformed row (wrong number of fields, a value that is not a number, no patient or hour) is named by
its line number and column and left out; every other row is read. Rows are then grouped by patient in
hour order (stable, so the table's own order breaks ties); `order` maps back to the file's order.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from wardwatch.app.deterioration.columns import CHALLENGE_COLUMNS, LABEL, PATIENT
from wardwatch.app.deterioration.features import patient_starts

Floats = npt.NDArray[np.float64]
MAX_PROBLEMS_LISTED = 20


class TableError(ValueError):
    """The file cannot be read as such a table at all (missing, no header, no usable row)."""


@dataclass(frozen=True, slots=True)
class HourlyTable:
    patients: npt.NDArray[np.object_]  # grouped by patient, hour order within
    columns: dict[str, Floats]  # every challenge column present in the file, as floats (NaN: empty)
    starts: npt.NDArray[np.int64]
    file_lines: npt.NDArray[np.int64]  # the 1-based line of each row in the file
    problems: tuple[str, ...]  # one line per malformed row left out, e.g. "line 12: HR 'abc' is not a number"

    @property
    def labels(self) -> Floats | None:
        return self.columns.get(LABEL)

    def __len__(self) -> int:
        return len(self.patients)


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TableError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise TableError(f"{path}: not a readable CSV ({exc})") from None


def _header(first_line: str, path: Path) -> list[str]:
    header = [h.strip() for h in next(csv.reader([first_line]), [])]
    if not header or header[0] != PATIENT:
        raise TableError(f"{path}: the first column must be '{PATIENT}' (found {header[:1]})")
    unknown = [h for h in header[1:] if h not in CHALLENGE_COLUMNS]
    if unknown:
        raise TableError(f"{path}: unknown columns {', '.join(unknown[:5])}")
    if "ICULOS" not in header:
        raise TableError(f"{path}: no ICULOS column (the hour of each row)")
    return header


def read_table(path: Path) -> HourlyTable:
    text = _text(path)
    lines = text.splitlines()
    if not lines:
        raise TableError(f"{path}: empty file")
    header = _header(lines[0], path)
    problems: list[str] = []
    # A row with the wrong number of fields cannot be read column by column: name it, drop it.
    commas = len(header) - 1
    keep = [i for i in range(1, len(lines)) if lines[i].count(",") == commas]
    for i in range(1, len(lines)):
        if lines[i].count(",") != commas and lines[i].strip():
            problems.append(f"line {i + 1}: {lines[i].count(',') + 1} fields, expected {len(header)}")
    body = "\n".join(lines[i] for i in keep)
    file_lines = np.asarray(keep, dtype=np.int64) + 1
    frame = pd.read_csv(
        io.StringIO(body), names=header, header=None, dtype=str, keep_default_na=False, na_filter=False
    )
    bad = np.zeros(len(frame), dtype=bool)
    columns: dict[str, Floats] = {}
    for name in header[1:]:
        strings = frame[name].str.strip()
        values = pd.to_numeric(strings, errors="coerce").to_numpy(dtype=np.float64)
        wrong = np.isnan(values) & (strings != "").to_numpy() & (strings.str.lower() != "nan").to_numpy()
        for row in np.flatnonzero(wrong & ~bad):
            problems.append(f"line {file_lines[row]}: {name} {strings.iloc[row][:20]!r} is not a number")
        bad |= wrong
        columns[name] = values
    patients = frame[PATIENT].str.strip().to_numpy(dtype=object)
    no_patient = patients == ""
    no_hour = np.isnan(columns["ICULOS"])
    for row in np.flatnonzero((no_patient | no_hour) & ~bad):
        problems.append(f"line {file_lines[row]}: no {'patient' if no_patient[row] else 'ICULOS'}")
    bad |= no_patient | no_hour
    ok = ~bad
    patients, file_lines = patients[ok], file_lines[ok]
    columns = {k: v[ok] for k, v in columns.items()}
    if not len(patients):
        raise TableError(f"{path}: no readable row" + (f" ({problems[0]})" if problems else ""))
    # group by patient in order of first appearance, then by hour, keeping the file's order for ties
    first_seen = pd.factorize(pd.Series(patients))[0]
    order = np.lexsort((np.arange(len(patients)), columns["ICULOS"], first_seen))
    patients = patients[order]
    problems.sort(key=lambda p: int(p.split(":")[0].split()[1]))
    return HourlyTable(
        patients=patients,
        columns={k: v[order] for k, v in columns.items()},
        starts=patient_starts(patients),
        file_lines=file_lines[order],
        problems=tuple(problems),
    )
