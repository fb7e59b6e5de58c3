"""Drift detection and the retraining loop (control 15; exam 4.1, 3.3).

Drift monitoring works in every account (SageMaker Model Monitor is closed to new customers): a scheduled,
network-isolated drift job reads the endpoint's data capture and the latest training baseline and logs its
metrics; an alarm on the largest feature PSI notifies the alerts topic, and its OK -> ALARM transition
starts the training pipeline. The transition is the storm guard: a drift that persists keeps the alarm in
ALARM and starts nothing more; only a new transition (after a retrained model brought it back to OK)
retrains again, and at most once per evaluation period of a day.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.data.lake import BASELINE_PREFIX, CAPTURE_PREFIX, DataLake
from components.foundation.arns import sagemaker_arn
from components.foundation.exam import demonstrates
from components.foundation.functions import VpcFunction
from components.foundation.triggers import pipeline_rule, schedule
from components.ml.pipeline import SageMakerPipeline, code_listing, processing_code, step_script
from components.ml.training import TrainingPipeline
from components.network import IsolatedNetwork
from components.serving.endpoint import ModelEndpoint
from config.schema import MonitoringConfig
from pipelines import placeholders

# The drift job logs its metrics under this namespace (pipelines/steps/drift.py NAMESPACE, kept equal by a
# test); synth must not import the step script, which needs numpy.
NAMESPACE = "MLPlatform/Drift"


class DriftMonitor(Construct):
    """``pipeline`` (the drift job), ``starter`` (the function the schedule calls), ``schedule``, ``alarm`` and, with
    ``retrain_on_drift``, ``retraining_rule``; ``metric_*`` methods for what the drift job logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MonitoringConfig,
        name_prefix: str,
        endpoint: ModelEndpoint,
        network: IsolatedNetwork,
        lake: DataLake,
        alerts: sns.ITopic,
        training: TrainingPipeline,
        dead_letters: sqs.IQueue,
        reserved_concurrency: int | None,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        endpoint_name = endpoint.endpoint_name
        self.endpoint_name = endpoint_name
        self.psi_threshold = config.psi_threshold
        script = step_script(self, "DriftScript", "drift.py")
        capture = lake.artifacts.arn_for_objects(f"{CAPTURE_PREFIX}/{endpoint_name}/*")
        baseline = lake.artifacts.arn_for_objects(f"{BASELINE_PREFIX}/*")
        reports = lake.artifacts.arn_for_objects("monitoring/drift/*")
        jobs = sagemaker_arn(self, "processing-job", "*")
        built = SageMakerPipeline(
            self,
            name=f"{name_prefix}-drift",
            definition=placeholders.DRIFT,
            description="Feature and prediction drift of the endpoint's captured traffic",
            role_description="Drift monitoring: read data capture and the baseline, write drift reports",
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
            lake=lake,
            network=network,
            log_group_prefix="/aws/sagemaker/ProcessingJobs",
            metrics_namespace=None,
            wildcards={
                jobs: "SageMaker names each drift job per execution.",
                capture: "Data capture is written by SageMaker per variant and hour, for this endpoint.",
                baseline: "The training pipeline refreshes the baseline files under this prefix.",
                reports: "Drift reports are written per execution under monitoring/drift/.",
            },
            vpc_who="the drift job",
            replacements={placeholders.ENDPOINT: endpoint_name, **processing_code({"drift.py": script})},
            defaults={"PsiThreshold": str(config.psi_threshold)},
        )
        self.built = built
        self.role, self.pipeline = built.role, built.pipeline
        demonstrates(self.role.role, ["4.3"], "Monitoring has its own role, apart from pipeline and endpoint roles.")
        demonstrates(self.pipeline, ["4.1"], "Scheduled drift detection that needs no Model Monitor subscription.")

        capture_prefix = f"{CAPTURE_PREFIX}/{endpoint_name}/"
        baseline_prefix = f"{BASELINE_PREFIX}/"
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
                    resources=[built.arn],
                ),
            ],
            environment={
                "ARTIFACTS_BUCKET": lake.artifacts.bucket_name,
                "CAPTURE_PREFIX": capture_prefix,
                "BASELINE_PREFIX": baseline_prefix,
                "PIPELINE_NAME": built.name,
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
            metric=self.metric_max_feature_psi(period=cdk.Duration.days(1)),
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
                pipeline=training.built,
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

    def metric(
        self, metric_name: str, *, period: cdk.Duration | None = None, label: str | None = None
    ) -> cloudwatch.Metric:
        """A metric the drift job logs for this endpoint (its maximum over ``period``)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"EndpointName": self.endpoint_name},
            statistic="Maximum",
            period=period,
            label=label,
        )

    def metric_max_feature_psi(self, **options: Any) -> cloudwatch.Metric:
        """The largest population stability index over the features (the drift alarm's metric)."""
        return self.metric("MaxFeaturePSI", **options)

    def metric_prediction_drift(self, **options: Any) -> cloudwatch.Metric:
        """The PSI of the predicted probabilities against the baseline's."""
        return self.metric("PredictionDrift", **options)
