"""Reusable field types of the profile schema: each holds one rule and refuses a bad value with one line.

A type never names its field: pydantic reports where the value sits (``network.vpc_cidr``) and
:func:`config.loader.parse_settings` puts that in front of the message, so a message here reads as the
rest of the sentence (``network.vpc_cidr: must be a private (RFC 1918) range``) and must not itself start
with ``name: ``. Types built only from ``Field`` constraints keep pydantic's own messages ("Input should be
greater than 0"), which the tests and users already know.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field

from config.catalogs import interface_endpoint_catalog, known_regions

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z][a-z0-9-]*\.(x?large|medium|small|micro|\d+xlarge)$")
_SCHEDULE = re.compile(
    r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)"
    r"|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$"
)
_MODEL_MONITOR_SCHEDULE = re.compile(r"^cron\(0 (\*|\d{1,2}|0/\d{1,2}) \? \* \* \*\)$")
_MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$")
_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of CloudWatch Logs' retention periods {LOG_RETENTION_DAYS}")
    return days


def _instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise ValueError("must be a SageMaker instance type such as 'ml.m5.large'")
    return value


def _schedule(value: str) -> str:
    if not _SCHEDULE.match(value):
        raise ValueError("must be 'rate(N unit)' or 'cron(m h dom mon dow y)' (EventBridge Scheduler)")
    return value


def _glue_cron(value: str) -> str:
    if not (value.startswith("cron(") and _SCHEDULE.match(value)):
        raise ValueError("Glue crawlers take only 'cron(m h dom mon dow y)' schedules (or null for on demand)")
    return value


def _model_monitor_schedule(value: str) -> str:
    if not _MODEL_MONITOR_SCHEDULE.match(value):
        raise ValueError("Model Monitor takes an hourly or daily cron, e.g. 'cron(0 * ? * * *)' or 'cron(0 2 ? * * *)'")
    return value


def _model_package_arn(value: str) -> str:
    if not _MODEL_PACKAGE_ARN.match(value):
        raise ValueError(
            f"{value!r} is not a model package version ARN "
            "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)"
        )
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _region(value: str) -> str:
    if not _REGION_NAME.match(value):
        raise ValueError(f"{value!r} is not a region name like 'eu-west-1'")
    if value not in known_regions():
        raise ValueError(f"{value!r} is not an AWS commercial region (config/data/regions.json)")
    return value


def _private_vpc_cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"is not a valid IPv4 CIDR ({exc})") from None
    if not net.is_private:
        raise ValueError("must be a private (RFC 1918) range")
    if not 16 <= net.prefixlen <= 24:
        raise ValueError("prefix length must be between /16 and /24 (VPC limits, room for subnets)")
    return value


def _interface_endpoints(value: tuple[str, ...]) -> tuple[str, ...]:
    known = interface_endpoint_catalog()["endpoints"]
    unknown = [name for name in value if name not in known]
    if unknown:
        raise ValueError(f"unknown endpoint {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if len(set(value)) != len(value):
        raise ValueError("lists an endpoint twice")
    return value


# --- Rules checked by a validator (one message each; the CIDR, region and endpoint rules have a few steps).

# A retention period CloudWatch Logs accepts, in days.
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
# A SageMaker instance type: ``ml.<family>.<size>``.
InstanceType = Annotated[str, AfterValidator(_instance_type)]
# An EventBridge Scheduler expression: ``rate(N unit)`` or a six-field ``cron(...)``.
ScheduleExpression = Annotated[str, AfterValidator(_schedule)]
# A Glue crawler schedule: the six-field ``cron(...)`` form only.
GlueCronSchedule = Annotated[str, AfterValidator(_glue_cron)]
# A Model Monitor schedule: an hourly or daily ``cron(0 ...)``.
ModelMonitorSchedule = Annotated[str, AfterValidator(_model_monitor_schedule)]
# A model package *version* ARN (``.../model-package/GROUP/VERSION``), what an endpoint serves.
ModelPackageArn = Annotated[str, AfterValidator(_model_package_arn)]
# An e-mail address (SNS e-mail subscription endpoint).
EmailAddress = Annotated[str, AfterValidator(_email)]
# An AWS commercial region (``config/data/regions.json``).
RegionName = Annotated[str, AfterValidator(_region)]
# A literal private IPv4 CIDR for a VPC, /16 to /24.
PrivateVpcCidr = Annotated[str, AfterValidator(_private_vpc_cidr)]
# Interface endpoint names of ``config/data/interface_endpoints.yaml``, each at most once.
InterfaceEndpointNames = Annotated[tuple[str, ...], AfterValidator(_interface_endpoints)]

# --- Rules that are Field constraints only (pydantic's own messages).

# Resource names start with it: lower case, 2 to 20 characters.
ProjectName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,19}$")]
# A 12-digit AWS account id.
AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
# Availability Zones of the VPC.
AzCount = Annotated[int, Field(ge=1, le=3)]
# A monthly budget limit in USD.
MonthlyUsd = Annotated[float, Field(gt=0, le=1_000_000)]
# A budget alert threshold, in % of the limit (above 100 warns of an overrun).
BudgetThresholdPercent = Annotated[float, Field(gt=0, le=1000)]
# The share of an endpoint's traffic a new or second variant gets, in %: at most half.
TrafficSharePercent = Annotated[int, Field(ge=1, le=50)]
# A wait or cooldown of at most an hour, in seconds.
SecondsUpToAnHour = Annotated[int, Field(ge=0, le=3600)]
# A cost allocation tag value.
TagValue = Annotated[str, Field(min_length=1, max_length=256)]

# --- CI/CD (issue 13): the pipeline's source and stages.

_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GIT_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,255}(?<![/.])$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _connection_arn(value: str) -> str:
    if not _CONNECTION_ARN.match(value):
        raise ValueError(
            f"{value!r} is not a connection ARN (arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID, or the "
            "older arn:aws:codestar-connections:...)"
        )
    return value


def _repository(value: str) -> str:
    if not _REPOSITORY.match(value):
        raise ValueError(f"{value!r} is not a repository as 'owner/name'")
    return value


def _git_branch(value: str) -> str:
    if not _GIT_BRANCH.match(value):
        raise ValueError(f"{value!r} is not a git branch name")
    return value


def _bucket_name(value: str) -> str:
    if not _BUCKET_NAME.match(value) or ".." in value:
        raise ValueError(f"{value!r} is not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")
    return value


# A CodeConnections connection ARN, under either service prefix (the service was renamed in 2024).
ConnectionArn = Annotated[str, AfterValidator(_connection_arn)]
# A git host repository as ``owner/name``.
RepositoryName = Annotated[str, AfterValidator(_repository)]
# A git branch name.
GitBranch = Annotated[str, AfterValidator(_git_branch)]
# An S3 bucket name.
BucketName = Annotated[str, AfterValidator(_bucket_name)]


def _model_data_url(value: str) -> str:
    bucket, _, key = value.removeprefix("s3://").partition("/")
    if not value.startswith("s3://") or not key or not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise ValueError(f"{value!r} is not an S3 object URL (s3://bucket/key)")
    return value


# The S3 URL of a model package's artifact (``s3://bucket/key``).
ModelDataUrl = Annotated[str, AfterValidator(_model_data_url)]
# A pipeline stage's construct id: PascalCase, short (it names the stage's stacks in the assembly).
PipelineStageName = Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]{0,29}$")]
# A profile name under config/ (``sandbox``, ``production``).
ProfileName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
