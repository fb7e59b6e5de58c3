"""The step scripts that run in SageMaker, run here in-process on the committed sample: a real model is
trained and evaluated, and the bias metrics are checked against an independent computation."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
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
from pipelines.steps import bias, drift, evaluate, features, ingest_features, preprocess, serve, train
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
                "--preprocessing",
                str(root / "out" / "preprocessing"),
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
    names = features.feature_names()
    assert data.shape[1] == 1 + len(names)
    assert not np.isnan(data).any()  # every missing value imputed
    encoded = pd.DataFrame(data[:, 1:], columns=names)
    for column in features.NUMERIC:  # standardized on the training split
        assert abs(encoded[column].mean()) < 1e-3 and abs(encoded[column].std(ddof=0) - 1) < 1e-2
    assert encoded["income"].max() < 4  # 40x data-entry outliers were clipped before scaling
    for column, categories in features.ONE_HOT.items():
        assert (encoded[[f"{column}_{c}" for c in categories]].sum(axis=1) == 1).all()  # exactly one hot
    assert set(encoded["education_level"].unique()) <= {0, 1, 2, 3}  # ordinal encoding


def test_preprocess_fits_statistics_on_the_training_split_only(prepared: dict[str, Any]) -> None:
    baseline = json.loads((prepared["out"] / "baseline" / "baseline.json").read_text())
    raw = preprocess.deduplicate(pd.read_csv(SAMPLE))
    train_split, _, _ = preprocess.stratified_split(raw, 42)
    assert baseline["preprocessing"]["medians"]["income"] == round(float(train_split["income"].median()), 6)
    assert baseline["features"] == features.feature_names()
    packed = json.loads((prepared["out"] / "preprocessing" / "preprocessing.json").read_text())
    assert packed == {
        "inputs": features.INPUTS,
        "features": baseline["features"],
        "preprocessing": baseline["preprocessing"],
    }
    for histogram in baseline["histograms"].values():
        assert abs(sum(histogram["proportions"]) - 1) < 1e-3
        assert len(histogram["edges"]) == len(histogram["proportions"]) + 1


def test_feature_store_output_matches_the_committed_schema(prepared: dict[str, Any]) -> None:
    """The feature group holds each applicant's model inputs before the fitted transform: valid for every model
    version, which transforms them with its own parameters (GET /applicants/{id}/prediction)."""
    stored = pd.read_csv(prepared["out"] / "features" / "features.csv")
    schema = json.loads(SCHEMA.read_text())
    assert list(stored.columns) == [f["name"] for f in schema["features"]]
    assert list(stored.columns) == [features.RECORD_ID, features.EVENT_TIME, *features.INPUTS, features.LABEL]
    assert schema == json.loads(json.dumps(preprocess.feature_schema()))
    assert stored["applicant_id"].is_unique
    assert stored["event_time"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    raw = preprocess.deduplicate(pd.read_csv(SAMPLE)).set_index("applicant_id")
    pd.testing.assert_frame_equal(
        stored.set_index("applicant_id")[features.INPUTS].sort_index(),
        raw.loc[stored["applicant_id"], features.INPUTS].sort_index(),
    )


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
    assert sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*")) == [
        "code",
        "code/features.py",
        "code/serve.py",
        train.IDENTITY_FILE,
        train.PREPROCESSING_FILE,
        train.MODEL_FILE,
    ]
    served = serve.model_fn(str(model_dir))
    assert served.booster.num_boosted_rounds() == booster.num_boosted_rounds()
    assert (prepared["root"] / "checkpoints" / train.CHECKPOINT_FILE).exists()


def test_training_resumes_from_a_spot_checkpoint(prepared: dict[str, Any], tmp_path: Path) -> None:
    out = prepared["out"]
    common = [
        "--train",
        str(out / "train"),
        "--validation",
        str(out / "validation"),
        "--preprocessing",
        str(out / "preprocessing"),
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
        # names relative to the model directory, as SageMaker packs
        assert train.MODEL_FILE in tar.getnames() and "code/serve.py" in tar.getnames()
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


# --- serving: the model artifact applies the training transform to raw records ---------------------------


def raw_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as an application sends them: JSON objects, a missing value as null."""
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in json.loads(frame.drop(columns=[features.LABEL]).to_json(orient="records"))
    ]


@pytest.fixture(scope="module")
def served(prepared: dict[str, Any]) -> serve.Model:
    """The model as an endpoint loads it: ``model.tar.gz`` unpacked into a model directory, then ``model_fn``."""
    model_dir = prepared["root"] / "opt-ml-model"
    model_dir.mkdir()
    with tarfile.open(prepared["root"] / "model-artifacts" / "model.tar.gz") as tar:
        tar.extractall(model_dir, filter="data")
    return serve.model_fn(str(model_dir))


@pytest.mark.exam("1.2", "3.1")
def test_the_served_transform_equals_the_training_transform_on_every_sample_row(
    prepared: dict[str, Any], served: serve.Model
) -> None:
    """Bit for bit: what serving computes from a raw JSON record is what training computed from the CSV row."""
    raw = pd.read_csv(SAMPLE)
    training = features.transform(
        raw, json.loads((prepared["out"] / "baseline" / "baseline.json").read_text())["preprocessing"]
    )
    body = json.dumps(raw_records(raw))
    serving = features.transform(serve.input_fn(body.encode(), "application/json"), served.params)
    assert len(serving) == len(raw) == 3060
    assert list(serving.columns) == list(training.columns) == features.feature_names()
    assert (serving.dtypes == training.dtypes).all()
    assert np.array_equal(serving.to_numpy(), training.to_numpy())
    # ... and the test split the evaluation scored is exactly the served transform of its raw rows
    _, _, test_rows = preprocess.stratified_split(preprocess.deduplicate(raw), 42)
    served_test = features.transform(
        serve.input_fn(json.dumps(raw_records(test_rows)), "application/json"), served.params
    )
    assert np.array_equal(served_test.to_numpy(dtype=float), split(prepared, "test")[:, 1:])


@pytest.mark.exam("3.1")
def test_the_model_scores_raw_records_as_it_scored_its_test_split(
    prepared: dict[str, Any], served: serve.Model
) -> None:
    _, _, test_rows = preprocess.stratified_split(preprocess.deduplicate(pd.read_csv(SAMPLE)), 42)
    request = json.dumps({"records": raw_records(test_rows)})
    body, content_type = serve.output_fn(serve.predict_fn(serve.input_fn(request, "application/json"), served), "*/*")
    answer = json.loads(body)
    expected = prepared["booster"].predict(xgb.DMatrix(split(prepared, "test")[:, 1:]))
    assert content_type == "application/json" and answer["model_id"] == served.model_id
    assert answer["predictions"] == [round(float(p), 6) for p in expected]
    csv, csv_type = serve.output_fn(serve.predict_fn(serve.input_fn(request, "application/json"), served), "text/csv")
    assert csv_type == "text/csv" and [float(v) for v in csv.splitlines()] == answer["predictions"]


def test_the_model_artifact_is_one_unit_of_booster_transform_and_code(
    prepared: dict[str, Any], served: serve.Model
) -> None:
    """``model_id`` is the digest of booster and parameters; the code in the artifact is the repository's."""
    model_dir = prepared["root"] / "opt-ml-model"
    digest = hashlib.sha256(
        (model_dir / train.MODEL_FILE).read_bytes() + (model_dir / train.PREPROCESSING_FILE).read_bytes()
    ).hexdigest()
    assert served.model_id == f"sha256:{digest[:16]}"
    for name in train.SERVING_CODE:
        assert (model_dir / "code" / name).read_bytes() == (STEPS / name).read_bytes()
    tampered = prepared["root"] / "tampered"
    shutil.copytree(model_dir, tampered)
    document = json.loads((tampered / train.PREPROCESSING_FILE).read_text())
    document["features"] = document["features"][:-1]
    (tampered / train.PREPROCESSING_FILE).write_text(json.dumps(document))
    with pytest.raises(ValueError, match="fitted for other features"):
        serve.model_fn(str(tampered))


def test_training_refuses_to_start_without_the_fitted_transform(prepared: dict[str, Any], tmp_path: Path) -> None:
    out = prepared["out"]
    args = ["--train", str(out / "train"), "--validation", str(out / "validation"), "--model-dir", str(tmp_path)]
    with pytest.raises(SystemExit, match=r"no preprocessing\.json in channel"):
        train.train(train.parse([*args, "--preprocessing", str(tmp_path / "none")]))
    assert not (tmp_path / train.MODEL_FILE).exists()  # refused before training


def test_serving_reads_every_request_shape_and_handles_what_training_handles(served: serve.Model) -> None:
    record = {
        "age": 41, "income": 52000.0, "debt_to_income": 0.3, "credit_history_years": 12, "open_accounts": 3,
        "employment_type": "salaried", "education": "master", "region": "east",
    }  # fmt: skip
    one = serve.predict_fn(serve.input_fn(json.dumps(record), "application/json; charset=utf-8"), served)
    lines = serve.predict_fn(
        serve.input_fn(f"{json.dumps(record)}\n{json.dumps(record)}\n", "application/jsonlines"), served
    )
    assert len(one["predictions"]) == 1 and lines["predictions"] == one["predictions"] * 2
    # An unseen category is encoded as training encodes it (all-zero one-hot); a null is imputed (the mode).
    unseen = features.transform(
        serve.input_fn(json.dumps({**record, "employment_type": "astronaut"}), None), served.params
    )
    assert (unseen[[c for c in unseen.columns if c.startswith("employment_type_")]] == 0).all(axis=None)
    imputed = features.transform(
        serve.input_fn(json.dumps({**record, "region": None, "income": None}), None), served.params
    )
    mode = served.params["modes"]["region"]
    assert imputed[f"region_{mode}"].iloc[0] == 1
    expected_income = (np.log1p(served.params["medians"]["income"]) - served.params["means"]["income"]) / served.params[
        "stds"
    ]["income"]
    assert imputed["income"].iloc[0] == round(expected_income, 6)
    with pytest.raises(ValueError, match="record 0 lacks age"):
        serve.input_fn(json.dumps({k: v for k, v in record.items() if k != "age"}), "application/json")
    with pytest.raises(ValueError, match="unsupported content type"):
        serve.input_fn("41,52000", "text/csv")
    with pytest.raises(ValueError, match="no records"):
        serve.input_fn("[]", "application/json")
    with pytest.raises(ValueError, match="unsupported accept type"):
        serve.output_fn(one, "application/x-parquet")
    assert serve.output_fn(one, "application/x-parquet, text/csv;q=0.5")[1] == "text/csv"  # a list: the first it writes
    assert serve.output_fn(one, "*/*")[1] == serve.output_fn(one, None)[1] == "application/json"


@pytest.mark.exam("4.1")
def test_raw_records_through_the_model_and_its_capture_reach_the_drift_job(
    prepared: dict[str, Any], served: serve.Model, tmp_path: Path
) -> None:
    """Raw record -> endpoint (serve.py) -> data capture (what the endpoint received and answered) -> drift job:
    unshifted traffic passes, a shifted sample sent as raw records is flagged on the shifted inputs."""
    _, _, test_rows = preprocess.stratified_split(preprocess.deduplicate(pd.read_csv(SAMPLE)), 42)
    shifted = test_rows.copy()
    shifted["income"] *= 0.3
    reports = {}
    for name, rows in (("unshifted", test_rows), ("shifted", shifted)):
        lines = []
        records = raw_records(rows)
        for start in range(0, len(records), 25):
            request = json.dumps({"records": records[start : start + 25]})
            answer, answer_type = serve.output_fn(
                serve.predict_fn(serve.input_fn(request, "application/json"), served), None
            )
            capture = {
                "endpointInput": {"observedContentType": "application/json", "data": request, "encoding": "JSON"},
                "endpointOutput": {"observedContentType": answer_type, "data": answer, "encoding": "JSON"},
            }
            lines.append(json.dumps({"captureData": capture, "eventVersion": "0"}))
        folder = tmp_path / name / "capture" / "Primary" / "2026" / "12" / "02" / "10"
        folder.mkdir(parents=True)
        (folder / "capture.jsonl").write_text("\n".join(lines) + "\n")
        code = drift.main(
            [
                *("--capture-dir", str(tmp_path / name / "capture"), "--endpoint-name", "ep"),
                *("--baseline-dir", str(prepared["out"] / "baseline"), "--output-dir", str(tmp_path / name / "report")),
            ]
        )
        assert code == 0
        reports[name] = json.loads((tmp_path / name / "report" / "drift.json").read_text())
    assert reports["unshifted"]["status"] == "ok" and reports["unshifted"]["records"] == len(test_rows)
    assert reports["shifted"]["status"] == "drift" and "income" in reports["shifted"]["drifted_features"]
    assert "age" not in reports["shifted"]["drifted_features"]
