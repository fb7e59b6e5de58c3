"""The reusable field types of config.types: each refuses a bad value with one line naming the field."""

from __future__ import annotations

from typing import Annotated, Any, get_origin

import pytest
from pydantic import BaseModel, ValidationError, create_model

from config import types
from config.loader import _FIELD_PREFIX, _format
from config.types import (
    LOG_RETENTION_DAYS,
    AccountId,
    AzCount,
    BucketName,
    BudgetThresholdPercent,
    ConnectionArn,
    EmailAddress,
    GitBranch,
    GlueCronSchedule,
    InstanceType,
    InterfaceEndpointNames,
    LogRetentionDays,
    ModelDataUrl,
    ModelMonitorSchedule,
    ModelPackageArn,
    MonthlyUsd,
    PipelineStageName,
    PrivateVpcCidr,
    ProfileName,
    ProjectName,
    RegionName,
    RepositoryName,
    ScheduleExpression,
    SecondsUpToAnHour,
    TagValue,
    TrafficSharePercent,
)

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"

# (type, a value it takes, a value it refuses, the whole message for a field named "value")
REFUSALS: list[tuple[str, Any, Any, Any, str]] = [
    (
        "LogRetentionDays",
        LogRetentionDays,
        365,
        42,
        f"must be one of CloudWatch Logs' retention periods {LOG_RETENTION_DAYS}",
    ),
    (
        "InstanceType",
        InstanceType,
        "ml.c5.2xlarge",
        "m5.large",
        "must be a SageMaker instance type such as 'ml.m5.large'",
    ),
    (
        "InstanceType",
        InstanceType,
        "ml.t3.medium",
        "ml.m5.huge",
        "must be a SageMaker instance type such as 'ml.m5.large'",
    ),
    (
        "ScheduleExpression",
        ScheduleExpression,
        "rate(1 day)",
        "daily",
        "must be 'rate(N unit)' or 'cron(m h dom mon dow y)' (EventBridge Scheduler)",
    ),
    (
        "ScheduleExpression",
        ScheduleExpression,
        "cron(0 3 ? * MON *)",
        "cron(0 3 * *)",
        "must be 'rate(N unit)' or 'cron(m h dom mon dow y)' (EventBridge Scheduler)",
    ),
    (
        "GlueCronSchedule",
        GlueCronSchedule,
        "cron(0 3 * * ? *)",
        "rate(1 day)",
        "Glue crawlers take only 'cron(m h dom mon dow y)' schedules (or null for on demand)",
    ),
    (
        "ModelMonitorSchedule",
        ModelMonitorSchedule,
        "cron(0 2 ? * * *)",
        "cron(30 * ? * * *)",
        "Model Monitor takes an hourly or daily cron, e.g. 'cron(0 * ? * * *)' or 'cron(0 2 ? * * *)'",
    ),
    (
        "ModelPackageArn",
        ModelPackageArn,
        PACKAGE,
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn",
        "'arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn' is not a model package version ARN "
        "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)",
    ),
    ("EmailAddress", EmailAddress, "ops@example.com", "ops@example", "'ops@example' is not an email address"),
    ("RegionName", RegionName, "eu-west-1", "eu_west_1", "'eu_west_1' is not a region name like 'eu-west-1'"),
    (
        "RegionName",
        RegionName,
        "us-east-1",
        "xx-moon-1",
        "'xx-moon-1' is not an AWS commercial region (config/data/regions.json)",
    ),
    (
        "PrivateVpcCidr",
        PrivateVpcCidr,
        "10.40.0.0/16",
        "10.40.0.1/16",
        "is not a valid IPv4 CIDR (10.40.0.1/16 has host bits set)",
    ),
    ("PrivateVpcCidr", PrivateVpcCidr, "192.168.0.0/24", "8.8.0.0/16", "must be a private (RFC 1918) range"),
    (
        "PrivateVpcCidr",
        PrivateVpcCidr,
        "172.16.0.0/20",
        "10.0.0.0/8",
        "prefix length must be between /16 and /24 (VPC limits, room for subnets)",
    ),
    (
        "InterfaceEndpointNames",
        InterfaceEndpointNames,
        ("sagemaker.api",),
        ("sagemaker.api", "sagemaker.api"),
        "lists an endpoint twice",
    ),
    # Types made of Field constraints keep pydantic's own words.
    ("ProjectName", ProjectName, "mlops", "MLOps", "String should match pattern '^[a-z][a-z0-9-]{1,19}$'"),
    ("AccountId", AccountId, "123456789012", "12345", "String should match pattern '^\\d{12}$'"),
    ("AzCount", AzCount, 3, 4, "Input should be less than or equal to 3"),
    ("MonthlyUsd", MonthlyUsd, 100, 0, "Input should be greater than 0"),
    ("BudgetThresholdPercent", BudgetThresholdPercent, 120, 1001, "Input should be less than or equal to 1000"),
    ("TrafficSharePercent", TrafficSharePercent, 50, 51, "Input should be less than or equal to 50"),
    ("SecondsUpToAnHour", SecondsUpToAnHour, 0, -1, "Input should be greater than or equal to 0"),
    ("TagValue", TagValue, "ml-team", "", "String should have at least 1 character"),
    # CI/CD (issue 13)
    (
        "ConnectionArn",
        ConnectionArn,
        "arn:aws:codestar-connections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "arn:aws:codecommit:eu-west-1:111111111111:repo",
        "'arn:aws:codecommit:eu-west-1:111111111111:repo' is not a connection ARN "
        "(arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID, or the older arn:aws:codestar-connections:...)",
    ),
    (
        "RepositoryName",
        RepositoryName,
        "example-org/mlops-platform",
        "mlops-platform",
        "'mlops-platform' is not a repository as 'owner/name'",
    ),
    ("GitBranch", GitBranch, "release/1.2", "main..x", "'main..x' is not a git branch name"),
    (
        "BucketName",
        BucketName,
        "my-source-bucket",
        "My_Bucket",
        "'My_Bucket' is not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)",
    ),
    (
        "ModelDataUrl",
        ModelDataUrl,
        "s3://mlops-artifacts/pipelines/models/credit-3/output/model.tar.gz",
        "s3://mlops-artifacts/",
        "'s3://mlops-artifacts/' is not an S3 object URL (s3://bucket/key)",
    ),
    (
        "PipelineStageName",
        PipelineStageName,
        "Production",
        "prod stage",
        "String should match pattern '^[A-Z][A-Za-z0-9]{0,29}$'",
    ),
    ("ProfileName", ProfileName, "production", "Production", "String should match pattern '^[a-z][a-z0-9-]{0,39}$'"),
]
IDS = [f"{name}={bad!r}" for name, _, _, bad, _ in REFUSALS]


def probe(annotation: Any) -> type[BaseModel]:
    """A model with one field of the type, as a section of a profile would hold it."""
    model: type[BaseModel] = create_model("Probe", value=(annotation, ...))
    return model


def refusal(annotation: Any, value: Any) -> str:
    """The loader's one-line error for ``value`` in a field named ``value`` of a profile ``probe.yaml``."""
    with pytest.raises(ValidationError) as error:
        probe(annotation).model_validate({"value": value})
    return _format(error.value, "probe.yaml")


@pytest.mark.parametrize(("name", "annotation", "good", "bad", "message"), REFUSALS, ids=IDS)
def test_type_refuses_a_bad_value_in_one_line_naming_the_field(
    name: str, annotation: Any, good: Any, bad: Any, message: str
) -> None:
    assert refusal(annotation, bad) == f"probe.yaml: value: {message}", name


@pytest.mark.parametrize(("name", "annotation", "good", "bad", "message"), REFUSALS, ids=IDS)
def test_type_takes_a_good_value_unchanged(name: str, annotation: Any, good: Any, bad: Any, message: str) -> None:
    assert probe(annotation).model_validate({"value": good}).model_dump() == {"value": good}, name


def test_every_type_is_checked_here() -> None:
    """A new type in config.types gets a row in REFUSALS."""
    exported = {name for name, value in vars(types).items() if get_origin(value) is Annotated}
    assert exported == {name for name, *_ in REFUSALS}


def test_unknown_endpoint_names_the_catalog() -> None:
    message = refusal(InterfaceEndpointNames, ["sagemaker.api", "s3-express"])
    assert message.startswith("probe.yaml: value: unknown endpoint 's3-express' (known: ")
    assert "sagemaker.api" in message
    assert "\n" not in message


def test_optional_field_takes_null_without_running_the_rule() -> None:
    assert probe(ScheduleExpression | None).model_validate({"value": None}).model_dump() == {"value": None}
    assert refusal(ScheduleExpression | None, "daily").startswith("probe.yaml: value: must be 'rate(N unit)'")


def test_wrong_kind_of_value_is_refused_before_the_rule() -> None:
    assert refusal(LogRetentionDays, "a month") == (
        "probe.yaml: value: Input should be a valid integer, unable to parse string as an integer"
    )
    assert refusal(InstanceType, 5) == "probe.yaml: value: Input should be a valid string"


@pytest.mark.parametrize(("name", "annotation", "good", "bad", "message"), REFUSALS, ids=IDS)
def test_message_does_not_pose_as_a_field(name: str, annotation: Any, good: Any, bad: Any, message: str) -> None:
    """A rule that starts with ``word: `` would be read by the loader as naming another field."""
    assert _FIELD_PREFIX.match(message) is None, name
