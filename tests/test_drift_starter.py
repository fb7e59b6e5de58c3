"""The drift starter, with stubbed S3 and SageMaker clients and fake credentials (no AWS call)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.drift_starter import starter

FUNCTION_DIR = Path(starter.__file__).parent
CAPTURE, BASELINE = "data-capture/mlops-sandbox-credit/", "monitoring/baseline/"
EXECUTION = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/mlops-sandbox-drift/execution/abc123"


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    s3, sagemaker = client("s3"), client("sagemaker")
    with Stubber(s3) as s3_stub, Stubber(sagemaker) as sm_stub:
        yield s3, s3_stub, sagemaker, sm_stub
        s3_stub.assert_no_pending_responses()
        sm_stub.assert_no_pending_responses()


def listing(stub: Stubber, prefix: str, count: int) -> None:
    stub.add_response(
        "list_objects_v2",
        {"KeyCount": count, "Contents": [{"Key": f"{prefix}x"}] * count},
        {"Bucket": "artifacts", "Prefix": prefix, "MaxKeys": 1},
    )


def start(s3: Any, sagemaker: Any) -> dict[str, Any]:
    return starter.start_if_ready(
        s3, sagemaker, bucket="artifacts", capture_prefix=CAPTURE, baseline_prefix=BASELINE, pipeline_name="drift"
    )


def test_starts_the_pipeline_when_capture_and_baseline_exist(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    s3, s3_stub, sagemaker, sm_stub = clients
    listing(s3_stub, CAPTURE, 1)
    listing(s3_stub, BASELINE, 1)
    sm_stub.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION},
        {"PipelineName": "drift", "PipelineExecutionDescription": starter.DESCRIPTION},
    )
    assert start(s3, sagemaker) == {"started": True, "execution": EXECUTION}


def test_skips_with_a_reason_when_nothing_was_captured(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    s3, s3_stub, sagemaker, _ = clients
    listing(s3_stub, CAPTURE, 0)
    result = start(s3, sagemaker)  # no start_pipeline_execution stubbed: calling it would fail the test
    assert result == {"started": False, "reason": f"skipped: no captured traffic under s3://artifacts/{CAPTURE} yet"}


def test_skips_with_a_reason_before_the_first_training_run(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    s3, s3_stub, sagemaker, _ = clients
    listing(s3_stub, CAPTURE, 1)
    listing(s3_stub, BASELINE, 0)
    assert start(s3, sagemaker)["reason"] == f"skipped: no training baseline under s3://artifacts/{BASELINE} yet"


def test_a_failed_start_is_an_error_not_a_silent_skip(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    s3, s3_stub, sagemaker, sm_stub = clients
    listing(s3_stub, CAPTURE, 1)
    listing(s3_stub, BASELINE, 1)
    sm_stub.add_client_error("start_pipeline_execution", service_error_code="ResourceLimitExceeded")
    with pytest.raises(sagemaker.exceptions.ResourceLimitExceeded):
        start(s3, sagemaker)  # the function fails, Lambda retries, then the dead-letter queue keeps the event


def test_handler_reads_its_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "ARTIFACTS_BUCKET": "artifacts",
        "CAPTURE_PREFIX": CAPTURE,
        "BASELINE_PREFIX": BASELINE,
        "PIPELINE_NAME": "drift",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(FUNCTION_DIR))  # Lambda runs handler.py with its folder on the path
    for name in ("handler", "starter"):
        sys.modules.pop(name, None)
    handler = importlib.import_module("handler")
    with Stubber(handler.S3) as s3_stub:
        listing(s3_stub, CAPTURE, 0)
        assert handler.handler({}, None)["started"] is False
