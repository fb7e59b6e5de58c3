"""One stage composes every stack of a profile: the sandbox today, and each account's copy of the platform."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from components.foundation.compliance import CdkProviderExceptions
from config.schema import PlatformConfig
from stacks.data_lake_stack import DataLakeStack
from stacks.feature_store_stack import FeatureStoreStack
from stacks.governance_stack import GovernanceStack
from stacks.inference_stack import InferenceStack
from stacks.ml_pipeline_stack import MlPipelineStack
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack

# Stacks that hold data: termination protection on, Retain in production (controls 40, 41).
STATEFUL_STACKS = ("DataLake", "FeatureStore", "Governance")


class PlatformStage(cdk.Stage):
    """The whole platform for one profile. Stack ids are short and environment-free; stack *names*
    carry project and environment so two copies can live in one account."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: PlatformConfig, env: cdk.Environment | None = None
    ) -> None:
        super().__init__(scope, construct_id, env=env)
        removal = cdk.RemovalPolicy.DESTROY if config.destroy_on_delete else cdk.RemovalPolicy.RETAIN

        self.network = NetworkStack(
            self,
            "Network",
            stack_name=config.stack_name("Network"),
            config=config,
            removal_policy=removal,
            description="ML platform network: isolated VPC, VPC endpoints, flow logs (MLA-C01 3.2, 4.3)",
        )
        self.data_lake = DataLakeStack(
            self,
            "DataLake",
            stack_name=config.stack_name("DataLake"),
            config=config,
            removal_policy=removal,
            termination_protection="DataLake" in STATEFUL_STACKS,
            description="ML platform data lake (stateful): KMS, S3, Glue, Athena, Kinesis, Firehose (MLA-C01 1.1, 4.3)",
        )
        self.governance = GovernanceStack(
            self,
            "Governance",
            stack_name=config.stack_name("Governance"),
            config=config,
            lake=self.data_lake.lake,
            removal_policy=removal,
            termination_protection="Governance" in STATEFUL_STACKS,
            description="ML platform governance (stateful): CloudTrail, alerts, Budgets, anomalies (MLA-C01 4.2, 4.3)",
        )
        self.feature_store = FeatureStoreStack(
            self,
            "FeatureStore",
            stack_name=config.stack_name("FeatureStore"),
            config=config,
            lake=self.data_lake.lake,
            catalog=self.data_lake.catalog,
            removal_policy=removal,
            termination_protection="FeatureStore" in STATEFUL_STACKS,
            description="ML platform feature store (stateful): online and offline feature group (MLA-C01 1.2)",
        )
        self.ml_pipeline = MlPipelineStack(
            self,
            "MlPipeline",
            stack_name=config.stack_name("MlPipeline"),
            config=config,
            network=self.network.network,
            lake=self.data_lake.lake,
            features=self.feature_store.features,
            dead_letters=self.governance.alerts.dead_letters,
            removal_policy=removal,
            description="ML platform training pipeline and model registry (MLA-C01 1.2, 1.3, 2.2, 2.3, 3.3)",
        )
        self.inference = InferenceStack(
            self,
            "Inference",
            stack_name=config.stack_name("Inference"),
            config=config,
            network=self.network.network,
            lake=self.data_lake.lake,
            alerts=self.governance.alerts.topic,
            registry=self.ml_pipeline.training.registry,
            features=self.feature_store.features,
            dead_letters=self.governance.alerts.dead_letters,
            removal_policy=removal,
            description="ML platform inference: endpoint, invocation API, model-deploy path (MLA-C01 3.1, 3.2, 3.3)",
        )
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            stack_name=config.stack_name("Monitoring"),
            config=config,
            network=self.network.network,
            lake=self.data_lake.lake,
            alerts=self.governance.alerts.topic,
            training=self.ml_pipeline.training,
            endpoint=self.inference.endpoint,
            api=self.inference.api,
            batch=self.inference.batch,
            dead_letters=self.governance.alerts.dead_letters,
            removal_policy=removal,
            description="ML platform monitoring: drift job, retraining loop, alerts, dashboard (MLA-C01 4.1, 4.2)",
        )
        cdk.Aspects.of(self).add(CdkProviderExceptions())
        for key, value in config.cost_allocation_tags.items():
            cdk.Tags.of(self).add(key, value)
