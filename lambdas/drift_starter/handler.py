"""Lambda entry point: configuration from the environment, the clients created once per container."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from starter import start_if_ready

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
S3 = boto3.client("s3")
SAGEMAKER = boto3.client("sagemaker")


def handler(_event: dict[str, Any], _context: object) -> dict[str, Any]:
    result = start_if_ready(
        S3,
        SAGEMAKER,
        bucket=os.environ["ARTIFACTS_BUCKET"],
        capture_prefix=os.environ["CAPTURE_PREFIX"],
        baseline_prefix=os.environ["BASELINE_PREFIX"],
        pipeline_name=os.environ["PIPELINE_NAME"],
    )
    LOG.info(json.dumps(result))
    return result
