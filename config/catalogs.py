"""The committed data tables under ``config/data/`` and their readers.

Each table is parsed once (cached). ``config/data/aws_facts.yaml`` has its own reader, :mod:`config.facts`;
the other tables (``sagemaker_images.json``, ``containers.yaml``, ``prices.yaml``, ...) are read by the code
that uses them, from ``DATA_DIR``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG_DIR / "data"


@cache
def _data(name: str) -> Any:
    """One table of ``config/data/``, parsed as JSON or YAML by its suffix."""
    path = DATA_DIR / name
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def known_regions() -> frozenset[str]:
    """The AWS commercial regions (``regions.json``)."""
    return frozenset(_data("regions.json")["regions"])


def interface_endpoint_catalog() -> dict[str, Any]:
    """The interface endpoints the platform knows, with their policy actions and price."""
    return dict(_data("interface_endpoints.yaml"))


def sagemaker_images() -> dict[str, Any]:
    """Image name (``xgboost``, ``sklearn``, ``model-monitor``, ``clarify``) -> repository, tag and the ECR account
    of every region (written by ``python -m tools.import_sagemaker_images``)."""
    return dict(_data("sagemaker_images.json"))


def exam_tasks() -> dict[str, Any]:
    """Task statements of the exam guide, keyed by id (``"3.2"``)."""
    return dict(_data("exam_guide.json")["tasks"])
