"""`wardwatch eval deterioration IN.csv[.gz] --out OUT.csv`: the shipped model on a table of hours.

Every readable row gets `patient,ICULOS,risk,alert` (in the file's order), each computed from that
patient's rows up to it only; malformed rows are named and left out. With `SepsisLabel` present it prints
the hourly AUROC and the normalised utility of the model and, on the same rows, of vitals-only NEWS2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import roc_auc_score
from wardwatch.app.deterioration.features import compute_features
from wardwatch.app.deterioration.model import DeteriorationModel
from wardwatch.app.deterioration.table import MAX_PROBLEMS_LISTED, HourlyTable, read_table
from wardwatch.app.deterioration.train import NEWS2_ALERT, news2_of
from wardwatch.app.deterioration.utility import row_utilities

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Scored:
    table: HourlyTable
    risk: npt.NDArray[np.float64]
    alert: npt.NDArray[np.int64]


def score_table(table: HourlyTable, model: DeteriorationModel) -> Scored:
    features = compute_features(table.columns, table.starts)
    risk = model.risk(features)
    return Scored(table, risk, (risk >= model.threshold).astype(np.int64))


def write_scores(scored: Scored, out: Path) -> None:
    order = np.argsort(scored.table.file_lines, kind="stable")
    frame = pd.DataFrame(
        {
            "patient": scored.table.patients[order],
            "ICULOS": scored.table.columns["ICULOS"][order],
            "risk": np.round(scored.risk[order], 5),
            "alert": scored.alert[order],
        }
    )
    frame["ICULOS"] = frame["ICULOS"].map(lambda v: f"{v:g}")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, float_format="%.5f")


def report_figures(scored: Scored, threshold: float, say: Say) -> None:
    labels = scored.table.labels
    if labels is None:
        return
    known = ~np.isnan(labels)
    if not known.all():
        say(f"{int((~known).sum())} rows without SepsisLabel count as 0")
    y = np.nan_to_num(labels, nan=0.0).astype(np.int64)
    utilities = row_utilities(y, scored.table.starts)
    news = news2_of(scored.table)
    both = len(np.unique(y)) == 2
    auroc = roc_auc_score(y, scored.risk) if both else float("nan")
    news_auroc = roc_auc_score(y, news) if both else float("nan")
    say(f"{len(np.unique(scored.table.patients))} patients, {len(y)} hours, {int(y.sum())} labelled")
    say(
        f"model  AUROC {auroc:.4f}  normalised utility {utilities.score(scored.alert).normalised:.4f}"
        f"  (alert at risk >= {threshold:.4f})"
    )
    say(
        f"NEWS2  AUROC {news_auroc:.4f}  normalised utility "
        f"{utilities.score(news >= NEWS2_ALERT).normalised:.4f}  (vitals only, air, alert; alert at >= "
        f"{NEWS2_ALERT})"
    )


def evaluate(path: Path, out: Path, model: DeteriorationModel, say: Say, warn: Say) -> int:
    """0: every row scored; 1: some rows malformed (named on `warn`), the rest scored."""
    t0 = time.monotonic()
    table = read_table(path)
    for problem in table.problems[:MAX_PROBLEMS_LISTED]:
        warn(f"malformed row left out: {problem}")
    if len(table.problems) > MAX_PROBLEMS_LISTED:
        warn(f"... and {len(table.problems) - MAX_PROBLEMS_LISTED} more malformed rows")
    scored = score_table(table, model)
    write_scores(scored, out)
    say(f"wrote {len(table)} rows to {out} ({time.monotonic() - t0:.1f} s)")
    report_figures(scored, model.threshold, say)
    say(f"total {time.monotonic() - t0:.1f} s")
    return 1 if table.problems else 0
