"""Drift step (exam 4.1): compare what the endpoint received and answered with the training baseline.

Runs as a processing job with network isolation (SECURITY.md control 15), so it makes no AWS call: it
reads the endpoint's data capture (the raw JSON records callers sent, decoded by the model's own
``serve.input_fn`` and transformed by ``features.transform`` with the baseline's fitted parameters, so the
job compares exactly what the model scored) and the baseline the preprocess step wrote, writes ``drift.json``,
and prints the results in CloudWatch Embedded Metric Format; CloudWatch Logs turns those lines of the
job's log into metrics (namespace ``MLPlatform/Drift``) that the drift alarm watches.

    python drift.py --capture-dir /opt/ml/processing/capture --baseline-dir /opt/ml/processing/baseline \
        --output-dir /opt/ml/processing/report --endpoint-name NAME

Per feature: population stability index (PSI) on the baseline's quantile bins, and the two-sample
Kolmogorov-Smirnov statistic against the baseline's sample. For predictions: the mean predicted
probability against the training label rate. A feature drifts when its PSI reaches ``--psi-threshold``
(0.2 is the usual "significant shift") or its KS p-value falls below ``--ks-alpha``.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:  # imported from the repository (tests, tools)
    from pipelines.steps.features import media_type, parse_records, records_frame, transform
except ImportError:  # run by SageMaker: synth packs features.py with this script (components/ml/pipeline.py)
    from features import media_type, parse_records, records_frame, transform  # type: ignore[no-redef,import-not-found,unused-ignore]

NAMESPACE = "MLPlatform/Drift"
EPSILON = 1e-4  # floor for empty bins, so PSI stays finite


class CaptureError(ValueError):
    """Capture files exist but none of their records could be read."""


def _decode(payload: dict[str, Any]) -> str:
    data = payload.get("data", "")
    if isinstance(data, dict | list):  # JSON capture stored as a value rather than as its text
        return json.dumps(data)
    return base64.b64decode(str(data)).decode() if payload.get("encoding") == "BASE64" else str(data)


def _legacy(capture: dict[str, Any]) -> bool:
    """A request to a model version registered before the raw-record contract: CSV rows of encoded features."""
    observed = capture.get("endpointInput", {}).get("observedContentType")
    return isinstance(capture, dict) and media_type(observed, default="") == "text/csv"


def _requests(capture: dict[str, Any]) -> tuple[pd.DataFrame, list[float]]:
    """The raw records one captured request held and the probabilities the model answered for them."""
    records = parse_records(_decode(capture["endpointInput"]), capture["endpointInput"].get("observedContentType"))
    answer = _decode(capture["endpointOutput"])
    if media_type(capture["endpointOutput"].get("observedContentType")) == "text/csv":
        predictions = [float(v) for v in answer.replace("\n", ",").split(",") if v.strip()]
    else:
        predictions = [float(v) for v in json.loads(answer)["predictions"]]
    if len(predictions) != len(records):
        raise ValueError("shape")
    return records_frame(records), predictions


def load_capture(capture_dir: Path, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The captured requests' records, transformed exactly as the model transforms them (``features.py`` with
    the training baseline's fitted ``params``), and the predictions answered, from every ``*.jsonl`` under the
    folder. The endpoint captures what callers send: raw JSON records (``serve.py``)."""
    frames: list[pd.DataFrame] = []
    predictions: list[float] = []
    stats = {"files": 0, "records": 0, "malformed": 0, "legacy": 0}
    for path in sorted(capture_dir.rglob("*.jsonl")):
        stats["files"] += 1
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            stats["records"] += 1
            try:
                capture = json.loads(line)["captureData"]
                if _legacy(capture):  # skipped, not malformed: the version that answered it took CSV features
                    stats["legacy"] += 1
                    continue
                inputs, outputs = _requests(capture)
            except (KeyError, TypeError, ValueError, AttributeError):  # JSONDecodeError is a ValueError
                stats["malformed"] += 1
                continue
            frames.append(inputs)
            predictions += outputs
    if stats["records"] > stats["legacy"] and not frames:
        raise CaptureError(
            f"drift: all {stats['records'] - stats['legacy']} capture records under {capture_dir} are malformed "
            "(expected JSON applicant records and the model's JSON answer, as serve.py reads and writes them)"
        )
    if not frames:
        return np.empty((0, 0)), np.array([], dtype=float), stats
    features = transform(pd.concat(frames, ignore_index=True), params).to_numpy(dtype=float)
    return features, np.array(predictions, dtype=float), stats


def psi(edges: list[float], expected: list[float], values: np.ndarray) -> float:
    """Population stability index of ``values`` against the baseline's bins and proportions."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=np.array(edges))
    actual = np.maximum(counts / max(len(values), 1), EPSILON)
    reference = np.maximum(np.array(expected), EPSILON)
    return float(np.sum((actual - reference) * np.log(actual / reference)))


def ks(reference: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic D and its asymptotic p-value."""
    a, b = np.sort(reference), np.sort(values)
    grid = np.concatenate([a, b])
    d = float(
        np.max(
            np.abs(np.searchsorted(a, grid, side="right") / len(a) - np.searchsorted(b, grid, side="right") / len(b))
        )
    )
    n = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return d, float(min(max(p, 0.0), 1.0))


def analyse(
    baseline: dict[str, Any],
    features: np.ndarray,
    predictions: np.ndarray,
    *,
    psi_threshold: float,
    ks_alpha: float,
    min_records: int,
) -> dict[str, Any]:
    names = baseline["features"]
    if len(features) < min_records:
        return {"status": "insufficient_data", "records": len(features), "min_records": min_records}
    per_feature = {}
    for index, name in enumerate(names):
        histogram = baseline["histograms"][name]
        values = features[:, index]
        d, p = ks(np.array(histogram["sample"]), values)
        score = psi(histogram["edges"], histogram["proportions"], values)
        per_feature[name] = {
            "psi": round(score, 6),
            "ks_d": round(d, 6),
            "ks_p": round(p, 6),
            "drifted": score >= psi_threshold or p < ks_alpha,
        }
    prediction_drift = abs(float(predictions.mean()) - float(baseline["label_rate"]))
    drifted = sorted(name for name, result in per_feature.items() if result["drifted"])
    return {
        "status": "drift" if drifted else "ok",
        "records": len(features),
        "max_psi": max(r["psi"] for r in per_feature.values()),
        "drifted_features": drifted,
        "prediction_mean": round(float(predictions.mean()), 6),
        "training_label_rate": baseline["label_rate"],
        "prediction_drift": round(prediction_drift, 6),
        "features": per_feature,
        "thresholds": {"psi": psi_threshold, "ks_alpha": ks_alpha},
    }


def emf_lines(report: dict[str, Any], endpoint: str, timestamp_ms: int) -> list[str]:
    """CloudWatch Embedded Metric Format: one summary line, and one line per feature's PSI."""

    def line(dimensions: list[str], values: dict[str, Any], metrics: dict[str, float]) -> str:
        return json.dumps(
            {
                "_aws": {
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": NAMESPACE,
                            "Dimensions": [dimensions],
                            "Metrics": [{"Name": name, "Unit": "None"} for name in metrics],
                        }
                    ],
                },
                **values,
                **metrics,
            },
            sort_keys=True,
        )

    if report["status"] == "insufficient_data":
        return [line(["EndpointName"], {"EndpointName": endpoint}, {"SampleCount": report["records"]})]
    lines = [
        line(
            ["EndpointName"],
            {"EndpointName": endpoint},
            {
                "MaxFeaturePSI": report["max_psi"],
                "DriftedFeatures": len(report["drifted_features"]),
                "PredictionDrift": report["prediction_drift"],
                "SampleCount": report["records"],
            },
        )
    ]
    for name, result in report["features"].items():
        lines.append(
            line(
                ["EndpointName", "Feature"], {"EndpointName": endpoint, "Feature": name}, {"FeaturePSI": result["psi"]}
            )
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Feature and prediction drift of captured endpoint traffic")
    parser.add_argument("--capture-dir", type=Path, default=Path("/opt/ml/processing/capture"))
    parser.add_argument("--baseline-dir", type=Path, default=Path("/opt/ml/processing/baseline"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/report"))
    parser.add_argument("--endpoint-name", required=True)
    parser.add_argument("--psi-threshold", type=float, default=0.2)
    parser.add_argument("--ks-alpha", type=float, default=0.001)
    parser.add_argument("--min-records", type=int, default=50)
    args = parser.parse_args(argv)
    baseline_path = args.baseline_dir / "baseline.json"
    if not baseline_path.exists():
        print(f"drift: no baseline.json in {args.baseline_dir}; run the training pipeline first", file=sys.stderr)
        return 2
    baseline = json.loads(baseline_path.read_text())
    try:
        features, predictions, stats = load_capture(args.capture_dir, baseline["preprocessing"])
    except CaptureError as error:
        print(str(error), file=sys.stderr)
        return 2
    if stats["legacy"]:
        print(
            f"drift: skipped {stats['legacy']} captured CSV request(s) of a model version registered before the "
            "raw-record contract (serve a version trained since; its requests are JSON records)",
            file=sys.stderr,
        )
    if stats["files"] == 0:
        print(
            f"drift: no capture files (*.jsonl) under {args.capture_dir}; is data capture on and the endpoint "
            "receiving traffic?",
            file=sys.stderr,
        )
    report = analyse(
        baseline,
        features,
        predictions,
        psi_threshold=args.psi_threshold,
        ks_alpha=args.ks_alpha,
        min_records=args.min_records,
    )
    report["capture"] = stats
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "drift.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    for line in emf_lines(report, args.endpoint_name, int(time.time() * 1000)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
