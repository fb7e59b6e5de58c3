"""Typed, validated platform settings: one frozen object per profile.

A profile is a YAML file under ``config/`` (``sandbox.yaml``, ``production.yaml``) or any path
given with ``-c config=PATH``. ``load_settings`` turns it into a :class:`PlatformConfig` or raises
:class:`ConfigError` whose message is one line naming the field and the rule, so a bad value never
reaches CloudFormation. Only ``app.py`` calls it; everything below receives the object (or the
part of it a component needs).
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG_DIR / "data"
DEFAULT_PROFILE = "sandbox"

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


def _documented_limit(fact_id: str) -> tuple[Any, str]:
    """A limit AWS documents (config/data/aws_facts.yaml), with the page that says it, for error messages."""
    from config.facts import fact  # noqa: PLC0415 - config.facts imports nothing of ours; keep settings light

    found = fact(fact_id)
    return found.value, found.url


class ConfigError(ValueError):
    """A profile that AWS would reject, said in one line that names the field and the rule."""


@cache
def _data(name: str) -> Any:
    path = DATA_DIR / name
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def known_regions() -> frozenset[str]:
    return frozenset(_data("regions.json")["regions"])


def interface_endpoint_catalog() -> dict[str, Any]:
    """The interface endpoints the platform knows, with their policy actions and price."""
    return dict(_data("interface_endpoints.yaml"))


def exam_tasks() -> dict[str, Any]:
    """Task statements of the exam guide, keyed by id (``"3.2"``)."""
    return dict(_data("exam_guide.json")["tasks"])


class _Model(BaseModel):
    """Every section is frozen and rejects keys it does not know (a typo is an error)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of CloudWatch Logs' retention periods {LOG_RETENTION_DAYS}")
    return days


class NetworkConfig(_Model):
    vpc_cidr: str = Field(description="Literal private IPv4 CIDR of the VPC, /16 to /24.")
    az_count: int = Field(
        ge=1, le=3, description="Availability Zones used while nothing is served (endpoints cost per AZ)."
    )
    serving_az_count: int | None = Field(
        default=None,
        ge=1,
        le=3,
        description="Availability Zones while an endpoint serves (SageMaker hosting in a VPC needs at least 2); "
        "null: the same as az_count.",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Pin the AZ names (needs `region`); otherwise the first AZs Fn::GetAZs returns at deploy time.",
    )
    subnet_mask: int = Field(ge=20, le=28, description="Prefix length of each isolated subnet.")
    interface_endpoints: tuple[str, ...] = Field(
        default=(),
        description="Extra interface endpoints for your own workloads in the VPC. The platform adds, by itself, "
        "exactly the endpoints its own functions and jobs call (PlatformConfig.interface_endpoints).",
    )
    flow_log_retention_days: int

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"is not a valid IPv4 CIDR ({exc})") from None
        if not net.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("prefix length must be between /16 and /24 (VPC limits, room for subnets)")
        return value

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoints(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = interface_endpoint_catalog()["endpoints"]
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown endpoint {unknown[0]!r} (known: {', '.join(sorted(known))})")
        if len(set(value)) != len(value):
            raise ValueError("lists an endpoint twice")
        return value

    _retention = field_validator("flow_log_retention_days")(_check_retention)

    @model_validator(mode="after")
    def _subnets_fit(self) -> NetworkConfig:
        vpc_prefix = ipaddress.IPv4Network(self.vpc_cidr).prefixlen
        most = self.az_count_for(serving=True)
        if self.subnet_mask <= vpc_prefix or 2 ** (self.subnet_mask - vpc_prefix) < most:
            raise ValueError(f"subnet_mask: /{self.subnet_mask} leaves no room for {most} subnet(s) in {self.vpc_cidr}")
        if self.serving_az_count is not None and self.serving_az_count < self.az_count:
            raise ValueError(
                f"serving_az_count: {self.serving_az_count} is fewer than az_count ({self.az_count}); "
                "serving adds AZs, it never removes them"
            )
        if self.availability_zones is not None:
            if len(set(self.availability_zones)) != len(self.availability_zones):
                raise ValueError("availability_zones: lists an AZ twice")
            if len(self.availability_zones) < most:
                raise ValueError(
                    f"availability_zones: names {len(self.availability_zones)} AZ(s), the profile uses up to {most}"
                )
        return self

    def az_count_for(self, *, serving: bool) -> int:
        """AZs of the VPC: ``az_count`` while idle, ``serving_az_count`` (if larger) while an endpoint serves."""
        if serving and self.serving_az_count is not None:
            return max(self.az_count, self.serving_az_count)
        return self.az_count


class StreamingConfig(_Model):
    """How events reach the raw zone (exam 1.1): through a Kinesis data stream, or Firehose Direct PUT."""

    source: Literal["kinesis", "direct_put"] = Field(
        description="kinesis: replay, several consumers, a fixed price per shard or stream; direct_put: producers "
        "call Firehose, no fixed price, no replay."
    )
    stream_mode: Literal["provisioned", "on_demand"] = Field(
        default="provisioned", description="Kinesis capacity mode (kinesis only)."
    )
    shard_count: int | None = Field(
        default=None, ge=1, le=50, description="Provisioned Kinesis shards (~USD 11/shard-month; kinesis only)."
    )
    retention_hours: int = Field(default=24, ge=24, le=8760, description="Kinesis retention (kinesis only).")
    buffer_interval_seconds: int = Field(ge=0, le=900)
    buffer_size_mib: int = Field(ge=1, le=128)

    @model_validator(mode="after")
    def _mode_fits(self) -> StreamingConfig:
        provisioned = self.source == "kinesis" and self.stream_mode == "provisioned"
        if provisioned and self.shard_count is None:
            raise ValueError("shard_count: a provisioned Kinesis stream needs a shard count")
        if not provisioned and self.shard_count is not None:
            raise ValueError("shard_count: only a provisioned Kinesis stream has shards")
        return self


class DataLakeConfig(_Model):
    noncurrent_version_expiration_days: int = Field(ge=1, le=3650)
    transition_to_infrequent_access_days: int = Field(ge=30, le=3650)
    athena_bytes_scanned_cutoff_mb: int = Field(ge=10, description="Per-query scan limit (Athena minimum 10 MB).")
    crawler_schedule: str | None = None
    streaming: StreamingConfig

    @field_validator("crawler_schedule")
    @classmethod
    def _cron_only(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("cron(") and _SCHEDULE.match(value)):
            raise ValueError("Glue crawlers take only 'cron(m h dom mon dow y)' schedules (or null for on demand)")
        return value


class BudgetConfig(_Model):
    monthly_limit_usd: float = Field(gt=0, le=1_000_000)
    sagemaker_monthly_limit_usd: float = Field(gt=0, le=1_000_000)
    actual_threshold_percent: float = Field(gt=0, le=1000)
    forecast_threshold_percent: float = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def _sagemaker_within_total(self) -> BudgetConfig:
        if self.sagemaker_monthly_limit_usd > self.monthly_limit_usd:
            raise ValueError("sagemaker_monthly_limit_usd: must not exceed monthly_limit_usd")
        return self


class GovernanceConfig(_Model):
    trail_log_retention_days: int
    audit_object_lock_days: int = Field(ge=1, le=36500)
    budget: BudgetConfig
    cost_anomaly_detection: bool
    anomaly_threshold_usd: float = Field(gt=0)
    api_gateway_logging_role: bool = Field(
        default=True,
        description="Set the account's API Gateway CloudWatch Logs role (one per account and region); false "
        "where the account's owner manages that setting.",
    )

    _retention = field_validator("trail_log_retention_days")(_check_retention)


_MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$")


class AutoscalingConfig(_Model):
    target_invocations_per_instance: int = Field(ge=1, le=100_000)
    scale_in_cooldown_seconds: int = Field(ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(ge=0, le=3600)
    business_hours_min_capacity: int | None = Field(
        default=None, ge=1, le=100, description="Scheduled scaling: raise the floor on weekdays 08:00-18:00 UTC."
    )


class DeploymentConfig(_Model):
    """How a new model reaches traffic: blue/green with canary or linear shifting and alarm rollback."""

    traffic_routing: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]
    step_percent: int = Field(ge=1, le=50, description="Canary size, or the linear step, in % of capacity.")
    wait_seconds: int = Field(ge=0, le=3600, description="Time between traffic shifts, watched by the alarms.")
    termination_wait_seconds: int = Field(ge=0, le=3600)


class InferenceConfig(_Model):
    """Serving. ``model_package_arn: null`` is the first deploy: no approved model yet, so no endpoint."""

    mode: Literal["realtime", "serverless", "async"] = Field(
        description="realtime (the secure default); serverless (no VPC, no isolation, no capture: a trade-off); "
        "async (queued requests, results in the lake, scales to zero)"
    )
    model_package_arn: str | None = None
    challenger_model_package_arn: str | None = Field(default=None, description="A/B test: a second variant.")
    challenger_weight_percent: int = Field(default=10, ge=1, le=50)
    shadow_model_package_arn: str | None = Field(default=None, description="Shadow variant: mirrored traffic.")
    instance_type: str
    min_capacity: int = Field(ge=0, le=100)
    max_capacity: int = Field(ge=1, le=100)
    data_capture_percent: int = Field(ge=0, le=100)
    latency_alarm_ms: int = Field(ge=1, le=60_000, description="p99 model latency that raises the alarm.")
    autoscaling: AutoscalingConfig
    deployment: DeploymentConfig
    serverless_memory_mb: int = Field(default=2048, ge=1024, le=6144, multiple_of=1024)
    serverless_max_concurrency: int = Field(default=5, ge=1, le=200)
    async_max_concurrent_invocations_per_instance: int = Field(default=4, ge=1, le=1000)
    batch_transform: bool = Field(default=False, description="A batch-scoring pipeline for offline inference.")
    api_throttle_rate_per_second: int = Field(ge=1, le=10_000)
    api_throttle_burst: int = Field(ge=1, le=5_000)

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not _INSTANCE_TYPE.match(value):
            raise ValueError("must be a SageMaker instance type such as 'ml.m5.large'")
        return value

    @field_validator("model_package_arn", "challenger_model_package_arn", "shadow_model_package_arn")
    @classmethod
    def _package_arn(cls, value: str | None) -> str | None:
        if value is not None and not _MODEL_PACKAGE_ARN.match(value):
            raise ValueError(
                f"{value!r} is not a model package version ARN "
                "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)"
            )
        return value

    @model_validator(mode="after")
    def _capacity(self) -> InferenceConfig:
        if self.min_capacity > self.max_capacity:
            raise ValueError(f"min_capacity: {self.min_capacity} must not exceed max_capacity ({self.max_capacity})")
        if self.min_capacity == 0 and self.mode != "async":
            raise ValueError("min_capacity: only async endpoints scale to zero; realtime needs at least 1")
        if self.mode == "serverless" and (self.challenger_model_package_arn or self.shadow_model_package_arn):
            raise ValueError("mode: serverless endpoints take one variant (no challenger, no shadow)")
        if self.challenger_model_package_arn and self.shadow_model_package_arn:
            most, url = _documented_limit("shadow-variants-one-production-variant")
            raise ValueError(
                "shadow_model_package_arn: an endpoint with a shadow variant may have only "
                f"{most} production variant, so no challenger at the same time ({url})"
            )
        return self

    @property
    def in_vpc(self) -> bool:
        """Realtime and async endpoints run in the VPC; serverless endpoints cannot."""
        return self.mode != "serverless"

    @property
    def serving(self) -> bool:
        """Whether this deploy creates an endpoint (an approved model package is named)."""
        return self.model_package_arn is not None


class MlConfig(_Model):
    """The training pipeline: instance sizes, the variant it runs, its gate and its triggers."""

    processing_instance_type: str
    training_instance_type: str
    hyperparameter_tuning: bool = Field(description="Bayesian tuning (8 jobs) instead of one training job.")
    managed_spot_training: bool = Field(description="Spot capacity with checkpointing: up to ~70% cheaper.")
    auc_threshold: float = Field(ge=0.5, le=1.0, description="Register the model only at or above this AUC.")
    retraining_schedule: str | None = Field(description="EventBridge Scheduler expression, or null for none.")
    retrain_on_new_data: bool = Field(description="Start the pipeline when an object lands under raw/training/.")

    @field_validator("processing_instance_type", "training_instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        if not _INSTANCE_TYPE.match(value):
            raise ValueError("must be a SageMaker instance type such as 'ml.m5.large'")
        return value

    @field_validator("retraining_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None and not _SCHEDULE.match(value):
            raise ValueError("must be 'rate(N unit)' or 'cron(m h dom mon dow y)' (EventBridge Scheduler)")
        return value

    @property
    def pipeline_variant(self) -> str:
        """Which committed definition (pipelines/definitions/<variant>.json) the stack embeds."""
        return ("tune" if self.hyperparameter_tuning else "train") + ("-spot" if self.managed_spot_training else "")


class MonitoringConfig(_Model):
    """Drift monitoring (works in every account) and the retraining loop it closes."""

    drift_schedule: str = Field(description="EventBridge Scheduler expression for the drift job.")
    psi_threshold: float = Field(gt=0, le=5, description="Max feature PSI that raises the drift alarm.")
    retrain_on_drift: bool = Field(description="The drift alarm's OK->ALARM transition starts the training pipeline.")
    model_monitor: bool = Field(default=False, description="SageMaker Model Monitor schedules (accounts that have it).")
    model_monitor_schedule: str = Field(
        default="cron(0 * ? * * *)", description="Hourly or daily, as Model Monitor takes."
    )

    @field_validator("model_monitor_schedule")
    @classmethod
    def _monitor_schedule(cls, value: str) -> str:
        if not re.match(r"^cron\(0 (\*|\d{1,2}|0/\d{1,2}) \? \* \* \*\)$", value):
            raise ValueError(
                "Model Monitor takes an hourly or daily cron, e.g. 'cron(0 * ? * * *)' or 'cron(0 2 ? * * *)'"
            )
        return value

    @field_validator("drift_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError("must be 'rate(N unit)' or 'cron(m h dom mon dow y)' (EventBridge Scheduler)")
        return value


FunctionName = Literal["invoke_endpoint", "drift_starter"]


class FunctionsConfig(_Model):
    """Lambda functions of the platform (lambdas/<name>/)."""

    reserved_concurrency: dict[FunctionName, Annotated[int, Field(ge=1, le=1000)]] | None = Field(
        default=None,
        description="Reserved concurrency per function, or null for none: new accounts can have a concurrency "
        "quota of 10 and Lambda keeps 100 unreserved, so a sandbox reserves nothing.",
    )

    def reserved_for(self, function: FunctionName) -> int | None:
        return (self.reserved_concurrency or {}).get(function)


class TagsConfig(_Model):
    owner: str = Field(min_length=1, max_length=256)
    cost_center: str = Field(min_length=1, max_length=256)


Environment = Literal["sandbox", "staging", "production"]
RemovalChoice = Literal["retain", "destroy"]


class PlatformConfig(_Model):
    project_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,19}$")]
    environment: Environment
    account: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    region: str | None = None
    alert_email: str
    removal_policy: RemovalChoice = Field(
        description="'destroy' is an explicit sandbox opt-in to clean teardown; production retains data."
    )
    log_retention_days: int
    tags: TagsConfig
    network: NetworkConfig
    data_lake: DataLakeConfig
    governance: GovernanceConfig
    inference: InferenceConfig
    ml: MlConfig
    monitoring: MonitoringConfig
    functions: FunctionsConfig = FunctionsConfig()

    _retention = field_validator("log_retention_days")(_check_retention)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", value):
            raise ValueError(f"{value!r} is not a region name like 'eu-west-1'")
        if value not in known_regions():
            raise ValueError(f"{value!r} is not an AWS commercial region (config/data/regions.json)")
        return value

    @field_validator("alert_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _where_aws_allows(self) -> PlatformConfig:
        """Combinations across sections that AWS rejects at deploy time, refused here."""
        serving_in_vpc = self.inference.serving and self.inference.in_vpc
        if serving_in_vpc:
            needed, url = _documented_limit("hosting-vpc-two-azs")
            have = self.network.az_count_for(serving=True)
            if have < needed:
                field = "network.serving_az_count" if self.network.az_count < needed else "network.az_count"
                raise ValueError(
                    f"{field}: SageMaker hosting in a VPC needs subnets in at least {needed} AZs while "
                    f"{self.inference.mode} serving ({have} configured; {url})"
                )
        uses_instances = (
            self.inference.serving and self.inference.mode != "serverless"
        ) or self.inference.batch_transform
        if uses_instances:
            from pipelines.definition import SERVING_INSTANCE_TYPES  # noqa: PLC0415 - data of the committed definitions

            if self.inference.instance_type not in SERVING_INSTANCE_TYPES:
                raise ValueError(
                    f"inference.instance_type: {self.inference.instance_type!r} is not among the instance types the "
                    f"training pipeline registers packages for ({', '.join(SERVING_INSTANCE_TYPES)}; "
                    "pipelines/definition.py SERVING_INSTANCE_TYPES)"
                )
        zones = self.network.availability_zones
        if zones is not None:
            if self.region is None:
                raise ValueError("network.availability_zones: pinned AZs need `region` set in the profile")
            wrong = [z for z in zones if not re.fullmatch(re.escape(self.region) + r"[a-z]", z)]
            if wrong:
                raise ValueError(
                    f"network.availability_zones: {wrong[0]!r} is not an AZ of {self.region} (like '{self.region}a')"
                )
        return self

    @property
    def callers_in_vpc(self) -> dict[str, tuple[str, ...]]:
        """What runs in the VPC and calls an AWS API through an interface endpoint, with the boto3 clients it
        uses (a test reads the code of each and fails when this table and the code disagree). Network-isolated
        jobs (drift, Model Monitor, batch transform, models) call nothing; S3 goes through the gateway."""
        inference = self.inference
        callers: dict[str, tuple[str, ...]] = {"ingest_features.py": ("sagemaker-featurestore-runtime",)}
        if inference.serving and inference.mode != "async":
            callers["invoke_endpoint"] = ("sagemaker-runtime",)
        if inference.serving and inference.mode != "serverless" and inference.data_capture_percent > 0:
            callers["drift_starter"] = ("s3", "sagemaker")
        return callers

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """The interface endpoints this deploy creates: those whose clients something in the VPC calls, and the
        profile's extras (network.interface_endpoints). Nothing else: each costs per AZ-hour."""
        catalog = interface_endpoint_catalog()["endpoints"]
        called = {client for clients in self.callers_in_vpc.values() for client in clients}
        needed = {name for name, entry in catalog.items() if called & set(entry.get("clients", []))}
        return tuple(sorted(needed | set(self.network.interface_endpoints)))

    def monthly_endpoint_cost_usd(self) -> float:
        """Fixed monthly price of this deploy's interface endpoints (data processing extra)."""
        catalog = interface_endpoint_catalog()
        hourly = catalog["hourly_usd_per_az"] * catalog["hours_per_month"]
        return round(float(len(self.interface_endpoints) * self.network_az_count * hourly), 2)

    @property
    def network_az_count(self) -> int:
        """How many AZs this deploy's VPC spans (more while an endpoint serves, where the profile says so)."""
        return self.network.az_count_for(serving=self.inference.serving and self.inference.in_vpc)

    @model_validator(mode="after")
    def _production_guarantees(self) -> PlatformConfig:
        """What the production profile promises, refused at synth time rather than found in review."""
        if self.environment != "production":
            return self
        rules = [
            (self.removal_policy == "retain", "removal_policy", "production must be 'retain'"),
            (self.network.az_count >= 2, "network.az_count", "production needs at least 2 AZs"),
            (self.inference.min_capacity >= 2, "inference.min_capacity", "production needs at least 2 instances"),
            (
                self.inference.mode == "realtime",
                "inference.mode",
                "production serves realtime endpoints in the VPC (serverless has no VPC; async is a separate choice)",
            ),
            (
                self.inference.deployment.traffic_routing != "ALL_AT_ONCE",
                "inference.deployment.traffic_routing",
                "production shifts traffic by CANARY or LINEAR with alarm rollback",
            ),
            (
                self.inference.max_capacity > self.inference.min_capacity,
                "inference.max_capacity",
                "production needs max_capacity > min_capacity",
            ),
            (self.log_retention_days >= 365, "log_retention_days", "production keeps logs at least 365 days"),
            (
                self.governance.trail_log_retention_days >= 365,
                "governance.trail_log_retention_days",
                "production keeps logs at least 365 days",
            ),
            (
                self.network.flow_log_retention_days >= 365,
                "network.flow_log_retention_days",
                "production keeps logs at least 365 days",
            ),
        ]
        for ok, field, rule in rules:
            if not ok:
                raise ValueError(f"{field}: {rule}")
        return self

    @property
    def stage_name(self) -> str:
        """The cdk.Stage id, e.g. ``Sandbox``: names the stacks, never the logical ids inside them."""
        return self.environment.capitalize()

    def stack_name(self, stack_id: str) -> str:
        """CloudFormation stack name: project and environment, so two copies can share an account."""
        return f"{self.project_name}-{self.environment}-{stack_id}"

    @property
    def name_prefix(self) -> str:
        """Prefix of the few physical names AWS requires (Glue, Athena, anomaly monitor)."""
        return f"{self.project_name}-{self.environment}"

    @property
    def destroy_on_delete(self) -> bool:
        return self.removal_policy == "destroy"

    @property
    def cost_allocation_tags(self) -> dict[str, str]:
        return {
            "project": self.project_name,
            "environment": self.environment,
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
        }


_FIELD_PREFIX = re.compile(r"^[a-z_][a-z0-9_.]*: ")


def _format(error: ValidationError, source: str) -> str:
    """The first problem as ``source: section.field: rule``, counting any others, on one line.

    Rules checked across fields (model validators) start their message with the field they
    blame, so the result always names one field.
    """
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        message = f"{loc}: unknown key (check the spelling against config/sandbox.yaml)"
    elif first["type"] == "missing":
        message = f"{loc}: is required"
    else:
        rule = first["msg"].removeprefix("Value error, ")
        names_field = _FIELD_PREFIX.match(rule) is not None
        message = (f"{loc}.{rule}" if loc else rule) if names_field else f"{loc}: {rule}"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {message}{suffix}"


def resolve_profile_path(profile: str | None, config_path: str | None) -> Path:
    """``-c config=PATH`` wins over ``-c profile=NAME``; the default profile is ``sandbox``."""
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(f"config: file {config_path!r} does not exist")
        return path
    name = profile or DEFAULT_PROFILE
    available = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    if name not in available:
        raise ConfigError(f"profile: unknown profile {name!r} (available: {', '.join(available)})")
    return CONFIG_DIR / f"{name}.yaml"


def parse_settings(raw: Any, source: str = "config") -> PlatformConfig:
    """Validate an already-parsed mapping (the YAML document) into a frozen config."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the file must hold a mapping of settings, not {type(raw).__name__}")
    try:
        return PlatformConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None


# Settings a deployment may override from the command line (`-c key=value`), with their place in the profile.
CONTEXT_OVERRIDES = {"model_package_arn": "inference.model_package_arn"}


def apply_overrides(raw: Any, overrides: dict[str, Any]) -> Any:
    """Put ``{"section.field": value}`` into the parsed profile before validation, so overrides obey the
    same rules as the file."""
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node
        if isinstance(node, dict):
            node[leaf] = value
    return raw


def load_settings(
    profile: str | None = None, config_path: str | None = None, overrides: dict[str, Any] | None = None
) -> PlatformConfig:
    path = resolve_profile_path(profile, config_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path.name}: not valid YAML{at}") from None
    return parse_settings(apply_overrides(raw, overrides or {}), source=path.name)
