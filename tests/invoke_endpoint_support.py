"""What the prediction function's tests share: its modules imported as Lambda imports them, API Gateway REST
proxy events, a Lambda context, boto3 clients with fake credentials (never sent: stubbed) and endpoint answers.

Needs only the function's libraries, boto3 and pytest: it also runs in ``.venv-lambda`` (tests/test_lambda_runtime.py).
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.response import StreamingBody

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = ROOT / "lambdas" / "invoke_endpoint"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/p-models/3"
MODEL_ID = "pipelines-abc123-TrainModel-XyZ"


def function_environment(service: str, **extra: str) -> dict[str, str]:
    """The environment the Inference stack gives the function (components/serving/api.py), with fake credentials;
    ``service`` names the Powertools service (and metrics namespace) of one test module."""
    return {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "ENDPOINT_NAME": "credit-endpoint",
        "DECISION_THRESHOLD": "0.5",
        "VARIANT_PACKAGES": json.dumps({"Primary": PACKAGE_ARN}),
        "FEATURE_GROUP_NAME": "credit-features",
        "POWERTOOLS_SERVICE_NAME": f"credit-scoring-{service}",
        "POWERTOOLS_METRICS_NAMESPACE": f"MLPlatform/{service.title()}",
        **extra,
    }


RECORD: dict[str, Any] = {
    "age": 41,
    "income": 52000.0,
    "debt_to_income": 0.31,
    "credit_history_years": 12,
    "open_accounts": 3,
    "employment_type": "salaried",
    "education": "bachelor",
    "region": "north",
}


def function_module(name: str, *, fresh: bool = False) -> ModuleType:
    """A module of the function as the Lambda runtime imports it: top-level, its folder on the path (its modules
    import each other by name). ``fresh``: import it again (module-level state reads the environment)."""
    if str(FUNCTION_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTION_DIR))
    if fresh:
        sys.modules.pop(name, None)
    return importlib.import_module(name)


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def rest_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
) -> dict[str, Any]:
    """An API Gateway REST API Lambda proxy integration event (payload format 1.0), stage v1, IAM-authorized."""
    headers = {"Content-Type": "application/json", **(headers or {})} if body is not None else dict(headers or {})
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": "111122223333",
            "apiId": "abc123defg",
            "httpMethod": method,
            "identity": {"caller": "AIDAEXAMPLE", "user": "AIDAEXAMPLE", "userArn": "arn:aws:iam::111122223333:user/x"},
            "path": f"/v1{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "resourcePath": resource or path,
            "stage": "v1",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def predict_event(payload: Any) -> dict[str, Any]:
    return rest_event("POST", "/predict", body=payload if isinstance(payload, str) else json.dumps(payload))


def stored_event(applicant_id: str) -> dict[str, Any]:
    return rest_event(
        "GET",
        f"/applicants/{applicant_id}/prediction",
        resource="/applicants/{applicant_id}/prediction",
        path_parameters={"applicant_id": applicant_id},
    )


@dataclass(frozen=True)
class LambdaContext:
    """The attributes Powertools reads from the runtime's context object."""

    function_name: str = "invoke-endpoint"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:111122223333:function:invoke-endpoint"
    aws_request_id: str = "9f6c1d6e-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/invoke-endpoint"
    log_stream_name: str = "2026/12/01/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def endpoint_answer(
    predictions: list[float], *, model_id: str = MODEL_ID, variant: str = "Primary", raw: bytes | None = None
) -> dict[str, Any]:
    """An InvokeEndpoint response: what the serving code (pipelines/steps/serve.py) answers in JSON."""
    data = raw if raw is not None else json.dumps({"predictions": predictions, "model_id": model_id}).encode()
    return {
        "Body": StreamingBody(io.BytesIO(data), len(data)),
        "ContentType": "application/json",
        "InvokedProductionVariant": variant,
    }


NUMERIC = ("age", "income", "debt_to_income", "credit_history_years", "open_accounts")
CATEGORICAL = ("employment_type", "education", "region")


def model_inputs(record: dict[str, Any]) -> dict[str, Any]:
    """The part of a record the endpoint receives: the model's inputs, in order, numbers as floats."""
    sent = {name: None if record[name] is None else float(record[name]) for name in NUMERIC}
    return sent | {name: record[name] for name in CATEGORICAL}


def endpoint_body(*records: dict[str, Any]) -> str:
    """The InvokeEndpoint Body the function sends for ``records``."""
    return json.dumps([model_inputs(record) for record in records])
