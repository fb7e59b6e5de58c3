"""`make preflight`: what this account and region must have before the profile's deploy succeeds.

    python -m tools.preflight -c profile=sandbox [-c config=PATH] [-c model_package_arn=ARN]

Read-only, needs AWS credentials, never called by synth or by the tests against AWS. Prints one line per
check, then a summary, and exits 1 when any check would make the deploy (or the platform's first run)
fail:

    ok      <check>: <detail>
    missing <check>: <what is wrong> -> <the exact fix>
    warn    <check>: <what it cannot verify, or what fails later> -> <what to do>

Every AWS call sits in a small function that takes its client, so tests hand in clients wrapped in
botocore's Stubber. What the profile needs (instance counts, AZs, reservations) is computed from the typed
profile and the committed pipeline definitions, without AWS and without the CDK.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from config import ConfigError, PlatformConfig, load_settings
from config.facts import fact
from config.loader import CONTEXT_OVERRIDES
from config.schema import ConnectionSource, FunctionName

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "pipelines" / "definitions"

# --- Values AWS documents, read from config/data/aws_facts.yaml (each entry names its source). ------------

# Every synthesized template carries the rule CheckBootstrapVersion ("CDK bootstrap stack version 6
# required") and reads the version from this parameter (cdk.out/*.template.json, BootstrapVersion);
# https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
MIN_BOOTSTRAP_VERSION = int(fact("cdk-bootstrap-version-required").value)

# SageMaker's per-instance-type quotas in Service Quotas (service code "sagemaker"), named
# "<instance type> for <use>", as ResourceLimitExceeded errors quote them;
# https://docs.aws.amazon.com/general/latest/gr/sagemaker.html
SAGEMAKER_SERVICE_CODE = "sagemaker"
TRAINING_USE, SPOT_TRAINING_USE, PROCESSING_USE, ENDPOINT_USE, TRANSFORM_USE = fact(
    "sagemaker-instance-quota-names"
).value

# "VPCs per Region", adjustable, default 5; https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
VPC_QUOTA_SERVICE_CODE = str(fact("vpcs-per-region-quota").value["service_code"])
VPC_QUOTA_CODE = str(fact("vpcs-per-region-quota").value["quota_code"])
VPC_QUOTA_DEFAULT = int(fact("vpcs-per-region-quota").value["default"])

# Trails per Region: 5, not adjustable; a multi-Region trail counts once in every Region;
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html
TRAILS_PER_REGION = int(fact("cloudtrail-trails-per-region").value)

# Cost Explorer answers "User not enabled for cost explorer access" (AccessDeniedException) until it is
# enabled, and DataUnavailableException while its first data is ingested; a member account is told "Linked
# account doesn't have access to cost allocation tags". Each Cost Explorer API request costs USD 0.01;
# https://aws.amazon.com/aws-cost-management/aws-cost-explorer/faqs/
COST_EXPLORER_NOT_ENABLED = re.compile(r"not enabled for cost explorer", re.IGNORECASE)
LINKED_ACCOUNT_NO_TAGS = re.compile(r"linked account", re.IGNORECASE)

# Model Monitor's availability change page (the schedules an account already has are the only sign of an
# existing customer that an API shows); https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-availability-change.html
MODEL_MONITOR_JOBS = (
    3  # components/monitoring/model_monitor.py: data quality, model quality and bias, one instance each
)

# --- Results -------------------------------------------------------------------------------------------------

Status = Literal["ok", "missing", "warn"]


@dataclass(frozen=True)
class Check:
    """One line of the report. ``missing`` means the deploy (or the platform's first run) would fail."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.status:<8}{self.name}: {self.detail}"
        return f"{text} -> {self.fix}" if self.fix else text


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def missing(name: str, detail: str, fix: str) -> Check:
    return Check(name, "missing", detail, fix)


def warn(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, "warn", detail, fix)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(error).__name__))


def _error_message(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Message", str(error)))


def _is_client_error(error: Exception) -> bool:
    return hasattr(error, "response") and hasattr(error, "operation_name")


def guarded(name: str, action: str, run: Callable[[], list[Check]]) -> list[Check]:
    """Run one check; an API error it does not expect (access denied, throttling) becomes one ``warn`` line
    that names the IAM action to allow, instead of a traceback that hides the other checks."""
    try:
        return run()
    except Exception as error:  # botocore's ClientError and BotoCoreError; anything else is a bug
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only at run time

        if not isinstance(error, ClientError | BotoCoreError):
            raise
        reason = f"{_error_code(error)}: {_error_message(error)}" if _is_client_error(error) else str(error)
        return [warn(name, f"could not check ({reason})", f"allow {action} to this caller and run preflight again")]


# --- The profile's needs, without AWS --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaNeed:
    """Instances of one type one use needs at once (``count``), and what it may grow to (``headroom``)."""

    use: str
    instance_type: str
    count: int
    headroom: int
    why: str
    fails: str = "the platform's jobs would fail with ResourceLimitExceeded"

    @property
    def quota_name(self) -> str:
        return f"{self.instance_type} for {self.use}"


def _definition(name: str) -> dict[str, Any]:
    return dict(json.loads((DEFINITIONS / f"{name}.json").read_text(encoding="utf-8")))


def _dependencies(step: dict[str, Any]) -> set[str]:
    """Steps this step waits for: its explicit DependsOn and every property of another step it reads."""
    refs = set(re.findall(r'"Steps\.([A-Za-z0-9_-]+)', json.dumps(step.get("Arguments", {}))))
    return refs | set(step.get("DependsOn") or [])


def _instance_count(step: dict[str, Any]) -> int:
    arguments = step.get("Arguments", {})
    resources = (
        arguments.get("ProcessingResources", {}).get("ClusterConfig")
        or arguments.get("ResourceConfig")
        or arguments.get("TrainingJobDefinition", {}).get("ResourceConfig")
        or arguments.get("TransformResources")
        or {}
    )
    return int(resources.get("InstanceCount", 1))


def concurrent_instances(definition: dict[str, Any], step_type: str) -> tuple[int, int]:
    """Instances the pipeline's ``step_type`` steps hold at once: (``together``, ``at_most``).

    SageMaker starts a step as soon as the steps it reads have finished, so steps that wait for the same steps
    start together (``together``: every run needs that many), and steps none of which waits for another may
    overlap (``at_most``: the heaviest such set, reached when their timings line up)."""
    steps = {s["Name"]: s for s in definition["Steps"]}
    direct = {name: _dependencies(step) & set(steps) for name, step in steps.items()}
    ancestors: dict[str, set[str]] = {}

    def above(name: str) -> set[str]:
        if name not in ancestors:
            ancestors[name] = set(direct[name])
            for parent in direct[name]:
                ancestors[name] |= above(parent)
        return ancestors[name]

    chosen = [name for name, step in steps.items() if step["Type"] == step_type]
    starts: dict[frozenset[str], int] = {}
    for name in chosen:
        key = frozenset(direct[name])
        starts[key] = starts.get(key, 0) + _instance_count(steps[name])
    together = max(starts.values(), default=0)
    at_most = 0
    for size in range(1, len(chosen) + 1):
        for group in itertools.combinations(chosen, size):
            if all(a not in above(b) and b not in above(a) for a, b in itertools.combinations(group, 2)):
                at_most = max(at_most, sum(_instance_count(steps[name]) for name in group))
    return together, at_most


def _tuning_parallel_jobs(definition: dict[str, Any]) -> tuple[int, int]:
    """(MaxParallelTrainingJobs, instances per job) of the pipeline's tuning step."""
    for step in definition["Steps"]:
        if step["Type"] == "Tuning":
            arguments = step["Arguments"]
            limits = arguments["HyperParameterTuningJobConfig"]["ResourceLimits"]
            return int(limits["MaxParallelTrainingJobs"]), _instance_count(step)
    raise ValueError("the tuning definition has no Tuning step")


def _literal_instance_type(definition: dict[str, Any], step_type: str) -> str | None:
    for step in definition["Steps"]:
        if step["Type"] == step_type:
            value = step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"]
            return value if isinstance(value, str) else None
    return None


def drift_runs(config: PlatformConfig) -> bool:
    """The drift job and Model Monitor exist only beside an endpoint that captures data (stacks/monitoring_stack.py)."""
    inference = config.inference
    return inference.serving and inference.mode != "serverless" and inference.data_capture_percent > 0


def sagemaker_needs(config: PlatformConfig) -> list[QuotaNeed]:
    """Every (instance type, use) the profile runs, with the instances one run needs at once."""
    ml, inference = config.ml, config.inference
    training = _definition(ml.pipeline_variant)
    needs: list[QuotaNeed] = []

    processing, overlap = concurrent_instances(training, "Processing")
    extra, extra_why = 0, ""
    if drift_runs(config):
        drift_type = _literal_instance_type(_definition("drift"), "Processing") or ml.processing_instance_type
        if drift_type == ml.processing_instance_type:
            extra += 1
            extra_why = "; the drift job can run beside them"
        else:
            needs.append(QuotaNeed(PROCESSING_USE, drift_type, 1, 1, "the drift job"))
        if config.monitoring.model_monitor:
            extra += MODEL_MONITOR_JOBS
            extra_why += f" and {MODEL_MONITOR_JOBS} Model Monitor jobs on the same hour"
    needs.append(
        QuotaNeed(
            PROCESSING_USE,
            ml.processing_instance_type,
            processing,
            overlap + extra,
            f"{processing} training-pipeline steps start together, {overlap} can overlap{extra_why}",
        )
    )

    use = SPOT_TRAINING_USE if ml.managed_spot_training else TRAINING_USE
    if ml.hyperparameter_tuning:
        parallel, per_job = _tuning_parallel_jobs(training)
        count, why = parallel * per_job, f"the tuning job runs {parallel} training jobs at once"
    else:
        count, why = concurrent_instances(training, "Training")[1], "one training job"
    needs.append(QuotaNeed(use, ml.training_instance_type, count, count, why))

    if inference.serving and inference.mode != "serverless":
        variants = 1 + bool(inference.challenger_model_package_arn) + bool(inference.shadow_model_package_arn)
        initial = variants * max(inference.min_capacity, 1)
        scaled = variants * max(inference.max_capacity, inference.autoscaling.business_hours_min_capacity or 0)
        needs.append(
            QuotaNeed(
                ENDPOINT_USE,
                inference.instance_type,
                initial,
                max(scaled, 2 * initial),
                f"{variants} variant(s) x {max(inference.min_capacity, 1)} instance(s); autoscaling up to "
                f"{scaled}, and a blue/green update runs a second fleet beside the first",
                "the Inference stack's deploy would fail creating the endpoint",
            )
        )
    if inference.batch_transform:
        batch = concurrent_instances(_definition("batch"), "Transform")[1] or 1
        needs.append(QuotaNeed(TRANSFORM_USE, inference.instance_type, batch, batch, "the batch-scoring pipeline"))
    return _merged(needs)


def _merged(needs: Iterable[QuotaNeed]) -> list[QuotaNeed]:
    merged: dict[str, QuotaNeed] = {}
    for need in needs:
        old = merged.get(need.quota_name)
        merged[need.quota_name] = (
            QuotaNeed(
                need.use,
                need.instance_type,
                old.count + need.count,
                old.headroom + need.headroom,
                f"{old.why}; {need.why}",
                need.fails,
            )
            if old
            else need
        )
    return list(merged.values())


def reserved_concurrency(config: PlatformConfig) -> dict[str, int]:
    """Reservations of the functions this deploy creates (stacks/inference_stack.py, stacks/monitoring_stack.py)."""
    created: dict[FunctionName, bool] = {
        "invoke_endpoint": serves_an_api(config),
        "drift_starter": drift_runs(config),
    }
    return {
        name: amount
        for name, exists in created.items()
        if exists and (amount := config.functions.reserved_for(name)) is not None
    }


def serves_an_api(config: PlatformConfig) -> bool:
    return config.inference.serving and config.inference.mode != "async"


def vpc_azs(
    available: list[str], default_subnet_azs: set[str], count: int, pinned: tuple[str, ...] | None
) -> list[str]:
    """The AZs the VPC will use: the pinned ones, else the first ``count`` of what Fn::GetAZs lists (the AZs with
    a default subnet, all of them when there is none, in alphabetical order)."""
    if pinned:
        return list(pinned[:count])
    listed = sorted(az for az in available if az in default_subnet_azs) if default_subnet_azs else sorted(available)
    return listed[:count]


# --- AWS calls: one small function each ---------------------------------------------------------------------


def caller_account(sts: Any) -> str:
    return str(sts.get_caller_identity()["Account"])


def bootstrap_version(ssm: Any) -> int | None:
    """The CDK bootstrap version of this account and region, None when it was never bootstrapped."""
    try:
        value = ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return int(value)


@dataclass(frozen=True)
class Quota:
    code: str
    value: float
    default: bool = False  # only the default is known (list_service_quotas had no applied value)


def service_quotas(quotas: Any, service_code: str) -> dict[str, Quota]:
    """Quota name -> value: applied values (list_service_quotas), AWS defaults for the rest."""
    found: dict[str, Quota] = {}
    for page in quotas.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode=service_code):
        for quota in page["Quotas"]:
            found[quota["QuotaName"]] = Quota(quota["QuotaCode"], float(quota["Value"]), default=True)
    for page in quotas.get_paginator("list_service_quotas").paginate(ServiceCode=service_code):
        for quota in page["Quotas"]:
            found[quota["QuotaName"]] = Quota(quota["QuotaCode"], float(quota["Value"]))
    return found


def one_quota(quotas: Any, service_code: str, quota_code: str) -> float | None:
    """An applied quota value, else its AWS default, else None."""
    try:
        return float(quotas.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"]["Value"])
    except quotas.exceptions.NoSuchResourceException:
        pass
    try:
        return float(
            quotas.get_aws_default_service_quota(ServiceCode=service_code, QuotaCode=quota_code)["Quota"]["Value"]
        )
    except quotas.exceptions.NoSuchResourceException:
        return None


def lambda_concurrency(lambda_client: Any) -> tuple[int, int]:
    """(account concurrency quota, executions not reserved by any function)."""
    limit = lambda_client.get_account_settings()["AccountLimit"]
    return int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])


def apigateway_cloudwatch_role(apigateway: Any) -> str | None:
    return apigateway.get_account().get("cloudwatchRoleArn") or None


def cost_allocation_tag_status(ce: Any, key: str) -> str | None:
    """``Active``, ``Inactive``, or None when Billing has not seen the tag key on any resource yet."""
    tags = ce.list_cost_allocation_tags(TagKeys=[key], Type="UserDefined").get("CostAllocationTags", [])
    return next((str(tag["Status"]) for tag in tags if tag["TagKey"] == key), None)


def cost_explorer_probe(ce: Any, today: dt.date) -> None:
    """One small Cost Explorer query (USD 0.01); raises what Cost Explorer answers when it is not enabled."""
    start = today - dt.timedelta(days=1)
    ce.get_cost_and_usage(
        TimePeriod={"Start": start.isoformat(), "End": today.isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
    )


def organization_management_account(organizations: Any) -> str | None:
    """The management account of the caller's organization, None when the account is standalone."""
    try:
        return str(organizations.describe_organization()["Organization"]["MasterAccountId"])
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        return None


def monitoring_schedule_count(sagemaker: Any) -> int:
    return len(sagemaker.list_monitoring_schedules(MaxResults=100).get("MonitoringScheduleSummaries", []))


def vpc_count(ec2: Any) -> int:
    return sum(len(page["Vpcs"]) for page in ec2.get_paginator("describe_vpcs").paginate())


def stack_exists(cloudformation: Any, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in _error_message(error):
            return False
        raise
    return any(stack["StackStatus"] != "DELETE_COMPLETE" for stack in stacks)


def trail_count(cloudtrail: Any) -> int:
    """Trails that count in this Region: its own and the multi-Region trails of other Regions (shadow trails)."""
    return len(cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []))


def available_azs(ec2: Any) -> list[str]:
    zones = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}, {"Name": "state", "Values": ["available"]}]
    )["AvailabilityZones"]
    return sorted(zone["ZoneName"] for zone in zones)


def default_subnet_azs(ec2: Any) -> set[str]:
    pages = ec2.get_paginator("describe_subnets").paginate(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    return {subnet["AvailabilityZone"] for page in pages for subnet in page["Subnets"]}


def endpoint_service_azs(ec2: Any, service_name: str) -> set[str] | None:
    """AZs where the interface endpoint service is offered, None when the Region does not offer it at all."""
    from botocore.exceptions import ClientError  # noqa: PLC0415 - boto only at run time

    try:
        details = ec2.describe_vpc_endpoint_services(ServiceNames=[service_name])["ServiceDetails"]
    except ClientError as error:
        if _error_code(error) == "InvalidServiceName":
            return None
        raise
    for detail in details:
        if detail["ServiceName"] == service_name:
            return set(detail.get("AvailabilityZones", []))
    return None


# --- Checks ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where preflight looks and how its fixes name the profile (``make bootstrap PROFILE=production``)."""

    config: PlatformConfig
    account: str
    region: str
    make_args: str = ""
    deployed: dict[str, bool] = field(default_factory=dict)  # stack id -> exists

    def make(self, command: str) -> str:
        return f"make {command}{self.make_args}"


def check_bootstrap(ssm: Any, target: Target) -> list[Check]:
    name = "cdk bootstrap"
    version = bootstrap_version(ssm)
    where = f"{target.account}/{target.region}"
    if version is None:
        return [
            missing(
                name, f"{where} is not bootstrapped ({BOOTSTRAP_VERSION_PARAMETER} not found)", target.make("bootstrap")
            )
        ]
    if version < MIN_BOOTSTRAP_VERSION:
        return [
            missing(
                name,
                f"bootstrap version {version} in {where}; the templates require {MIN_BOOTSTRAP_VERSION} or later",
                target.make("bootstrap") + " (upgrades the CDKToolkit stack in place)",
            )
        ]
    return [ok(name, f"version {version} in {where} (templates require {MIN_BOOTSTRAP_VERSION} or later)")]


def check_sagemaker_quotas(quotas: Any, target: Target) -> list[Check]:
    known = service_quotas(quotas, SAGEMAKER_SERVICE_CODE)
    results = []
    for need in sagemaker_needs(target.config):
        name = f"quota {need.quota_name}"
        quota = known.get(need.quota_name)
        if quota is None:
            results.append(
                missing(
                    name,
                    f"{target.region} has no such quota: {need.instance_type} is not offered for {need.use} here",
                    f"choose an instance type offered in {target.region} for {need.use} in the profile",
                )
            )
            continue
        have = int(quota.value)
        source = "AWS default" if quota.default else "applied"
        request = (
            f"request an increase of '{need.quota_name}' to {{}} in Service Quotas (aws service-quotas "
            f"request-service-quota-increase --service-code {SAGEMAKER_SERVICE_CODE} --quota-code {quota.code} "
            f"--desired-value {{}} --region {target.region})"
        )
        if have < need.count:
            results.append(
                missing(
                    name,
                    f"{have} ({source}), {need.count} needed: {need.why}; {need.fails}",
                    request.format(need.count, need.count),
                )
            )
        elif have < need.headroom:
            results.append(
                warn(
                    name,
                    f"{have} ({source}) covers the {need.count} needed, not the {need.headroom} possible: {need.why}",
                    request.format(need.headroom, need.headroom),
                )
            )
        else:
            results.append(ok(name, f"{have} ({source}), {need.headroom} needed at most: {need.why}"))
    inference = target.config.inference
    if not inference.serving and inference.mode != "serverless":
        results.append(
            ok(
                f"quota {inference.instance_type} for {ENDPOINT_USE}",
                "not needed by this deploy (no model package to serve yet); run preflight with "
                "MODEL_PACKAGE_ARN=<arn> before serving",
            )
        )
    return results


def check_lambda_concurrency(lambda_client: Any, target: Target) -> list[Check]:
    name = "lambda concurrency"
    minimum = fact("lambda-unreserved-minimum")
    limit, unreserved = lambda_concurrency(lambda_client)
    reserved = reserved_concurrency(target.config)
    total = sum(reserved.values())
    if not total:
        return [ok(name, f"nothing reserved by this deploy (account quota {limit}, {unreserved} unreserved)")]
    left = unreserved - total
    listing = ", ".join(f"{function} {amount}" for function, amount in reserved.items())
    if left >= minimum.value:
        return [ok(name, f"reserving {total} ({listing}) leaves {left} of {limit} unreserved (>= {minimum.value})")]
    detail = (
        f"reserving {total} ({listing}) leaves {left} of {limit} unreserved; Lambda keeps at least "
        f"{minimum.value} unreserved ({minimum.url})"
    )
    fix = (
        f"request a Lambda 'Concurrent executions' quota of at least {limit - left + minimum.value} in Service "
        f"Quotas, or set functions.reserved_concurrency: null in the profile"
    )
    if target.deployed.get("Inference") or target.deployed.get("Monitoring"):
        return [warn(name, detail + "; already deployed, so these reservations may be counted twice", fix)]
    return [missing(name, detail, fix)]


def check_apigateway_role(apigateway: Any, target: Target) -> list[Check]:
    name = "api gateway logging role"
    documented = fact("apigateway-account-cloudwatch-role")
    role = apigateway_cloudwatch_role(apigateway)
    if target.config.governance.api_gateway_logging_role:
        if role:
            return [ok(name, f"set to {role}; the Governance stack will overwrite it with its own role")]
        return [ok(name, "not set; the Governance stack will set it")]
    if role:
        return [ok(name, f"set by the account's owner to {role} (governance.api_gateway_logging_role: false)")]
    detail = f"not set in {target.region}, and governance.api_gateway_logging_role is false ({documented.url})"
    fix = "set governance.api_gateway_logging_role: true, or ask the account's owner to set the role"
    if serves_an_api(target.config):
        return [missing(name, detail + ": the API stage cannot log", fix)]
    return [warn(name, detail + ": nothing logs yet, the first API (when serving) would fail", fix)]


TURN_OFF_ANOMALY = "set governance.costs.anomaly_detection: false in the profile"


def check_cost_anomaly(ce: Any, organizations: Any, target: Target, today: dt.date) -> list[Check]:
    """Cost Explorer enabled, the ``project`` tag active, and an account that may create a tag monitor."""
    if not target.config.governance.costs.anomaly_detection:
        return [ok("cost anomaly detection", "off in this profile: nothing to check")]
    return [
        check_cost_explorer(ce, today),
        check_project_tag(ce),
        check_monitor_account(organizations, target),
    ]


def check_cost_explorer(ce: Any, today: dt.date) -> Check:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - boto only at run time

    name = "cost explorer"
    try:
        cost_explorer_probe(ce, today)
    except ClientError as error:
        message = _error_message(error)
        if COST_EXPLORER_NOT_ENABLED.search(message):
            return missing(
                name,
                f"not enabled in this account ({fact('cost-explorer-console-only').url})",
                "open Cost Explorer once in the Billing and Cost Management console (the API cannot enable it), or "
                + TURN_OFF_ANOMALY,
            )
        if _error_code(error) == "DataUnavailableException":
            return ok(name, "enabled; its first data is still being ingested (up to 24 hours)")
        return warn(
            name, f"could not check ({_error_code(error)}: {message})", "allow ce:GetCostAndUsage to this caller"
        )
    return ok(name, "enabled")


def check_project_tag(ce: Any) -> Check:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - boto only at run time

    name = "cost allocation tag project"
    activation = fact("cost-allocation-tags-activation")
    fix = (
        "activate it in the Billing console (Cost allocation tags), or: aws ce update-cost-allocation-tags-status "
        "--cost-allocation-tags-status TagKey=project,Status=Active"
    )
    try:
        status = cost_allocation_tag_status(ce, "project")
    except ClientError as error:
        message = _error_message(error)
        if LINKED_ACCOUNT_NO_TAGS.search(message):
            return missing(
                name,
                f"this member account cannot manage cost allocation tags ({message}); a tag monitor needs the "
                f"management account ({fact('cost-anomaly-tag-monitor-management-account').url})",
                TURN_OFF_ANOMALY,
            )
        return warn(
            name, f"could not check ({_error_code(error)}: {message})", "allow ce:ListCostAllocationTags to this caller"
        )
    if status == "Active":
        return ok(name, "active")
    if status is None:
        return warn(
            name,
            "Billing has not seen the tag on any resource yet, so it cannot be activated before the first deploy; "
            f"the monitor reports nothing until it is active ({activation.url})",
            "after the first deploy (tag keys appear within 24 hours): " + fix,
        )
    return missing(name, f"{status}: the anomaly monitor would see no costs ({activation.url})", fix)


def check_monitor_account(organizations: Any, target: Target) -> Check:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - boto only at run time

    name = "anomaly monitor account"
    management = fact("cost-anomaly-tag-monitor-management-account")
    try:
        owner = organization_management_account(organizations)
    except ClientError as error:
        return warn(
            name,
            f"could not tell whether {target.account} is a member account ({_error_code(error)}: "
            f"{_error_message(error)}); a member account cannot create the tag monitor ({management.url})",
            f"allow organizations:DescribeOrganization, or in a member account {TURN_OFF_ANOMALY}",
        )
    if owner is None:
        return ok(name, f"{target.account} is a standalone account: it may create a tag monitor")
    if owner == target.account:
        return ok(name, f"{target.account} is its organization's management account")
    return missing(
        name,
        f"{target.account} is a member of the organization managed by {owner}: only a management or standalone "
        f"account can create a cost allocation tag monitor ({management.url})",
        TURN_OFF_ANOMALY,
    )


def check_model_monitor(sagemaker: Any, target: Target) -> list[Check]:
    name = "model monitor"
    closed = fact("model-monitor-closed-to-new-customers")
    config = target.config
    if not config.monitoring.model_monitor:
        return [ok(name, "off in this profile: the platform's own drift job needs no subscription")]
    if not drift_runs(config):
        return [ok(name, "on, but no schedule is created until an endpoint serves with data capture")]
    count = monitoring_schedule_count(sagemaker)
    if count:
        return [ok(name, f"{count} monitoring schedule(s) in {target.region}: this account uses Model Monitor")]
    return [
        warn(
            name,
            f"no monitoring schedule in {target.region}, and Model Monitor is closed to new customers "
            f"({closed.url}): an account that never used it may have its schedules refused",
            "set monitoring.model_monitor: false unless this account is an existing Model Monitor customer "
            "(the drift job covers feature drift either way)",
        )
    ]


def check_vpcs(ec2: Any, quotas: Any, target: Target) -> list[Check]:
    name = "vpcs"
    count = vpc_count(ec2)
    quota = one_quota(quotas, VPC_QUOTA_SERVICE_CODE, VPC_QUOTA_CODE)
    limit = int(quota) if quota is not None else VPC_QUOTA_DEFAULT
    source = "" if quota is not None else " (the default; Service Quotas did not answer)"
    if target.deployed.get("Network"):
        return [ok(name, f"{count} of {limit}{source} in {target.region}; the platform's VPC already exists")]
    if count + 1 > limit:
        return [
            missing(
                name,
                f"{count} of {limit}{source} in {target.region}: no room for the platform's VPC",
                f"delete an unused VPC, or request an increase of 'VPCs per Region' ({VPC_QUOTA_CODE}) in "
                "Service Quotas",
            )
        ]
    return [ok(name, f"{count} of {limit}{source} in {target.region}; the platform adds 1")]


def check_trails(cloudtrail: Any, target: Target) -> list[Check]:
    name = "cloudtrail trails"
    count = trail_count(cloudtrail)
    if target.deployed.get("Governance"):
        return [ok(name, f"{count} of {TRAILS_PER_REGION} in {target.region}; the platform's trail already exists")]
    if count + 1 > TRAILS_PER_REGION:
        return [
            missing(
                name,
                f"{count} of {TRAILS_PER_REGION} in {target.region} (multi-Region trails count in every Region, "
                "and the limit cannot be raised): no room for the platform's trail",
                "delete an unused trail in this Region",
            )
        ]
    return [ok(name, f"{count} of {TRAILS_PER_REGION} in {target.region}; the platform adds 1 (multi-Region)")]


def _zone_plan(
    region_azs: list[str], with_default: set[str], count: int, pinned: tuple[str, ...] | None
) -> tuple[list[str], str]:
    chosen = vpc_azs(region_azs, with_default, count, pinned)
    getazs = fact("fn-getazs-default-subnets")
    if pinned:
        how = "pinned by network.availability_zones"
    elif with_default:
        how = (
            "the first of the AZs with a default subnet, as Fn::GetAZs lists them at deploy time "
            f"({getazs.url}); deleting or adding default subnets changes the choice"
        )
    else:
        how = f"the first AZs of the region, as Fn::GetAZs lists them at deploy time ({getazs.url})"
    return chosen, how


def _endpoint_problems(
    chosen: list[str], offered: dict[str, set[str] | None]
) -> tuple[list[str], dict[str, list[str]]]:
    absent = [service for service, zones in offered.items() if zones is None]
    short = {
        service: [az for az in chosen if az not in zones] for service, zones in offered.items() if zones is not None
    }
    return absent, {service: azs for service, azs in short.items() if azs}


def serving_variant(config: PlatformConfig) -> PlatformConfig:
    """The profile as it will be once it serves a model: serving adds AZs and interface endpoints."""
    if config.inference.serving:
        return config
    example = f"arn:aws:sagemaker:{config.region or 'us-east-1'}:000000000000:model-package/example/1"
    inference = config.inference.model_copy(update={"model_package_arn": example})
    return config.model_copy(update={"inference": inference})


def endpoint_services(config: PlatformConfig) -> list[str]:
    """Every interface endpoint service the profile creates, now or once it serves, in the order queried."""
    return sorted(set(config.interface_endpoints) | set(serving_variant(config).interface_endpoints))


def _drop_or_move(config: PlatformConfig, services: list[str]) -> str:
    """The fix for endpoint services a region lacks: an extra of the profile can go; one the platform's own
    code calls (config.callers_in_vpc) needs another region."""
    extras = [s for s in services if s in config.network.interface_endpoints]
    needed = [s for s in services if s not in extras]
    fixes = []
    if extras:
        fixes.append(f"remove {', '.join(extras)} from network.interface_endpoints")
    if needed:
        fixes.append(f"deploy to another region (the platform's code calls {', '.join(needed)} from the VPC)")
    return "; ".join(fixes) if len(fixes) > 1 else (fixes[0] + (", or deploy to another region" if extras else ""))


def check_azs_and_endpoints(ec2: Any, target: Target) -> list[Check]:
    config, region = target.config, target.region
    count = config.network_az_count
    pinned = config.network.availability_zones
    region_azs = available_azs(ec2)
    with_default = set() if pinned else default_subnet_azs(ec2)
    results: list[Check] = []
    documented = fact("interface-endpoint-service-azs")

    name = "availability zones"
    usable = [az for az in pinned if az in region_azs] if pinned else region_azs
    if pinned and len(usable) < len(pinned):
        gone = [az for az in pinned if az not in region_azs]
        results.append(
            missing(
                name,
                f"pinned {', '.join(gone)} not available in {region} (available: {', '.join(region_azs)})",
                "pin network.availability_zones to available AZs",
            )
        )
        return results
    if len(vpc_azs(region_azs, with_default, count, pinned)) < count:
        results.append(
            missing(
                name,
                f"the profile uses {count} AZs, {region} has {len(region_azs)} available"
                + (f" ({len(with_default)} with a default subnet, which Fn::GetAZs lists)" if with_default else ""),
                f"deploy to a region with {count} AZs, or pin network.availability_zones (with region: {region})",
            )
        )
        return results
    chosen, how = _zone_plan(region_azs, with_default, count, pinned)
    results.append(ok(name, f"the VPC will use {', '.join(chosen)}: {how}"))

    serving = serving_variant(config)
    every_offered = {
        service: endpoint_service_azs(ec2, f"com.amazonaws.{region}.{service}") for service in endpoint_services(config)
    }
    offered = {service: every_offered[service] for service in config.interface_endpoints}
    name = "interface endpoint azs"
    absent, short = _endpoint_problems(chosen, offered)
    everywhere = sorted(set(region_azs).intersection(*(zones for zones in offered.values() if zones is not None)))
    if absent:
        results.append(
            missing(
                name,
                f"{region} offers no interface endpoint for {', '.join(absent)} ({documented.url})",
                _drop_or_move(config, absent),
            )
        )
    elif short:
        gaps = "; ".join(f"{service} not in {', '.join(azs)}" for service, azs in short.items())
        if len(everywhere) >= count:
            fix = f"pin them: region: {region} and network.availability_zones: [{', '.join(everywhere[:count])}]"
        else:
            fix = (
                f"only {', '.join(everywhere) or 'no AZ'} of {region} offer(s) every endpoint service: "
                + _drop_or_move(config, sorted(short))
            )
        results.append(missing(name, f"{gaps} ({documented.url})", fix))
    else:
        results.append(ok(name, f"all {len(offered)} services are offered in {', '.join(chosen)}"))

    serving_count = config.network.az_count_for(serving=True)
    if not absent and serving_count > count and config.inference.in_vpc:
        later, _ = _zone_plan(region_azs, with_default, serving_count, pinned)
        _, later_short = _endpoint_problems(later, {s: every_offered[s] for s in serving.interface_endpoints})
        if len(later) < serving_count or later_short:
            results.append(
                warn(
                    "serving azs",
                    f"serving an endpoint takes {serving_count} AZs ({', '.join(later)}), which do not offer every "
                    "endpoint service or are too few",
                    f"before serving, pin network.availability_zones to {serving_count} AZs of {', '.join(everywhere)}",
                )
            )
    return results


# --- Running -----------------------------------------------------------------------------------------------------


def served_packages(config: PlatformConfig) -> dict[str, str]:
    """Variant name -> the model package version the profile serves on it."""
    inference = config.inference
    named = {
        "Primary": inference.model_package_arn,
        "Challenger": inference.challenger_model_package_arn,
        "Shadow": inference.shadow_model_package_arn,
    }
    return {variant: arn for variant, arn in named.items() if arn}


def check_served_packages(sagemaker: Any, target: Target) -> list[Check]:
    """Each package the profile serves is Approved and serves raw records (facts: model-package-describe): a
    version registered before the raw-record contract has no serving code (its container runs the XGBoost
    algorithm on CSV features), so the API, batch scoring and the drift job would all fail on it."""
    name = "served packages"
    packages = served_packages(target.config)
    if not packages:
        return [ok(name, "nothing to serve yet (no inference.model_package_arn)")]
    results = []
    for variant, arn in packages.items():
        package = sagemaker.describe_model_package(ModelPackageName=arn)
        version = f"{variant} {arn.rsplit('/', 2)[-2]}/{arn.rsplit('/', 1)[-1]}"
        status = package.get("ModelApprovalStatus")
        containers = package.get("InferenceSpecification", {}).get("Containers", [])
        program = containers[0].get("Environment", {}).get("SAGEMAKER_PROGRAM") if containers else None
        if status != "Approved":
            results.append(
                missing(
                    name,
                    f"{version} is {status}, not Approved",
                    "approve it after reviewing its metrics (README: Serving a model), or name an approved version",
                )
            )
        elif program != "serve.py":
            results.append(
                missing(
                    name,
                    f"{version} has no serving code (registered before the raw-record contract: it takes CSV "
                    "features, not the JSON records the API sends)",
                    "run the training pipeline, approve the new version and serve it",
                )
            )
        else:
            results.append(ok(name, f"{version} is Approved and serves raw records (serve.py)"))
    return results


def check_connection(codeconnections: Any, target: Target) -> list[Check]:
    """The pipeline's source connection must be AVAILABLE: one created by the CLI or CloudFormation stays PENDING
    until a person completes the handshake in the console (facts: connection-pending-until-console)."""
    name = "source connection"
    config = target.config
    cicd = config.cicd
    if not config.pipeline_enabled or cicd is None or not isinstance(cicd.source, ConnectionSource):
        return [ok(name, "no pipeline with a connection source in this profile")]
    arn = cicd.source.connection_arn
    status = codeconnections.get_connection(ConnectionArn=arn)["Connection"].get("ConnectionStatus")
    if status == "AVAILABLE":
        return [ok(name, f"{arn} is AVAILABLE")]
    return [
        missing(
            name,
            f"{arn} is {status}: the pipeline's source action cannot use it",
            "complete the handshake: Developer Tools console > Settings > Connections > the connection > Update "
            "pending connection"
            if status == "PENDING"
            else "create a new connection and name it in cicd.source.connection_arn",
        )
    ]


def run_checks(clients: Callable[[str], Any], target: Target, today: dt.date) -> list[Check]:
    """Every check of the profile, each guarded so one unexpected API error does not hide the others."""
    return [
        *guarded("cdk bootstrap", "ssm:GetParameter", lambda: check_bootstrap(clients("ssm"), target)),
        *guarded(
            "sagemaker quotas",
            "servicequotas:ListServiceQuotas and servicequotas:ListAWSDefaultServiceQuotas",
            lambda: check_sagemaker_quotas(clients("service-quotas"), target),
        ),
        *guarded(
            "lambda concurrency",
            "lambda:GetAccountSettings",
            lambda: check_lambda_concurrency(clients("lambda"), target),
        ),
        *guarded(
            "api gateway logging role", "apigateway:GET", lambda: check_apigateway_role(clients("apigateway"), target)
        ),
        *guarded(
            "cost anomaly detection",
            "ce:GetCostAndUsage, ce:ListCostAllocationTags and organizations:DescribeOrganization",
            lambda: check_cost_anomaly(clients("ce"), clients("organizations"), target, today),
        ),
        *guarded(
            "source connection",
            "codeconnections:GetConnection",
            lambda: check_connection(clients("codeconnections"), target),
        ),
        *guarded(
            "served packages",
            "sagemaker:DescribeModelPackage",
            lambda: check_served_packages(clients("sagemaker"), target),
        ),
        *guarded(
            "model monitor",
            "sagemaker:ListMonitoringSchedules",
            lambda: check_model_monitor(clients("sagemaker"), target),
        ),
        *guarded(
            "vpcs",
            "ec2:DescribeVpcs and servicequotas:GetServiceQuota",
            lambda: check_vpcs(clients("ec2"), clients("service-quotas"), target),
        ),
        *guarded("cloudtrail trails", "cloudtrail:DescribeTrails", lambda: check_trails(clients("cloudtrail"), target)),
        *guarded(
            "availability zones",
            "ec2:DescribeAvailabilityZones, ec2:DescribeSubnets and ec2:DescribeVpcEndpointServices",
            lambda: check_azs_and_endpoints(clients("ec2"), target),
        ),
    ]


def summary(results: list[Check], target: Target) -> str:
    counts = {status: sum(r.status == status for r in results) for status in ("ok", "missing", "warn")}
    where = f"{target.config.environment} in {target.account}/{target.region}"
    tally = f"{counts['ok']} ok, {counts['missing']} missing, {counts['warn']} warn"
    if counts["missing"]:
        return f"preflight {where}: {tally}: the deploy would fail; fix each missing line, then run preflight again"
    then = "read each warn line, then " if counts["warn"] else ""
    return f"preflight {where}: {tally}: {then}{target.make('deploy')}"


def context(argv: list[str]) -> dict[str, str]:
    """The ``-c key=value`` pairs the Makefile passes to the CDK CLI (as tools.teardown reads them; importing
    that module would load the CDK, seconds this read-only tool does not need)."""
    pairs = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def make_args(values: dict[str, str]) -> str:
    """The Makefile variables that reproduce this profile in a fix (``make deploy PROFILE=production``)."""
    parts = []
    if values.get("config"):
        parts.append(f"CONFIG={values['config']}")
    elif values.get("profile") and values["profile"] != "sandbox":
        parts.append(f"PROFILE={values['profile']}")
    if values.get("model_package_arn"):
        parts.append(f"MODEL_PACKAGE_ARN={values['model_package_arn']}")
    return "".join(f" {part}" for part in parts)


def load(values: dict[str, str]) -> PlatformConfig:
    overrides = {path: values[key] for key, path in CONTEXT_OVERRIDES.items() if values.get(key)}
    return load_settings(values.get("profile"), values.get("config") or None, overrides)


def main(argv: list[str], session: Any = None, today: dt.date | None = None) -> int:
    values = context(argv)
    try:
        config = load(values)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if session is None:
        import boto3  # noqa: PLC0415 - only a real run needs it

        session = boto3.session.Session(region_name=config.region)
    region = config.region or session.region_name
    if not region:
        print("error: no region: set AWS_REGION (or `region` in the profile)", file=sys.stderr)
        return 1
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only at run time

    made: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in made:
            # Cost Explorer and Organizations answer in us-east-1 only.
            where = "us-east-1" if service in ("ce", "organizations") else region
            made[service] = session.client(service, region_name=where)
        return made[service]

    try:
        account = caller_account(clients("sts"))
        deployed = {
            stack: stack_exists(clients("cloudformation"), config.stack_name(stack))
            for stack in ("Network", "Governance", "Inference", "Monitoring")
        }
    except (BotoCoreError, ClientError) as error:
        print(f"error: cannot reach AWS with these credentials ({error})", file=sys.stderr)
        return 1
    target = Target(config, account, region, make_args(values), deployed)
    results = run_checks(clients, target, today or dt.datetime.now(dt.UTC).date())
    for result in results:
        print(result.line())
    print(summary(results, target))
    return 1 if any(result.status == "missing" for result in results) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
