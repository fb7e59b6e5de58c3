"""The model endpoint (controls 7, 9-12; exam 3.1, 3.2, 4.1).

Models come from approved model packages; the endpoint config is KMS-encrypted and captures requests
and responses into the lake; updates shift traffic blue/green (canary or linear) and roll back on the
per-variant alarms (``components.serving.alarms``); every instance-backed variant scales on invocations per
instance (``components.serving.scaling``).

Modes (``inference.mode``):

- ``realtime``: the secure default. Models run in the VPC with network isolation.
- ``serverless``: pay per request, but SageMaker Serverless Inference supports no VPC, no network
  isolation, no data capture and one variant only. A documented trade-off, refused in production.
- ``async``: requests queue in S3, results and failures land in the lake, success and error topics
  notify, and the endpoint scales to zero when the backlog is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from components.data.lake import ASYNC_PREFIX, CAPTURE_PREFIX, MODELS_PREFIX, DataLake
from components.foundation.arns import sagemaker_arn
from components.foundation.compliance import acknowledge_wildcard, skip_checkov
from components.foundation.encryption import platform_key
from components.foundation.exam import demonstrates
from components.foundation.roles import ServiceRole
from components.network import IsolatedNetwork
from components.serving.alarms import variant_alarms
from components.serving.scaling import scale_variant, scaling_role
from config.schema import InferenceConfig

# The namespace of the endpoint's instance metrics (CPU, memory, disk), apart from invocation metrics.
INSTANCE_METRICS = "/aws/sagemaker/Endpoints"


@dataclass(frozen=True)
class Variant:
    name: str
    model_package_arn: str
    weight: float
    shadow: bool = False


def variants(config: InferenceConfig) -> list[Variant]:
    """Primary (and an A/B challenger sharing traffic by weight), plus an optional shadow."""
    assert config.model_package_arn is not None
    challenger = config.challenger_model_package_arn
    found = [
        Variant(
            "Primary", config.model_package_arn, float(100 - config.challenger_weight_percent if challenger else 100)
        )
    ]
    if challenger:
        found.append(Variant("Challenger", challenger, float(config.challenger_weight_percent)))
    if config.shadow_model_package_arn:
        found.append(Variant("Shadow", config.shadow_model_package_arn, 100.0, shadow=True))
    return found


class ModelEndpoint(Construct):
    """``endpoint`` (named ``endpoint_name``, ARN ``endpoint_arn``), ``variants``, ``models``, ``alarms`` and
    ``scaling`` per variant, ``role`` (the endpoint's own); ``metric_*`` methods for alarms and dashboards."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InferenceConfig,
        endpoint_name: str,
        network: IsolatedNetwork,
        lake: DataLake,
        alerts: sns.ITopic,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.config = config
        self.endpoint_name = endpoint_name
        self.endpoint_arn = sagemaker_arn(self, "endpoint", endpoint_name)
        in_vpc = config.mode != "serverless"
        self.role = self._role(stack, lake, in_vpc, config.model_data_url)
        self.async_topics: dict[str, sns.Topic] = {}
        if config.mode == "async":
            self._async_topics(removal_policy)

        self.variants = variants(config)
        self.models: dict[str, sagemaker.CfnModel] = {}
        for variant in self.variants:
            model = sagemaker.CfnModel(
                self,
                f"{variant.name}Model",
                execution_role_arn=self.role.role.role_arn,
                primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                    model_package_name=variant.model_package_arn
                ),
                enable_network_isolation=True if in_vpc else None,
                vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                    security_group_ids=[network.workload_security_group.security_group_id],
                    subnets=network.workload_subnet_ids,
                )
                if in_vpc
                else None,
            )
            model.node.add_dependency(self.role.policy)
            if not in_vpc:
                skip_checkov(
                    model,
                    "CKV_AWS_370",
                    "Serverless Inference supports neither network isolation nor a "
                    "VPC; the profile chose it explicitly and production refuses it.",
                )
            demonstrates(
                model,
                ["3.1", "3.2"],
                "A model from an approved package, network-isolated in the VPC."
                if in_vpc
                else "Serverless model: no VPC and no network isolation (the documented trade-off).",
            )
            self.models[variant.name] = model

        self.endpoint_config = self._endpoint_config(lake)
        self.alarms = {v.name: variant_alarms(self, v.name, alerts) for v in self.variants}
        rollback = [alarm for pair in self.alarms.values() for alarm in pair]
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._deployment(rollback) if config.mode == "realtime" else None,
        )
        demonstrates(
            self.endpoint,
            ["3.1", "3.2"],
            "A SageMaker endpoint updated blue/green with automatic rollback on its alarms.",
        )
        self.scaling: dict[str, autoscaling.ScalableTarget] = {}
        if config.mode != "serverless":
            role = scaling_role(self)
            self.scaling = {v.name: scale_variant(self, v.name, role) for v in self.variants}

    def metric(
        self,
        metric_name: str,
        variant: str | None = None,
        *,
        statistic: str = "Average",
        period: cdk.Duration | None = None,
        label: str | None = None,
        namespace: str = "AWS/SageMaker",
    ) -> cloudwatch.Metric:
        """A metric of this endpoint, of one variant if ``variant`` is given (CloudWatch's default period
        of five minutes unless ``period``)."""
        dimensions = {"EndpointName": self.endpoint_name}
        if variant is not None:
            dimensions["VariantName"] = variant
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period,
            label=label,
        )

    def metric_invocations(self, variant: str, **options: Any) -> cloudwatch.Metric:
        return self.metric("Invocations", variant, statistic="Sum", **options)

    def metric_model_latency(self, variant: str, **options: Any) -> cloudwatch.Metric:
        """p99 ``ModelLatency`` in microseconds."""
        return self.metric("ModelLatency", variant, statistic="p99", **options)

    def metric_invocation_5xx_errors(self, variant: str, **options: Any) -> cloudwatch.Metric:
        return self.metric("Invocation5XXErrors", variant, statistic="Sum", **options)

    def metric_cpu_utilization(self, variant: str, **options: Any) -> cloudwatch.Metric:
        return self.metric("CPUUtilization", variant, namespace=INSTANCE_METRICS, **options)

    def metric_memory_utilization(self, variant: str, **options: Any) -> cloudwatch.Metric:
        return self.metric("MemoryUtilization", variant, namespace=INSTANCE_METRICS, **options)

    def metric_backlog_size_per_instance(self, **options: Any) -> cloudwatch.Metric:
        """Async endpoints: queued requests per instance."""
        return self.metric("ApproximateBacklogSizePerInstance", **options)

    def metric_has_backlog_without_capacity(self, **options: Any) -> cloudwatch.Metric:
        """Async endpoints: 1 while requests wait and no instance runs (scaling from zero)."""
        return self.metric("HasBacklogWithoutCapacity", **options)

    def _role(self, stack: cdk.Stack, lake: DataLake, in_vpc: bool, model_data_url: str | None) -> ServiceRole:
        models = lake.artifacts.arn_for_objects(f"{MODELS_PREFIX}/*")
        capture = lake.artifacts.arn_for_objects(f"{CAPTURE_PREFIX}/*")
        async_objects = lake.artifacts.arn_for_objects(f"{ASYNC_PREFIX}/*")
        role = ServiceRole(
            self,
            "Role",
            service="sagemaker.amazonaws.com",
            description="Endpoint: load approved model artifacts, write data capture and async results",
            statements=[
                iam.PolicyStatement(sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=[models]),
                iam.PolicyStatement(
                    sid="WriteCaptureAndAsyncResults", actions=["s3:PutObject"], resources=[capture, async_objects]
                ),
                iam.PolicyStatement(sid="ReadAsyncRequests", actions=["s3:GetObject"], resources=[async_objects]),
            ],
        )
        role.allow_sagemaker_runtime(key=lake.key, log_group_prefix="/aws/sagemaker/Endpoints/")
        policy = role.policy
        if model_data_url is not None:
            _allow_promoted_artifact(role, stack, model_data_url)
        acknowledge_wildcard(policy, models, "Model versions are written by the pipeline under pipelines/models/.")
        acknowledge_wildcard(policy, capture, "SageMaker names data-capture objects by endpoint, variant and hour.")
        acknowledge_wildcard(policy, async_objects, "Async requests and results are named per invocation.")
        if in_vpc:
            role.allow_vpc_network_interfaces("the model containers", also="PutMetricData is fenced by namespace.")
        else:
            acknowledge_wildcard(policy, "*", "PutMetricData takes no resource; it is fenced by its namespace.")
        demonstrates(role.role, ["4.3"], "The endpoint's own role, separate from the pipeline and monitoring roles.")
        return role

    def _async_topics(self, removal_policy: cdk.RemovalPolicy) -> None:
        key = platform_key(
            self,
            "AsyncTopicsKey",
            description="Encrypts the async inference result topics. Apart from the lake key: SageMaker publishes "
            "with it, and subscribers decrypt notifications without any access to data",
            removal_policy=removal_policy,
        )
        for outcome in ("Success", "Error"):
            topic = sns.Topic(
                self,
                f"Async{outcome}Topic",
                master_key=key,
                enforce_ssl=True,
                display_name=f"Async inference {outcome.lower()}",
            )
            self.async_topics[outcome] = topic
        self.role.allow(
            iam.PolicyStatement(
                sid="PublishAsyncOutcomes",
                actions=["sns:Publish"],
                resources=[t.topic_arn for t in self.async_topics.values()],
            ),
            iam.PolicyStatement(
                sid="EncryptAsyncOutcomes", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
            ),
        )

    def _endpoint_config(self, lake: DataLake) -> sagemaker.CfnEndpointConfig:
        config = self.config
        serverless = config.mode == "serverless"

        def production_variant(variant: Variant) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
            model_name = self.models[variant.name].attr_model_name
            if serverless:
                return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=variant.name,
                    model_name=model_name,
                    initial_variant_weight=variant.weight,
                    serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                        memory_size_in_mb=config.serverless_memory_mb, max_concurrency=config.serverless_max_concurrency
                    ),
                )
            return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=variant.name,
                model_name=model_name,
                initial_variant_weight=variant.weight,
                instance_type=config.instance_type,
                initial_instance_count=max(config.min_capacity, 1),
            )

        artifacts = lake.artifacts.bucket_name
        capture = None
        if not serverless and config.data_capture_percent > 0:
            capture = sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=True,
                initial_sampling_percentage=config.data_capture_percent,
                destination_s3_uri=f"s3://{artifacts}/{CAPTURE_PREFIX}",
                kms_key_id=lake.key.key_arn,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode) for mode in ("Input", "Output")
                ],
                # Requests are JSON records and answers JSON (pipelines/steps/serve.py); capture stores content of
                # these types as text, anything else base64-encoded (facts: capture-content-types).
                capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    csv_content_types=["text/csv"], json_content_types=["application/json", "application/jsonlines"]
                ),
            )
        async_config = None
        if config.mode == "async":
            async_config = sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=config.async_max_concurrent_invocations_per_instance
                ),
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=f"s3://{artifacts}/{ASYNC_PREFIX}/output",
                    s3_failure_path=f"s3://{artifacts}/{ASYNC_PREFIX}/failures",
                    kms_key_id=lake.key.key_arn,
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=self.async_topics["Success"].topic_arn,
                        error_topic=self.async_topics["Error"].topic_arn,
                    ),
                ),
            )
        endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            kms_key_id=lake.key.key_arn,  # every mode (serverless: it encrypts the image copy)
            production_variants=[production_variant(v) for v in self.variants if not v.shadow],
            shadow_production_variants=[production_variant(v) for v in self.variants if v.shadow] or None,
            data_capture_config=capture,
            async_inference_config=async_config,
        )
        endpoint_config.node.add_dependency(self.role.policy)
        demonstrates(
            endpoint_config,
            ["3.1", "4.1"],
            "Endpoint configuration: instance sizing, KMS on volumes, data capture into the lake.",
        )
        return endpoint_config

    def _deployment(self, alarms: list[cloudwatch.Alarm]) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        deployment = self.config.deployment
        step = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=deployment.step_percent)
        routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
            type=deployment.traffic_routing,
            # Required by the SageMaker API for every routing type, ALL_AT_ONCE included (the baking period),
            # although CloudFormation marks it optional (facts: blue-green-wait-interval-required).
            wait_interval_in_seconds=deployment.wait_seconds,
            canary_size=step if deployment.traffic_routing == "CANARY" else None,
            linear_step_size=step if deployment.traffic_routing == "LINEAR" else None,
        )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=deployment.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=3600,
            ),
            auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in alarms]
            ),
        )


def _allow_promoted_artifact(role: ServiceRole, stack: cdk.Stack, model_data_url: str) -> None:
    """Read the one artifact of a version the model-deploy pipeline promotes from the tooling account's registry
    (its lake, in this same account): that object, and its lake key only as S3 uses it for that bucket. The
    lake encrypts with an S3 Bucket Key, so S3's encryption context is the bucket's ARN (facts:
    s3-bucket-key-encryption-context); the key's id is not known here, its account and region are."""
    bucket, _, key = model_data_url.removeprefix("s3://").partition("/")
    bucket_arn = stack.format_arn(service="s3", region="", account="", resource=bucket)
    keys = stack.format_arn(service="kms", resource="key", resource_name="*")
    role.allow(
        iam.PolicyStatement(sid="ReadPromotedModel", actions=["s3:GetObject"], resources=[f"{bucket_arn}/{key}"])
    )
    role.allow(
        iam.PolicyStatement(
            sid="DecryptPromotedModel",
            actions=["kms:Decrypt"],
            resources=[keys],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }
            },
        )
    )
    acknowledge_wildcard(
        role.policy,
        keys,
        "The promoted version's artifact is encrypted by the tooling lake's key, whose id this stage cannot know; "
        "kms:Decrypt is fenced to S3 decrypting objects of that one bucket (kms:ViaService and the bucket's "
        "encryption context).",
    )
