"""The credit-application transform (exam 1.2, 1.3, 3.1): one module, fitted in training, applied in serving.

- ``preprocess.py`` fits it on the training split (``fit``) and applies it to every split (``transform``);
- ``serve.py`` applies it to every request the endpoint receives, with the parameters fitted in the training
  run that produced the model: both files and ``preprocessing.json`` travel inside that model's
  ``model.tar.gz``, so a model version and its transform are registered, approved, deployed and rolled back
  as one artifact;
- ``drift.py`` applies it to the requests the endpoint captured, with the latest training baseline's
  parameters, before comparing them with the training distribution.

pandas and numpy only, in the API both SageMaker images share (scikit-learn 1.4-2: pandas 2.3.2; XGBoost 3.0-5:
pandas 2.2.3; tests/test_container_parity.py runs it on both).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

LABEL = "default"
RECORD_ID = "applicant_id"
EVENT_TIME = "event_time"
FACET = "sex"  # the sensitive attribute: in the data for the bias report, never a model input
NUMERIC = ["age", "income", "debt_to_income", "credit_history_years", "open_accounts"]
LOG_TRANSFORMED = ["income"]  # right-skewed money amounts
ORDINAL = {"education": ["high_school", "bachelor", "master", "doctorate"]}
ONE_HOT = {
    "employment_type": ["salaried", "self_employed", "unemployed", "retired"],
    "region": ["north", "south", "east", "west"],
}
CATEGORICAL = ["employment_type", "education", "region"]  # ORDINAL and ONE_HOT, in the data's column order
# What a raw record must carry to be scored (a value may be missing: it is imputed as in training).
INPUTS = [*NUMERIC, *CATEGORICAL]
JSON, JSON_LINES = "application/json", "application/jsonlines"  # what the endpoint accepts
assert sorted(CATEGORICAL) == sorted([*ORDINAL, *ONE_HOT])


def feature_names() -> list[str]:
    """Model input columns, in order (what the booster is trained on and predicts from)."""
    names = list(NUMERIC) + [f"{column}_level" for column in ORDINAL]
    for column, categories in ONE_HOT.items():
        names += [f"{column}_{category}" for category in categories]
    return names


def fit(train: pd.DataFrame) -> dict[str, Any]:
    """Imputation values, outlier bounds and scaling statistics, from the training split only."""
    numeric = train[NUMERIC].astype(float)
    medians = numeric.median()
    filled = numeric.fillna(medians)
    low, high = filled.quantile(0.01), filled.quantile(0.99)
    clipped = filled.clip(low, high, axis=1)
    for column in LOG_TRANSFORMED:
        clipped[column] = np.log1p(clipped[column])
    modes = {column: str(train[column].mode().iloc[0]) for column in CATEGORICAL}
    return {
        "medians": medians.round(6).to_dict(),
        "clip_low": low.round(6).to_dict(),
        "clip_high": high.round(6).to_dict(),
        "means": clipped.mean().round(6).to_dict(),
        "stds": clipped.std(ddof=0).replace(0, 1).round(6).to_dict(),
        "modes": modes,
    }


def transform(frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    """Impute, treat outliers, log-transform, standardize and encode, with fitted ``params``.

    A category training never saw is encoded as level 0 (ordinal) or all zeros (one-hot); a missing value is
    replaced by the training median (numeric) or most frequent category.
    """
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


def records_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Raw JSON records (what the API and the endpoint receive) as the frame ``transform`` takes: the columns
    ``INPUTS`` in order, ``None`` as missing, numbers as floats, categories as strings. A record without one of
    ``INPUTS`` raises ``ValueError`` naming it; other keys are ignored (the endpoint scores the model inputs)."""
    rows = []
    for number, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise ValueError(f"record {number} is not a JSON object")
        missing = [name for name in INPUTS if name not in record]
        if missing:
            raise ValueError(f"record {number} lacks {', '.join(missing)}")
        rows.append([record[name] for name in INPUTS])
    frame = pd.DataFrame(rows, columns=INPUTS, dtype=object)
    for column in NUMERIC:
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    for column in CATEGORICAL:
        frame[column] = frame[column].where(frame[column].notna(), np.nan)
    return frame


def media_type(value: str | None, default: str = JSON) -> str:
    """``value`` without parameters, lower case; ``default`` if absent or ``*/*``."""
    media = (value or "").split(";", 1)[0].strip().lower()
    return default if media in ("", "*/*") else media


def parse_records(body: bytes | str, content_type: str | None) -> list[Any]:
    """The records of a request to the endpoint: ``application/json`` (one record object, a list of them, or
    ``{"records": [...]}``) or ``application/jsonlines`` (one record per line, as batch transform sends)."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    media = media_type(content_type)
    if media == JSON_LINES:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    elif media == JSON:
        payload = json.loads(text)
        if isinstance(payload, dict) and "records" in payload:
            payload = payload["records"]
        records = payload if isinstance(payload, list) else [payload]
    else:
        raise ValueError(f"unsupported content type {content_type!r}: send {JSON} or {JSON_LINES}")
    if not records:
        raise ValueError("the request holds no records")
    return records
