"""The shipped model and `wardwatch eval deterioration`: it loads without pickle, gives the risks it gave
at training, refuses an altered file, explains a risk in words; the command scores every good row of a
real set A extract, names the malformed ones, and prints the figures with NEWS2's beside them."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from wardwatch.app.cli import main
from wardwatch.app.deterioration.explain import calibration_note, top_factors
from wardwatch.app.deterioration.features import STAY_HORIZON_H, Features
from wardwatch.app.deterioration.model import MODEL_NAME, ModelError, load_model
from wardwatch.app.deterioration.train import metadata_path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    with gzip.open(shared_data / "physionet2019" / "setA.csv.gz", "rt") as f:
        lines = list(itertools.islice(f, 6001))
    path = tmp_path_factory.mktemp("setA") / "extract.csv"
    path.write_text("".join(lines))
    return path


def test_the_shipped_model_is_small_and_gives_the_risks_it_gave_at_training():
    path = RESOURCES / MODEL_NAME
    assert path.stat().st_size <= 5_000_000
    model = load_model()
    sample = model.meta["training_risk_sample"]
    rows = np.array([[np.nan if v is None else v for v in row] for row in sample["rows"]], dtype=np.float32)
    risk = model.risk(Features(model.features, rows))
    np.testing.assert_allclose(risk, sample["risk"], rtol=0, atol=1e-9)
    assert 0.0 < model.threshold < 1.0


def test_an_altered_model_file_is_refused(tmp_path: Path):
    copy = tmp_path / MODEL_NAME
    shutil.copy(RESOURCES / MODEL_NAME, copy)
    shutil.copy(metadata_path(RESOURCES / MODEL_NAME), metadata_path(copy))
    data = bytearray(copy.read_bytes())
    data[-20] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_model(copy)


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / MODEL_NAME)


def test_a_risk_is_explained_in_words():
    names = ("HR", "HR_delta6", "Temp", "Temp_delta6", "Lactate", "Age")
    values = (112.0, 24.0, 38.6, 0.2, 3.1, 70.0)
    contributions = (0.5, 0.4, 0.6, 0.0, 0.3, -0.2, 0.1)
    texts = [f.text for f in top_factors(names, values, contributions)]
    assert texts == ["HR rising 88→112 over 6 h", "temperature 38.6 °C", "lactate 3.1 mmol/L"]


def test_a_stay_past_the_horizon_is_told_as_at_least_that_long():
    # the model reads no further than STAY_HORIZON_H, so "36 h" alone would be wrong on day 3
    texts = [f.text for f in top_factors(("ICULOS",), (float(STAY_HORIZON_H),), (0.4, 0.0))]
    assert texts == [f"{STAY_HORIZON_H} h or more on the unit"]
    texts = [f.text for f in top_factors(("ICULOS",), (12.0,), (0.4, 0.0))]
    assert texts == ["12 h on the unit"]


def test_the_calibration_note_says_what_such_a_risk_has_meant():
    model = load_model()
    band = model.band(0.1)
    assert band is not None and band.hours > 0
    note = calibration_note(0.1, band)
    assert "patient-hours" in note and "%" in note


def test_eval_writes_every_row_and_prints_the_figures_beside_news2(extract: Path, tmp_path: Path, capsys):
    out = tmp_path / "out.csv"
    assert main(["eval", "deterioration", str(extract), "--out", str(out)]) == 0
    scores = pd.read_csv(out)
    source = pd.read_csv(extract)
    assert list(scores.columns) == ["patient", "ICULOS", "risk", "alert"]
    assert len(scores) == len(source)
    assert (scores["patient"] == source["patient"]).all() and (scores["ICULOS"] == source["ICULOS"]).all()
    assert scores["risk"].between(0, 1).all() and set(scores["alert"]) <= {0, 1}
    printed = capsys.readouterr().out
    assert "model  AUROC" in printed and "normalised utility" in printed and "NEWS2  AUROC" in printed


def test_eval_without_labels_scores_the_same(extract: Path, tmp_path: Path):
    unlabelled = tmp_path / "unlabelled.csv.gz"
    pd.read_csv(extract).drop(columns=["SepsisLabel"]).to_csv(unlabelled, index=False)
    with_labels, without = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["eval", "deterioration", str(extract), "--out", str(with_labels)]) == 0
    assert main(["eval", "deterioration", str(unlabelled), "--out", str(without)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(with_labels), pd.read_csv(without))


def test_malformed_rows_are_named_and_the_rest_scored(extract: Path, tmp_path: Path, capsys):
    lines = extract.read_text().splitlines()
    fields = lines[5].split(",")
    fields[1] = "abc"  # HR
    lines[5] = ",".join(fields)
    lines[9] = lines[9] + ",7"  # one field too many
    lines[12] = "," + ",".join(lines[12].split(",")[1:])  # no patient
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    assert main(["eval", "deterioration", str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 6: HR 'abc' is not a number" in err
    assert "line 10: 43 fields, expected 42" in err
    assert "line 13: no patient" in err
    assert len(pd.read_csv(out)) == len(lines) - 1 - 3


def test_a_file_that_is_not_such_a_table_is_refused_clearly(tmp_path: Path, capsys):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    assert main(["eval", "deterioration", str(wrong), "--out", str(tmp_path / "o.csv")]) == 2
    assert "first column must be 'patient'" in capsys.readouterr().err


def test_the_metadata_records_the_cross_validated_figures():
    meta = json.loads(metadata_path(RESOURCES / MODEL_NAME).read_text())
    cv = meta["cv"]
    assert cv["folds"] == 5
    assert cv["threshold"] == meta["threshold"]
