"""Lambda entry point: configuration from the environment, the clients created once per container."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from recorder import on_state_change

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
SSM = boto3.client("ssm")
SAGEMAKER = boto3.client("sagemaker")
CODEPIPELINE = boto3.client("codepipeline")


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    result = on_state_change(
        SSM,
        SAGEMAKER,
        CODEPIPELINE,
        event,
        parameter_name=os.environ["PARAMETER_NAME"],
        pipeline_name=os.environ["PIPELINE_NAME"],
        group=os.environ["MODEL_PACKAGE_GROUP"],
    )
    LOG.info(json.dumps(result))
    return result
