"""The profile schema: one frozen pydantic model per section, and :class:`PlatformConfig` over them.

Field rules are the reusable types of :mod:`config.types`; the rules that compare fields are model
validators of the section (or of :class:`PlatformConfig`, across sections) whose message starts with the
field it blames, so the loader's one-line error always names one field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.catalogs import CONFIG_DIR, interface_endpoint_catalog
from config.facts import fact
from config.types import (
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


def _documented_limit(fact_id: str) -> tuple[Any, str]:
    """A limit AWS documents (config/data/aws_facts.yaml), with the page that says it, for error messages."""
    found = fact(fact_id)
    return found.value, found.url


class _Model(BaseModel):
    """Every section is frozen and rejects keys it does not know (a typo is an error)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Model):
    vpc_cidr: PrivateVpcCidr = Field(description="Literal private IPv4 CIDR of the VPC, /16 to /24.")
    az_count: AzCount = Field(description="Availability Zones used while nothing is served (endpoints cost per AZ).")
    serving_az_count: AzCount | None = Field(
        default=None,
        description="Availability Zones while an endpoint serves (SageMaker hosting in a VPC needs at least 2); "
        "null: the same as az_count.",
    )
    availability_zones: tuple[str, ...] | None = Field(
        default=None,
        description="Pin the AZ names (needs `region`); otherwise the first AZs Fn::GetAZs returns at deploy time.",
    )
    subnet_mask: int = Field(ge=20, le=28, description="Prefix length of each isolated subnet.")
    interface_endpoints: InterfaceEndpointNames = Field(
        default=(),
        description="Extra interface endpoints for your own workloads in the VPC. The platform adds, by itself, "
        "exactly the endpoints its own functions and jobs call (PlatformConfig.interface_endpoints).",
    )
    flow_log_retention_days: LogRetentionDays

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
    crawler_schedule: GlueCronSchedule | None = None
    streaming: StreamingConfig


class BudgetConfig(_Model):
    monthly_limit_usd: MonthlyUsd
    sagemaker_monthly_limit_usd: MonthlyUsd
    actual_threshold_percent: BudgetThresholdPercent
    forecast_threshold_percent: BudgetThresholdPercent

    @model_validator(mode="after")
    def _sagemaker_within_total(self) -> BudgetConfig:
        if self.sagemaker_monthly_limit_usd > self.monthly_limit_usd:
            raise ValueError("sagemaker_monthly_limit_usd: must not exceed monthly_limit_usd")
        return self


class AuditConfig(_Model):
    """The audit trail (AuditTrail): CloudTrail's log group retention and the audit bucket's Object Lock."""

    trail_log_retention_days: LogRetentionDays
    object_lock_days: int = Field(ge=1, le=36500, description="Governance-mode retention of every audit log file.")


class CostsConfig(_Model):
    """Cost controls (CostControls): budgets and the tag-scoped Cost Anomaly Detection monitor."""

    budget: BudgetConfig
    anomaly_detection: bool = Field(description="Needs a management or standalone account and Cost Explorer.")
    anomaly_threshold_usd: float = Field(gt=0)


class GovernanceConfig(_Model):
    audit: AuditConfig
    costs: CostsConfig
    api_gateway_logging_role: bool = Field(
        default=True,
        description="Set the account's API Gateway CloudWatch Logs role (one per account and region); false "
        "where the account's owner manages that setting.",
    )


class AutoscalingConfig(_Model):
    target_invocations_per_instance: int = Field(ge=1, le=100_000)
    scale_in_cooldown_seconds: SecondsUpToAnHour
    scale_out_cooldown_seconds: SecondsUpToAnHour
    business_hours_min_capacity: int | None = Field(
        default=None, ge=1, le=100, description="Scheduled scaling: raise the floor on weekdays 08:00-18:00 UTC."
    )


class DeploymentConfig(_Model):
    """How a new model reaches traffic: blue/green with canary or linear shifting and alarm rollback."""

    traffic_routing: Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]
    step_percent: TrafficSharePercent = Field(description="Canary size, or the linear step, in % of capacity.")
    wait_seconds: SecondsUpToAnHour = Field(description="Time between traffic shifts, watched by the alarms.")
    termination_wait_seconds: SecondsUpToAnHour


class ApiConfig(_Model):
    """The invocation API in front of the endpoint (API Gateway stage throttling)."""

    throttle_rate_per_second: int = Field(ge=1, le=10_000, description="Steady-state requests per second.")
    throttle_burst: int = Field(ge=1, le=5_000, description="Requests admitted at once above the steady rate.")
    decision_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="A probability of default at or above it is answered 'decline', below it 'approve'.",
    )


class InferenceConfig(_Model):
    """Serving. ``model_package_arn: null`` is the first deploy: no approved model yet, so no endpoint."""

    mode: Literal["realtime", "serverless", "async"] = Field(
        description="realtime (the secure default); serverless (no VPC, no isolation, no capture: a trade-off); "
        "async (queued requests, results in the lake, scales to zero)"
    )
    model_package_arn: ModelPackageArn | None = None
    model_data_url: ModelDataUrl | None = Field(
        default=None,
        description="Where the served package's artifact lives when it is not under this deploy's own lake: a "
        "version the model-deploy pipeline promotes from the tooling account's registry (set by the pipeline).",
    )
    challenger_model_package_arn: ModelPackageArn | None = Field(
        default=None, description="A/B test: a second variant."
    )
    challenger_weight_percent: TrafficSharePercent = 10
    shadow_model_package_arn: ModelPackageArn | None = Field(
        default=None, description="Shadow variant: mirrored traffic."
    )
    instance_type: InstanceType
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
    api: ApiConfig

    @model_validator(mode="after")
    def _capacity(self) -> InferenceConfig:
        if self.model_data_url and not self.model_package_arn:
            raise ValueError("model_data_url: names the artifact of model_package_arn, which is not set")
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

    processing_instance_type: InstanceType
    training_instance_type: InstanceType
    hyperparameter_tuning: bool = Field(description="Bayesian tuning (8 jobs) instead of one training job.")
    managed_spot_training: bool = Field(description="Spot capacity with checkpointing: up to ~70% cheaper.")
    auc_threshold: float = Field(ge=0.5, le=1.0, description="Register the model only at or above this AUC.")
    retraining_schedule: ScheduleExpression | None = Field(
        description="EventBridge Scheduler expression, or null for none."
    )
    retrain_on_new_data: bool = Field(description="Start the pipeline when an object lands under raw/training/.")

    @property
    def pipeline_variant(self) -> str:
        """Which committed definition (pipelines/definitions/<variant>.json) the stack embeds."""
        return ("tune" if self.hyperparameter_tuning else "train") + ("-spot" if self.managed_spot_training else "")


class MonitoringConfig(_Model):
    """Drift monitoring (works in every account) and the retraining loop it closes."""

    drift_schedule: ScheduleExpression = Field(description="EventBridge Scheduler expression for the drift job.")
    psi_threshold: float = Field(gt=0, le=5, description="Max feature PSI that raises the drift alarm.")
    retrain_on_drift: bool = Field(description="The drift alarm's OK->ALARM transition starts the training pipeline.")
    model_monitor: bool = Field(default=False, description="SageMaker Model Monitor schedules (accounts that have it).")
    model_monitor_schedule: ModelMonitorSchedule = Field(
        default="cron(0 * ? * * *)", description="Hourly or daily, as Model Monitor takes."
    )


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
    owner: TagValue
    cost_center: TagValue


class ConnectionSource(_Model):
    """A git repository behind an existing CodeConnections connection (GitHub, GitLab, Bitbucket). The platform
    never creates the connection: one made by CloudFormation or the CLI stays PENDING until a person completes
    the handshake in the console (facts: connection-pending-until-console)."""

    kind: Literal["connection"]
    connection_arn: ConnectionArn
    repository: RepositoryName
    branch: GitBranch = "main"


class S3Source(_Model):
    """The fallback for accounts without a git host: a zip of the repository in a versioned bucket
    (facts: s3-source-versioned-bucket)."""

    kind: Literal["s3"]
    bucket: BucketName
    object_key: str = Field(min_length=1, max_length=1024, pattern=r"^[^/].*\.zip$")


class PipelineStage(_Model):
    """One deployment of the platform by the pipeline: a profile under config/, in its own account and region."""

    name: PipelineStageName
    profile: ProfileName
    account: AccountId
    region: RegionName


class AcceptanceConfig(_Model):
    """What the model-deploy pipeline's test stage demands of the staging API before production may be approved
    (tools/acceptance.py runs it with these numbers)."""

    records: int = Field(default=200, ge=10, le=3000, description="Labelled sample records sent.")
    records_per_request: int = Field(
        default=10, ge=1, le=100, description="Records per timed request: 200 records make 20 timed requests."
    )
    warm_up_requests: int = Field(
        default=1, ge=0, le=10, description="Untimed requests first: the freshly deployed function's cold start."
    )
    max_error_rate_percent: float = Field(default=1.0, ge=0, le=100, description="Failed requests, in percent.")
    max_p95_latency_ms: int = Field(default=1000, ge=1, le=60_000, description="p95 of the requests' round trip.")
    min_auc: float = Field(default=0.7, ge=0.5, le=1.0, description="AUC of the answers against the labels.")


class ModelDeployConfig(_Model):
    """The model-deploy path of the pipeline (issue 13 part 2): a version approved in the tooling account's registry
    is recorded, deployed to ``test_stage``, tested there through the API, and reaches the later stages (production
    after its manual approval) only when the test passes."""

    test_stage: PipelineStageName = Field(description="The stage the approved version is deployed to and tested in.")
    acceptance: AcceptanceConfig = AcceptanceConfig()


def profile_environment(profile: str) -> str | None:
    """The ``environment`` a profile under config/ declares (None: no such profile), read without validating the
    whole profile (the stage's profile is loaded and validated in full when its stage is built)."""
    path = CONFIG_DIR / f"{profile}.yaml"
    if not path.is_file():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(raw.get("environment")) if isinstance(raw, dict) else None


class CicdConfig(_Model):
    """The platform pipeline (issue 13 part 1): CDK Pipelines in the profile's own (tooling) account and region,
    deploying each stage in order, with a manual approval before the stages named in ``approval_before``."""

    enabled: bool = False
    source: Annotated[ConnectionSource | S3Source, Field(discriminator="kind")]
    stages: tuple[PipelineStage, ...] = Field(min_length=1)
    approval_before: tuple[PipelineStageName, ...] | None = Field(
        default=None, description="Stages a person approves first; null: every stage whose profile is production."
    )
    model_deploy: ModelDeployConfig | None = Field(
        default=None, description="Deploy each version approved in the registry through the stages (README 'CI/CD')."
    )

    @model_validator(mode="after")
    def _stages_fit(self) -> CicdConfig:
        names = [stage.name for stage in self.stages]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"stages: stage {twice[0]!r} is named twice")
        for stage in self.stages:
            if profile_environment(stage.profile) is None:
                raise ValueError(
                    f"stages: stage {stage.name!r} names profile {stage.profile!r}, not a file under config/"
                )
        unknown = [name for name in self.approval_before or () if name not in names]
        if unknown:
            raise ValueError(f"approval_before: {unknown[0]!r} is not a stage of the pipeline")
        unapproved = [s.name for s in self.production_stages if s.name not in self.approved_stages]
        if unapproved:
            raise ValueError(f"approval_before: production stage {unapproved[0]!r} needs a manual approval before it")
        if self.model_deploy is not None:
            self._model_deploy_fits(names)
        return self

    def _model_deploy_fits(self, names: list[str]) -> None:
        assert self.model_deploy is not None
        tested = self.model_deploy.test_stage
        if tested not in names:
            raise ValueError(f"model_deploy.test_stage: {tested!r} is not a stage of the pipeline")
        if profile_environment(self.stages[names.index(tested)].profile) == "production":
            raise ValueError(f"model_deploy.test_stage: {tested!r} deploys a production profile; test before it")
        early = [s.name for s in self.production_stages if names.index(s.name) < names.index(tested)]
        if early:
            raise ValueError(
                f"model_deploy.test_stage: production stage {early[0]!r} comes before {tested!r}; an approved version "
                "reaches production only after the test stage passes"
            )

    @property
    def tested_stage(self) -> PipelineStage | None:
        """The stage the model-deploy test runs against (None without model deploy)."""
        if self.model_deploy is None:
            return None
        return next(s for s in self.stages if s.name == self.model_deploy.test_stage)

    @property
    def production_stages(self) -> tuple[PipelineStage, ...]:
        return tuple(s for s in self.stages if profile_environment(s.profile) == "production")

    @property
    def approved_stages(self) -> frozenset[str]:
        """Names of the stages behind a manual approval (control 37: every production stage)."""
        if self.approval_before is None:
            return frozenset(s.name for s in self.production_stages)
        return frozenset(self.approval_before)


Environment = Literal["sandbox", "staging", "production"]
RemovalChoice = Literal["retain", "destroy"]


FEATURE_GROUP_BASE = "credit-features"  # the feature group's name: <name_prefix>-credit-features-<digest>-<suffix>


class PlatformConfig(_Model):
    project_name: ProjectName
    environment: Environment
    account: AccountId | None = None
    region: RegionName | None = None
    alert_email: EmailAddress
    removal_policy: RemovalChoice = Field(
        description="'destroy' is an explicit sandbox opt-in to clean teardown; production retains data."
    )
    log_retention_days: LogRetentionDays
    tags: TagsConfig
    network: NetworkConfig
    data_lake: DataLakeConfig
    governance: GovernanceConfig
    inference: InferenceConfig
    ml: MlConfig
    monitoring: MonitoringConfig
    functions: FunctionsConfig = FunctionsConfig()
    cicd: CicdConfig | None = Field(
        default=None, description="The platform pipeline (opt-in; README 'CI/CD'). Absent: no Cicd stack."
    )

    @model_validator(mode="after")
    def _pipeline_is_pinned(self) -> PlatformConfig:
        """CDK Pipelines deploys only stacks with an explicit account and region (facts: pipelines-explicit-env)."""
        if self.cicd is not None and self.cicd.enabled and (self.account is None or self.region is None):
            field = "account" if self.account is None else "region"
            raise ValueError(
                f"{field}: cicd.enabled needs the tooling account and region pinned in the profile (CDK Pipelines "
                "deploys only stacks with an explicit environment)"
            )
        if self.cicd is not None and self.cicd.enabled:
            self._stages_fit_the_tooling_account(self.cicd)
            if self.cicd.model_deploy is not None and self.removal_policy != "retain":
                raise ValueError(
                    "removal_policy: cicd.model_deploy serves every stage from this profile's lake (the approved "
                    "versions' artifacts), so it must be 'retain': a teardown would break their endpoints"
                )
        return self

    def _stages_fit_the_tooling_account(self, cicd: CicdConfig) -> None:
        for stage in cicd.stages:
            here = (stage.account, stage.region) == (self.account, self.region)
            if here and profile_environment(stage.profile) == self.environment:
                raise ValueError(
                    f"cicd.stages: stage {stage.name!r} deploys a {self.environment} profile into the tooling account "
                    f"and region, where this profile's own stacks have the same names ({self.stack_name('Network')}, "
                    "...); give it another account, region or profile"
                )
            if cicd.model_deploy is not None and not here:
                raise ValueError(
                    f"cicd.model_deploy: stage {stage.name!r} is in {stage.account}/{stage.region}, the registry in "
                    f"{self.account}/{self.region}; serving a version from another account's registry needs its "
                    "group, bucket and key policies, which the platform does not build yet (README 'CI/CD')"
                )

    @property
    def pipeline_enabled(self) -> bool:
        return self.cicd is not None and self.cicd.enabled

    @property
    def pipeline_name(self) -> str:
        """The platform pipeline's name (with CI/CD on)."""
        return f"{self.name_prefix}-platform"

    @property
    def model_registry_name(self) -> str:
        """The model package group of this deploy (components/ml/training.py names it)."""
        return f"{self.name_prefix}-models"

    @property
    def model_deploy_parameter(self) -> str:
        """The SSM parameter holding the version the model-deploy pipeline deploys (an ARN, or ``none``)."""
        return f"/{self.project_name}/{self.environment}/model-deploy/approved-package"

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
            from pipelines.placeholders import SERVING_INSTANCE_TYPES  # noqa: PLC0415 - data of the committed definitions

            if self.inference.instance_type not in SERVING_INSTANCE_TYPES:
                raise ValueError(
                    f"inference.instance_type: {self.inference.instance_type!r} is not among the instance types the "
                    f"training pipeline registers packages for ({', '.join(SERVING_INSTANCE_TYPES)}; "
                    "pipelines/placeholders.py SERVING_INSTANCE_TYPES)"
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
            # GET /applicants/{id}/prediction reads the online feature store.
            callers["invoke_endpoint"] = ("sagemaker-runtime", "sagemaker-featurestore-runtime")
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
    def _feature_group_name_fits(self) -> PlatformConfig:
        """The feature group's name is ``<prefix>-credit-features-<6 hex>-<12 hex>`` and may have 64 characters
        (facts: feature-group-name-length); the schema digest and stack-id suffix take 20 of them."""
        longest = 64 - len(f"-{FEATURE_GROUP_BASE}") - 20
        if len(self.name_prefix) > longest:
            raise ValueError(
                f"project_name: '{self.project_name}-{self.environment}' is {len(self.name_prefix)} characters; the "
                f"feature group's name allows at most {longest} for project name and environment together"
            )
        return self

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
                self.governance.audit.trail_log_retention_days >= 365,
                "governance.audit.trail_log_retention_days",
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
