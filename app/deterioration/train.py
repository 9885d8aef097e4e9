"""Training the deterioration model on the challenge's table, reproducibly (fixed seed, two threads).

`wardwatch train deterioration DATA --out resources/deterioration_model.txt.gz` trains on every hour up
to TRAIN_MAX_HOURS on the unit and writes the LightGBM model as text (no pickle) with a JSON beside it:
the feature names, the alert threshold, the calibration table and the cross-validated figures. `--cv 5`
first runs five-fold cross-validation by patient (no patient in two folds), chooses the threshold that
maximises utility on the out-of-fold risks and prints AUROC and utility, with NEWS2's figures on the
same rows.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from wardwatch.app.deterioration.columns import LABEL
from wardwatch.app.deterioration.features import Features, compute_features, news2_carried
from wardwatch.app.deterioration.table import HourlyTable, read_table
from wardwatch.app.deterioration.utility import RowUtilities, row_utilities

Floats = npt.NDArray[np.float64]
SEED = 2019
THREADS = 2  # the station's machines are small and shared
# Hours of one patient are much alike, so the trees overfit patients quickly: small, randomised trees
# (extra_trees), large leaves and few rounds cross-validated best (set A, by patient).
ROUNDS = 400
PARAMS: dict[str, object] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 1000,
    "feature_fraction": 0.3,
    "bagging_fraction": 0.7,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "extra_trees": True,
    "max_bin": 63,
    "num_threads": THREADS,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
THRESHOLDS = np.round(np.arange(0.005, 0.30, 0.0025), 4)
CALIBRATION_EDGES = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.5, 1.0)
# In set A only 8 of 18,546 patients who stay free of sepsis are still recorded after 60 h: 96 % of the
# later hours belong to septic patients, whatever the patient looks like. Hours past this are scored but
# never trained on, so the model learns the patient rather than the record's length (STAY_HORIZON_H in
# features.py).
TRAIN_MAX_HOURS = 60
DEFAULT_THRESHOLD = 0.05  # used only when no cross-validation chose one
NEWS2_ALERT = 5  # the chart's "urgent review" band, the usual trigger on a ward

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Figures:
    auroc: float
    utility: float
    threshold: float | None = None


def metadata_path(model_path: Path) -> Path:
    name = model_path.name.removesuffix(".gz").removesuffix(".txt")
    return model_path.with_name(name + ".json")


def news2_of(table: HourlyTable) -> npt.NDArray[np.int64]:
    """Vitals-only NEWS2 (air, alert) from each patient's latest values up to each row."""
    return news2_carried(table.columns, table.starts)


def best_threshold(risk: Floats, utilities: RowUtilities) -> tuple[float, float]:
    scores = [utilities.score(risk >= t).normalised for t in THRESHOLDS]
    i = int(np.argmax(scores))
    return float(THRESHOLDS[i]), float(scores[i])


def fit(features: Features, labels: Floats, rows: npt.NDArray[np.int64] | None = None) -> lgb.Booster:
    x = features.matrix if rows is None else features.matrix[rows]
    y = labels if rows is None else labels[rows]
    data = lgb.Dataset(x, label=y, feature_name=list(features.names), free_raw_data=True)
    return lgb.train(PARAMS, data, num_boost_round=ROUNDS)


def calibration(risk: Floats, labels: Floats) -> list[dict[str, float]]:
    """Per band of risk: how many hours fell in it, and how often they were labelled (sepsis within
    about 6 h, or present)."""
    out: list[dict[str, float]] = []
    for lo, hi in itertools.pairwise(CALIBRATION_EDGES):
        inside = (risk >= lo) & (risk < hi) if hi < 1.0 else (risk >= lo)
        n = int(inside.sum())
        out.append(
            {"low": lo, "high": hi, "hours": n, "observed": float(labels[inside].mean()) if n else 0.0}
        )
    return out


def trainable_rows(table: HourlyTable) -> npt.NDArray[np.bool_]:
    """The hours a model may learn from (on the unit no longer than TRAIN_MAX_HOURS)."""
    hours = table.columns.get("ICULOS")
    if hours is None:
        return np.ones(len(table), dtype=bool)
    return ~(np.asarray(hours, dtype=np.float64) > TRAIN_MAX_HOURS)


def cross_validate(table: HourlyTable, features: Features, folds: int, say: Say) -> dict[str, object]:
    labels = table.labels
    assert labels is not None
    trainable = trainable_rows(table)
    utilities = row_utilities(labels, table.starts)
    groups = table.patients
    risk = np.zeros(len(table))
    fold_of = np.zeros(len(table), dtype=np.int64)
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for k, (train_rows, test_rows) in enumerate(splitter.split(features.matrix, labels, groups)):
        t0 = time.monotonic()
        booster = fit(features, labels, train_rows[trainable[train_rows]])
        risk[test_rows] = booster.predict(features.matrix[test_rows], num_threads=THREADS)
        fold_of[test_rows] = k
        say(
            f"fold {k + 1}/{folds}: AUROC {roc_auc_score(labels[test_rows], risk[test_rows]):.4f} "
            f"({time.monotonic() - t0:.0f} s)"
        )
    threshold, utility = best_threshold(risk, utilities)
    # nested: each fold scored at the threshold the other folds' out-of-fold risks chose
    nested = np.zeros(len(table), dtype=bool)
    for k in range(folds):
        others = fold_of != k
        sub = row_utilities(labels[others], _restart(table.starts, others))
        t, _ = best_threshold(risk[others], sub)
        nested[fold_of == k] = risk[fold_of == k] >= t
    nested_utility = utilities.score(nested).normalised
    news = news2_of(table)
    result = {
        "folds": folds,
        "auroc": float(roc_auc_score(labels, risk)),
        # where both kinds of patient are still recorded, so the record's length tells nothing
        "auroc_first_hours": float(roc_auc_score(labels[trainable], risk[trainable])),
        "utility": utility,
        "utility_nested": nested_utility,
        "threshold": threshold,
        "news2_auroc": float(roc_auc_score(labels, news)),
        "news2_utility": utilities.score(news >= NEWS2_ALERT).normalised,
        # what a risk has meant where both kinds of patient are recorded: past TRAIN_MAX_HOURS nearly
        # everyone in set A is septic, which would overstate every band for a ward's long stays
        "calibration": calibration(risk[trainable], labels[trainable]),
    }
    say(f"cross-validated by patient ({folds} folds, {len(np.unique(groups))} patients, {len(table)} hours):")
    say(
        f"  model  AUROC {result['auroc']:.4f}  utility {utility:.4f} at threshold {threshold:.4f}"
        f"  (threshold chosen on the other folds: utility {nested_utility:.4f})"
    )
    first = result["auroc_first_hours"]
    say(f"  model  AUROC {first:.4f} on the hours up to {TRAIN_MAX_HOURS} h on the unit only")
    say(
        f"  NEWS2  AUROC {result['news2_auroc']:.4f}  utility {result['news2_utility']:.4f} (alert at >= "
        f"{NEWS2_ALERT}; vitals only, air, alert)"
    )
    return result


def across_units(table: HourlyTable, features: Features, threshold: float, say: Say) -> dict[str, object]:
    """Trained on the medical ICU's patients and tested on the surgical ICU's, then the other way round:
    the nearest set A comes to "another hospital" (other patients, other staff habits). The unit flags
    are never features; here they only split the patients."""
    labels = table.labels
    assert labels is not None
    unit1 = np.nan_to_num(table.columns.get("Unit1", np.full(len(table), np.nan)), nan=0.0) == 1
    unit2 = np.nan_to_num(table.columns.get("Unit2", np.full(len(table), np.nan)), nan=0.0) == 1
    result: dict[str, object] = {}
    for name, train_on, test_on in (("MICU->SICU", unit1, unit2), ("SICU->MICU", unit2, unit1)):
        booster = fit(features, labels, np.flatnonzero(train_on & trainable_rows(table)))
        rows = np.flatnonzero(test_on)
        risk = booster.predict(features.matrix[rows], num_threads=THREADS)
        utilities = row_utilities(labels[rows], _restart(table.starts, test_on))
        best_t, best_u = best_threshold(risk, utilities)
        utility = utilities.score(risk >= threshold).normalised
        result[name] = {
            "auroc": float(roc_auc_score(labels[rows], risk)),
            "utility": utility,
            "utility_at_own_best_threshold": best_u,
            "own_best_threshold": best_t,
        }
        say(
            f"  trained on one unit, tested on the other ({name}): AUROC "
            f"{result[name]['auroc']:.4f}, utility {utility:.4f} at {threshold:.4f} "
            f"({best_u:.4f} at its own best {best_t:.4f})"
        )  # type: ignore[index]
    return result


def _restart(starts: npt.NDArray[np.int64], keep: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """`starts` of the rows kept (whole patients kept or dropped)."""
    new_index = np.cumsum(keep) - 1
    return new_index[starts[keep]]


def save(booster: lgb.Booster, features: Features, meta: dict[str, object], out: Path) -> None:
    text = booster.model_to_string(num_iteration=-1).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    data = gzip.compress(text, compresslevel=9, mtime=0) if out.name.endswith(".gz") else text
    out.write_bytes(data)
    meta = {**meta, "features": list(features.names), "model_sha256": hashlib.sha256(data).hexdigest()}
    metadata_path(out).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def train(
    data: Path,
    out: Path | None,
    folds: int | None,
    say: Say,
    max_patients: int | None = None,
    by_unit: bool = False,
) -> int:
    t0 = time.monotonic()
    table = read_table(data)
    for problem in table.problems[:20]:
        say(f"skipped {problem}")
    if table.labels is None:
        say(f"{data}: no {LABEL} column, nothing to learn from")
        return 2
    if max_patients is not None:
        table = _first_patients(table, max_patients)
    features = compute_features(table.columns, table.starts)
    labels = np.nan_to_num(table.labels, nan=0.0)
    table = HourlyTable(
        table.patients, {**table.columns, LABEL: labels}, table.starts, table.file_lines, table.problems
    )
    say(
        f"read {len(table)} hours of {len(np.unique(table.patients))} patients, {len(features.names)} "
        f"features ({time.monotonic() - t0:.0f} s)"
    )
    meta: dict[str, object] = {"seed": SEED, "rounds": ROUNDS, "params": PARAMS, "data": data.name}
    if folds:
        meta["cv"] = cross_validate(table, features, folds, say)
        meta["threshold"] = meta["cv"]["threshold"]  # type: ignore[index]
    if by_unit:
        threshold = float(meta.get("threshold", DEFAULT_THRESHOLD))  # type: ignore[arg-type]
        meta["across_units"] = across_units(table, features, threshold, say)
    if out is None:
        return 0
    booster = fit(features, labels, np.flatnonzero(trainable_rows(table)))
    meta.setdefault("threshold", DEFAULT_THRESHOLD)
    meta["training_risk_sample"] = _risk_sample(booster, features)
    save(booster, features, meta, out)
    say(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) and {metadata_path(out).name}")
    return 0


def _risk_sample(booster: lgb.Booster, features: Features) -> dict[str, list[float]]:
    """A few rows' features and risks as trained, so a test can check the shipped file gives the same."""
    rows = np.linspace(0, len(features.matrix) - 1, 25).astype(np.int64)
    x = features.matrix[rows]
    return {
        "rows": [[None if np.isnan(v) else float(v) for v in row] for row in x.astype(np.float64)],
        "risk": [float(r) for r in booster.predict(x, num_threads=THREADS)],
    }


def _first_patients(table: HourlyTable, n: int) -> HourlyTable:
    """Every n-th patient (a quick, still representative, subsample for experiments)."""
    ids = np.unique(table.patients)
    step = max(1, len(ids) // n)
    keep = np.isin(table.patients, ids[::step])
    return HourlyTable(
        table.patients[keep],
        {k: v[keep] for k, v in table.columns.items()},
        _restart(table.starts, keep),
        table.file_lines[keep],
        table.problems,
    )
