"""Monitoring: drift detection and the retraining loop, notifications, and the operations dashboard."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.data_lake import DataLake
from components.ml_pipeline import TrainingPipeline
from components.model_monitor import ModelMonitor
from components.monitoring import DriftMonitor, OperationsDashboard, PlatformNotifications
from components.network import IsolatedNetwork
from config.settings import PlatformConfig
from stacks.inference_stack import InferenceStack


class MonitoringStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        network: IsolatedNetwork,
        lake: DataLake,
        alerts: sns.ITopic,
        training: TrainingPipeline,
        inference: InferenceStack,
        dead_letters: sqs.IQueue,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        endpoint = inference.endpoint
        pipelines = {training.pipeline_name: training.pipeline_arn}
        if inference.batch:
            pipelines[inference.batch.pipeline_name] = inference.batch.pipeline_arn
        # Drift needs captured traffic: an endpoint that serves, and not serverless (no data capture there).
        self.drift: DriftMonitor | None = None
        self.model_monitor: ModelMonitor | None = None
        if endpoint and config.inference.mode != "serverless" and config.inference.data_capture_percent > 0:
            self.drift = DriftMonitor(
                self,
                "Drift",
                config=config.monitoring,
                name_prefix=config.name_prefix,
                endpoint_name=endpoint.endpoint_name,
                network=network,
                lake=lake,
                alerts=alerts,
                training_pipeline_arn=training.pipeline_arn,
                dead_letters=dead_letters,
                reserved_concurrency=config.functions.reserved_for("drift_starter"),
                log_retention_days=config.log_retention_days,
                removal_policy=removal_policy,
            )
            pipelines[self.drift.pipeline_name] = self.drift.pipeline_arn
            if config.monitoring.model_monitor:
                self.model_monitor = ModelMonitor(
                    self,
                    "ModelMonitor",
                    config=config.monitoring,
                    name_prefix=config.name_prefix,
                    endpoint_name=endpoint.endpoint_name,
                    instance_type=config.ml.processing_instance_type,
                    network=network,
                    lake=lake,
                )
        self.notifications = PlatformNotifications(
            self,
            "Notifications",
            pipeline_arns=list(pipelines.values()),
            model_package_group_name=training.model_package_group_name,
            topic=alerts,
            dead_letters=dead_letters,
        )
        self.dashboard = OperationsDashboard(
            self,
            "Operations",
            name=f"{config.name_prefix}-operations",
            endpoint_name=endpoint.endpoint_name if endpoint else None,
            variants=[v.name for v in endpoint.variants] if endpoint else [],
            pipeline_names=list(pipelines),
            psi_threshold=config.monitoring.psi_threshold if self.drift else None,
            function=inference.api.function if inference.api else None,
            api=inference.api.api if inference.api else None,
        )
