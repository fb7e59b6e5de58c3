"""MlPipeline: the training pipeline, the model registry and the retraining triggers."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.data.feature_store import FeatureStore
from components.data.lake import DataLake
from components.ml.training import TrainingPipeline
from components.network import IsolatedNetwork
from config.schema import PlatformConfig


class MlPipelineStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        network: IsolatedNetwork,
        lake: DataLake,
        features: FeatureStore,
        removal_policy: cdk.RemovalPolicy,
        dead_letters: sqs.IQueue,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.training = TrainingPipeline(
            self,
            "Training",
            config=config.ml,
            name_prefix=config.name_prefix,
            network=network,
            lake=lake,
            features=features,
            dead_letters=dead_letters,
        )
        self.training.registry.apply_removal_policy(removal_policy)
