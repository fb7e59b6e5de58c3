"""Lambda entry point: configuration from the environment, the client created once per container."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from predict import handle

logging.getLogger().setLevel(logging.INFO)
RUNTIME = boto3.client("sagemaker-runtime")


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    return handle(event, RUNTIME, endpoint=os.environ["ENDPOINT_NAME"], feature_count=int(os.environ["FEATURE_COUNT"]))
