"""The SageMaker images the platform runs, from the committed per-region table (config/data/sagemaker_images.json,
written by ``python -m tools.import_sagemaker_images``): ECR accounts differ by region, so templates look them up
in a ``CfnMapping`` by ``AWS::Region`` instead of calling the SDK at synth."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from config.catalogs import DATA_DIR


@cache
def image_table() -> dict[str, Any]:
    """Image name (``xgboost``, ``sklearn``, ``model-monitor``, ``clarify``) -> repository, tag and registries."""
    return dict(json.loads((DATA_DIR / "sagemaker_images.json").read_text()))


def image_accounts(aliases: dict[str, str]) -> dict[str, dict[str, str]]:
    """Region -> {alias: ECR account} for the regions that offer every image of ``aliases`` (alias -> image)."""
    table = image_table()
    regions = sorted(set.intersection(*(set(table[image]["registries"]) for image in aliases.values())))
    return {
        region: {alias: table[image]["registries"][region] for alias, image in aliases.items()} for region in regions
    }
