"""Every committed file the builders generate, with its text: the six definitions and the feature schema."""

from __future__ import annotations

from pathlib import Path

from pipelines.builders.batch import build_batch
from pipelines.builders.common import render, sdk_shortcuts
from pipelines.builders.drift import build_drift
from pipelines.builders.training import build_training
from pipelines.placeholders import BATCH, DEFINITIONS, DRIFT, FEATURE_SCHEMA, VARIANTS
from pipelines.steps.preprocess import feature_schema


def outputs() -> dict[Path, str]:
    """Path -> the text it must hold (the training variants, batch, drift, then the Feature Store schema)."""
    with sdk_shortcuts():
        files = {DEFINITIONS / f"{variant.name}.json": render(build_training(variant)) for variant in VARIANTS}
        files[DEFINITIONS / f"{BATCH}.json"] = render(build_batch())
        files[DEFINITIONS / f"{DRIFT}.json"] = render(build_drift())
    files[FEATURE_SCHEMA] = render(feature_schema())
    return files


def stale(files: dict[Path, str]) -> list[Path]:
    """The files that are missing or differ from their generated text."""
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text]
