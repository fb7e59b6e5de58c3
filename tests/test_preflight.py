"""`make preflight` offline: every check's ok and failure paths, with the line a user reads, through botocore's
Stubber (fake credentials, eu-west-1, no network)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from config.catalogs import CONFIG_DIR
from config.facts import fact
from config.loader import apply_overrides, parse_settings
from config.schema import PlatformConfig
from tools import preflight
from tools.preflight import Check, Target

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
ACCOUNT = "111122223333"
TODAY = dt.date(2026, 3, 10)
SANDBOX_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/mlops-sandbox-models/3"
PRODUCTION_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/mlops-production-models/3"


def queried(config: PlatformConfig) -> list[str]:
    """The endpoint services preflight asks about for ``config``, in its order (idle and serving)."""
    return preflight.endpoint_services(config)


@cache
def client(service: str) -> Any:
    """One client per service for the whole module (building one loads its API model: the slow part); each
    test wraps it in a fresh Stubber."""
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stubbed() -> Iterator[Any]:
    """``stubbed("ec2")`` -> (client, stubber); every stubber must have been used up when the test ends."""
    made: list[Stubber] = []

    def make(service: str) -> tuple[Any, Stubber]:
        aws = client(service)
        stubber = Stubber(aws)
        stubber.activate()
        made.append(stubber)
        return aws, stubber

    yield make
    for stubber in made:  # clients are shared: release every stubber before judging any
        stubber.deactivate()
    for stubber in made:
        stubber.assert_no_pending_responses()


@cache
def _text(name: str) -> str:
    return (CONFIG_DIR / f"{name}.yaml").read_text(encoding="utf-8")


def profile(name: str = "sandbox", **overrides: Any) -> PlatformConfig:
    """A profile of config/ with ``section__field=value`` overrides, validated like a file."""
    raw = yaml.safe_load(_text(name))
    return parse_settings(apply_overrides(raw, {k.replace("__", "."): v for k, v in overrides.items()}), name)


def target(config: PlatformConfig, make_args: str = "", **deployed: bool) -> Target:
    return Target(config, ACCOUNT, REGION, make_args, dict(deployed))


def lines(results: list[Check]) -> list[str]:
    return [result.line() for result in results]


# --- Lines and results ---------------------------------------------------------------------------------------


def test_each_status_prints_one_aligned_line() -> None:
    assert Check("vpcs", "ok", "2 of 5").line() == "ok      vpcs: 2 of 5"
    assert Check("vpcs", "missing", "5 of 5", "delete one").line() == "missing vpcs: 5 of 5 -> delete one"
    assert Check("x", "warn", "cannot tell", "look").line() == "warn    x: cannot tell -> look"


def test_an_unexpected_api_error_is_one_warn_line_naming_the_permission(stubbed: Any) -> None:
    ssm, stub = stubbed("ssm")
    stub.add_client_error(
        "get_parameter", "AccessDeniedException", "User is not authorized to perform ssm:GetParameter"
    )
    (line,) = lines(
        preflight.guarded(
            "cdk bootstrap", "ssm:GetParameter", lambda: preflight.check_bootstrap(ssm, target(profile()))
        )
    )
    assert line == (
        "warn    cdk bootstrap: could not check (AccessDeniedException: User is not authorized to perform "
        "ssm:GetParameter) -> allow ssm:GetParameter to this caller and run preflight again"
    )


# --- CDK bootstrap -----------------------------------------------------------------------------------------------


def bootstrap(stub: Stubber, version: str | None) -> None:
    params = {"Name": "/cdk-bootstrap/hnb659fds/version"}
    if version is None:
        stub.add_client_error("get_parameter", "ParameterNotFound", expected_params=params)
    else:
        stub.add_response("get_parameter", {"Parameter": {"Name": params["Name"], "Value": version}}, params)


def test_bootstrap_version_the_templates_require_is_ok(stubbed: Any) -> None:
    ssm, stub = stubbed("ssm")
    bootstrap(stub, "30")
    assert lines(preflight.check_bootstrap(ssm, target(profile()))) == [
        f"ok      cdk bootstrap: version 30 in {ACCOUNT}/{REGION} (templates require 6 or later)"
    ]


def test_an_account_never_bootstrapped_is_told_the_make_command(stubbed: Any) -> None:
    ssm, stub = stubbed("ssm")
    bootstrap(stub, None)
    (line,) = lines(preflight.check_bootstrap(ssm, target(profile("production"), " PROFILE=production")))
    assert line == (
        f"missing cdk bootstrap: {ACCOUNT}/{REGION} is not bootstrapped (/cdk-bootstrap/hnb659fds/version not found)"
        " -> make bootstrap PROFILE=production"
    )


def test_an_old_bootstrap_is_missing(stubbed: Any) -> None:
    ssm, stub = stubbed("ssm")
    bootstrap(stub, "5")
    (result,) = preflight.check_bootstrap(ssm, target(profile()))
    assert result.status == "missing"
    assert result.detail == f"bootstrap version 5 in {ACCOUNT}/{REGION}; the templates require 6 or later"


def test_the_required_bootstrap_version_is_the_templates_rule() -> None:
    """The number every synthesized template's CheckBootstrapVersion rule demands (the committed snapshots of
    test_stability are those templates, kept current by that test)."""
    snapshots = sorted((ROOT / "tests" / "__snapshots__" / "test_stability").glob("test_snapshot*.json"))
    assert snapshots
    for path in snapshots:
        template = json.loads(path.read_text(encoding="utf-8"))
        (assertion,) = template["Rules"]["CheckBootstrapVersion"]["Assertions"]
        refused = assertion["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
        assert max(int(v) for v in refused) + 1 == preflight.MIN_BOOTSTRAP_VERSION, path.name
        assert template["Parameters"]["BootstrapVersion"]["Default"] == preflight.BOOTSTRAP_VERSION_PARAMETER


# --- SageMaker quotas ----------------------------------------------------------------------------------------------


def quota(name: str, value: float, code: str = "L-0000TEST") -> dict[str, Any]:
    return {"QuotaName": name, "Value": value, "QuotaCode": code, "ServiceCode": "sagemaker"}


def quotas(stub: Stubber, applied: list[dict[str, Any]], defaults: list[dict[str, Any]] | None = None) -> None:
    stub.add_response("list_aws_default_service_quotas", {"Quotas": defaults or []}, {"ServiceCode": "sagemaker"})
    stub.add_response("list_service_quotas", {"Quotas": applied}, {"ServiceCode": "sagemaker"})


def test_the_sandbox_needs_processing_and_spot_training_only() -> None:
    needs = {n.quota_name: (n.count, n.headroom) for n in preflight.sagemaker_needs(profile())}
    # Bias report and feature ingestion start together after preprocessing; evaluation may overlap them.
    assert needs == {"ml.m5.large for processing job usage": (2, 3), "ml.m5.large for spot training job usage": (1, 1)}


def test_serving_and_tuning_needs_follow_the_profile_and_the_definitions() -> None:
    production = profile("production", inference__model_package_arn=PRODUCTION_ARN)
    needs = {n.quota_name: (n.count, n.headroom) for n in preflight.sagemaker_needs(production)}
    assert needs["ml.m5.xlarge for training job usage"] == (2, 2)  # MaxParallelTrainingJobs of tune.json
    assert needs["ml.m5.xlarge for endpoint usage"] == (2, 6)  # min 2, autoscaling to 6
    assert needs["ml.m5.xlarge for transform job usage"] == (1, 1)
    assert needs["ml.m5.large for processing job usage"] == (1, 1)  # the drift job's own type (drift.json)
    sandbox = profile(inference__model_package_arn=SANDBOX_ARN)
    serving = {n.quota_name: (n.count, n.headroom) for n in preflight.sagemaker_needs(sandbox)}
    assert serving["ml.m5.large for endpoint usage"] == (1, 2)  # a blue/green update doubles one instance
    assert serving["ml.m5.large for processing job usage"] == (2, 4)  # the drift job beside the pipeline


def test_quotas_that_cover_the_profile_are_ok(stubbed: Any) -> None:
    service_quotas, stub = stubbed("service-quotas")
    quotas(
        stub, [quota("ml.m5.large for processing job usage", 4), quota("ml.m5.large for spot training job usage", 2)]
    )
    assert lines(preflight.check_sagemaker_quotas(service_quotas, target(profile()))) == [
        "ok      quota ml.m5.large for processing job usage: 4 (applied), 3 needed at most: "
        "2 training-pipeline steps start together, 3 can overlap",
        "ok      quota ml.m5.large for spot training job usage: 2 (applied), 1 needed at most: one training job",
        "ok      quota ml.m5.large for endpoint usage: not needed by this deploy (no model package to serve yet); "
        "run preflight with MODEL_PACKAGE_ARN=<arn> before serving",
    ]


def test_a_zero_quota_is_missing_with_the_exact_increase_request(stubbed: Any) -> None:
    service_quotas, stub = stubbed("service-quotas")
    quotas(
        stub,
        [quota("ml.m5.large for processing job usage", 4)],
        defaults=[quota("ml.m5.large for spot training job usage", 0, "L-1234ABCD")],
    )
    results = preflight.check_sagemaker_quotas(service_quotas, target(profile()))
    assert results[1].line() == (
        "missing quota ml.m5.large for spot training job usage: 0 (AWS default), 1 needed: one training job; the "
        "platform's jobs would fail with ResourceLimitExceeded -> "
        "request an increase of 'ml.m5.large for spot training job usage' to 1 in Service Quotas (aws "
        "service-quotas request-service-quota-increase --service-code sagemaker --quota-code L-1234ABCD "
        "--desired-value 1 --region eu-west-1)"
    )


def test_a_quota_below_the_headroom_is_a_warning(stubbed: Any) -> None:
    service_quotas, stub = stubbed("service-quotas")
    quotas(
        stub, [quota("ml.m5.large for processing job usage", 2), quota("ml.m5.large for spot training job usage", 1)]
    )
    first = preflight.check_sagemaker_quotas(service_quotas, target(profile()))[0]
    assert first.status == "warn"
    assert first.detail == (
        "2 (applied) covers the 2 needed, not the 3 possible: 2 training-pipeline steps start together, 3 can overlap"
    )
    assert first.fix is not None and "to 3 in Service Quotas" in first.fix


def test_an_instance_type_without_a_quota_in_the_region_is_missing(stubbed: Any) -> None:
    service_quotas, stub = stubbed("service-quotas")
    quotas(stub, [quota("ml.m5.large for processing job usage", 4)])
    last = preflight.check_sagemaker_quotas(service_quotas, target(profile()))[1]
    assert last.line() == (
        "missing quota ml.m5.large for spot training job usage: eu-west-1 has no such quota: ml.m5.large is not "
        "offered for spot training job usage here -> choose an instance type offered in eu-west-1 for spot "
        "training job usage in the profile"
    )


def test_quotas_are_read_across_pages(stubbed: Any) -> None:
    service_quotas, stub = stubbed("service-quotas")
    stub.add_response("list_aws_default_service_quotas", {"Quotas": []})
    stub.add_response(
        "list_service_quotas", {"Quotas": [quota("a", 1)], "NextToken": "t"}, {"ServiceCode": "sagemaker"}
    )
    stub.add_response(
        "list_service_quotas", {"Quotas": [quota("b", 2)]}, {"ServiceCode": "sagemaker", "NextToken": "t"}
    )
    assert set(preflight.service_quotas(service_quotas, "sagemaker")) == {"a", "b"}


# --- Lambda concurrency --------------------------------------------------------------------------------------------


def concurrency(stub: Stubber, limit: int, unreserved: int) -> None:
    settings = {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved}
    stub.add_response("get_account_settings", {"AccountLimit": settings})


def test_a_profile_that_reserves_nothing_is_ok_even_with_a_quota_of_10(stubbed: Any) -> None:
    lambda_client, stub = stubbed("lambda")
    concurrency(stub, 10, 10)
    assert lines(preflight.check_lambda_concurrency(lambda_client, target(profile()))) == [
        "ok      lambda concurrency: nothing reserved by this deploy (account quota 10, 10 unreserved)"
    ]


def reserving(**functions: int) -> PlatformConfig:
    return profile("production", inference__model_package_arn=PRODUCTION_ARN, functions__reserved_concurrency=functions)


def test_production_reservations_need_100_unreserved_beside_them(stubbed: Any) -> None:
    serving = reserving(invoke_endpoint=50, drift_starter=1)
    lambda_client, stub = stubbed("lambda")
    concurrency(stub, 1000, 1000)
    concurrency(stub, 10, 10)
    assert lines(preflight.check_lambda_concurrency(lambda_client, target(serving))) == [
        "ok      lambda concurrency: reserving 51 (invoke_endpoint 50, drift_starter 1) leaves 949 of 1000 "
        "unreserved (>= 100)"
    ]
    url = fact("lambda-unreserved-minimum").url
    assert lines(preflight.check_lambda_concurrency(lambda_client, target(serving))) == [
        "missing lambda concurrency: reserving 51 (invoke_endpoint 50, drift_starter 1) leaves -41 of 10 "
        f"unreserved; Lambda keeps at least 100 unreserved ({url}) -> request a Lambda 'Concurrent executions' "
        "quota of at least 151 in Service Quotas, or set functions.reserved_concurrency: null in the profile"
    ]


def test_reservations_of_an_already_deployed_platform_are_only_a_warning(stubbed: Any) -> None:
    lambda_client, stub = stubbed("lambda")
    concurrency(stub, 150, 99)
    serving = reserving(invoke_endpoint=50)
    (result,) = preflight.check_lambda_concurrency(lambda_client, target(serving, Inference=True))
    assert result.status == "warn" and "counted twice" in result.detail


def test_reservations_count_only_functions_the_deploy_creates() -> None:
    idle = profile("production", functions__reserved_concurrency={"invoke_endpoint": 50, "drift_starter": 1})
    assert preflight.reserved_concurrency(idle) == {}  # no endpoint yet: neither function exists
    serving = reserving(invoke_endpoint=50, drift_starter=1)
    assert preflight.reserved_concurrency(serving) == {"invoke_endpoint": 50, "drift_starter": 1}
    asynchronous = profile(
        inference__model_package_arn=SANDBOX_ARN,
        inference__mode="async",
        functions__reserved_concurrency={"invoke_endpoint": 50, "drift_starter": 1},
    )
    assert preflight.reserved_concurrency(asynchronous) == {"drift_starter": 1}  # async serves no API


# --- API Gateway's CloudWatch role ---------------------------------------------------------------------------------


ROLE = f"arn:aws:iam::{ACCOUNT}:role/ApiGatewayLogs"


def gateway_account(stub: Stubber, role: str | None) -> None:
    stub.add_response("get_account", {"cloudwatchRoleArn": role} if role else {})


def test_the_governance_stack_sets_the_api_gateway_role_either_way(stubbed: Any) -> None:
    apigateway, stub = stubbed("apigateway")
    gateway_account(stub, ROLE)
    gateway_account(stub, None)
    config = target(profile())
    assert lines(preflight.check_apigateway_role(apigateway, config)) == [
        f"ok      api gateway logging role: set to {ROLE}; the Governance stack will overwrite it with its own role"
    ]
    assert lines(preflight.check_apigateway_role(apigateway, config)) == [
        "ok      api gateway logging role: not set; the Governance stack will set it"
    ]


def test_an_unset_role_the_profile_leaves_alone_fails_a_serving_deploy(stubbed: Any) -> None:
    apigateway, stub = stubbed("apigateway")
    gateway_account(stub, None)
    gateway_account(stub, None)
    gateway_account(stub, ROLE)
    url = fact("apigateway-account-cloudwatch-role").url
    serving = profile(governance__api_gateway_logging_role=False, inference__model_package_arn=SANDBOX_ARN)
    assert lines(preflight.check_apigateway_role(apigateway, target(serving))) == [
        "missing api gateway logging role: not set in eu-west-1, and governance.api_gateway_logging_role is false "
        f"({url}): the API stage cannot log -> set governance.api_gateway_logging_role: true, or ask the account's "
        "owner to set the role"
    ]
    idle = profile(governance__api_gateway_logging_role=False)
    (result,) = preflight.check_apigateway_role(apigateway, target(idle))
    assert result.status == "warn"
    (result,) = preflight.check_apigateway_role(apigateway, target(idle))
    assert result.line() == (
        f"ok      api gateway logging role: set by the account's owner to {ROLE} "
        "(governance.api_gateway_logging_role: false)"
    )


# --- Cost anomaly detection ----------------------------------------------------------------------------------------


def cost_explorer(stub: Stubber, error: tuple[str, str] | None = None) -> None:
    params = {
        "TimePeriod": {"Start": "2026-03-09", "End": "2026-03-10"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
    }
    if error:
        stub.add_client_error("get_cost_and_usage", error[0], error[1], expected_params=params)
    else:
        stub.add_response("get_cost_and_usage", {}, params)


def project_tag(stub: Stubber, status: str | None = "Active", error: tuple[str, str] | None = None) -> None:
    params = {"TagKeys": ["project"], "Type": "UserDefined"}
    if error:
        stub.add_client_error("list_cost_allocation_tags", error[0], error[1], expected_params=params)
        return
    tags = [{"TagKey": "project", "Type": "UserDefined", "Status": status}] if status else []
    stub.add_response("list_cost_allocation_tags", {"CostAllocationTags": tags}, params)


def organization(stub: Stubber, management: str | None) -> None:
    if management is None:
        stub.add_client_error("describe_organization", "AWSOrganizationsNotInUseException")
    else:
        stub.add_response("describe_organization", {"Organization": {"MasterAccountId": management}})


def anomaly(stubbed: Any, cost: Any = None, tag: Any = "Active", owner: str | None = None) -> list[str]:
    ce, ce_stub = stubbed("ce")
    organizations, org_stub = stubbed("organizations")
    cost_explorer(ce_stub, cost)
    if isinstance(tag, tuple):
        project_tag(ce_stub, error=tag)
    else:
        project_tag(ce_stub, tag)
    organization(org_stub, owner)
    return lines(preflight.check_cost_anomaly(ce, organizations, target(profile("production")), TODAY))


def test_no_cost_explorer_call_when_the_profile_has_no_anomaly_monitor() -> None:
    assert lines(preflight.check_cost_anomaly(None, None, target(profile()), TODAY)) == [
        "ok      cost anomaly detection: off in this profile: nothing to check"
    ]


def test_a_standalone_account_with_cost_explorer_and_the_tag_is_ready(stubbed: Any) -> None:
    assert anomaly(stubbed) == [
        "ok      cost explorer: enabled",
        "ok      cost allocation tag project: active",
        f"ok      anomaly monitor account: {ACCOUNT} is a standalone account: it may create a tag monitor",
    ]


def test_cost_explorer_not_enabled_is_missing(stubbed: Any) -> None:
    result = anomaly(stubbed, cost=("AccessDeniedException", "User not enabled for cost explorer access"))
    assert result[0] == (
        f"missing cost explorer: not enabled in this account ({fact('cost-explorer-console-only').url}) -> open Cost "
        "Explorer once in the Billing and Cost Management console (the API cannot enable it), or set "
        "governance.costs.anomaly_detection: false in the profile"
    )


def test_cost_explorer_ingesting_its_first_data_is_enabled(stubbed: Any) -> None:
    message = "Data is not available. If just enabled Cost Explorer, data might not be ingested yet"
    result = anomaly(stubbed, cost=("DataUnavailableException", message))
    assert result[0] == "ok      cost explorer: enabled; its first data is still being ingested (up to 24 hours)"


def test_an_inactive_project_tag_is_missing_with_the_activation_command(stubbed: Any) -> None:
    result = anomaly(stubbed, tag="Inactive")
    assert result[1] == (
        "missing cost allocation tag project: Inactive: the anomaly monitor would see no costs "
        f"({fact('cost-allocation-tags-activation').url}) -> activate it in the Billing console (Cost allocation "
        "tags), or: aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
        "TagKey=project,Status=Active"
    )


def test_a_tag_billing_has_not_seen_yet_is_a_warning(stubbed: Any) -> None:
    result = anomaly(stubbed, tag=None)
    assert result[1].startswith("warn    cost allocation tag project: Billing has not seen the tag")


def test_a_member_account_cannot_create_the_tag_monitor(stubbed: Any) -> None:
    linked = ("AccessDeniedException", "Failed to list Cost Allocation Tags: Linked account doesn't have access")
    url = fact("cost-anomaly-tag-monitor-management-account").url
    result = anomaly(stubbed, tag=linked, owner="999988887777")
    assert result[1].startswith("missing cost allocation tag project: this member account cannot manage")
    assert result[2] == (
        f"missing anomaly monitor account: {ACCOUNT} is a member of the organization managed by 999988887777: "
        f"only a management or standalone account can create a cost allocation tag monitor ({url}) -> set "
        "governance.costs.anomaly_detection: false in the profile"
    )


def test_the_management_account_may_create_the_tag_monitor(stubbed: Any) -> None:
    assert anomaly(stubbed, owner=ACCOUNT)[2] == (
        f"ok      anomaly monitor account: {ACCOUNT} is its organization's management account"
    )


# --- Model Monitor -------------------------------------------------------------------------------------------------


def test_model_monitor_off_or_not_serving_needs_no_call() -> None:
    assert preflight.check_model_monitor(None, target(profile()))[0].status == "ok"
    idle = profile(monitoring__model_monitor=True)
    assert lines(preflight.check_model_monitor(None, target(idle))) == [
        "ok      model monitor: on, but no schedule is created until an endpoint serves with data capture"
    ]


def test_model_monitor_in_an_account_without_schedules_is_a_warning(stubbed: Any) -> None:
    sagemaker, stub = stubbed("sagemaker")
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": []}, {"MaxResults": 100})
    summary = {
        "MonitoringScheduleName": "old",
        "MonitoringScheduleArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/old",
        "CreationTime": dt.datetime(2024, 1, 1),
        "LastModifiedTime": dt.datetime(2024, 1, 1),
        "MonitoringScheduleStatus": "Scheduled",
    }
    stub.add_response("list_monitoring_schedules", {"MonitoringScheduleSummaries": [summary]}, {"MaxResults": 100})
    serving = target(profile(monitoring__model_monitor=True, inference__model_package_arn=SANDBOX_ARN))
    url = fact("model-monitor-closed-to-new-customers").url
    assert lines(preflight.check_model_monitor(sagemaker, serving)) == [
        f"warn    model monitor: no monitoring schedule in eu-west-1, and Model Monitor is closed to new customers "
        f"({url}): an account that never used it may have its schedules refused -> set monitoring.model_monitor: "
        "false unless this account is an existing Model Monitor customer (the drift job covers feature drift "
        "either way)"
    ]
    assert lines(preflight.check_model_monitor(sagemaker, serving)) == [
        "ok      model monitor: 1 monitoring schedule(s) in eu-west-1: this account uses Model Monitor"
    ]


# --- VPCs and trails -----------------------------------------------------------------------------------------------


def vpcs(stub: Stubber, count: int) -> None:
    stub.add_response("describe_vpcs", {"Vpcs": [{"VpcId": f"vpc-{i}"} for i in range(count)]})


def vpc_quota(stub: Stubber, value: float | None) -> None:
    params = {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"}
    if value is None:
        stub.add_client_error("get_service_quota", "NoSuchResourceException", expected_params=params)
        stub.add_client_error("get_aws_default_service_quota", "NoSuchResourceException", expected_params=params)
    else:
        stub.add_response("get_service_quota", {"Quota": {"Value": value}}, params)


def test_room_for_one_more_vpc_is_ok(stubbed: Any) -> None:
    ec2, ec2_stub = stubbed("ec2")
    service_quotas, quota_stub = stubbed("service-quotas")
    vpcs(ec2_stub, 2)
    vpc_quota(quota_stub, 5)
    assert lines(preflight.check_vpcs(ec2, service_quotas, target(profile()))) == [
        "ok      vpcs: 2 of 5 in eu-west-1; the platform adds 1"
    ]


def test_a_full_vpc_quota_is_missing_unless_the_network_is_deployed(stubbed: Any) -> None:
    ec2, ec2_stub = stubbed("ec2")
    service_quotas, quota_stub = stubbed("service-quotas")
    for _ in range(2):
        vpcs(ec2_stub, 5)
        vpc_quota(quota_stub, None)
    assert lines(preflight.check_vpcs(ec2, service_quotas, target(profile()))) == [
        "missing vpcs: 5 of 5 (the default; Service Quotas did not answer) in eu-west-1: no room for the platform's "
        "VPC -> delete an unused VPC, or request an increase of 'VPCs per Region' (L-F678F1CE) in Service Quotas"
    ]
    (result,) = preflight.check_vpcs(ec2, service_quotas, target(profile(), Network=True))
    assert result.status == "ok" and result.detail.endswith("the platform's VPC already exists")


def test_five_trails_leave_no_room_for_the_platform_trail(stubbed: Any) -> None:
    cloudtrail, stub = stubbed("cloudtrail")
    for count in (5, 2, 5):
        stub.add_response(
            "describe_trails", {"trailList": [{"Name": f"t{i}"} for i in range(count)]}, {"includeShadowTrails": True}
        )
    assert lines(preflight.check_trails(cloudtrail, target(profile()))) == [
        "missing cloudtrail trails: 5 of 5 in eu-west-1 (multi-Region trails count in every Region, and the limit "
        "cannot be raised): no room for the platform's trail -> delete an unused trail in this Region"
    ]
    assert preflight.check_trails(cloudtrail, target(profile()))[0].status == "ok"
    assert preflight.check_trails(cloudtrail, target(profile(), Governance=True))[0].status == "ok"


def test_a_missing_stack_is_not_deployed(stubbed: Any) -> None:
    cloudformation, stub = stubbed("cloudformation")
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id mlops-sandbox-Network does not exist")
    stack = {"StackName": "mlops-sandbox-Governance", "CreationTime": dt.datetime(2026, 1, 1)}
    stub.add_response("describe_stacks", {"Stacks": [{**stack, "StackStatus": "CREATE_COMPLETE"}]})
    assert not preflight.stack_exists(cloudformation, "mlops-sandbox-Network")
    assert preflight.stack_exists(cloudformation, "mlops-sandbox-Governance")


# --- AZs and interface endpoints -----------------------------------------------------------------------------------


def zones(stub: Stubber, names: list[str], default_subnets: list[str] | None = None) -> None:
    stub.add_response(
        "describe_availability_zones",
        {"AvailabilityZones": [{"ZoneName": n, "State": "available", "ZoneType": "availability-zone"} for n in names]},
        {
            "Filters": [
                {"Name": "zone-type", "Values": ["availability-zone"]},
                {"Name": "state", "Values": ["available"]},
            ]
        },
    )
    if default_subnets is not None:
        stub.add_response(
            "describe_subnets",
            {"Subnets": [{"AvailabilityZone": az, "SubnetId": f"subnet-{az}"} for az in default_subnets]},
            {"Filters": [{"Name": "default-for-az", "Values": ["true"]}]},
        )


def services(stub: Stubber, offered: dict[str, list[str] | None]) -> None:
    for service, azs in offered.items():
        name = f"com.amazonaws.{REGION}.{service}"
        if azs is None:
            stub.add_client_error(
                "describe_vpc_endpoint_services", "InvalidServiceName", expected_params={"ServiceNames": [name]}
            )
        else:
            details = {"ServiceDetails": [{"ServiceName": name, "AvailabilityZones": azs}]}
            stub.add_response("describe_vpc_endpoint_services", details, {"ServiceNames": [name]})


ALL_THREE = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def test_the_first_az_with_a_default_subnet_offers_every_endpoint(stubbed: Any) -> None:
    ec2, stub = stubbed("ec2")
    zones(stub, ALL_THREE, default_subnets=["eu-west-1c", "eu-west-1b"])
    services(stub, dict.fromkeys(queried(profile()), ALL_THREE))
    url = fact("fn-getazs-default-subnets").url
    assert lines(preflight.check_azs_and_endpoints(ec2, target(profile()))) == [
        "ok      availability zones: the VPC will use eu-west-1b: the first of the AZs with a default subnet, as "
        f"Fn::GetAZs lists them at deploy time ({url}); deleting or adding default subnets changes the choice",
        "ok      interface endpoint azs: all 1 services are offered in eu-west-1b",
    ]


def test_an_az_without_an_endpoint_service_is_missing_with_the_azs_to_pin(stubbed: Any) -> None:
    ec2, stub = stubbed("ec2")
    zones(stub, ALL_THREE, default_subnets=[])
    serving = profile(inference__model_package_arn=SANDBOX_ARN)
    offered: dict[str, list[str] | None] = dict.fromkeys(queried(serving), ALL_THREE)
    offered["sagemaker.featurestore-runtime"] = ["eu-west-1b", "eu-west-1c"]
    services(stub, offered)
    result = preflight.check_azs_and_endpoints(ec2, target(serving))
    assert result[0].detail.startswith("the VPC will use eu-west-1a, eu-west-1b: the first AZs of the region")
    assert result[1].line() == (
        "missing interface endpoint azs: sagemaker.featurestore-runtime not in eu-west-1a "
        f"({fact('interface-endpoint-service-azs').url}) -> pin them: region: eu-west-1 and "
        "network.availability_zones: [eu-west-1b, eu-west-1c]"
    )


def test_an_endpoint_service_the_region_lacks_is_missing(stubbed: Any) -> None:
    ec2, stub = stubbed("ec2")
    zones(stub, ALL_THREE, default_subnets=[])
    offered: dict[str, list[str] | None] = dict.fromkeys(queried(profile()), ALL_THREE)
    offered["sagemaker.featurestore-runtime"] = None
    services(stub, offered)
    result = preflight.check_azs_and_endpoints(ec2, target(profile()))
    assert result[1].status == "missing"
    assert result[1].fix == (
        "deploy to another region (the platform's code calls sagemaker.featurestore-runtime from the VPC)"
    )


def test_an_extra_endpoint_the_region_lacks_can_be_dropped(stubbed: Any) -> None:
    ec2, stub = stubbed("ec2")
    zones(stub, ALL_THREE, default_subnets=[])
    extra = profile(network__interface_endpoints=["monitoring"])
    offered: dict[str, list[str] | None] = dict.fromkeys(queried(extra), ALL_THREE)
    offered["monitoring"] = None
    services(stub, offered)
    result = preflight.check_azs_and_endpoints(ec2, target(extra))
    assert result[1].fix == "remove monitoring from network.interface_endpoints, or deploy to another region"


def test_a_region_with_too_few_azs_is_missing(stubbed: Any) -> None:
    ec2, stub = stubbed("ec2")
    zones(stub, ["eu-west-1a", "eu-west-1b"], default_subnets=[])
    assert lines(preflight.check_azs_and_endpoints(ec2, target(profile("production")))) == [
        "missing availability zones: the profile uses 3 AZs, eu-west-1 has 2 available -> deploy to a region with "
        "3 AZs, or pin network.availability_zones (with region: eu-west-1)"
    ]


def test_pinned_azs_are_the_ones_checked(stubbed: Any) -> None:
    ec2, stub = stubbed("ec2")
    zones(stub, ALL_THREE)  # pinned: no default-subnet lookup
    pinned = profile(region=REGION, network__availability_zones=["eu-west-1c", "eu-west-1b"])
    services(stub, {service: ["eu-west-1c"] for service in queried(pinned)})
    result = preflight.check_azs_and_endpoints(ec2, target(pinned))
    assert result[0].line() == (
        "ok      availability zones: the VPC will use eu-west-1c: pinned by network.availability_zones"
    )
    assert result[1].status == "ok"
    assert result[2].status == "warn" and result[2].name == "serving azs"  # eu-west-1b lacks the services


# --- The command ---------------------------------------------------------------------------------------------------


class FakeSession:
    """What ``main`` asks of a boto3 session: stubbed clients by service."""

    region_name = REGION

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, service: str, region_name: str) -> Any:
        return self.clients.get(service)  # a service the profile does not need is never called


def ready_account(stubbed: Any, processing_quota: int) -> FakeSession:
    """A sandbox account with everything the sandbox needs, except ``processing_quota`` instances."""
    made: dict[str, Any] = {}
    for service in ("sts", "cloudformation", "ssm", "service-quotas", "lambda", "apigateway", "ec2", "cloudtrail"):
        made[service], stub = stubbed(service)
        if service == "sts":
            stub.add_response("get_caller_identity", {"Account": ACCOUNT})
        elif service == "cloudformation":
            for stack in ("Network", "Governance", "Inference", "Monitoring"):
                stub.add_client_error(
                    "describe_stacks", "ValidationError", f"Stack mlops-sandbox-{stack} does not exist"
                )
        elif service == "ssm":
            bootstrap(stub, "30")
        elif service == "service-quotas":
            quotas(
                stub,
                [
                    quota("ml.m5.large for processing job usage", processing_quota),
                    quota("ml.m5.large for spot training job usage", 1),
                ],
            )
            vpc_quota(stub, 5)
        elif service == "lambda":
            concurrency(stub, 1000, 1000)
        elif service == "apigateway":
            gateway_account(stub, None)
        elif service == "cloudtrail":
            stub.add_response("describe_trails", {"trailList": []}, {"includeShadowTrails": True})
        else:
            vpcs(stub, 1)
            zones(stub, ALL_THREE, default_subnets=ALL_THREE)
            services(stub, dict.fromkeys(queried(profile()), ALL_THREE))
    return FakeSession(made)


def test_a_ready_account_prints_one_line_per_check_and_exits_0(
    stubbed: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert preflight.main(["-c", "profile=sandbox"], ready_account(stubbed, 3), TODAY) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:-1]] == [
        "ok      cdk bootstrap",
        "ok      quota ml.m5.large for processing job usage",
        "ok      quota ml.m5.large for spot training job usage",
        "ok      quota ml.m5.large for endpoint usage",
        "ok      lambda concurrency",
        "ok      api gateway logging role",
        "ok      cost anomaly detection",
        "ok      source connection",
        "ok      served packages",
        "ok      model monitor",
        "ok      vpcs",
        "ok      cloudtrail trails",
        "ok      availability zones",
        "ok      interface endpoint azs",
    ]
    assert out[-1] == f"preflight sandbox in {ACCOUNT}/{REGION}: 14 ok, 0 missing, 0 warn: make deploy"


def test_a_missing_quota_makes_the_command_exit_1(stubbed: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert preflight.main(["-c", "profile=sandbox"], ready_account(stubbed, 0), TODAY) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("missing quota ml.m5.large for processing job usage: 0 (applied), 2 needed")
    assert out[-1] == (
        f"preflight sandbox in {ACCOUNT}/{REGION}: 13 ok, 1 missing, 0 warn: the deploy would fail; fix each "
        "missing line, then run preflight again"
    )


def test_credentials_aws_refuses_are_one_error_line(stubbed: Any, capsys: pytest.CaptureFixture[str]) -> None:
    sts, stub = stubbed("sts")
    stub.add_client_error("get_caller_identity", "InvalidClientTokenId", "The security token included is invalid.")
    assert preflight.main(["-c", "profile=sandbox"], FakeSession({"sts": sts}), TODAY) == 1
    assert capsys.readouterr().err.startswith("error: cannot reach AWS with these credentials (")


def test_fixes_name_the_profile_the_user_chose() -> None:
    assert preflight.make_args({"profile": "sandbox"}) == ""
    assert preflight.make_args({"profile": "production"}) == " PROFILE=production"
    assert (
        preflight.make_args({"config": "my.yaml", "model_package_arn": "arn"})
        == " CONFIG=my.yaml MODEL_PACKAGE_ARN=arn"
    )
    assert preflight.load({"profile": "sandbox", "model_package_arn": SANDBOX_ARN}).inference.serving


def test_a_bad_profile_prints_one_line_and_no_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tools.preflight", "-c", "profile=nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        "error: profile: unknown profile 'nope' (available: production, sandbox, staging)"
    ]


# --- Served packages ----------------------------------------------------------------------------------------------


def _package(arn: str, status: str, environment: dict[str, str]) -> dict[str, Any]:
    return {
        "ModelPackageName": "mlops-sandbox-models",
        "ModelPackageArn": arn,
        "CreationTime": dt.datetime(2026, 12, 1),
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "ModelApprovalStatus": status,
        "InferenceSpecification": {
            "Containers": [
                {"Image": "x.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5", "Environment": environment}
            ],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    }


def test_nothing_to_serve_needs_no_call() -> None:
    assert lines(preflight.check_served_packages(None, target(profile()))) == [
        "ok      served packages: nothing to serve yet (no inference.model_package_arn)"
    ]


def test_served_packages_must_be_approved_and_serve_raw_records(stubbed: Any) -> None:
    sagemaker, stub = stubbed("sagemaker")
    challenger = SANDBOX_ARN.replace("/3", "/4")
    current = {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    stub.add_response(
        "describe_model_package", _package(SANDBOX_ARN, "Approved", current), {"ModelPackageName": SANDBOX_ARN}
    )
    stub.add_response("describe_model_package", _package(challenger, "Approved", {}), {"ModelPackageName": challenger})
    config = profile(inference__model_package_arn=SANDBOX_ARN, inference__challenger_model_package_arn=challenger)
    assert lines(preflight.check_served_packages(sagemaker, target(config))) == [
        "ok      served packages: Primary mlops-sandbox-models/3 is Approved and serves raw records (serve.py)",
        "missing served packages: Challenger mlops-sandbox-models/4 has no serving code (registered before the "
        "raw-record contract: it takes CSV features, not the JSON records the API sends) -> run the training "
        "pipeline, approve the new version and serve it",
    ]
    stub.add_response(
        "describe_model_package",
        _package(SANDBOX_ARN, "PendingManualApproval", current),
        {"ModelPackageName": SANDBOX_ARN},
    )
    assert lines(
        preflight.check_served_packages(sagemaker, target(profile(inference__model_package_arn=SANDBOX_ARN)))
    ) == [
        "missing served packages: Primary mlops-sandbox-models/3 is PendingManualApproval, not Approved -> approve it "
        "after reviewing its metrics (README: Serving a model), or name an approved version"
    ]


# --- Source connection --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("AVAILABLE", "ok      source connection: {arn} is AVAILABLE"),
        (
            "PENDING",
            "missing source connection: {arn} is PENDING: the pipeline's source action cannot use it -> complete "
            "the handshake: Developer Tools console > Settings > Connections > the connection > Update pending "
            "connection",
        ),
        (
            "ERROR",
            "missing source connection: {arn} is ERROR: the pipeline's source action cannot use it -> create a new "
            "connection and name it in cicd.source.connection_arn",
        ),
    ],
)
def test_the_pipelines_connection_must_be_available(stubbed: Any, status: str, expected: str) -> None:
    from tools.platform import build_config  # noqa: PLC0415 - the cicd build's profile

    config = build_config("cicd")
    assert config.cicd is not None and config.cicd.source.kind == "connection"
    arn = config.cicd.source.connection_arn
    codeconnections, stub = stubbed("codeconnections")
    connection = {"ConnectionName": "mlops", "ConnectionArn": arn, "ProviderType": "GitHub", "ConnectionStatus": status}
    stub.add_response("get_connection", {"Connection": connection}, {"ConnectionArn": arn})
    assert lines(preflight.check_connection(codeconnections, target(config))) == [expected.format(arn=arn)]


def test_no_pipeline_needs_no_connection_call() -> None:
    assert lines(preflight.check_connection(None, target(profile()))) == [
        "ok      source connection: no pipeline with a connection source in this profile"
    ]
