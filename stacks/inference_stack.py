"""Inference: the endpoint for the approved model, its invocation API, and the model-deploy notifications.

With no approved package named (the first deploy), only the deploy path exists: approval notifications
tell the team the command that serves the package.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.data.feature_store import FeatureStore
from components.data.lake import DataLake
from components.ml.registry import ModelRegistry
from components.network import IsolatedNetwork
from components.serving.api import InvocationApi
from components.serving.approvals import ApprovalNotifications
from components.serving.batch_scoring import BatchScoring
from components.serving.endpoint import ModelEndpoint
from config.schema import PlatformConfig


class InferenceStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        network: IsolatedNetwork,
        lake: DataLake,
        alerts: sns.ITopic,
        registry: ModelRegistry,
        features: FeatureStore,
        removal_policy: cdk.RemovalPolicy,
        dead_letters: sqs.IQueue,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        inference = config.inference
        profile = "" if config.environment == "sandbox" else f" PROFILE={config.environment}"
        how_to_serve = f"Serve it with: make deploy{profile} MODEL_PACKAGE_ARN=<arn>"
        tested = config.cicd.tested_stage if config.pipeline_enabled and config.cicd is not None else None
        if tested is not None:  # model deploy: the pipeline takes it from here
            how_to_serve = (
                f"The pipeline {config.pipeline_name} deploys it to {tested.name}, tests it there through the API, "
                "then waits for a person to approve production."
            )
        self.approvals = ApprovalNotifications(
            self,
            "Approvals",
            registry=registry,
            topic=alerts,
            how_to_serve=how_to_serve,
            dead_letters=dead_letters,
        )
        self.batch: BatchScoring | None = None
        if inference.batch_transform:  # offline scoring needs no endpoint, only an approved package at run time
            self.batch = BatchScoring(
                self,
                "BatchScoring",
                name_prefix=config.name_prefix,
                instance_type=inference.instance_type,
                registry=registry,
                network=network,
                lake=lake,
            )
        self.endpoint: ModelEndpoint | None = None
        self.api: InvocationApi | None = None
        self.predict_url: cdk.CfnOutput | None = None  # the model-deploy pipeline's test stage reads it
        if not inference.serving:
            return
        self.endpoint = ModelEndpoint(
            self,
            "Serving",
            config=inference,
            endpoint_name=f"{config.name_prefix}-credit",
            network=network,
            lake=lake,
            alerts=alerts,
            removal_policy=removal_policy,
        )
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name)
        if inference.mode != "async":  # async clients write requests to S3 and call InvokeEndpointAsync
            self.api = InvocationApi(
                self,
                "Invocation",
                config=inference.api,
                reserved_concurrency=config.functions.reserved_for("invoke_endpoint"),
                endpoint=self.endpoint,
                features=features,
                network=network,
                log_retention_days=config.log_retention_days,
                removal_policy=removal_policy,
            )
            self.predict_url = cdk.CfnOutput(self, "PredictUrl", value=self.api.api.url_for_path("/predict"))
            cdk.CfnOutput(
                self,
                "ApplicantPredictionUrl",
                value=self.api.api.url_for_path("/applicants") + "/{applicant_id}/prediction",
            )
