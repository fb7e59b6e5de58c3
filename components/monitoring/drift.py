"""Monitoring and the retraining loop (controls 14, 15; exam 4.1, 4.2, 3.3).

Drift monitoring works in every account (SageMaker Model Monitor is closed to new customers): a scheduled,
network-isolated drift job reads the endpoint's data capture and the latest training baseline and logs its
metrics; an alarm on the largest feature PSI notifies the alerts topic, and its OK -> ALARM transition
starts the training pipeline. The transition is the storm guard: a drift that persists keeps the alarm in
ALARM and starts nothing more; only a new transition (after a retrained model brought it back to OK)
retrains again, and at most once per evaluation period of a day.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import cdk_monitoring_constructs as monitoring
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.compliance import acknowledge_wildcard
from components.data_lake import DataLake
from components.exam import demonstrates
from components.functions import VpcFunction
from components.inference import CAPTURE_PREFIX
from components.ml_pipeline import code_listing, render_definition
from components.network import IsolatedNetwork
from components.roles import ServiceRole
from components.triggers import notification_rule, pipeline_rule, schedule
from config.settings import MonitoringConfig
from pipelines import definition as placeholders

STEPS = Path(__file__).resolve().parent.parent / "pipelines" / "steps"
# The drift job logs its metrics under this namespace (pipelines/steps/drift.py NAMESPACE, kept equal by a
# test); synth must not import the step script, which needs numpy.
NAMESPACE = "MLPlatform/Drift"


class DriftMonitor(Construct):
    """``pipeline`` (the drift job), ``schedule``, ``alarm`` and, with ``retrain_on_drift``, ``retraining_rule``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MonitoringConfig,
        name_prefix: str,
        endpoint_name: str,
        network: IsolatedNetwork,
        lake: DataLake,
        alerts: sns.ITopic,
        training_pipeline_arn: str,
        dead_letters: sqs.IQueue,
        reserved_concurrency: int | None,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        arn = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
        self.pipeline_name = f"{name_prefix}-drift"
        self.pipeline_arn = f"{arn}:pipeline/{self.pipeline_name}"
        script = assets.Asset(self, "DriftScript", path=str(STEPS / "drift.py"))
        capture = lake.artifacts.arn_for_objects(f"{CAPTURE_PREFIX}/{endpoint_name}/*")
        baseline = lake.artifacts.arn_for_objects(f"{placeholders.BASELINE_PREFIX}/*")
        reports = lake.artifacts.arn_for_objects("monitoring/drift/*")
        jobs = f"{arn}:processing-job/*"
        self.role = ServiceRole(
            self,
            "Role",
            service="sagemaker.amazonaws.com",
            description="Drift monitoring: read data capture and the baseline, write drift reports",
            statements=[
                iam.PolicyStatement(
                    sid="RunDriftJobs",
                    resources=[jobs],
                    actions=[
                        "sagemaker:CreateProcessingJob",
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:StopProcessingJob",
                        "sagemaker:AddTags",
                    ],
                ),
                iam.PolicyStatement(
                    sid="ReadCaptureAndBaseline",
                    actions=["s3:GetObject"],
                    resources=[capture, baseline, script.bucket.arn_for_objects(script.s3_object_key)],
                ),
                iam.PolicyStatement(
                    sid="ListArtifacts", actions=["s3:ListBucket"], resources=[lake.artifacts.bucket_arn]
                ),
                iam.PolicyStatement(sid="WriteReports", actions=["s3:PutObject"], resources=[reports]),
                code_listing([script]),
            ],
        )
        self.role.allow_sagemaker_runtime(
            key=lake.key, log_group_prefix="/aws/sagemaker/ProcessingJobs", metrics_namespace=None
        )
        self.role.allow(
            iam.PolicyStatement(
                sid="PassOwnRoleToJobs",
                actions=["iam:PassRole"],
                resources=[self.role.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        policy = self.role.policy
        acknowledge_wildcard(policy, jobs, "SageMaker names each drift job per execution.")
        acknowledge_wildcard(
            policy, capture, "Data capture is written by SageMaker per variant and hour, for this endpoint."
        )
        acknowledge_wildcard(policy, baseline, "The training pipeline refreshes the baseline files under this prefix.")
        acknowledge_wildcard(policy, reports, "Drift reports are written per execution under monitoring/drift/.")
        self.role.allow_vpc_network_interfaces("the drift job")
        demonstrates(self.role.role, ["4.3"], "Monitoring has its own role, apart from pipeline and endpoint roles.")

        code_dir = "/opt/ml/processing/input/code/"
        body = render_definition(
            self,
            name=placeholders.DRIFT,
            network=network,
            replacements={
                placeholders.ROLE: self.role.role.role_arn,
                placeholders.KEY: lake.key.key_arn,
                placeholders.ARTIFACTS: lake.artifacts.bucket_name,
                placeholders.ENDPOINT: endpoint_name,
                f"s3://{placeholders.CODE}/drift.py": script.s3_object_url,
                code_dir + "drift.py": code_dir + script.s3_object_key,
            },
            defaults={"PsiThreshold": str(config.psi_threshold)},
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            role_arn=self.role.role.role_arn,
            pipeline_description="Feature and prediction drift of the endpoint's captured traffic",
            pipeline_definition={"PipelineDefinitionBody": body},
        )
        self.pipeline.node.add_dependency(self.role.policy)
        demonstrates(self.pipeline, ["4.1"], "Scheduled drift detection that needs no Model Monitor subscription.")

        capture_prefix = f"{CAPTURE_PREFIX}/{endpoint_name}/"
        baseline_prefix = f"{placeholders.BASELINE_PREFIX}/"
        self.starter = VpcFunction(
            self,
            "Starter",
            folder="drift_starter",
            description="Starts the drift pipeline when captured traffic and a baseline exist",
            role_description="Drift starter: look for captured traffic and the baseline, start the drift pipeline",
            network=network,
            statements=[
                iam.PolicyStatement(
                    sid="LookForInputs",
                    actions=["s3:ListBucket"],
                    resources=[lake.artifacts.bucket_arn],
                    conditions={"StringEquals": {"s3:prefix": [capture_prefix, baseline_prefix]}},
                ),
                iam.PolicyStatement(
                    sid="StartDriftPipeline",
                    actions=["sagemaker:StartPipelineExecution"],
                    resources=[self.pipeline_arn],
                ),
            ],
            environment={
                "ARTIFACTS_BUCKET": lake.artifacts.bucket_name,
                "CAPTURE_PREFIX": capture_prefix,
                "BASELINE_PREFIX": baseline_prefix,
                "PIPELINE_NAME": self.pipeline_name,
            },
            reserved_concurrency=reserved_concurrency,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        demonstrates(
            self.starter.function,
            ["4.1"],
            "Drift runs only when there is traffic and a baseline to compare: no daily failure on a quiet endpoint.",
        )
        function_arn = self.starter.function.function_arn
        self.schedule = schedule(
            self,
            "Schedule",
            target_arn=function_arn,
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function_arn])],
            expression=config.drift_schedule,
            description="start the drift check",
            dead_letters=dead_letters,
            after=self.pipeline,
            pipeline_target=False,
        )

        self.alarm = cloudwatch.Alarm(
            self,
            "DriftAlarm",
            alarm_description=f"{endpoint_name}: a feature's PSI reached {config.psi_threshold} (data drift)",
            metric=cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name="MaxFeaturePSI",
                dimensions_map={"EndpointName": endpoint_name},
                statistic="Maximum",
                period=cdk.Duration.days(1),
            ),
            threshold=config.psi_threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarm.add_alarm_action(actions.SnsAction(alerts))
        self.alarm.add_ok_action(actions.SnsAction(alerts))
        demonstrates(self.alarm, ["4.1"], "Drift becomes an alarm: the operator is told, and retraining can start.")

        self.retraining_rule: events.CfnRule | None = None
        if config.retrain_on_drift:
            self.retraining_rule = pipeline_rule(
                self,
                "RetrainOnDrift",
                pipeline_arn=training_pipeline_arn,
                dead_letters=dead_letters,
                description="start the training pipeline when the drift alarm goes from OK to ALARM",
                event_pattern={
                    "source": ["aws.cloudwatch"],
                    "detail-type": ["CloudWatch Alarm State Change"],
                    "resources": [self.alarm.alarm_arn],
                    "detail": {"state": {"value": ["ALARM"]}, "previousState": {"value": ["OK"]}},
                },
            )
            demonstrates(self.retraining_rule, ["3.3", "4.1"], "The closed loop: drift starts retraining.")


class PlatformNotifications(Construct):
    """Failed pipeline executions and every registry state change, on the alerts topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_arns: list[str],
        model_package_group_name: str,
        topic: sns.ITopic,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failures = notification_rule(
            self,
            "PipelineFailures",
            description="A platform pipeline execution failed",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
                "detail": {"pipelineArn": pipeline_arns, "currentPipelineExecutionStatus": ["Failed"]},
            },
            topic=topic,
            dead_letters=dead_letters,
            paths={"pipeline": "$.detail.pipelineArn", "execution": "$.detail.pipelineExecutionArn"},
            template="Pipeline execution <execution> of <pipeline> failed.",
        )
        demonstrates(self.failures, ["4.2"], "Pipeline failures reach a person through EventBridge and SNS.")
        self.registry = notification_rule(
            self,
            "RegistryChanges",
            description="A model package of the platform changed state",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": [model_package_group_name]},
            },
            topic=topic,
            dead_letters=dead_letters,
            paths={"arn": "$.detail.ModelPackageArn", "status": "$.detail.ModelApprovalStatus"},
            template="Model package <arn> is now <status>.",
        )
        demonstrates(self.registry, ["3.3"], "Every registry decision is announced.")


class OperationsDashboard(Construct):
    """The operations dashboard, built with cdk-monitoring-constructs: the endpoint per variant, drift, the
    invocation function and API, and the pipelines. The library has no SageMaker monitors, so endpoint and
    drift metrics go through its generic ``monitor_custom``; the function and API use its own monitors."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        endpoint_name: str | None,
        variants: list[str],
        pipeline_names: list[str],
        psi_threshold: float | None,
        function: lambda_.IFunction | None = None,
        api: apigw.RestApi | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        factory = monitoring.DefaultDashboardFactory(
            self,
            "Dashboards",
            dashboard_name_prefix=name,
            create_dashboard=True,
            create_summary_dashboard=False,
            create_alarm_dashboard=False,
        )
        facade = monitoring.MonitoringFacade(self, "Facade", dashboard_factory=factory)

        def variant_metrics(metric: str, statistic: str, namespace: str = "AWS/SageMaker") -> list[cloudwatch.Metric]:
            return [
                cloudwatch.Metric(
                    namespace=namespace,
                    metric_name=metric,
                    statistic=statistic,
                    label=variant,
                    dimensions_map={"EndpointName": endpoint_name or "", "VariantName": variant},
                )
                for variant in variants
            ]

        if endpoint_name:
            facade.add_large_header(f"Endpoint {endpoint_name}")
            facade.monitor_custom(
                human_readable_name="SageMaker endpoint",
                alarm_friendly_name="Endpoint",
                metric_groups=[
                    monitoring.CustomMetricGroup(title="Invocations", metrics=variant_metrics("Invocations", "Sum")),
                    monitoring.CustomMetricGroup(
                        title="Model latency p99 (microseconds)", metrics=variant_metrics("ModelLatency", "p99")
                    ),
                    monitoring.CustomMetricGroup(
                        title="5xx errors", metrics=variant_metrics("Invocation5XXErrors", "Sum")
                    ),
                    monitoring.CustomMetricGroup(
                        title="CPU utilization (%)",
                        metrics=variant_metrics("CPUUtilization", "Average", "/aws/sagemaker/Endpoints"),
                    ),
                    monitoring.CustomMetricGroup(
                        title="Memory utilization (%)",
                        metrics=variant_metrics("MemoryUtilization", "Average", "/aws/sagemaker/Endpoints"),
                    ),
                ],
            )
        if endpoint_name and psi_threshold is not None:  # only where the drift job runs
            facade.monitor_custom(
                human_readable_name="Drift",
                alarm_friendly_name="Drift",
                metric_groups=[
                    monitoring.CustomMetricGroup(
                        title="Max feature PSI and prediction drift",
                        metrics=[
                            cloudwatch.Metric(
                                namespace=NAMESPACE,
                                metric_name=metric,
                                statistic="Maximum",
                                label=metric,
                                dimensions_map={"EndpointName": endpoint_name},
                            )
                            for metric in ("MaxFeaturePSI", "PredictionDrift")
                        ],
                        horizontal_annotations=[
                            cloudwatch.HorizontalAnnotation(value=psi_threshold, label="drift alarm")
                        ],
                    ),
                ],
            )
        if function is not None:
            facade.monitor_lambda_function(lambda_function=function)
        if api is not None:
            facade.monitor_api_gateway(api=api, api_stage=api.deployment_stage.stage_name)
        facade.monitor_custom(
            human_readable_name="Pipelines",
            alarm_friendly_name="Pipelines",
            metric_groups=[
                monitoring.CustomMetricGroup(
                    title="Executions",
                    metrics=[
                        cloudwatch.Metric(
                            namespace="AWS/Sagemaker/ModelBuildingPipeline",
                            metric_name=metric,
                            statistic="Sum",
                            label=f"{pipeline} {metric}",
                            dimensions_map={"PipelineName": pipeline},
                        )
                        for pipeline in pipeline_names
                        for metric in ("ExecutionSucceeded", "ExecutionFailed")
                    ],
                ),
            ],
        )
        (self.dashboard,) = [c for c in self.node.find_all() if isinstance(c, cloudwatch.CfnDashboard)]
        demonstrates(
            self.dashboard,
            ["4.2"],
            "A dashboard for invocations, latency, errors, utilization, drift, "
            "the API, the function and the pipelines.",
        )
