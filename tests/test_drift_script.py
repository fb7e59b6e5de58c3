"""The drift step on captured traffic: it flags a shifted sample, passes an unshifted one, and handles
empty and malformed capture with a clear message. Capture holds what callers sent (raw JSON applicant records)
and what the model answered; the job transforms the records as the model does before comparing
(tests/test_pipeline_scripts.py runs the whole path through a trained model)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from components.monitoring.drift import NAMESPACE as ALARMED_NAMESPACE
from pipelines.data.generate import SAMPLE
from pipelines.steps import drift, features, preprocess

pytestmark = pytest.mark.exam("4.1")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("drift")
    (root / "input").mkdir()
    (root / "input" / "data.csv").write_bytes(SAMPLE.read_bytes())
    preprocess.run(root / "input", root / "out", seed=42)
    baseline = json.loads((root / "out" / "baseline" / "baseline.json").read_text())
    _, _, test = preprocess.stratified_split(preprocess.deduplicate(pd.read_csv(SAMPLE)), 42)
    return {"root": root, "baseline": baseline, "records": test}


def write_capture(folder: Path, rows: pd.DataFrame, predictions: np.ndarray, *, base64_encoded: bool = False) -> None:
    """SageMaker data-capture JSON Lines: one line per request of a few raw records (the endpoint's JSON, as
    capture stores it with ``JsonContentTypes`` set, or base64-encoded as it stores other content)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in json.loads(rows.drop(columns=[features.LABEL]).to_json(orient="records"))
    ]
    for start in range(0, len(records), 3):
        body = json.dumps({"records": records[start : start + 3]})
        out = json.dumps({"predictions": [round(float(p), 4) for p in predictions[start : start + 3]], "model_id": "m"})
        encode = (lambda s: base64.b64encode(s.encode()).decode()) if base64_encoded else (lambda s: s)
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "application/json",
                            "mode": "INPUT",
                            "data": encode(body),
                            "encoding": "BASE64" if base64_encoded else "JSON",
                        },
                        "endpointOutput": {
                            "observedContentType": "application/json",
                            "mode": "OUTPUT",
                            "data": encode(out),
                            "encoding": "BASE64" if base64_encoded else "JSON",
                        },
                    },
                    "eventMetadata": {"eventId": str(start), "inferenceTime": "2026-11-29T00:00:00Z"},
                    "eventVersion": "0",
                }
            )
        )
    (folder / "capture.jsonl").write_text("\n".join(lines) + "\n")


def run(prepared: dict[str, Any], capture: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = drift.main(
        [
            "--capture-dir",
            str(capture),
            "--baseline-dir",
            str(prepared["root"] / "out" / "baseline"),
            "--output-dir",
            str(tmp_path / "report"),
            "--endpoint-name",
            "ep",
            *extra,
        ]
    )
    report_path = tmp_path / "report" / "drift.json"
    return code, json.loads(report_path.read_text()) if report_path.exists() else {}


def test_unshifted_traffic_passes(prepared: dict[str, Any], tmp_path: Path) -> None:
    records = prepared["records"]
    write_capture(tmp_path / "capture", records, np.full(len(records), prepared["baseline"]["label_rate"]))
    code, report = run(prepared, tmp_path / "capture", tmp_path)
    assert code == 0
    assert report["status"] == "ok", report["drifted_features"]
    assert report["max_psi"] < 0.2
    assert report["records"] == len(records)


def test_capture_is_transformed_as_the_model_transforms_it(prepared: dict[str, Any], tmp_path: Path) -> None:
    """The job compares the model's inputs: the raw capture, through features.transform with the baseline's
    parameters, equals what preprocessing wrote for the same rows (test.csv)."""
    write_capture(tmp_path / "capture", prepared["records"], np.full(len(prepared["records"]), 0.2))
    transformed, predictions, stats = drift.load_capture(tmp_path / "capture", prepared["baseline"]["preprocessing"])
    test = np.loadtxt(prepared["root"] / "out" / "test" / "test.csv", delimiter=",", ndmin=2)
    assert np.array_equal(transformed, test[:, 1:]) and len(predictions) == len(test) and stats["malformed"] == 0


def test_shifted_traffic_is_flagged_on_the_shifted_features(prepared: dict[str, Any], tmp_path: Path) -> None:
    shifted = prepared["records"].copy()
    shifted["income"] *= 0.3  # incomes fell to 30 %
    shifted["debt_to_income"] += 0.3
    write_capture(tmp_path / "capture", shifted, np.full(len(shifted), 0.6), base64_encoded=True)
    code, report = run(prepared, tmp_path / "capture", tmp_path)
    assert code == 0
    assert report["status"] == "drift"
    assert {"income", "debt_to_income"} <= set(report["drifted_features"])
    assert "age" not in report["drifted_features"]
    assert report["features"]["income"]["psi"] > 0.5
    assert report["prediction_drift"] > 0.3


def test_metrics_are_embedded_metric_format(
    prepared: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_capture(tmp_path / "capture", prepared["records"], np.full(len(prepared["records"]), 0.25))
    run(prepared, tmp_path / "capture", tmp_path)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = lines[0]
    (directive,) = summary["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == drift.NAMESPACE and directive["Dimensions"] == [["EndpointName"]]
    assert {m["Name"] for m in directive["Metrics"]} == {
        "MaxFeaturePSI",
        "DriftedFeatures",
        "PredictionDrift",
        "SampleCount",
    }
    assert summary["EndpointName"] == "ep" and isinstance(summary["MaxFeaturePSI"], float)
    assert len(lines) == 1 + len(prepared["baseline"]["features"])  # one FeaturePSI line per feature


def test_empty_capture_reports_insufficient_data_with_a_clear_message(
    prepared: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "capture").mkdir()
    code, report = run(prepared, tmp_path / "capture", tmp_path)
    assert code == 0 and report["status"] == "insufficient_data"
    assert "no capture files" in capsys.readouterr().err


def test_malformed_records_are_skipped_and_all_malformed_is_an_error(
    prepared: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = prepared["records"]
    write_capture(tmp_path / "capture", records, np.full(len(records), 0.25))
    lacking = {"endpointInput": {"data": json.dumps({"age": 30})}, "endpointOutput": {"data": '{"predictions": [0.1]}'}}
    with (tmp_path / "capture" / "capture.jsonl").open("a") as handle:
        handle.write("not json\n" + json.dumps({"captureData": {"endpointInput": {"data": "1,2"}}}) + "\n")
        handle.write(json.dumps({"captureData": lacking}) + "\n")  # a record without the model's inputs
    code, report = run(prepared, tmp_path / "capture", tmp_path)
    assert code == 0 and report["capture"]["malformed"] == 3 and report["records"] == len(records)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.jsonl").write_text("{}\n[1, 2]\n")
    code, _ = run(prepared, tmp_path / "bad", tmp_path / "second")
    assert code == 2
    assert "all 2 capture records" in capsys.readouterr().err


def test_missing_baseline_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "capture").mkdir()
    code = drift.main(
        [
            "--capture-dir",
            str(tmp_path / "capture"),
            "--baseline-dir",
            str(tmp_path),
            "--output-dir",
            str(tmp_path / "out"),
            "--endpoint-name",
            "ep",
        ]
    )
    assert code == 2 and "run the training pipeline first" in capsys.readouterr().err


def test_psi_and_ks_on_known_distributions() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 5000)
    edges = list(np.quantile(reference, np.linspace(0, 1, 11)))
    expected = [0.1] * 10
    assert drift.psi(edges, expected, rng.normal(0, 1, 5000)) < 0.02
    assert drift.psi(edges, expected, rng.normal(1, 1, 5000)) > 0.5
    d_same, p_same = drift.ks(reference, rng.normal(0, 1, 2000))
    d_shift, p_shift = drift.ks(reference, rng.normal(0.5, 1, 2000))
    assert p_same > 0.01 and p_shift < 1e-6 and d_shift > d_same


def test_the_drift_alarm_watches_the_namespace_the_job_writes() -> None:
    assert drift.NAMESPACE == ALARMED_NAMESPACE


def test_legacy_csv_capture_is_skipped_with_a_message_not_an_error(
    prepared: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Capture from a version registered before the raw-record contract (CSV rows of encoded features) is
    counted apart: the job still runs on the JSON records and, with only legacy capture, reports too little data."""
    legacy = {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "0.1,0.2", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.3", "encoding": "CSV"},
    }
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x.jsonl").write_text(json.dumps({"captureData": legacy}) + "\n")
    code, report = run(prepared, tmp_path / "old", tmp_path / "a")
    assert code == 0 and report["status"] == "insufficient_data" and report["capture"]["legacy"] == 1
    assert "registered before the raw-record contract" in capsys.readouterr().err
    records = prepared["records"]
    write_capture(tmp_path / "mixed", records, np.full(len(records), 0.25))
    with (tmp_path / "mixed" / "capture.jsonl").open("a") as handle:
        handle.write(json.dumps({"captureData": legacy}) + "\n")
    code, report = run(prepared, tmp_path / "mixed", tmp_path / "b")
    assert code == 0 and report["records"] == len(records) and report["capture"] == {
        "files": 1, "records": len(records) // 3 + (len(records) % 3 > 0) + 1, "malformed": 0, "legacy": 1,
    }  # fmt: skip


def test_capture_data_stored_as_a_json_value_is_read_too(prepared: dict[str, Any], tmp_path: Path) -> None:
    records = prepared["records"].head(60)
    write_capture(tmp_path / "capture", records, np.full(len(records), 0.25))
    lines = (tmp_path / "capture" / "capture.jsonl").read_text().splitlines()
    as_values = []
    for line in lines:
        event = json.loads(line)
        for side in ("endpointInput", "endpointOutput"):
            event["captureData"][side]["data"] = json.loads(event["captureData"][side]["data"])
        as_values.append(json.dumps(event))
    (tmp_path / "capture" / "capture.jsonl").write_text("\n".join(as_values) + "\n")
    features, predictions, stats = drift.load_capture(tmp_path / "capture", prepared["baseline"]["preprocessing"])
    assert len(features) == len(predictions) == 60 and stats["malformed"] == 0
