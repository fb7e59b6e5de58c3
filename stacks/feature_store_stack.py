"""FeatureStore (stateful): the feature group the training pipeline fills."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from components.data.catalog import LakeCatalog
from components.data.feature_store import FeatureStore
from components.data.lake import DataLake
from config.schema import FEATURE_GROUP_BASE, PlatformConfig


class FeatureStoreStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        lake: DataLake,
        catalog: LakeCatalog,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.features = FeatureStore(
            self,
            "Features",
            name=f"{config.name_prefix}-{FEATURE_GROUP_BASE}",
            lake=lake,
            catalog=catalog,
            removal_policy=removal_policy,
        )
