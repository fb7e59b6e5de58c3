"""Pre-training bias step (exam 1.3): class imbalance (CI) and difference in proportions of labels (DPL).

Definitions as in SageMaker Clarify, for facet ``d`` (the group that may be disadvantaged) against
the rest ``a``:

    CI  = (n_a - n_d) / (n_a + n_d)              in [-1, 1]; > 0: d is under-represented
    DPL = q_a - q_d, q_x = share of x's rows with the favourable label   > 0: d gets it less often

    python bias.py --input-dir /opt/ml/processing/input --output-dir /opt/ml/processing/bias \
        --facet sex --facet-value female --label default --favourable-label 0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd


def class_imbalance(n_a: int, n_d: int) -> float:
    if n_a + n_d == 0:
        raise ValueError("no rows to measure")
    return (n_a - n_d) / (n_a + n_d)


def report(frame: pd.DataFrame, *, facet: str, facet_value: str, label: str, favourable: int) -> dict[str, Any]:
    for column in (facet, label):
        if column not in frame.columns:
            raise SystemExit(f"bias: column {column!r} not in the dataset")
    is_d = frame[facet].astype(str) == facet_value
    d, a = frame[is_d], frame[~is_d]
    if d.empty or a.empty:
        raise SystemExit(f"bias: facet {facet}={facet_value!r} must split the data into two non-empty groups")
    q_a = float((a[label] == favourable).mean())
    q_d = float((d[label] == favourable).mean())
    return {
        "facet": facet,
        "facet_value": facet_value,
        "label": label,
        "favourable_label": favourable,
        "counts": {"a": len(a), "d": len(d)},
        "favourable_rates": {"a": round(q_a, 6), "d": round(q_d, 6)},
        "metrics": {"CI": round(class_imbalance(len(a), len(d)), 6), "DPL": round(q_a - q_d, 6)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pre-training bias metrics CI and DPL")
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/bias"))
    parser.add_argument("--facet", default="sex")
    parser.add_argument("--facet-value", default="female")
    parser.add_argument("--label", default="default")
    parser.add_argument("--favourable-label", type=int, default=0)
    args = parser.parse_args(argv)
    files = sorted(args.input_dir.rglob("*.csv"))
    if not files:
        raise SystemExit(f"bias: no CSV files under {args.input_dir}")
    frame = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    result = report(
        frame, facet=args.facet, facet_value=args.facet_value, label=args.label, favourable=args.favourable_label
    )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "report.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result["metrics"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
