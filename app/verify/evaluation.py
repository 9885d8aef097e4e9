"""`wardwatch eval alarms DIR --out decisions.csv [--cv K]`: run the live verification over recorded alarms.

DIR holds WFDB records laid out like PhysioNet/CinC 2015 (each ends when the monitor alarmed; the
alarm type is a header comment such as `#Ventricular_Tachycardia`), listed in `DIR/RECORDS`. The
decision uses only the record's samples; labels (`DIR/ALARMS` lines `record,type,label`, or a
`#True alarm` / `#False alarm` header comment) are read only afterwards, to score.

The rules have no fitted parameters (their thresholds are physiological constants in the rule modules),
so `--cv K` reports the score on each of K stratified folds and their spread: how much the score
moves between samples of patients, which is what a held-out set will see.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import wfdb
from wardwatch.app.verify.alarm_types import ArrhythmiaType
from wardwatch.app.verify.decide import verify_alarm

_BY_LETTER = {
    "a": ArrhythmiaType.ASYSTOLE,
    "b": ArrhythmiaType.BRADYCARDIA,
    "t": ArrhythmiaType.TACHYCARDIA,
    "v": ArrhythmiaType.VENTRICULAR_TACHYCARDIA,
    "f": ArrhythmiaType.VENTRICULAR_FLUTTER_FIB,
}


@dataclass(frozen=True, slots=True)
class Decision:
    record: str
    alarm_type: ArrhythmiaType
    sound: bool
    reason: str


def alarm_type_of(record: str, comments: list[str]) -> ArrhythmiaType:
    for line in comments:
        text = line.strip().lstrip("#").strip()
        try:
            return ArrhythmiaType(text)
        except ValueError:
            continue
    kind = _BY_LETTER.get(Path(record).name[:1].lower())
    if kind is None:
        raise ValueError("no alarm type in the header and none in the record name")
    return kind


def decide_record(directory: Path, record: str) -> Decision:
    """One record's decision; an unreadable record is sounded (never suppress on missing evidence)."""
    try:
        rec = wfdb.rdrecord(str(directory / record))
        kind = alarm_type_of(record, list(rec.comments or []))
    except Exception as exc:
        kind = _BY_LETTER.get(Path(record).name[:1].lower(), ArrhythmiaType.ASYSTOLE)
        return Decision(record, kind, True, f"unreadable record ({type(exc).__name__}: {exc}): sounded")
    signals = (
        {name: rec.p_signal[:, i] for i, name in enumerate(rec.sig_name)} if rec.p_signal is not None else {}
    )
    verdict = verify_alarm(kind, signals, float(rec.fs))
    return Decision(record, kind, verdict.sound, verdict.reason)


def read_labels(directory: Path, records: list[str]) -> dict[str, bool]:
    labels: dict[str, bool] = {}
    alarms = directory / "ALARMS"
    if alarms.exists():
        for line in alarms.read_text("utf-8").splitlines():
            parts = [p.strip() for p in line.split(",")]
            if len(parts) >= 3 and parts[2] in ("0", "1"):
                labels[parts[0]] = parts[2] == "1"
    for record in records:
        if record in labels:
            continue
        header = directory / f"{record}.hea"
        if header.exists():
            text = header.read_text("utf-8", errors="replace").lower()
            if "#true alarm" in text:
                labels[record] = True
            elif "#false alarm" in text:
                labels[record] = False
    return labels


def score(tp: int, fp: int, tn: int, fn: int) -> float:
    """The PhysioNet/CinC 2015 score, ×100."""
    total = tp + tn + fp + 5 * fn
    return 100.0 * (tp + tn) / total if total else math.nan


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _counts(decisions: list[Decision], labels: dict[str, bool]) -> tuple[int, int, int, int]:
    tp = fp = tn = fn = 0
    for d in decisions:
        truth = labels.get(d.record)
        if truth is None:
            continue
        if truth and d.sound:
            tp += 1
        elif truth:
            fn += 1
        elif d.sound:
            fp += 1
        else:
            tn += 1
    return tp, fp, tn, fn


def report(decisions: list[Decision], labels: dict[str, bool], out: TextIO) -> None:
    by_type: dict[ArrhythmiaType, list[Decision]] = defaultdict(list)
    for d in decisions:
        by_type[d.alarm_type].append(d)
    head = f"{'alarm type':<26}{'TP':>5}{'FP':>5}{'TN':>5}{'FN':>5}"
    out.write(f"{head}  {'Se (95% CI)':<22}{'Sp (95% CI)':<22}score\n")
    for kind in ArrhythmiaType:
        if kind in by_type:
            _line(kind.value, _counts(by_type[kind], labels), out)
    _line("all", _counts(decisions, labels), out)
    misses = [d for d in decisions if labels.get(d.record) is True and not d.sound]
    out.write(
        f"false negatives ({len(misses)}): "
        + (", ".join(f"{d.record} ({d.reason})" for d in misses) or "none")
        + "\n"
    )


def _line(name: str, counts: tuple[int, int, int, int], out: TextIO) -> None:
    tp, fp, tn, fn = counts
    se_lo, se_hi = wilson(tp, tp + fn)
    sp_lo, sp_hi = wilson(tn, tn + fp)
    se = tp / (tp + fn) if tp + fn else math.nan
    sp = tn / (tn + fp) if tn + fp else math.nan
    out.write(
        f"{name:<26}{tp:>5}{fp:>5}{tn:>5}{fn:>5}  {se:6.3f} ({se_lo:.2f}-{se_hi:.2f})   "
        f"{sp:6.3f} ({sp_lo:.2f}-{sp_hi:.2f})   {score(tp, fp, tn, fn):6.2f}\n"
    )


def folds(decisions: list[Decision], labels: dict[str, bool], k: int, seed: int) -> list[list[Decision]]:
    """K folds stratified by alarm type and label, drawn with a fixed seed."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, bool | None], list[Decision]] = defaultdict(list)
    for d in decisions:
        groups[(d.alarm_type.value, labels.get(d.record))].append(d)
    out: list[list[Decision]] = [[] for _ in range(k)]
    offset = 0
    for key in sorted(groups, key=str):
        members = groups[key]
        for i, j in enumerate(rng.permutation(len(members))):
            out[(i + offset) % k].append(members[int(j)])
        offset += len(members)
    return out


def run(args: argparse.Namespace, out: TextIO) -> int:
    directory: Path = args.dir
    listing = directory / "RECORDS"
    if not directory.is_dir() or not listing.is_file():
        sys.stderr.write(f"wardwatch: {directory} has no RECORDS file listing the records to evaluate\n")
        return 2
    records = [r.strip() for r in listing.read_text("utf-8").splitlines() if r.strip()]
    started = time.perf_counter()
    decisions = [decide_record(directory, r) for r in records]
    elapsed = time.perf_counter() - started
    try:
        with args.out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["record", "alarm_type", "decision"])
            for d in decisions:
                writer.writerow([d.record, d.alarm_type.value, 1 if d.sound else 0])
    except OSError as exc:
        sys.stderr.write(f"wardwatch: cannot write {args.out}: {exc}\n")
        return 2
    for d in decisions:
        if d.reason.startswith("unreadable"):
            sys.stderr.write(f"wardwatch: {d.record}: {d.reason}\n")
    out.write(f"{len(decisions)} records in {elapsed:.1f} s; decisions written to {args.out}\n")
    labels = read_labels(directory, records)
    if labels:
        report(decisions, labels, out)
        if args.cv and args.cv > 1:
            scores = [score(*_counts(fold, labels)) for fold in folds(decisions, labels, args.cv, args.seed)]
            text = ", ".join(f"{s:.2f}" for s in scores)
            out.write(
                f"{args.cv}-fold (stratified, seed {args.seed}) score: mean {np.mean(scores):.2f}, "
                f"sd {np.std(scores):.2f} [{text}]\n"
            )
    return 0
