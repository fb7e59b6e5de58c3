"""The step scripts that run in SageMaker, run here in-process on the committed sample: a real model is
trained and evaluated, and the bias metrics are checked against an independent computation."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import f1_score, roc_auc_score

from pipelines.data.generate import SAMPLE, generate
from pipelines.steps import bias, evaluate, ingest_features, preprocess, train
from tools.train_local import package_model

STEPS = Path(preprocess.__file__).parent
SCHEMA = STEPS.parent / "feature_schema.json"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Preprocess the sample, train on it and evaluate (the model as SageMaker hands it over, in a
    ``model.tar.gz``): once for the module."""
    root = tmp_path_factory.mktemp("pipeline")
    (root / "input").mkdir()
    (root / "input" / "applications.csv").write_bytes(SAMPLE.read_bytes())
    counts = preprocess.run(root / "input", root / "out", seed=42)
    booster = train.train(
        train.parse(
            [
                "--train",
                str(root / "out" / "train"),
                "--validation",
                str(root / "out" / "validation"),
                "--model-dir",
                str(root / "model"),
                "--output-data-dir",
                str(root / "output"),
                "--checkpoint-dir",
                str(root / "checkpoints"),
                "--threads",
                "2",
            ]
        )
    )
    package_model(root / "model", root / "model-artifacts" / "model.tar.gz")
    evaluate.main(
        [
            "--model-dir",
            str(root / "model-artifacts"),
            "--test-dir",
            str(root / "out" / "test"),
            "--output-dir",
            str(root / "evaluation"),
        ]
    )
    return {"root": root, "out": root / "out", "counts": counts, "booster": booster}


def split(prepared: dict[str, Any], name: str) -> np.ndarray:
    return np.loadtxt(prepared["out"] / name / f"{name}.csv", delimiter=",", ndmin=2)


@pytest.mark.exam("1.2", "1.3")
def test_preprocess_deduplicates_and_splits_stratified(prepared: dict[str, Any]) -> None:
    raw = pd.read_csv(SAMPLE)
    counts = prepared["counts"]
    assert counts["input_rows"] == len(raw)
    assert counts["deduplicated_rows"] == raw["applicant_id"].nunique() < len(raw)
    total = counts["train"] + counts["validation"] + counts["test"]
    assert total == counts["deduplicated_rows"]
    assert abs(counts["train"] / total - 0.70) < 0.01 and abs(counts["test"] / total - 0.15) < 0.01
    rates = [split(prepared, name)[:, 0].mean() for name in ("train", "validation", "test")]
    assert max(rates) - min(rates) < 0.01  # stratified on the label


@pytest.mark.exam("1.2")
def test_preprocess_imputes_treats_outliers_encodes_and_scales(prepared: dict[str, Any]) -> None:
    data = split(prepared, "train")
    names = preprocess.feature_names()
    assert data.shape[1] == 1 + len(names)
    assert not np.isnan(data).any()  # every missing value imputed
    features = pd.DataFrame(data[:, 1:], columns=names)
    for column in preprocess.NUMERIC:  # standardized on the training split
        assert abs(features[column].mean()) < 1e-3 and abs(features[column].std(ddof=0) - 1) < 1e-2
    assert features["income"].max() < 4  # 40x data-entry outliers were clipped before scaling
    for column, categories in preprocess.ONE_HOT.items():
        assert (features[[f"{column}_{c}" for c in categories]].sum(axis=1) == 1).all()  # exactly one hot
    assert set(features["education_level"].unique()) <= {0, 1, 2, 3}  # ordinal encoding


def test_preprocess_fits_statistics_on_the_training_split_only(prepared: dict[str, Any]) -> None:
    baseline = json.loads((prepared["out"] / "baseline" / "baseline.json").read_text())
    raw = preprocess.deduplicate(pd.read_csv(SAMPLE))
    train_split, _, _ = preprocess.stratified_split(raw, 42)
    assert baseline["preprocessing"]["medians"]["income"] == round(float(train_split["income"].median()), 6)
    assert baseline["features"] == preprocess.feature_names()
    for histogram in baseline["histograms"].values():
        assert abs(sum(histogram["proportions"]) - 1) < 1e-3
        assert len(histogram["edges"]) == len(histogram["proportions"]) + 1


def test_feature_store_output_matches_the_committed_schema(prepared: dict[str, Any]) -> None:
    features = pd.read_csv(prepared["out"] / "features" / "features.csv")
    schema = json.loads(SCHEMA.read_text())
    assert list(features.columns) == [f["name"] for f in schema["features"]]
    assert schema == json.loads(json.dumps(preprocess.feature_schema()))
    assert features["applicant_id"].is_unique
    assert features["event_time"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()


@pytest.mark.exam("1.3")
def test_bias_report_matches_a_hand_computation(prepared: dict[str, Any]) -> None:
    dataset = pd.read_csv(prepared["out"] / "bias" / "dataset.csv")
    bias.main(["--input-dir", str(prepared["out"] / "bias"), "--output-dir", str(prepared["root"] / "bias-report")])
    report = json.loads((prepared["root"] / "bias-report" / "report.json").read_text())
    women, men = dataset[dataset["sex"] == "female"], dataset[dataset["sex"] == "male"]
    expected_ci = (len(men) - len(women)) / (len(men) + len(women))
    expected_dpl = (men["default"] == 0).mean() - (women["default"] == 0).mean()
    assert report["metrics"]["CI"] == pytest.approx(expected_ci, abs=1e-6)
    assert report["metrics"]["DPL"] == pytest.approx(expected_dpl, abs=1e-6)
    assert report["metrics"]["CI"] > 0.1 and report["metrics"]["DPL"] > 0.02  # the sample's built-in bias


def test_bias_formulas_on_a_tiny_table() -> None:
    frame = pd.DataFrame({"g": ["d", "d", "a", "a", "a", "a"], "y": [1, 0, 0, 0, 0, 1]})
    result = bias.report(frame, facet="g", facet_value="d", label="y", favourable=0)
    assert result["metrics"] == {"CI": pytest.approx(2 / 6), "DPL": pytest.approx(0.75 - 0.5)}
    with pytest.raises(SystemExit, match="two non-empty groups"):
        bias.report(frame, facet="g", facet_value="nobody", label="y", favourable=0)
    with pytest.raises(SystemExit, match="'missing' not in the dataset"):
        bias.report(frame, facet="missing", facet_value="d", label="y", favourable=0)


@pytest.mark.exam("2.2")
def test_training_stops_early_and_saves_what_the_container_serves(prepared: dict[str, Any]) -> None:
    booster = prepared["booster"]
    assert booster.best_iteration < 299  # early stopping ended it before num_round
    model_dir = prepared["root"] / "model"
    assert sorted(p.name for p in model_dir.iterdir()) == [train.MODEL_FILE]  # only the booster is served
    served = train.model_fn(str(model_dir))
    assert served.num_boosted_rounds() == booster.num_boosted_rounds()
    assert (prepared["root"] / "checkpoints" / train.CHECKPOINT_FILE).exists()


def test_training_resumes_from_a_spot_checkpoint(prepared: dict[str, Any], tmp_path: Path) -> None:
    out = prepared["out"]
    common = [
        "--train",
        str(out / "train"),
        "--validation",
        str(out / "validation"),
        "--threads",
        "2",
        "--checkpoint-dir",
        str(tmp_path / "ckpt"),
        "--checkpoint-interval",
        "5",
        "--early-stopping-rounds",
        "1000",
        "--output-data-dir",
        str(tmp_path / "output"),
    ]
    first = train.train(train.parse([*common, "--num-round", "10", "--model-dir", str(tmp_path / "a")]))
    assert first.num_boosted_rounds() == 10
    resumed = train.train(train.parse([*common, "--num-round", "25", "--model-dir", str(tmp_path / "b")]))
    assert resumed.num_boosted_rounds() == 25  # 10 from the checkpoint + 15 new rounds


@pytest.mark.exam("2.3")
def test_evaluation_report_and_auc_floor(prepared: dict[str, Any]) -> None:
    report = json.loads((prepared["root"] / "evaluation" / "evaluation.json").read_text())
    metrics = report["binary_classification_metrics"]
    assert set(metrics) >= {"auc", "accuracy", "precision", "recall", "f1", "confusion_matrix"}
    assert metrics["auc"]["value"] >= 0.70  # the sample is learnable; a broken step lands near 0.5
    test = split(prepared, "test")
    scores = prepared["booster"].predict(xgb.DMatrix(test[:, 1:]))
    assert metrics["auc"]["value"] == pytest.approx(roc_auc_score(test[:, 0], scores), abs=1e-6)
    assert metrics["f1"]["value"] == pytest.approx(f1_score(test[:, 0], scores >= 0.5), abs=1e-6)
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][b] for a in "01" for b in "01") == len(test)


def test_evaluation_unpacked_the_model_tar_gz(prepared: dict[str, Any]) -> None:
    with tarfile.open(prepared["root"] / "model-artifacts" / "model.tar.gz") as tar:
        assert tar.getnames() == [train.MODEL_FILE]  # names relative to the model directory, as SageMaker packs
    unpacked = prepared["root"] / "model-artifacts" / evaluate.MODEL_FILE
    assert unpacked.read_bytes() == (prepared["root"] / "model" / train.MODEL_FILE).read_bytes()


def _archive(folder: Path, *members: tarfile.TarInfo) -> Path:
    folder.mkdir(parents=True)
    with tarfile.open(folder / "model.tar.gz", "w:gz") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return folder


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize("stdlib_filter", [True, False], ids=["python-with-data-filter", "python-before-3.10.12"])
def test_evaluate_unpacks_model_tar_gz_safely_on_any_python(
    prepared: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stdlib_filter: bool
) -> None:
    """The container's Python 3.10 patch is not pinned: tarfile's extraction filters may be missing."""
    if not stdlib_filter:
        monkeypatch.delattr(tarfile, "data_filter")
    good = tmp_path / "good"
    good.mkdir()
    with tarfile.open(good / "model.tar.gz", "w:gz") as tar:  # `tar -C model .` style names work too
        tar.add(prepared["root"] / "model" / train.MODEL_FILE, arcname=f"./{train.MODEL_FILE}")
    assert evaluate.load_model(good).num_boosted_rounds() == prepared["booster"].num_boosted_rounds()
    unsafe = {
        "parent": _member("../escaped"),
        "nested-parent": _member("sub/../../escaped"),
        "absolute": _member(str(tmp_path / "planted")),
        "symlink": _member(evaluate.MODEL_FILE, tarfile.SYMTYPE, "/etc/passwd"),
        "hardlink": _member("hard", tarfile.LNKTYPE, "/etc/passwd"),
        "device": _member("dev", tarfile.CHRTYPE),
    }
    for case, member in unsafe.items():
        folder = _archive(tmp_path / case / "model", member)
        with pytest.raises(SystemExit, match=r"model\.tar\.gz member"):
            evaluate.load_model(folder)
        assert sorted(p.name for p in folder.iterdir()) == ["model.tar.gz"], case  # nothing was extracted
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "planted").exists()


def test_auc_handles_ties_like_sklearn() -> None:
    labels = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    scores = np.array([0.1, 0.4, 0.4, 0.8, 0.4, 0.9, 0.2, 0.1])
    assert evaluate.auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    with pytest.raises(SystemExit, match="both classes"):
        evaluate.auc(np.array([1, 1]), np.array([0.2, 0.3]))


class StubFeatureStore:
    """Records put_record calls; throttles the first call to exercise the retry."""

    def __init__(self, fail_with: str | None = "ThrottlingException") -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_with = fail_with

    def put_record(self, **kwargs: Any) -> None:
        if self.fail_with:
            error = RuntimeError(self.fail_with)
            error.response = {"Error": {"Code": self.fail_with}}  # type: ignore[attr-defined]
            self.fail_with = None if self.fail_with == "ThrottlingException" else self.fail_with
            raise error
        self.calls.append(kwargs)


@pytest.mark.exam("1.2")
def test_feature_ingestion_puts_every_row_and_retries_throttling(prepared: dict[str, Any]) -> None:
    client = StubFeatureStore()
    ingest_features.main(["--input-dir", str(prepared["out"] / "features"), "--feature-group-name", "fg"], client)
    rows = pd.read_csv(prepared["out"] / "features" / "features.csv")
    assert len(client.calls) == len(rows)
    first = client.calls[0]
    assert first["FeatureGroupName"] == "fg"
    assert {f["FeatureName"] for f in first["Record"]} == set(rows.columns)


def test_feature_ingestion_stops_on_a_real_error(prepared: dict[str, Any]) -> None:
    client = StubFeatureStore(fail_with="ValidationException")
    with pytest.raises(RuntimeError, match="ValidationException"):
        ingest_features.ingest(
            client,
            "fg",
            ingest_features.records(sorted((prepared["out"] / "features").glob("*.csv"))),
            backoff_seconds=0,
        )


def test_a_step_run_as_a_standalone_file_fails_with_a_clear_error(tmp_path: Path) -> None:
    """Each script is uploaded alone: it must run from any directory without the project on the path, and say
    what is wrong. That every step runs standalone, end to end, is proven in its image's Python and libraries
    (tests/test_container_parity.py, clean environment, no project on the path); here, the error a job with
    no input shows."""
    empty = tmp_path / "empty"
    empty.mkdir()
    command = [str(STEPS / "preprocess.py"), "--input-dir", str(empty), "--output-dir", str(tmp_path / "out")]
    result = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode != 0 and "no CSV files" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_sample_data_is_reproducible(tmp_path: Path) -> None:
    target = tmp_path / "sample.csv"
    generate().to_csv(target, index=False, lineterminator="\n")
    assert target.read_bytes() == SAMPLE.read_bytes()
