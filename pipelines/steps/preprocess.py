"""Preprocess step (exam 1.2, 1.3): clean, split, then fit and apply the transform of ``features.py``.

Runs in SageMaker's scikit-learn processing container (pandas and numpy only, so it does not depend
on the container's scikit-learn version) and in-process in the tests:

    python preprocess.py --input-dir /opt/ml/processing/input --output-dir /opt/ml/processing

Reads every CSV under ``--input-dir`` and writes, under ``--output-dir``:

- ``train/``, ``validation/``, ``test/``: label first, no header (SageMaker XGBoost's CSV convention),
  a stratified 70/15/15 split;
- ``features/features.csv``: record id, event time, the applicant's cleaned model inputs (``features.INPUTS``,
  before the fitted transform) and label, for Feature Store: the online store serves them by applicant id
  and the model transforms them with its own parameters, so a stored record is valid for every model version;
- ``bias/dataset.csv``: the cleaned, unencoded dataset with the sensitive attribute, for the bias step;
- ``preprocessing/preprocessing.json``: the fitted parameters, for the training job to pack into the model
  (``train.py``), so the model serves with exactly the transform it was trained on;
- ``baseline/baseline.json``: the same parameters and per-feature histograms of the transformed training
  split (the reference for drift monitoring, which transforms captured requests with them).

Every statistic is fitted on the training split only, then applied to all splits: no leakage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:  # imported from the repository (tests, tools)
    from pipelines.steps.features import (
        EVENT_TIME,
        FACET,
        INPUTS,
        LABEL,
        NUMERIC,
        RECORD_ID,
        feature_names,
        fit,
        transform,
    )
except ImportError:  # run by SageMaker: features.py is packed beside this script (components/ml/pipeline.py)
    from features import (  # type: ignore[no-redef,import-not-found,unused-ignore]
        EVENT_TIME,
        FACET,
        INPUTS,
        LABEL,
        NUMERIC,
        RECORD_ID,
        feature_names,
        fit,
        transform,
    )

SPLIT = (0.70, 0.15, 0.15)
HISTOGRAM_BINS = 10


def feature_schema() -> dict[str, Any]:
    """The Feature Store definition of ``features/features.csv`` (types as Feature Store names them)."""
    features = [{"name": RECORD_ID, "type": "String"}, {"name": EVENT_TIME, "type": "String"}]
    features += [{"name": name, "type": "Fractional" if name in NUMERIC else "String"} for name in INPUTS]
    features.append({"name": LABEL, "type": "Integral"})
    return {"record_identifier": RECORD_ID, "event_time": EVENT_TIME, "features": features}


def read_inputs(input_dir: Path) -> pd.DataFrame:
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise SystemExit(f"preprocess: no CSV files under {input_dir}")
    # round_trip: the exact decimal-to-double parse (pandas 2's default parser can be an ulp off), as JSON parses
    # a request: a value reaches the transform bit-identical in training and in serving.
    frame = pd.concat([pd.read_csv(path, float_precision="round_trip") for path in files], ignore_index=True)
    missing = {RECORD_ID, EVENT_TIME, LABEL, FACET, *INPUTS} - set(frame.columns)
    if missing:
        raise SystemExit(f"preprocess: input lacks columns {sorted(missing)}")
    return frame


def deduplicate(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop exact re-sends, then keep the latest record per applicant."""
    frame = frame.drop_duplicates()
    return frame.sort_values([RECORD_ID, EVENT_TIME]).drop_duplicates(RECORD_ID, keep="last")


def stratified_split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    parts: list[list[pd.DataFrame]] = [[], [], []]
    for _, group in frame.groupby(LABEL, sort=True):
        shuffled = group.iloc[rng.permutation(len(group))]
        first = round(len(shuffled) * SPLIT[0])
        second = first + round(len(shuffled) * SPLIT[1])
        for index, chunk in enumerate((shuffled[:first], shuffled[first:second], shuffled[second:])):
            parts[index].append(chunk)
    train, validation, test = (pd.concat(p).sort_values(RECORD_ID) for p in parts)
    return train, validation, test


def histograms(features: pd.DataFrame) -> dict[str, Any]:
    """Quantile bin edges and proportions per feature: the reference distribution for drift (PSI, KS)."""
    result = {}
    for column in features.columns:
        values = features[column].to_numpy(dtype=float)
        edges = np.unique(np.quantile(values, np.linspace(0, 1, HISTOGRAM_BINS + 1)))
        if len(edges) < 2:
            edges = np.array([values.min(), values.min() + 1.0])
        counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
        result[column] = {
            "edges": [round(float(e), 6) for e in edges],
            "proportions": [round(float(c) / len(values), 6) for c in counts],
            "mean": round(float(values.mean()), 6),
            "std": round(float(values.std()), 6),
            "sample": [round(float(v), 6) for v in np.sort(values)[:: max(1, len(values) // 200)]],
        }
    return result


def write_csv(frame: pd.DataFrame, path: Path, *, header: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, header=header, lineterminator="\n")


def run(input_dir: Path, output_dir: Path, seed: int = 42) -> dict[str, int]:
    raw = read_inputs(input_dir)
    clean = deduplicate(raw)
    clean = clean[clean[LABEL].isin([0, 1])]
    train, validation, test = stratified_split(clean, seed)
    params = fit(train)
    for name, split in (("train", train), ("validation", validation), ("test", test)):
        encoded = transform(split, params)
        write_csv(
            pd.concat([split[LABEL].astype(int), encoded], axis=1), output_dir / name / f"{name}.csv", header=False
        )
    everything = pd.concat([train, validation, test])
    features = pd.concat([everything[[RECORD_ID, EVENT_TIME, *INPUTS]], everything[LABEL].astype(int)], axis=1)
    write_csv(features, output_dir / "features" / "features.csv", header=True)
    write_csv(clean.drop(columns=[RECORD_ID, EVENT_TIME]), output_dir / "bias" / "dataset.csv", header=True)
    baseline = {
        "label": LABEL,
        "features": feature_names(),
        "preprocessing": params,
        "label_rate": round(float(train[LABEL].mean()), 6),  # the reference for prediction drift
        "histograms": histograms(transform(train, params)),
    }
    preprocessing = {"inputs": INPUTS, "features": feature_names(), "preprocessing": params}
    for name, document in (("baseline", baseline), ("preprocessing", preprocessing)):
        (output_dir / name).mkdir(parents=True, exist_ok=True)
        (output_dir / name / f"{name}.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    counts = {
        "input_rows": len(raw),
        "deduplicated_rows": len(clean),
        "train": len(train),
        "validation": len(validation),
        "test": len(test),
    }
    print(json.dumps(counts))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    run(args.input_dir, args.output_dir, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
