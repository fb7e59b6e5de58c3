"""The invocation function, with a stubbed SageMaker runtime client and fake credentials (no AWS call)."""

from __future__ import annotations

import importlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lambdas.invoke_endpoint import predict

FUNCTION_DIR = Path(predict.__file__).parent
ROW = ",".join(["0.5"] * 14)


def body(text: str) -> StreamingBody:
    return StreamingBody(io.BytesIO(text.encode()), len(text.encode()))


@pytest.fixture
def runtime() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "sagemaker-runtime", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def test_scores_rows_through_the_endpoint(runtime: tuple[Any, Stubber]) -> None:
    client, stubber = runtime
    stubber.add_response(
        "invoke_endpoint",
        {"Body": body("0.12\n0.87\n"), "ContentType": "text/csv"},
        {"EndpointName": "ep", "ContentType": "text/csv", "Accept": "text/csv", "Body": f"{ROW}\n{ROW}"},
    )
    response = predict.handle({"body": f"{ROW}\n{ROW}\n"}, client, endpoint="ep", feature_count=14)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"predictions": [0.12, 0.87], "endpoint": "ep"}
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (None, "send CSV rows"),
        ("  ", "send CSV rows"),
        ("1,2,3", "row 1 has 3 values; the model takes 14"),
        (ROW.replace("0.5", "x", 1), "row 1 has a value that is not a number"),
        ("\n".join([ROW] * 1001), "at most 1000 rows"),
    ],
)
def test_bad_requests_are_400_with_a_reason(
    runtime: tuple[Any, Stubber], request_body: str | None, message: str
) -> None:
    client, _ = runtime
    response = predict.handle({"body": request_body}, client, endpoint="ep", feature_count=14)
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["error"]


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", 503), ("ModelError", 502), ("ValidationError", 500)]
)
def test_endpoint_errors_map_to_statuses_without_leaking_details(
    runtime: tuple[Any, Stubber], code: str, status: int
) -> None:
    client, stubber = runtime
    stubber.add_client_error("invoke_endpoint", service_error_code=code, service_message="secret detail")
    response = predict.handle({"body": ROW}, client, endpoint="ep", feature_count=14)
    assert response["statusCode"] == status
    assert "secret" not in response["body"]


def test_a_short_answer_is_an_error_not_a_silent_mismatch(runtime: tuple[Any, Stubber]) -> None:
    client, stubber = runtime
    stubber.add_response("invoke_endpoint", {"Body": body("0.1\n")})
    response = predict.handle({"body": f"{ROW}\n{ROW}"}, client, endpoint="ep", feature_count=14)
    assert response["statusCode"] == 500


def test_handler_reads_its_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("ENDPOINT_NAME", "credit-endpoint")
    monkeypatch.setenv("FEATURE_COUNT", "14")
    monkeypatch.syspath_prepend(str(FUNCTION_DIR))  # Lambda runs handler.py with its folder on the path
    sys.modules.pop("handler", None)
    handler = importlib.import_module("handler")
    with Stubber(handler.RUNTIME) as stubber:
        stubber.add_response("invoke_endpoint", {"Body": body("0.3")})
        response = handler.handler({"body": ROW}, None)
    assert json.loads(response["body"]) == {"predictions": [0.3], "endpoint": "credit-endpoint"}


def test_feature_count_matches_the_model() -> None:
    schema = json.loads((Path(__file__).parent.parent / "pipelines" / "feature_schema.json").read_text())
    assert len(schema["features"]) - 3 == len(ROW.split(","))  # minus id, event time and label
