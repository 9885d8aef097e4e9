"""`wardwatch eval news2 IN.csv --out OUT.csv`: NEWS2 score and band for every row of a table.

Input columns (a header row, any order, more columns allowed and kept):
`rr,spo2,spo2_scale,on_oxygen,sbp,pulse,consciousness,temp`. `spo2_scale` is 1 or 2 (empty: 1);
`on_oxygen` is 1/0, true/false, yes/no, y/n, o2/air; `consciousness` is A, C, V, P or U.
The output is the input with `score` and `band` added (band: low, low-medium, medium, high). A row
that cannot be scored is written with an empty score and band `error`, and a message naming the row
(its line in the file) and the field goes to stderr; the other rows are still scored.
Exit status: 0 all rows scored, 1 some rows could not be, 2 the file cannot be read or lacks columns.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from wardwatch.app.alarms.early_warning import Band, Consciousness, News2Inputs, score_news2

COLUMNS = ("rr", "spo2", "spo2_scale", "on_oxygen", "sbp", "pulse", "consciousness", "temp")
BAND_WORDS = {Band.LOW: "low", Band.LOW_MEDIUM: "low-medium", Band.MEDIUM: "medium", Band.HIGH: "high"}
_TRUE = {"1", "true", "yes", "y", "o2", "oxygen"}
_FALSE = {"0", "false", "no", "n", "air"}
# Plausible physical ranges: a value outside is a typing or unit error, not a patient.
_RANGES = {"rr": (0, 120), "spo2": (0, 100), "sbp": (0, 350), "pulse": (0, 350), "temp": (20, 45)}


class RowError(ValueError):
    pass


def _number(row: Mapping[str, str], key: str) -> float:
    text = (row.get(key) or "").strip()
    if not text:
        raise RowError(f"{key} is empty")
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{key} is not a number: {text!r}") from None
    lo, hi = _RANGES[key]
    if not math.isfinite(value) or not lo <= value <= hi:
        raise RowError(f"{key} {text} is outside {lo}-{hi}")
    return value


def parse_row(row: Mapping[str, str]) -> News2Inputs:
    scale_text = (row.get("spo2_scale") or "").strip() or "1"
    if scale_text not in ("1", "2"):
        raise RowError(f"spo2_scale must be 1 or 2, not {scale_text!r}")
    oxygen_text = (row.get("on_oxygen") or "").strip().lower()
    if oxygen_text in _TRUE:
        on_oxygen = True
    elif oxygen_text in _FALSE:
        on_oxygen = False
    else:
        raise RowError(f"on_oxygen must be 1/0, true/false or yes/no, not {oxygen_text!r}")
    level = (row.get("consciousness") or "").strip().upper()
    try:
        consciousness = Consciousness(level)
    except ValueError:
        raise RowError(f"consciousness must be A, C, V, P or U, not {level!r}") from None
    return News2Inputs(
        rr=_number(row, "rr"),
        spo2=_number(row, "spo2"),
        spo2_scale=int(scale_text),
        on_oxygen=on_oxygen,
        sbp=_number(row, "sbp"),
        pulse=_number(row, "pulse"),
        consciousness=consciousness,
        temp=_number(row, "temp"),
    )


def score_table(source: TextIO, out: TextIO, err: TextIO) -> int:
    reader = csv.DictReader(source)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        needed = ",".join(COLUMNS)
        err.write(f"wardwatch: the input lacks the column(s) {', '.join(missing)} (needs {needed})\n")
        return 2
    reader.fieldnames = header
    writer = csv.DictWriter(out, [*header, "score", "band"], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    failed = 0
    for row in reader:
        line = reader.line_num
        try:
            score = score_news2(parse_row(row))
            writer.writerow({**row, "score": score.total, "band": BAND_WORDS[score.band]})
        except RowError as exc:
            failed += 1
            err.write(f"wardwatch: row at line {line}: {exc}; written with band 'error'\n")
            writer.writerow({**row, "score": "", "band": "error"})
    return 1 if failed else 0


def run(input_path: Path, output_path: Path, err: TextIO) -> int:
    try:
        with (
            input_path.open(newline="", encoding="utf-8-sig") as source,
            output_path.open("w", newline="", encoding="utf-8") as out,
        ):
            return score_table(source, out, err)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        err.write(f"wardwatch: cannot score {input_path}: {exc}\n")
        return 2


def run_args(args: argparse.Namespace, err: TextIO) -> int:
    return run(args.input, args.out, err)
