"""The prediction function against its committed contract, docs/openapi.json, offline.

A WSGI adapter turns each HTTP request into the API Gateway REST proxy event the function receives behind
the ``v1`` stage, calls the real entry point (``handler.handler``: Powertools resolver, logger, metrics and
tracer) and turns its answer back into HTTP. Its boto3 clients never reach AWS: botocore's own hooks (as
Stubber uses them) answer every call from its parameters: the endpoint one probability per record sent, the
feature store a record for any applicant but one. Schemathesis generates requests from the document, valid
and invalid ones, and checks that each answer has a documented status and a body its schema allows; explicit
cases pin the contract's examples. Deterministic (derandomized, no example database) and small.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ignored_auth
from werkzeug.test import Client, TestResponse

from lambdas.invoke_endpoint import openapi
from tests.invoke_endpoint_support import (
    CATEGORICAL,
    NUMERIC,
    RECORD,
    LambdaContext,
    endpoint_answer,
    function_environment,
    function_module,
    rest_event,
)

DOCUMENT = Path(openapi.DOCUMENT)
CONTRACT = json.loads(DOCUMENT.read_text())
# API Gateway checks SigV4 (AWS_IAM) before the function is called: the function neither gets nor reads the
# Authorization header, so cases carry no security parameters and the auth checks are not the function's.
SCHEMA = schemathesis.openapi.from_path(
    DOCUMENT, config=SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
)
BASE_URL = "http://api.test/v1"  # the stage prefix, as API Gateway serves it
UNKNOWN_APPLICANT = "unknown-applicant"
STORED = {"age": "41.0", "income": "52000.0", "open_accounts": "3", "region": "north", "education": "bachelor"}
NOT_THE_FUNCTIONS = [ignored_auth]


def test_the_committed_contract_is_the_one_the_routes_generate() -> None:
    if DOCUMENT.read_text() != openapi.generate():
        pytest.fail(f"docs/openapi.json is stale: run `{openapi.COMMAND}`", pytrace=False)


def test_the_contract_has_exactly_the_two_routes_and_sigv4() -> None:
    assert {path: sorted(methods) for path, methods in CONTRACT["paths"].items()} == {
        "/predict": ["post"],
        "/applicants/{applicant_id}/prediction": ["get"],
    }
    assert CONTRACT["security"] == [{"sigv4": []}]
    assert CONTRACT["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert CONTRACT["servers"][0]["url"].endswith("/v1")


# The function, its clients answered offline, behind a WSGI adapter ---------------------------------------------


class Scripted:
    """Answers every call of a boto3 client with ``answer(operation, parameters)``, through the hooks botocore's
    Stubber uses: the parameters are validated against the service model before, the answer after."""

    def __init__(self, client: Any, answer: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.answer, self.calls = answer, 0
        self._params: dict[str, Any] = {}
        client.meta.events.register_first("before-parameter-build.*.*", self._keep, unique_id=f"keep-{id(self)}")
        client.meta.events.register("before-call.*.*", self._respond, unique_id=f"respond-{id(self)}")

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self._params = dict(params)

    def _respond(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        self.calls += 1
        parsed = self.answer(model.name, self._params)
        validate_parameters(parsed, model.output_shape)
        return AWSResponse(None, 200, {}, None), parsed


def endpoint(_: str, params: dict[str, Any]) -> dict[str, Any]:
    """The model: one probability per record, from its age, so decisions vary."""
    records = json.loads(params["Body"])
    assert all(list(record) == [*NUMERIC, *CATEGORICAL] for record in records), "only the model inputs are sent"
    return endpoint_answer([((record["age"] or 0) % 97) / 100 for record in records])


def feature_store(_: str, params: dict[str, Any]) -> dict[str, Any]:
    if params["RecordIdentifierValueAsString"] == UNKNOWN_APPLICANT:
        return {}  # GetRecord's empty result
    return {"Record": [{"FeatureName": name, "ValueAsString": value} for name, value in STORED.items()]}


@dataclass
class Deployed:
    handler: Any  # handler.py, imported as Lambda imports it
    endpoint: Scripted
    feature_store: Scripted


@pytest.fixture(scope="module")
def function() -> Iterator[Deployed]:
    with pytest.MonkeyPatch.context() as env:
        for key, value in function_environment("contract", POWERTOOLS_LOG_LEVEL="WARNING").items():
            env.setenv(key, value)
        function_module("api", fresh=True)
        module = function_module("handler", fresh=True)
        yield Deployed(module, Scripted(module.RUNTIME, endpoint), Scripted(module.FEATURE_STORE, feature_store))
        module.metrics.clear_metrics()


def resource_of(path: str) -> tuple[str, dict[str, str] | None]:
    """API Gateway's resource and path parameters for a path (its routing, which the function relies on)."""
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "applicants" and parts[3] == "prediction" and parts[2]:
        return "/applicants/{applicant_id}/prediction", {"applicant_id": parts[2]}
    return path, None


def as_wsgi(function: Deployed) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw_path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
        if not raw_path.startswith("/v1/"):
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [b'{"message": "Missing Authentication Token"}']  # API Gateway, outside the stage
        path = raw_path.removeprefix("/v1")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else None
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key[:5] == "HTTP_"}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        resource, parameters = resource_of(path)
        event = rest_event(environ["REQUEST_METHOD"], path, body=body, resource=resource, path_parameters=parameters)
        event["headers"] = headers
        event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
        response = function.handler.handler(event, LambdaContext())
        status = response["statusCode"]
        answer_headers = [(name, value) for name, values in response["multiValueHeaders"].items() for value in values]
        start_response(f"{status} {HTTPStatus(status).phrase}", answer_headers)
        return [response["body"].encode()]

    return app


# Generated requests ------------------------------------------------------------------------------------------

CASES = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


OPERATIONS = [("/predict", "POST"), ("/applicants/{applicant_id}/prediction", "GET")]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@CASES
@given(data=st.data())
def test_valid_requests_get_a_documented_answer(
    function: Deployed, path: str, method: str, data: st.DataObject
) -> None:
    case = data.draw(SCHEMA[path][method].as_strategy(GenerationMode.POSITIVE))
    response = case.call_and_validate(base_url=BASE_URL, app=as_wsgi(function), excluded_checks=NOT_THE_FUNCTIONS)
    # 404: an applicant id API Gateway routes but Powertools' route pattern does not match (a "/", a quote...).
    assert response.status_code in (200, 404), response.text


@CASES
@given(data=st.data())
def test_invalid_bodies_are_refused_with_a_documented_answer(function: Deployed, data: st.DataObject) -> None:
    """(A path parameter that is any non-empty string cannot be sent invalid: only the body can.)"""
    case = data.draw(SCHEMA["/predict"]["POST"].as_strategy(GenerationMode.NEGATIVE))
    response = case.call_and_validate(base_url=BASE_URL, app=as_wsgi(function), excluded_checks=NOT_THE_FUNCTIONS)
    assert response.status_code == 400, response.text


# The contract's own examples ---------------------------------------------------------------------------------


def documented(path: str, method: str, response: TestResponse) -> Any:
    """The answer's JSON body, once its status is one the document lists for the operation and its body is
    what the document allows for that status."""
    assert str(response.status_code) in CONTRACT["paths"][path][method.lower()]["responses"], response.status_code
    SCHEMA[path][method].validate_response(response)
    return json.loads(response.get_data(as_text=True))


def post(function: Deployed, body: str | None) -> tuple[int, Any]:
    response = Client(as_wsgi(function)).post(
        "/v1/predict", data=body, headers={"Content-Type": "application/json"} if body is not None else {}
    )
    return response.status_code, documented("/predict", "POST", response)


def without(*keys: str) -> dict[str, Any]:
    return {key: value for key, value in RECORD.items() if key not in keys}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (json.dumps({"records": [without("age")]}), 400, "records[0].age: field required"),
        (json.dumps({**RECORD, "income": "53"}), 400, "income: input should be a valid number"),
        (json.dumps({**RECORD, "incmoe": 52000}), 400, "incmoe: unknown field"),
        (json.dumps({"records": [RECORD] * 101}), 400, "records: at most 100 records per request"),
        (None, 400, 'body: send a JSON body: one record object or {"records": [record, ...]}'),
        ('{"records": [', 400, "body: malformed JSON"),
    ],
)
def test_the_contracts_bad_requests(function: Deployed, body: str | None, status: int, error: str) -> None:
    calls = function.endpoint.calls
    got_status, answer = post(function, body)
    assert (got_status, answer["error"]) == (status, error)
    assert function.endpoint.calls == calls  # nothing reached the endpoint


def test_an_unseen_category_is_scored_not_refused(function: Deployed) -> None:
    status, body = post(function, json.dumps({**RECORD, "region": "atlantis", "applicant_id": "a-1"}))
    assert status == 200
    assert body["predictions"] == [{"applicant_id": "a-1", "probability": 0.41, "decision": "approve"}]
    assert body["model"]["model_version"] == 3


def test_a_stored_applicant_is_scored_and_an_unknown_one_is_a_404(function: Deployed) -> None:
    client, route = Client(as_wsgi(function)), "/applicants/{applicant_id}/prediction"
    known = client.get("/v1/applicants/A000017/prediction")
    assert known.status_code == 200
    assert documented(route, "GET", known)["predictions"][0]["applicant_id"] == "A000017"
    unknown = client.get(f"/v1/applicants/{UNKNOWN_APPLICANT}/prediction")
    assert (unknown.status_code, documented(route, "GET", unknown)) == (
        404,
        {"error": f"no features for applicant {UNKNOWN_APPLICANT} in the online store"},
    )
