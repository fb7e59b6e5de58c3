"""Batch transform for offline scoring (exam 3.1): a SageMaker pipeline that creates a model from an
approved package and scores a whole S3 prefix, isolated in the VPC with KMS, with a role of its own.

    aws sagemaker start-pipeline-execution --pipeline-name <prefix>-batch-scoring \\
        --pipeline-parameters Name=ModelPackageArn,Value=<approved version ARN> \\
                              Name=InputDataUri,Value=s3://<artifacts>/batch/input/
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from components.data.lake import MODELS_PREFIX, DataLake
from components.foundation.arns import sagemaker_arn
from components.foundation.exam import demonstrates
from components.ml.pipeline import SageMakerPipeline
from components.ml.registry import ModelRegistry
from components.network import IsolatedNetwork
from pipelines import placeholders


class BatchScoring(Construct):
    """``pipeline`` (the batch-scoring pipeline) and ``role``: any approved version in ``registry``
    scores an S3 prefix under ``batch/``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        instance_type: str,
        registry: ModelRegistry,
        network: IsolatedNetwork,
        lake: DataLake,
    ) -> None:
        super().__init__(scope, construct_id)

        models, jobs = sagemaker_arn(self, "model", "*"), sagemaker_arn(self, "transform-job", "*")
        packages = registry.package_arns
        batch = lake.artifacts.arn_for_objects("batch/*")
        artifacts = lake.artifacts.arn_for_objects(f"{MODELS_PREFIX}/*")
        built = SageMakerPipeline(
            self,
            name=f"{name_prefix}-batch-scoring",
            definition=placeholders.BATCH,
            description="Batch transform of an S3 prefix with an approved model package version",
            role_description="Batch scoring: create a model from an approved package and run transform jobs",
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
            lake=lake,
            network=network,
            log_group_prefix="/aws/sagemaker/TransformJobs",
            pass_role_sid="PassOwnRoleToModels",
            wildcards={
                models: "Each execution creates a model named by SageMaker for that run.",
                jobs: "SageMaker names each transform job per execution.",
                packages: "Any approved version of this group may score; the caller names it.",
                batch: "Inputs and per-execution outputs live under batch/ only.",
                artifacts: "Model versions are written by the training pipeline under pipelines/models/.",
            },
            vpc_who="batch transform containers",
            vpc_also="PutMetricData is fenced by namespace.",
            defaults={"TransformInstanceType": instance_type},
        )
        self.built = built
        self.role, self.pipeline = built.role, built.pipeline
        demonstrates(self.pipeline, ["3.1", "3.3"], "Batch transform: offline scoring without a standing endpoint.")
