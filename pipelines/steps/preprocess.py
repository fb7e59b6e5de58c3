"""Preprocess step (exam 1.2, 1.3): clean, engineer, encode, scale and split credit applications.

Runs in SageMaker's scikit-learn processing container (pandas and numpy only, so it does not depend
on the container's scikit-learn version) and in-process in the tests:

    python preprocess.py --input-dir /opt/ml/processing/input --output-dir /opt/ml/processing

Reads every CSV under ``--input-dir`` and writes, under ``--output-dir``:

- ``train/``, ``validation/``, ``test/``: label first, no header (SageMaker XGBoost's CSV convention),
  a stratified 70/15/15 split;
- ``features/features.csv``: record id, event time, engineered features and label, for Feature Store;
- ``bias/dataset.csv``: the cleaned, unencoded dataset with the sensitive attribute, for the bias step;
- ``baseline/baseline.json``: every fitted statistic (so serving can repeat the transform) and
  per-feature histograms of the training split (the reference for drift monitoring).

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

LABEL = "default"
RECORD_ID = "applicant_id"
EVENT_TIME = "event_time"
FACET = "sex"
NUMERIC = ["age", "income", "debt_to_income", "credit_history_years", "open_accounts"]
LOG_TRANSFORMED = ["income"]  # right-skewed money amounts
ORDINAL = {"education": ["high_school", "bachelor", "master", "doctorate"]}
ONE_HOT = {
    "employment_type": ["salaried", "self_employed", "unemployed", "retired"],
    "region": ["north", "south", "east", "west"],
}
SPLIT = (0.70, 0.15, 0.15)
HISTOGRAM_BINS = 10


def feature_names() -> list[str]:
    """Model input columns, in order (what an endpoint receives as CSV)."""
    names = list(NUMERIC) + [f"{column}_level" for column in ORDINAL]
    for column, categories in ONE_HOT.items():
        names += [f"{column}_{category}" for category in categories]
    return names


def feature_schema() -> dict[str, Any]:
    """The Feature Store definition of ``features/features.csv`` (types as Feature Store names them)."""
    features = [{"name": RECORD_ID, "type": "String"}, {"name": EVENT_TIME, "type": "String"}]
    features += [{"name": name, "type": "Fractional" if name in NUMERIC else "Integral"} for name in feature_names()]
    features.append({"name": LABEL, "type": "Integral"})
    return {"record_identifier": RECORD_ID, "event_time": EVENT_TIME, "features": features}


def read_inputs(input_dir: Path) -> pd.DataFrame:
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise SystemExit(f"preprocess: no CSV files under {input_dir}")
    frame = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    missing = {RECORD_ID, EVENT_TIME, LABEL, FACET, *NUMERIC, *ORDINAL, *ONE_HOT} - set(frame.columns)
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


def fit(train: pd.DataFrame) -> dict[str, Any]:
    """Imputation values, outlier bounds and scaling statistics, from the training split only."""
    numeric = train[NUMERIC].astype(float)
    medians = numeric.median()
    filled = numeric.fillna(medians)
    low, high = filled.quantile(0.01), filled.quantile(0.99)
    clipped = filled.clip(low, high, axis=1)
    for column in LOG_TRANSFORMED:
        clipped[column] = np.log1p(clipped[column])
    modes = {column: str(train[column].mode().iloc[0]) for column in [*ORDINAL, *ONE_HOT]}
    return {
        "medians": medians.round(6).to_dict(),
        "clip_low": low.round(6).to_dict(),
        "clip_high": high.round(6).to_dict(),
        "means": clipped.mean().round(6).to_dict(),
        "stds": clipped.std(ddof=0).replace(0, 1).round(6).to_dict(),
        "modes": modes,
    }


def transform(frame: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Impute, treat outliers, log-transform, standardize and encode, with fitted ``params``."""
    out = pd.DataFrame(index=frame.index)
    for column in NUMERIC:
        values = frame[column].astype(float).fillna(params["medians"][column])
        values = values.clip(params["clip_low"][column], params["clip_high"][column])
        if column in LOG_TRANSFORMED:
            values = np.log1p(values)
        out[column] = ((values - params["means"][column]) / params["stds"][column]).round(6)
    for column, order in ORDINAL.items():
        values = frame[column].fillna(params["modes"][column])
        out[f"{column}_level"] = values.map({category: level for level, category in enumerate(order)}).fillna(0)
    for column, categories in ONE_HOT.items():
        values = frame[column].fillna(params["modes"][column])
        for category in categories:
            out[f"{column}_{category}"] = (values == category).astype(int)
    return out[feature_names()]


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
    features = pd.concat(
        [everything[[RECORD_ID, EVENT_TIME]], transform(everything, params), everything[LABEL].astype(int)], axis=1
    )
    write_csv(features, output_dir / "features" / "features.csv", header=True)
    write_csv(clean.drop(columns=[RECORD_ID, EVENT_TIME]), output_dir / "bias" / "dataset.csv", header=True)
    baseline = {
        "label": LABEL,
        "features": feature_names(),
        "preprocessing": params,
        "label_rate": round(float(train[LABEL].mean()), 6),  # the reference for prediction drift
        "histograms": histograms(transform(train, params)),
    }
    (output_dir / "baseline").mkdir(parents=True, exist_ok=True)
    (output_dir / "baseline" / "baseline.json").write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
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
