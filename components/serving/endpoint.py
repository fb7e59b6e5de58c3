"""SageMaker inference (controls 7, 9-14; exam 3.1, 3.2, 4.1).

Models come from approved model packages; the endpoint config is KMS-encrypted and captures requests
and responses into the lake; updates shift traffic blue/green (canary or linear) and roll back on the
alarms defined here; every instance-backed variant scales on invocations per instance.

Modes (``inference.mode``):

- ``realtime``: the secure default. Models run in the VPC with network isolation.
- ``serverless``: pay per request, but SageMaker Serverless Inference supports no VPC, no network
  isolation, no data capture and one variant only. A documented trade-off, refused in production.
- ``async``: requests queue in S3, results and failures land in the lake, success and error topics
  notify, and the endpoint scales to zero when the backlog is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from components.compliance import acknowledge_wildcard, skip_checkov
from components.data_lake import DataLake
from components.encryption import platform_key
from components.exam import demonstrates
from components.network import IsolatedNetwork
from components.roles import ServiceRole
from config.settings import InferenceConfig

CAPTURE_PREFIX = "data-capture"
ASYNC_PREFIX = "async"
MODELS_PREFIX = "pipelines/models"


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
    """``endpoint`` (named ``endpoint_name``), ``models``, ``alarms`` per variant, ``role`` (the endpoint's own)."""

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
        self.endpoint_arn = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:endpoint/{endpoint_name}"
        in_vpc = config.mode != "serverless"
        self.role = self._role(stack, lake, in_vpc)
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
                    subnets=[
                        s.subnet_id for s in network.vpc.select_subnets(subnet_type=network.subnets.subnet_type).subnets
                    ],
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
        self.alarms = {v.name: self._alarms(v.name, alerts) for v in self.variants}
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
        if config.mode != "serverless":
            # Application Auto Scaling's service-linked role for SageMaker (AWS creates it on first use), so no
            # hand-made role with a broad trust is added per variant.
            scaling_role = iam.Role.from_role_arn(
                self,
                "AutoscalingServiceLinkedRole",
                f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
                "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                mutable=False,
            )
            for variant in self.variants:
                self._autoscaling(variant.name, scaling_role)

    def _role(self, stack: cdk.Stack, lake: DataLake, in_vpc: bool) -> ServiceRole:
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
                capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    csv_content_types=["text/csv"]
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

    def _alarms(self, variant: str, alerts: sns.ITopic) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        dimensions = {"EndpointName": self.endpoint_name, "VariantName": variant}
        errors = cloudwatch.Alarm(
            self,
            f"{variant}ErrorsAlarm",
            alarm_description=f"{self.endpoint_name}/{variant}: 5xx errors from the model (rolls back a deployment)",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="Invocation5XXErrors",
                dimensions_map=dimensions,
                statistic="Sum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        latency = cloudwatch.Alarm(
            self,
            f"{variant}LatencyAlarm",
            alarm_description=f"{self.endpoint_name}/{variant}: p99 model latency above "
            f"{self.config.latency_alarm_ms} ms (rolls back a deployment)",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ModelLatency",
                dimensions_map=dimensions,
                statistic="p99",
                period=cdk.Duration.minutes(1),
            ),
            threshold=self.config.latency_alarm_ms * 1000,  # ModelLatency is in microseconds
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (errors, latency):
            alarm.add_alarm_action(actions.SnsAction(alerts))
            alarm.add_ok_action(actions.SnsAction(alerts))
            demonstrates(alarm, ["4.1", "4.2"], "Per-variant alarm: notifies the alerts topic and gates rollback.")
        return errors, latency

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

    def _autoscaling(self, variant: str, scaling_role: iam.IRole) -> autoscaling.ScalableTarget:
        config = self.config
        target = autoscaling.ScalableTarget(
            self,
            f"{variant}Scaling",
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=config.min_capacity,
            max_capacity=config.max_capacity,
            role=scaling_role,
        )
        target.node.add_dependency(self.endpoint)
        scaling = config.autoscaling
        scale_in = cdk.Duration.seconds(scaling.scale_in_cooldown_seconds)
        scale_out = cdk.Duration.seconds(scaling.scale_out_cooldown_seconds)
        if config.mode == "async":
            backlog = cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ApproximateBacklogSizePerInstance",
                dimensions_map={"EndpointName": self.endpoint_name},
                statistic="Average",
            )
            target.scale_to_track_metric(
                "BacklogTracking",
                custom_metric=backlog,
                target_value=config.async_max_concurrent_invocations_per_instance,
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
            waiting = cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="HasBacklogWithoutCapacity",
                dimensions_map={"EndpointName": self.endpoint_name},
                statistic="Average",
                period=cdk.Duration.minutes(1),
            )
            target.scale_on_metric(
                "ScaleFromZero",
                metric=waiting,
                adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
                scaling_steps=[
                    autoscaling.ScalingInterval(upper=0.5, change=0),
                    autoscaling.ScalingInterval(lower=0.5, change=1),
                ],
                cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
            )
        else:
            target.scale_to_track_metric(
                "InvocationsTracking",
                target_value=scaling.target_invocations_per_instance,
                predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
        if scaling.business_hours_min_capacity:
            target.scale_on_schedule(
                "BusinessHours",
                schedule=autoscaling.Schedule.cron(hour="8", minute="0", week_day="MON-FRI"),
                min_capacity=scaling.business_hours_min_capacity,
                max_capacity=max(config.max_capacity, scaling.business_hours_min_capacity),
            )
            target.scale_on_schedule(
                "AfterHours",
                schedule=autoscaling.Schedule.cron(hour="18", minute="0", week_day="MON-FRI"),
                min_capacity=config.min_capacity,
                max_capacity=config.max_capacity,
            )
        demonstrates(target, ["3.2", "4.2"], "Autoscaling on invocations per instance, with cooldowns and schedules.")
        return target
