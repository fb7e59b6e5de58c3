"""Serving code of the model (exam 3.1): raw applicant records in, the training transform, probabilities out.

``train.py`` packs this file, ``features.py`` and the fitted ``preprocessing.json`` into the model directory,
so the ``model.tar.gz`` a training job leaves is one self-contained version: booster, transform and its
parameters (not an inference pipeline with a preprocessing container, which serverless endpoints cannot host;
facts: serverless-no-inference-pipelines). The registered model package runs it in the SageMaker XGBoost
3.0-5 container in script mode (``SAGEMAKER_PROGRAM=serve.py``, ``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``:
the code is read from the model, which network isolation requires; pipelines/builders/steps.py
``register_step``). The container calls ``model_fn`` once, then ``input_fn`` -> ``predict_fn`` -> ``output_fn``
per request; a tuple from ``output_fn`` is (body, content type).

Requests (``ContentType``):

- ``application/json``: one record (an object), a list of records, or ``{"records": [...]}``;
- ``application/jsonlines``: one record per line (batch transform, ``SplitType=Line``).

A record holds the raw inputs ``features.INPUTS`` (a value may be null: imputed as in training); other keys
are ignored. Responses (``Accept``): ``application/json`` (the default) ``{"predictions": [p, ...],
"model_id": "sha256:..."}``, or ``text/csv``: one probability per line (batch transform, assembled by line).
``model_id`` names the artifact that answered (a digest of its booster and parameters, written by ``train.py``).
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xgboost as xgb

try:  # imported from the repository (tests, tools)
    from pipelines.steps.features import JSON, feature_names, media_type, parse_records, records_frame, transform
except ImportError:  # in the container: features.py is beside this file in the model's code/ folder
    from features import (  # type: ignore[no-redef,import-not-found,unused-ignore]
        JSON,
        feature_names,
        media_type,
        parse_records,
        records_frame,
        transform,
    )

MODEL_FILE = "xgboost-model"
PREPROCESSING_FILE = "preprocessing.json"
IDENTITY_FILE = "model.json"
CSV = "text/csv"


class Model(NamedTuple):
    booster: xgb.Booster
    params: dict[str, Any]
    model_id: str


def model_fn(model_dir: str) -> Model:
    """Load the booster, the transform's fitted parameters and the artifact's identity."""
    with open(os.path.join(model_dir, PREPROCESSING_FILE)) as file:
        preprocessing = json.load(file)
    if preprocessing["features"] != feature_names():
        raise ValueError("preprocessing.json was fitted for other features than features.py produces")
    with open(os.path.join(model_dir, IDENTITY_FILE)) as file:
        identity = json.load(file)
    booster = xgb.Booster(model_file=os.path.join(model_dir, MODEL_FILE))
    return Model(booster, preprocessing["preprocessing"], identity["model_id"])


def input_fn(body: bytes | str, content_type: str | None) -> pd.DataFrame:
    """The request's records as the raw frame the transform takes (``features.parse_records``)."""
    return records_frame(parse_records(body, content_type))


def predict_fn(frame: pd.DataFrame, model: Model) -> dict[str, Any]:
    """Apply the model's own transform, then its booster: the probability of default per record."""
    features = transform(frame, model.params)
    probabilities = model.booster.predict(xgb.DMatrix(features.to_numpy(dtype=float)))
    return {"predictions": [round(float(p), 6) for p in np.asarray(probabilities)], "model_id": model.model_id}


def output_fn(prediction: dict[str, Any], accept: str | None) -> tuple[str, str]:
    """The answer as the first type of ``accept`` (a list is allowed) this model writes: JSON or CSV."""
    offered = [media_type(a) for a in (accept or "").split(",")] or [JSON]
    media = next((m for m in offered if m in (JSON, CSV)), offered[0])
    if media == JSON:
        return json.dumps(prediction), JSON
    if media == CSV:
        return "".join(f"{p}\n" for p in prediction["predictions"]), CSV
    raise ValueError(f"unsupported accept type {accept!r}: ask for {JSON} or {CSV}")
