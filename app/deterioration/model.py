"""The shipped deterioration model: LightGBM's text format (no pickle) with a JSON of what goes with it
(feature names, alert threshold, calibration), checked against the SHA-256 recorded at training."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
from wardwatch.app.deterioration.features import Features

THREADS = 2
MODEL_NAME = "deterioration_model.txt.gz"


class ModelError(RuntimeError):
    """The model file is missing, altered or does not match its description."""


@dataclass(frozen=True, slots=True)
class CalibrationBand:
    low: float
    high: float
    hours: int
    observed: float  # the fraction of such hours labelled (sepsis within ~6 h, or present)


@dataclass(frozen=True)
class DeteriorationModel:
    booster: lgb.Booster
    features: tuple[str, ...]
    threshold: float
    calibration: tuple[CalibrationBand, ...]
    meta: Mapping[str, Any]

    def risk(self, features: Features) -> npt.NDArray[np.float64]:
        self._check(features)
        if not len(features.matrix):
            return np.zeros(0)
        return np.asarray(self.booster.predict(features.matrix, num_threads=THREADS), dtype=np.float64)

    def contributions(self, features: Features) -> npt.NDArray[np.float64]:
        """rows × (features + 1): each feature's additive share of the log-odds (TreeSHAP, by LightGBM);
        the last column is the average."""
        self._check(features)
        return np.asarray(
            self.booster.predict(features.matrix, pred_contrib=True, num_threads=THREADS), dtype=np.float64
        )

    def band(self, risk: float) -> CalibrationBand | None:
        for b in self.calibration:
            if b.low <= risk < b.high or (b.high >= 1.0 and risk >= b.low):
                return b
        return None

    def _check(self, features: Features) -> None:
        if features.names != self.features:
            raise ModelError("the features computed differ from those the model was trained on")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the deterioration model {path.name}: {exc.strerror or exc}") from None


def load_model(path: Path | None = None) -> DeteriorationModel:
    """The model at `path`, or the one shipped in resources/."""
    if path is None:
        path = Path(str(resources.files("wardwatch.resources") / MODEL_NAME))
    data = _read(path)
    meta_path = path.with_name(path.name.removesuffix(".gz").removesuffix(".txt") + ".json")
    try:
        meta = json.loads(_read(meta_path).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path.name} is not valid JSON ({exc})") from None
    if hashlib.sha256(data).hexdigest() != meta.get("model_sha256"):
        raise ModelError(f"{path.name} does not match the checksum in {meta_path.name}: altered or mixed up")
    try:
        text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        booster = lgb.Booster(model_str=text.decode("utf-8"))
    except (OSError, UnicodeDecodeError, lgb.basic.LightGBMError) as exc:
        raise ModelError(f"{path.name} is not a LightGBM model ({exc})") from None
    names = tuple(str(n) for n in meta.get("features", ()))
    if tuple(booster.feature_name()) != names:
        raise ModelError(f"{path.name}: its features differ from {meta_path.name}")
    bands = tuple(
        CalibrationBand(float(b["low"]), float(b["high"]), int(b["hours"]), float(b["observed"]))
        for b in _calibration_of(meta)
    )
    return DeteriorationModel(booster, names, float(meta["threshold"]), bands, meta)


def _calibration_of(meta: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    cv = meta.get("cv")
    return cv.get("calibration", ()) if isinstance(cv, Mapping) else ()
