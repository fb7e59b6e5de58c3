"""Evaluation step (exam 2.3): score the held-out test split and write ``evaluation.json``.

Runs in the XGBoost 3.0-5 container as a processing job. The JSON follows SageMaker's model-quality
format (``binary_classification_metrics``), so the pipeline reads it as a property file for the AUC
gate and attaches it to the model package as its metrics.

    python evaluate.py --model-dir /opt/ml/processing/model --test-dir /opt/ml/processing/test \
        --output-dir /opt/ml/processing/evaluation
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import xgboost as xgb

MODEL_FILE = "xgboost-model"


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney U) statistic, ties averaged."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=float)
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        raise SystemExit("evaluate: the test split needs both classes to compute AUC")
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def metrics(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    predicted = (scores >= threshold).astype(int)
    tp = int(((predicted == 1) & (labels == 1)).sum())
    tn = int(((predicted == 0) & (labels == 0)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def value(number: float) -> dict[str, Any]:
        return {"value": round(number, 6), "standard_deviation": "NaN"}

    return {
        "binary_classification_metrics": {
            "auc": value(auc(labels, scores)),
            "accuracy": value((tp + tn) / len(labels)),
            "precision": value(precision),
            "recall": value(recall),
            "f1": value(f1),
            "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
            "threshold": threshold,
            "test_rows": len(labels),
        }
    }


def safe_members(tar: tarfile.TarFile, target: Path) -> list[tarfile.TarInfo]:
    """The archive's members, if every one is a plain file or directory that lands inside ``target``.

    Checked here rather than left to ``extractall(filter="data")``: extraction filters exist only from
    Python 3.10.12 / 3.11.4, and the container's Python 3.10 patch level is not pinned.
    """
    root = target.resolve()
    members = tar.getmembers()
    for member in members:
        name = PurePosixPath(member.name)
        if not (member.isfile() or member.isdir()):
            raise SystemExit(f"evaluate: model.tar.gz member {member.name!r} is not a regular file or directory")
        landing = (root / name).resolve()
        if name.is_absolute() or ".." in name.parts or (landing != root and root not in landing.parents):
            raise SystemExit(f"evaluate: model.tar.gz member {member.name!r} would land outside {target}")
    return members


def extract(archive: Path, target: Path) -> None:
    """Unpack what a training job leaves in S3 (its ``/opt/ml/model`` packed as ``model.tar.gz``)."""
    with tarfile.open(archive) as tar:
        members = safe_members(tar, target)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: the stdlib's checks as well
            tar.extractall(target, members=members, filter="data")
        else:
            tar.extractall(target, members=members)  # every member validated above


def load_model(model_dir: Path) -> xgb.Booster:
    archive = model_dir / "model.tar.gz"
    if archive.exists():
        extract(archive, model_dir)
    path = model_dir / MODEL_FILE
    if not path.exists():
        raise SystemExit(f"evaluate: no {MODEL_FILE} in {model_dir}")
    return xgb.Booster(model_file=str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the model on the test split")
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)
    files = sorted(args.test_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"evaluate: no CSV files in {args.test_dir}")
    data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    booster = load_model(args.model_dir)
    scores = booster.predict(xgb.DMatrix(data[:, 1:]))
    result = metrics(data[:, 0].astype(int), scores, args.threshold)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "evaluation.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps({k: v for k, v in result["binary_classification_metrics"].items() if k != "confusion_matrix"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
