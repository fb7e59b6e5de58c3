"""The prediction function (lambdas/invoke_endpoint): its routes over botocore-stubbed SageMaker runtime and
feature store clients with fake credentials (no AWS call), and its entry point with Powertools' logs and
metrics. Also run on the Lambda runtime's Python (tests/test_lambda_runtime.py): boto3, pytest and the
function's own libraries only."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics.provider import cold_start
from botocore.stub import Stubber

from tests.invoke_endpoint_support import (
    CATEGORICAL,
    MODEL_ID,
    NUMERIC,
    PACKAGE_ARN,
    RECORD,
    LambdaContext,
    client,
    endpoint_answer,
    endpoint_body,
    function_environment,
    function_module,
    predict_event,
    rest_event,
    stored_event,
)

ROOT = Path(__file__).resolve().parent.parent
api = function_module("api")
models = function_module("models")
METRICS = Metrics(namespace="Test")  # the tests' own instance: the metric set is shared, the namespace is not
SETTINGS = api.Settings(
    endpoint_name="credit-endpoint",
    decision_threshold=0.5,
    variant_packages={"Primary": PACKAGE_ARN},
    feature_group_name="credit-features",
)
BUSY = {"error": "the model is busy; retry with backoff"}
INTERNAL = {"error": "internal error"}


# One client of each, reused (creating one takes ~20 ms); each test stubs them afresh.
CLIENTS = {service: client(service) for service in ("sagemaker-runtime", "sagemaker-featurestore-runtime")}


class Function:
    """The resolver over stubbed clients: ``call(event)`` -> (status, JSON body)."""

    def __init__(self, settings: Any = SETTINGS) -> None:
        self.runtime, self.feature_store = CLIENTS["sagemaker-runtime"], CLIENTS["sagemaker-featurestore-runtime"]
        self.runtime_stub, self.store_stub = Stubber(self.runtime), Stubber(self.feature_store)
        self.app = api.create_app(settings, runtime=self.runtime, feature_store=self.feature_store, metrics=METRICS)

    def call(self, event: dict[str, Any]) -> tuple[int, Any]:
        with self.runtime_stub, self.store_stub:
            response = self.app.resolve(event, LambdaContext())
        assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
        return response["statusCode"], json.loads(response["body"])

    def expect_scoring(self, *records: dict[str, Any], answer: dict[str, Any]) -> None:
        params = {
            "EndpointName": "credit-endpoint",
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": endpoint_body(*records),
        }
        self.runtime_stub.add_response("invoke_endpoint", answer, params)

    def expect_lookup(self, applicant_id: str, record: list[dict[str, str]] | None) -> None:
        params = {
            "FeatureGroupName": "credit-features",
            "RecordIdentifierValueAsString": applicant_id,
            "FeatureNames": [*NUMERIC, *CATEGORICAL],
        }
        self.store_stub.add_response("get_record", {} if record is None else {"Record": record}, params)


@pytest.fixture
def function() -> Iterator[Function]:
    made = Function()
    yield made
    made.runtime_stub.assert_no_pending_responses()
    made.store_stub.assert_no_pending_responses()
    METRICS.clear_metrics()


def model(variant: str = "Primary", arn: str | None = PACKAGE_ARN, version: int | None = 3) -> dict[str, Any]:
    return {"variant": variant, "model_package_arn": arn, "model_version": version, "model_id": MODEL_ID}


# The record and its model inputs -----------------------------------------------------------------------------


def test_model_inputs_are_the_eight_raw_features_in_training_order() -> None:
    assert (*NUMERIC, *CATEGORICAL) == (
        "age",
        "income",
        "debt_to_income",
        "credit_history_years",
        "open_accounts",
        "employment_type",
        "education",
        "region",
    )
    assert (*NUMERIC, *CATEGORICAL) == models.MODEL_INPUTS
    assert set(models.ApplicantRecord.model_fields) - set(models.MODEL_INPUTS) == {"applicant_id", "event_time", "sex"}


# POST /predict ------------------------------------------------------------------------------------------------


def test_one_record_is_scored_with_the_model_that_answered(function: Function) -> None:
    record = {**RECORD, "applicant_id": "a-17", "event_time": "2026-11-30T10:00:00Z", "sex": "female"}
    function.expect_scoring(RECORD, answer=endpoint_answer([0.73]))  # the model inputs only: no id, no sex
    status, body = function.call(predict_event(record))
    assert status == 200
    assert body == {
        "predictions": [{"applicant_id": "a-17", "probability": 0.73, "decision": "decline"}],
        "model": model(),
    }


def test_a_batch_is_one_call_answered_in_order_with_decisions_at_the_threshold(function: Function) -> None:
    records = [{**RECORD, "applicant_id": "a"}, {**RECORD, "age": 23}, {**RECORD, "applicant_id": "c"}]
    function.expect_scoring(*records, answer=endpoint_answer([0.5, 0.49999, 0.9]))
    status, body = function.call(predict_event({"records": records}))
    assert status == 200
    assert body["predictions"] == [
        {"applicant_id": "a", "probability": 0.5, "decision": "decline"},  # at the threshold: decline
        {"applicant_id": None, "probability": 0.49999, "decision": "approve"},
        {"applicant_id": "c", "probability": 0.9, "decision": "decline"},
    ]


def test_nulls_and_unseen_categories_go_to_the_model_which_imputes_and_encodes_them(function: Function) -> None:
    record = {**RECORD, "income": None, "education": None, "region": "atlantis", "employment_type": ""}
    function.expect_scoring(record, answer=endpoint_answer([0.2]))
    status, body = function.call(predict_event(record))
    assert (status, body["predictions"][0]["decision"]) == (200, "approve")


def test_a_variant_without_a_known_package_still_answers(function: Function) -> None:
    function.expect_scoring(RECORD, answer=endpoint_answer([0.1], variant="Challenger"))
    status, body = function.call(predict_event(RECORD))
    assert (status, body["model"]) == (200, model("Challenger", None, None))


@pytest.mark.parametrize(
    ("payload", "error", "details"),
    [
        (
            {"records": [{k: v for k, v in RECORD.items() if k != "age"}]},
            "records[0].age: field required",
            [("records[0].age", "field required")],
        ),
        (
            {k: v for k, v in RECORD.items() if k not in ("age", "region")},
            "age: field required (and 1 more)",
            [("age", "field required"), ("region", "field required")],
        ),
        ({**RECORD, "income": "53"}, "income: input should be a valid number", None),
        ({**RECORD, "open_accounts": True}, "open_accounts: input should be a valid number", None),
        ({**RECORD, "age": -1}, "age: input should be greater than or equal to 0", None),
        ({**RECORD, "region": 7}, "region: input should be a valid string", None),
        ({**RECORD, "incme": 1}, "incme: unknown field", None),
        (
            {"records": [RECORD, {**RECORD, "debt_to_income": "x"}, RECORD]},
            "records[1].debt_to_income: input should be a valid number",
            None,
        ),
        ({"records": [RECORD] * 101}, "records: at most 100 records per request", None),
        ({"records": []}, "records: at least 1 record", None),
        ({"records": [RECORD], "extra": 1}, "extra: unknown field", None),
        ([RECORD], 'body: send one record object or {"records": [record, ...]}', None),
        ('{"age": NaN}', None, None),  # json.loads reads NaN: not a finite number (nor is 1e400)
        ("", 'body: send a JSON body: one record object or {"records": [record, ...]}', None),
        ("null", 'body: send a JSON body: one record object or {"records": [record, ...]}', None),
        ('{"age": 41,', "body: malformed JSON", [("body", "malformed JSON")]),
    ],
)
def test_bad_requests_are_400_naming_the_field_and_the_rule(
    function: Function, payload: Any, error: str | None, details: list[tuple[str, str]] | None
) -> None:
    status, body = function.call(predict_event(payload))  # no stubbed response: the endpoint is never called
    assert status == 400
    assert set(body) == {"error", "details"}
    if error is not None:
        assert body["error"] == error
    if details is not None:
        assert [(d["field"], d["rule"]) for d in body["details"]] == details
    assert "\n" not in body["error"]


def test_a_bad_request_never_echoes_the_values_it_rejects(function: Function) -> None:
    _, body = function.call(predict_event({**RECORD, "income": "secret-income-123", "zz": "secret-2"}))
    assert "secret" not in json.dumps(body)


def test_a_body_that_is_not_json_content_is_a_400(function: Function) -> None:
    event = rest_event("POST", "/predict", body="age=41", headers={"Content-Type": "text/plain"})
    status, body = function.call(event)
    assert status == 400 and body["details"]


@pytest.mark.parametrize(
    ("code", "status", "answer"),
    [
        ("ThrottlingException", 503, BUSY),
        ("ServiceUnavailable", 503, BUSY),
        ("ModelError", 502, {"error": "the model could not score this request"}),
        ("ValidationError", 500, INTERNAL),
        ("ModelNotReadyException", 500, INTERNAL),
    ],
)
def test_endpoint_errors_map_to_statuses_without_leaking_details(
    function: Function, code: str, status: int, answer: dict[str, str]
) -> None:
    function.runtime_stub.add_client_error("invoke_endpoint", service_error_code=code, service_message="secret")
    assert function.call(predict_event(RECORD)) == (status, answer)


OFF_CONTRACT = "the endpoint's answer is not the serving contract"


@pytest.mark.parametrize(
    ("answer", "logged_reason"),
    [
        ({"predictions": [0.1, 0.2], "model_id": MODEL_ID}, "the endpoint answered 2 predictions for 1 records"),
        ({"predictions": [], "model_id": MODEL_ID}, "the endpoint answered 0 predictions for 1 records"),
        ({"predictions": [1.5], "model_id": MODEL_ID}, OFF_CONTRACT),  # not a probability
        ({"predictions": [0.1]}, OFF_CONTRACT),  # no model_id
        ([0.1], OFF_CONTRACT),
        ("0.1\n", OFF_CONTRACT),  # the CSV the endpoint answered before
    ],
)
def test_an_answer_off_the_serving_contract_is_a_logged_500_never_a_guess(
    function: Function, answer: Any, logged_reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
    function.runtime_stub.add_response("invoke_endpoint", endpoint_answer([], raw=raw))
    assert function.call(predict_event(RECORD)) == (500, INTERNAL)
    assert logged_reason in caplog.text


def test_an_unknown_route_is_a_json_404(function: Function) -> None:
    assert function.call(rest_event("GET", "/predict")) == (404, {"error": "no route GET /predict"})


# GET /applicants/{applicant_id}/prediction --------------------------------------------------------------------


def stored(**values: str) -> list[dict[str, str]]:
    return [{"FeatureName": name, "ValueAsString": value} for name, value in values.items()]


def test_an_applicants_stored_features_are_converted_and_scored(function: Function) -> None:
    features = stored(
        age="41.0", income="52000.0", debt_to_income="0.31", credit_history_years="12", open_accounts="3"
    ) + stored(employment_type="salaried", region="north")  # no education in the record: null, imputed
    function.expect_lookup("a-17", features)
    function.expect_scoring({**RECORD, "education": None}, answer=endpoint_answer([0.61]))
    status, body = function.call(stored_event("a-17"))
    assert status == 200
    assert body == {
        "predictions": [{"applicant_id": "a-17", "probability": 0.61, "decision": "decline"}],
        "model": model(),
    }


def test_an_applicant_the_online_store_does_not_hold_is_a_404(function: Function) -> None:
    function.expect_lookup("nobody", None)  # GetRecord answers an empty result for an unknown identifier
    assert function.call(stored_event("nobody")) == (
        404,
        {"error": "no features for applicant nobody in the online store"},
    )


def test_without_a_feature_group_the_route_is_a_501_and_reads_nothing() -> None:
    function = Function(api.Settings(endpoint_name="credit-endpoint", decision_threshold=0.5))
    assert function.call(stored_event("a-17")) == (501, {"error": "this deployment has no online feature store"})


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottlingException", 503), ("ResourceNotFound", 500), ("AccessForbidden", 500)]
)
def test_feature_store_errors_map_to_statuses(function: Function, code: str, status: int) -> None:
    function.store_stub.add_client_error("get_record", service_error_code=code, service_message="secret")
    got_status, body = function.call(stored_event("a-17"))
    assert got_status == status and "secret" not in json.dumps(body)


def test_a_stored_value_that_is_not_a_number_is_a_500(function: Function) -> None:
    function.expect_lookup("a-17", stored(age="forty", income="1", region="north"))
    assert function.call(stored_event("a-17")) == (500, INTERNAL)


# Configuration, model versions ----------------------------------------------------------------------------------


def test_settings_come_from_the_stacks_environment() -> None:
    environ = {
        "ENDPOINT_NAME": "ep",
        "DECISION_THRESHOLD": "0.35",
        "VARIANT_PACKAGES": json.dumps({"Primary": PACKAGE_ARN}),
        "FEATURE_GROUP_NAME": "fg",
    }
    assert api.Settings.from_env(environ) == api.Settings("ep", 0.35, {"Primary": PACKAGE_ARN}, "fg")
    minimal = api.Settings.from_env({"ENDPOINT_NAME": "ep", "DECISION_THRESHOLD": "0.5", "FEATURE_GROUP_NAME": ""})
    assert (minimal.variant_packages, minimal.feature_group_name) == ({}, None)


@pytest.mark.parametrize(
    "environ",
    [
        {"ENDPOINT_NAME": "ep"},
        {"ENDPOINT_NAME": "ep", "DECISION_THRESHOLD": "high"},
        {"ENDPOINT_NAME": "ep", "DECISION_THRESHOLD": "1.5"},
        {"ENDPOINT_NAME": "ep", "DECISION_THRESHOLD": "0.5", "VARIANT_PACKAGES": '["arn"]'},
        {"DECISION_THRESHOLD": "0.5"},
    ],
)
def test_a_misconfigured_function_fails_at_start(environ: dict[str, str]) -> None:
    with pytest.raises((KeyError, ValueError)):
        api.Settings.from_env(environ)


@pytest.mark.parametrize(
    ("arn", "version"),
    [(PACKAGE_ARN, 3), ("arn:aws:sagemaker:eu-west-1:111122223333:model-package/p-models/12", 12), ("x", None)],
)
def test_the_model_version_is_the_package_arns_last_segment(arn: str, version: int | None) -> None:
    assert api.model_version(arn) == version
    assert api.model_version(None) is None


# The entry point: environment, Powertools logs and metrics ------------------------------------------------------


@dataclass
class Entry:
    module: Any  # handler.py, imported as Lambda imports it
    logs: io.StringIO  # what its Powertools logger writes (JSON lines)

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self.module.handler(event, LambdaContext())
        return response

    def logged(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines()]


@pytest.fixture
def entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Entry]:
    for key, value in function_environment("test").items():
        monkeypatch.setenv(key, value)
    function_module("api", fresh=True)  # its child logger reads the service name when imported
    module = function_module("handler", fresh=True)
    cold_start.is_cold_start = True  # a fresh import is a new container: its first call is a cold start
    logs = io.StringIO()
    # Powertools configures the service's logger once per process, on the stdout of that moment: read it here.
    previous = module.logger.registered_handler.setStream(logs)
    yield Entry(module, logs)
    module.logger.registered_handler.setStream(previous)
    module.metrics.clear_metrics()


def metrics_logged(output: str) -> list[dict[str, Any]]:
    """The embedded-metric-format documents Powertools' Metrics printed."""
    return [document for line in output.splitlines() if "_aws" in (document := json.loads(line))]


def test_the_handler_scores_logs_with_the_request_id_and_emits_metrics(
    entry: Entry, capsys: pytest.CaptureFixture[str]
) -> None:
    with Stubber(entry.module.RUNTIME) as stub:
        stub.add_response("invoke_endpoint", endpoint_answer([0.2, 0.8]), None)
        response = entry.call(predict_event({"records": [RECORD, RECORD]}))
    assert response["statusCode"] == 200
    assert [p["decision"] for p in json.loads(response["body"])["predictions"]] == ["approve", "decline"]
    (scored,) = [line for line in entry.logged() if line["message"] == "scored"]
    assert scored["correlation_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # requestContext.requestId
    assert (scored["service"], scored["records"], scored["variant"]) == ("credit-scoring-test", 2, "Primary")
    documents = metrics_logged(capsys.readouterr().out)
    (scoring,) = [document for document in documents if "Latency" in document]
    (directive,) = scoring["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "MLPlatform/Test"
    assert {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]} == {
        "Latency": "Milliseconds",
        "RecordsScored": "Count",
    }
    assert scoring["RecordsScored"] == [2.0] and scoring["service"] == "credit-scoring-test"
    assert any("ColdStart" in document for document in documents)


def test_the_handler_counts_bad_requests(entry: Entry, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.call(predict_event({"records": [{"age": 1}]}))["statusCode"] == 400
    (document,) = [d for d in metrics_logged(capsys.readouterr().out) if "BadRequests" in d]
    assert document["BadRequests"] == [1.0]
    (line,) = [line for line in entry.logged() if line["message"] == "bad request"]
    assert line["problem"] == "records[0].income: field required (and 6 more)"


def test_the_handler_reads_stored_features_through_its_own_client(entry: Entry) -> None:
    with Stubber(entry.module.FEATURE_STORE) as stub:
        stub.add_response("get_record", {}, None)
        assert entry.call(stored_event("nobody"))["statusCode"] == 404


def test_a_failure_is_logged_with_the_request_id_and_answered_without_it(entry: Entry) -> None:
    with Stubber(entry.module.RUNTIME) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ModelError", service_message="boom")
        response = entry.call(predict_event(RECORD))
    assert (response["statusCode"], json.loads(response["body"])) == (
        502,
        {"error": "the model could not score this request"},
    )
    (line,) = [line for line in entry.logged() if line["level"] == "ERROR"]
    assert line["correlation_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" and "ModelError" in line["message"]


# What the function is tested with is what it ships ----------------------------------------------------------


def test_the_installed_libraries_are_the_versions_the_function_bundles() -> None:
    """This venv (.venv, or .venv-lambda on the runtime's Python) runs the pinned versions of
    lambdas/invoke_endpoint/requirements.txt, the lock its asset is built from."""
    text = (ROOT / "lambdas" / "invoke_endpoint" / "requirements.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", text, re.MULTILINE)
    assert len(pins) >= 5
    assert {name: metadata.version(name) for name, _ in pins} == dict(pins)
