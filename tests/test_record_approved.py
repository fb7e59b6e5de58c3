"""The registry's recorder (lambdas/record_approved), with stubbed SSM, SageMaker and CodePipeline clients and
fake credentials (no AWS call). Also run on the Lambda runtime's Python (tests/test_lambda_runtime.py): boto3
and pytest only."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.record_approved import recorder

FUNCTION_DIR = Path(recorder.__file__).parent
GROUP, PARAMETER, PIPELINE = "mlops-sandbox-models", "/mlops-sandbox/model-package", "mlops-sandbox-platform"
V1, V2, V3 = (f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/{n}" for n in (1, 2, 3))
EXECUTION = "0f6e2f4c-5f0b-4c53-9d3e-1b2a3c4d5e6f"


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any, Any, Stubber, Stubber, Stubber]]:
    """(ssm, sagemaker, codepipeline, their stubbers): a call nobody stubbed fails the test."""
    ssm, sagemaker, codepipeline = client("ssm"), client("sagemaker"), client("codepipeline")
    with Stubber(ssm) as ssm_stub, Stubber(sagemaker) as sm_stub, Stubber(codepipeline) as cp_stub:
        yield ssm, sagemaker, codepipeline, ssm_stub, sm_stub, cp_stub
        for stub in (ssm_stub, sm_stub, cp_stub):
            stub.assert_no_pending_responses()


Clients = tuple[Any, Any, Any, Stubber, Stubber, Stubber]


def event(status: str, arn: str = V3, group: str = GROUP) -> dict[str, Any]:
    """The "SageMaker Model Package State Change" event, with the detail fields the function reads."""
    return {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {"ModelPackageArn": arn, "ModelPackageGroupName": group, "ModelApprovalStatus": status},
    }


def run(clients: Clients, payload: dict[str, Any]) -> dict[str, Any]:
    ssm, sagemaker, codepipeline, *_ = clients
    return recorder.on_state_change(
        ssm, sagemaker, codepipeline, payload, parameter_name=PARAMETER, pipeline_name=PIPELINE, group=GROUP
    )


def holds(stub: Stubber, value: str) -> None:
    stub.add_response(
        "get_parameter", {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": value}}, {"Name": PARAMETER}
    )


def writes(stub: Stubber, value: str) -> None:
    stub.add_response(
        "put_parameter",
        {"Version": 2, "Tier": "Standard"},
        {"Name": PARAMETER, "Value": value, "Type": "String", "Overwrite": True},
    )


def starts(stub: Stubber) -> None:
    stub.add_response("start_pipeline_execution", {"pipelineExecutionId": EXECUTION}, {"name": PIPELINE})


def approved_versions(stub: Stubber, *arns: str) -> None:
    stub.add_response(
        "list_model_packages",
        {
            "ModelPackageSummaryList": [
                {
                    "ModelPackageArn": arn,
                    "CreationTime": datetime(2026, 3, 1, tzinfo=UTC),
                    "ModelPackageStatus": "Completed",
                }
                for arn in arns
            ]
        },
        {
            "ModelPackageGroupName": GROUP,
            "ModelApprovalStatus": "Approved",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 2,
        },
    )


@pytest.mark.parametrize(
    ("current", "arn"),
    [(V2, V3), (recorder.NONE, V1), (V1, V2), (None, V1), ("edited-by-hand", V1)],
    ids=[
        "a newer version",
        "the first version",
        "a re-approval of a rejected newer version",
        "no parameter yet",
        "a value written by hand",
    ],
)
def test_an_approved_version_newer_than_the_recorded_one_is_recorded_then_deployed(
    clients: Clients, current: str | None, arn: str
) -> None:
    *_, ssm_stub, _, cp_stub = clients
    if current is None:  # the function creates the parameter on its first decision
        ssm_stub.add_client_error("get_parameter", service_error_code="ParameterNotFound")
    else:
        holds(ssm_stub, current)
    writes(ssm_stub, arn)
    starts(cp_stub)
    assert run(clients, event("Approved", arn)) == {"recorded": arn, "execution": EXECUTION}


@pytest.mark.parametrize(
    ("current", "arn", "reason"),
    [
        (V3, V3, f"ignored: {V3} is already the recorded version"),
        (V3, V1, f"ignored: {V1} is older than the recorded version {V3}; reject that one to roll back"),
    ],
    ids=["the event again, or another change of the recorded version", "a change of an older approved version"],
)
def test_an_approved_event_that_would_not_move_forward_changes_nothing(
    clients: Clients, current: str, arn: str, reason: str
) -> None:
    """SageMaker may send one change more than once, and sends the event for other changes of an approved version
    (facts: model-package-state-change-event): neither re-runs the pipeline nor rolls production back."""
    *_, ssm_stub, _, _ = clients
    holds(ssm_stub, current)
    assert run(clients, event("Approved", arn)) == {"ignored": reason}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (event("Approved", group="mlops-other-models"), f"ignored: {V3} is in group mlops-other-models, not {GROUP}"),
        (event("Rejected", group="mlops-other-models"), f"ignored: {V3} is in group mlops-other-models, not {GROUP}"),
        (event("PendingManualApproval"), f"ignored: {V3} is PendingManualApproval, neither Approved nor Rejected"),
        ({"detail": {"ModelPackageGroupName": GROUP, "ModelApprovalStatus": "Approved"}}, "without a ModelPackageArn"),
        ({}, "is in group None"),  # a test invocation from the console
    ],
    ids=["approved of another group", "rejected of another group", "pending", "no arn", "no detail"],
)
def test_an_event_it_must_not_act_on_calls_nothing(clients: Clients, payload: dict[str, Any], reason: str) -> None:
    result = run(clients, payload)  # nothing stubbed: any call would fail the test
    assert list(result) == ["ignored"]
    assert reason in result["ignored"]


@pytest.mark.parametrize("current", [V2, recorder.NONE])
def test_rejecting_a_version_that_is_not_recorded_changes_nothing(clients: Clients, current: str) -> None:
    *_, ssm_stub, _, _ = clients
    holds(ssm_stub, current)
    assert run(clients, event("Rejected", V3)) == {
        "ignored": f"ignored: rejected {V3} is not the recorded version ({current})"
    }


@pytest.mark.parametrize("listed", [(V2, V1), (V3, V2)], ids=["list current", "list still shows the rejected version"])
def test_rejecting_the_recorded_version_rolls_back_to_the_newest_approved(
    clients: Clients, listed: tuple[str, str]
) -> None:
    *_, ssm_stub, sm_stub, cp_stub = clients
    holds(ssm_stub, V3)
    approved_versions(sm_stub, *listed)
    writes(ssm_stub, V2)
    starts(cp_stub)
    assert run(clients, event("Rejected", V3)) == {"rejected": V3, "rolled_back_to": V2, "execution": EXECUTION}


@pytest.mark.parametrize("listed", [(), (V3,)], ids=["none approved", "only the rejected one listed"])
def test_rejecting_the_only_approved_version_records_none(clients: Clients, listed: tuple[str, ...]) -> None:
    """The pipeline then removes the endpoints (production only after its manual approval)."""
    *_, ssm_stub, sm_stub, cp_stub = clients
    holds(ssm_stub, V3)
    approved_versions(sm_stub, *listed)
    writes(ssm_stub, recorder.NONE)
    starts(cp_stub)
    result = run(clients, event("Rejected", V3))
    assert result == {"rejected": V3, "rolled_back_to": "none", "execution": EXECUTION}


def test_a_failed_start_is_an_error_not_a_silent_record(clients: Clients) -> None:
    _, _, codepipeline, ssm_stub, _, cp_stub = clients
    holds(ssm_stub, V2)
    writes(ssm_stub, V3)
    cp_stub.add_client_error("start_pipeline_execution", service_error_code="PipelineNotFoundException")
    with pytest.raises(codepipeline.exceptions.PipelineNotFoundException):
        run(clients, event("Approved"))  # Lambda retries (the write is idempotent), then the dead-letter queue


def test_rejecting_before_any_decision_changes_nothing(clients: Clients) -> None:
    """No parameter yet (the function creates it on its first decision): nothing is recorded, so nothing rolls
    back."""
    *_, ssm_stub, _, _ = clients
    ssm_stub.add_client_error("get_parameter", service_error_code="ParameterNotFound")
    assert run(clients, event("Rejected", V3)) == {
        "ignored": f"ignored: rejected {V3} is not the recorded version (none)"
    }


def test_handler_reads_its_configuration_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for key, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PARAMETER_NAME": PARAMETER,
        "PIPELINE_NAME": PIPELINE,
        "MODEL_PACKAGE_GROUP": GROUP,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(FUNCTION_DIR))  # Lambda runs handler.py with its folder on the path
    for name in ("handler", "recorder"):
        sys.modules.pop(name, None)
    handler = importlib.import_module("handler")
    with Stubber(handler.SSM) as ssm_stub, Stubber(handler.CODEPIPELINE) as cp_stub, Stubber(handler.SAGEMAKER):
        holds(ssm_stub, V2)
        writes(ssm_stub, V3)
        starts(cp_stub)
        with caplog.at_level(logging.INFO):
            result = handler.handler(event("Approved"), None)
        ssm_stub.assert_no_pending_responses()
        cp_stub.assert_no_pending_responses()
    assert result == {"recorded": V3, "execution": EXECUTION}
    assert [json.loads(r.getMessage()) for r in caplog.records if r.name == "root"] == [result]
