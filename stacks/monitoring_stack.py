"""Monitoring: drift detection and the retraining loop, notifications, and the operations dashboard."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.data.lake import DataLake
from components.ml.pipeline import SageMakerPipeline
from components.ml.training import TrainingPipeline
from components.monitoring.dashboard import OperationsDashboard
from components.monitoring.drift import DriftMonitor
from components.monitoring.model_monitor import ModelMonitor
from components.monitoring.notifications import PlatformNotifications
from components.network import IsolatedNetwork
from components.serving.api import InvocationApi
from components.serving.batch_scoring import BatchScoring
from components.serving.endpoint import ModelEndpoint
from config.schema import PlatformConfig


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
        endpoint: ModelEndpoint | None,
        api: InvocationApi | None,
        batch: BatchScoring | None,
        dead_letters: sqs.IQueue,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        pipelines: list[SageMakerPipeline] = [training.built]
        if batch:
            pipelines.append(batch.built)
        # Drift needs captured traffic: an endpoint that serves, and not serverless (no data capture there).
        self.drift: DriftMonitor | None = None
        self.model_monitor: ModelMonitor | None = None
        if endpoint and config.inference.mode != "serverless" and config.inference.data_capture_percent > 0:
            self.drift = DriftMonitor(
                self,
                "Drift",
                config=config.monitoring,
                name_prefix=config.name_prefix,
                endpoint=endpoint,
                network=network,
                lake=lake,
                alerts=alerts,
                training=training,
                dead_letters=dead_letters,
                reserved_concurrency=config.functions.reserved_for("drift_starter"),
                log_retention_days=config.log_retention_days,
                removal_policy=removal_policy,
            )
            pipelines.append(self.drift.built)
            if config.monitoring.model_monitor:
                self.model_monitor = ModelMonitor(
                    self,
                    "ModelMonitor",
                    config=config.monitoring,
                    name_prefix=config.name_prefix,
                    endpoint=endpoint,
                    instance_type=config.ml.processing_instance_type,
                    network=network,
                    lake=lake,
                )
        self.notifications = PlatformNotifications(
            self,
            "Notifications",
            pipelines=pipelines,
            registry=training.registry,
            topic=alerts,
            dead_letters=dead_letters,
        )
        self.dashboard = OperationsDashboard(
            self,
            "Operations",
            name=f"{config.name_prefix}-operations",
            endpoint=endpoint,
            drift=self.drift,
            api=api,
            pipelines=pipelines,
        )
