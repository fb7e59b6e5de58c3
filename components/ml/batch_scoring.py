"""Batch transform for offline scoring (exam 3.1): a SageMaker pipeline that creates a model from an
approved package and scores a whole S3 prefix, isolated in the VPC with KMS, with a role of its own.

    aws sagemaker start-pipeline-execution --pipeline-name <prefix>-batch-scoring \\
        --pipeline-parameters Name=ModelPackageArn,Value=<approved version ARN> \\
                              Name=InputDataUri,Value=s3://<artifacts>/batch/input/
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from components.compliance import acknowledge_wildcard
from components.data_lake import DataLake
from components.exam import demonstrates
from components.ml_pipeline import render_definition
from components.network import IsolatedNetwork
from components.roles import ServiceRole
from pipelines import definition as placeholders


class BatchScoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        instance_type: str,
        model_package_group_name: str,
        network: IsolatedNetwork,
        lake: DataLake,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        arn = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
        self.pipeline_name = f"{name_prefix}-batch-scoring"
        self.pipeline_arn = f"{arn}:pipeline/{self.pipeline_name}"
        models, jobs = f"{arn}:model/*", f"{arn}:transform-job/*"
        packages = f"{arn}:model-package/{model_package_group_name}/*"
        batch = lake.artifacts.arn_for_objects("batch/*")
        artifacts = lake.artifacts.arn_for_objects("pipelines/models/*")
        self.role = ServiceRole(
            self,
            "Role",
            service="sagemaker.amazonaws.com",
            description="Batch scoring: create a model from an approved package and run transform jobs",
            statements=[
                iam.PolicyStatement(
                    sid="CreateModels",
                    resources=[models],
                    actions=[
                        "sagemaker:CreateModel",
                        "sagemaker:DescribeModel",
                        "sagemaker:DeleteModel",
                        "sagemaker:AddTags",
                    ],
                ),
                iam.PolicyStatement(
                    sid="UseApprovedPackages", resources=[packages], actions=["sagemaker:DescribeModelPackage"]
                ),
                iam.PolicyStatement(
                    sid="RunTransformJobs",
                    resources=[jobs],
                    actions=[
                        "sagemaker:CreateTransformJob",
                        "sagemaker:DescribeTransformJob",
                        "sagemaker:StopTransformJob",
                        "sagemaker:AddTags",
                    ],
                ),
                iam.PolicyStatement(sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=[artifacts]),
                iam.PolicyStatement(
                    sid="ReadInputWriteOutput",
                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[batch],
                ),
                iam.PolicyStatement(
                    sid="ListArtifacts", actions=["s3:ListBucket"], resources=[lake.artifacts.bucket_arn]
                ),
            ],
        )
        self.role.allow_sagemaker_runtime(key=lake.key, log_group_prefix="/aws/sagemaker/TransformJobs")
        self.role.allow(
            iam.PolicyStatement(
                sid="PassOwnRoleToModels",
                actions=["iam:PassRole"],
                resources=[self.role.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        policy = self.role.policy
        acknowledge_wildcard(policy, models, "Each execution creates a model named by SageMaker for that run.")
        acknowledge_wildcard(policy, jobs, "SageMaker names each transform job per execution.")
        acknowledge_wildcard(policy, packages, "Any approved version of this group may score; the caller names it.")
        acknowledge_wildcard(policy, batch, "Inputs and per-execution outputs live under batch/ only.")
        acknowledge_wildcard(
            policy, artifacts, "Model versions are written by the training pipeline under pipelines/models/."
        )
        self.role.allow_vpc_network_interfaces(
            "batch transform containers", also="PutMetricData is fenced by namespace."
        )
        body = render_definition(
            self,
            name=placeholders.BATCH,
            network=network,
            replacements={
                placeholders.ROLE: self.role.role.role_arn,
                placeholders.KEY: lake.key.key_arn,
                placeholders.ARTIFACTS: lake.artifacts.bucket_name,
            },
            defaults={"TransformInstanceType": instance_type},
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            role_arn=self.role.role.role_arn,
            pipeline_description="Batch transform of an S3 prefix with an approved model package version",
            pipeline_definition={"PipelineDefinitionBody": body},
        )
        self.pipeline.node.add_dependency(self.role.policy)
        demonstrates(self.pipeline, ["3.1", "3.3"], "Batch transform: offline scoring without a standing endpoint.")
