"""The SageMaker training pipeline, its model registry and its triggers (controls 8, 18, 19; exam 2.2,
2.3, 3.3).

The pipeline definition is the committed JSON ``pipelines/definitions/<variant>.json`` (the profile picks
train or tune, on demand or spot); ``components.ml.pipeline.SageMakerPipeline`` turns its placeholders into
CloudFormation references, so synth never imports the SDK.
"""

from __future__ import annotations

import json

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.data.feature_store import FeatureStore
from components.data.lake import BASELINE_PREFIX, READY_MARKER, TRAINING_PREFIX, DataLake
from components.foundation.arns import sagemaker_arn
from components.foundation.exam import demonstrates
from components.foundation.triggers import pipeline_rule, pipeline_schedule
from components.ml.pipeline import SageMakerPipeline, code_listing, processing_code, step_script, training_source
from components.ml.registry import ModelRegistry
from components.network import IsolatedNetwork
from config.schema import MlConfig
from pipelines import placeholders


class TrainingPipeline(Construct):
    """``registry`` (the model package group), ``built`` (the pipeline: its ``pipeline``, ``role``, ``name``,
    ``arn`` and metrics), optional ``schedule`` and ``new_data_rule``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MlConfig,
        name_prefix: str,
        network: IsolatedNetwork,
        lake: DataLake,
        features: FeatureStore,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)

        scripts = {
            name: step_script(self, name.removesuffix(".py").title().replace("_", "") + "Script", name)
            for name in placeholders.SCRIPTS
        }
        source = training_source(self, "TrainingSource")
        code = [*scripts.values(), source]

        self.registry = ModelRegistry(
            self,
            name=f"{name_prefix}-models",
            description="Credit-default models; deploy only packages a person approved",
        )
        group_name = self.registry.name

        jobs = [
            sagemaker_arn(self, kind, "*") for kind in ("processing-job", "training-job", "hyper-parameter-tuning-job")
        ]
        packages = self.registry.package_arns
        artifacts = lake.artifacts.arn_for_objects("pipelines/*")
        baseline = lake.artifacts.arn_for_objects(f"{BASELINE_PREFIX}/*")
        training_data = lake.raw.arn_for_objects(f"{TRAINING_PREFIX}*")
        built = SageMakerPipeline(
            self,
            name=f"{name_prefix}-training",
            definition=config.pipeline_variant,
            description="Preprocess, bias report, feature ingestion, train or tune, evaluate, "
            "gate on AUC, register for approval",
            role_description="Training pipeline: runs its jobs in the VPC, reads training data, writes artifacts, "
            "registers models",
            statements=[
                iam.PolicyStatement(
                    sid="RunPipelineJobs",
                    resources=jobs,
                    actions=[
                        "sagemaker:CreateProcessingJob",
                        "sagemaker:DescribeProcessingJob",
                        "sagemaker:StopProcessingJob",
                        "sagemaker:CreateTrainingJob",
                        "sagemaker:DescribeTrainingJob",
                        "sagemaker:StopTrainingJob",
                        "sagemaker:CreateHyperParameterTuningJob",
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:StopHyperParameterTuningJob",
                        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                        "sagemaker:AddTags",
                    ],
                ),
                iam.PolicyStatement(
                    sid="RegisterModels",
                    resources=[self.registry.arn, packages],
                    actions=[
                        "sagemaker:CreateModelPackage",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:AddTags",
                    ],
                ),
                iam.PolicyStatement(
                    sid="IngestFeatures",
                    resources=[features.feature_group_arn],
                    actions=["sagemaker:PutRecord", "sagemaker:DescribeFeatureGroup"],
                ),
                iam.PolicyStatement(sid="ReadTrainingData", actions=["s3:GetObject"], resources=[training_data]),
                iam.PolicyStatement(
                    sid="ListLakeBuckets",
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[lake.raw.bucket_arn, lake.artifacts.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="ReadWriteArtifacts",
                    resources=[artifacts, baseline],
                    actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                ),
                iam.PolicyStatement(
                    sid="ReadStepCode",
                    actions=["s3:GetObject"],
                    resources=[a.bucket.arn_for_objects(a.s3_object_key) for a in code],
                ),
                code_listing(code),
            ],
            lake=lake,
            network=network,
            log_group_prefix="/aws/sagemaker/",
            wildcards={
                **{job: "SageMaker names each job per execution; the pipeline creates them." for job in jobs},
                packages: "Model package versions are numbered by the registry, in this group only.",
                artifacts: "Pipeline outputs are written per execution under pipelines/ only.",
                baseline: "Each run refreshes the drift baseline under monitoring/baseline/.",
                training_data: "Training reads every object a team uploads under training/.",
            },
            vpc_who="the pipeline's jobs",
            vpc_also="PutMetricData is fenced by its namespace.",
            replacements={
                json.dumps(placeholders.TRAINING_SOURCE): json.dumps(source.s3_object_url),
                **processing_code(scripts),
                placeholders.RAW: lake.raw.bucket_name,
                placeholders.FEATURE_GROUP: features.feature_group_name,
                placeholders.MODEL_PACKAGE_GROUP: group_name,
            },
            defaults={
                "ProcessingInstanceType": config.processing_instance_type,
                "TrainingInstanceType": config.training_instance_type,
                "AucThreshold": config.auc_threshold,
            },
            depends_on=[self.registry.group],
        )
        self.built = built
        self.role, self.pipeline = built.role, built.pipeline
        demonstrates(
            self.role.role, ["4.3"], "A role for the training pipeline only, separate from endpoint and monitor roles."
        )
        demonstrates(
            self.pipeline,
            ["1.2", "1.3", "2.2", "2.3", "3.3"],
            "SageMaker Pipelines orchestrates preparation, bias checks, training, evaluation and registration.",
        )
        self.schedule = self._schedule(config, dead_letters) if config.retraining_schedule else None
        self.new_data_rule = self._new_data_rule(lake, dead_letters) if config.retrain_on_new_data else None

    def _schedule(self, config: MlConfig, dead_letters: sqs.IQueue) -> scheduler.CfnSchedule:
        schedule = pipeline_schedule(
            self,
            "RetrainingSchedule",
            pipeline=self.built,
            expression=config.retraining_schedule or "",
            description="start the training pipeline on its retraining schedule",
            dead_letters=dead_letters,
        )
        demonstrates(schedule, ["3.3"], "EventBridge Scheduler retrains on a timetable.")
        return schedule

    def _new_data_rule(self, lake: DataLake, dead_letters: sqs.IQueue) -> events.CfnRule:
        rule = pipeline_rule(
            self,
            "NewDataRule",
            pipeline=self.built,
            dead_letters=dead_letters,
            description=f"start the training pipeline when s3://<raw>/{READY_MARKER} is written",
            event_pattern={
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [lake.raw.bucket_name]}, "object": {"key": [READY_MARKER]}},
            },
            parameters={"InputDataUri": f"s3://{lake.raw.bucket_name}/{TRAINING_PREFIX}"},
        )
        rule.node.add_dependency(self.pipeline)
        demonstrates(rule, ["3.3"], "Event-driven retraining: a ready marker in the raw zone starts the pipeline.")
        return rule
