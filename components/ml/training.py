"""The SageMaker training pipeline, its model registry and its triggers (controls 8, 18, 19; exam 2.2,
2.3, 3.3).

The pipeline definition is the committed JSON that ``pipelines.definition`` generated with the SageMaker
Python SDK; here its placeholders become CloudFormation references (role, key, buckets, subnets,
security group, code assets, the region's image accounts), so synth never imports the SDK.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.compliance import acknowledge_wildcard
from components.data_lake import DataLake
from components.exam import demonstrates
from components.network import IsolatedNetwork
from components.roles import ServiceRole
from components.triggers import pipeline_rule, pipeline_schedule
from config.settings import DATA_DIR, MlConfig
from pipelines import definition as placeholders

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
STEPS = PIPELINES / "steps"
TRAINING_PREFIX = "training/"
READY_MARKER = f"{TRAINING_PREFIX}_READY"  # one upload of this object = one pipeline execution
IMAGES_MAPPING = "SageMakerImageAccounts"


@jsii.implements(cdk.ILocalBundling)
class _TrainingSourceBundle:
    """Pack ``train.py`` as the ``sourcedir.tar.gz`` a script-mode training job downloads, in-process
    (no Docker) and byte-for-byte reproducibly (fixed mtimes, owners and gzip header)."""

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: Any) -> bool:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = (STEPS / "train.py").read_bytes()
            info = tarfile.TarInfo("train.py")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        with gzip.GzipFile(os.path.join(output_dir, "sourcedir.tar.gz"), "wb", mtime=0) as archive:
            archive.write(buffer.getvalue())
        return True


def image_accounts() -> dict[str, dict[str, str]]:
    """Region -> {framework: ECR account} from the committed table (config/data/sagemaker_images.json)."""
    table = json.loads((DATA_DIR / "sagemaker_images.json").read_text())
    regions = sorted(set(table["xgboost"]["registries"]) & set(table["sklearn"]["registries"]))
    return {region: {name: table[name]["registries"][region] for name in ("xgboost", "sklearn")} for region in regions}


def code_listing(code: list[assets.Asset]) -> iam.PolicyStatement:
    """Processing jobs download every input, their code included, as an ``S3Prefix``: SageMaker lists the
    prefix before it reads (facts: processing-input-needs-list-bucket), so the role may list the CDK asset
    bucket, for exactly these keys."""
    # Every file asset of a stack lives in the stack's one asset bucket (the CDK bootstrap's).
    return iam.PolicyStatement(
        sid="ListStepCode",
        actions=["s3:ListBucket"],
        resources=[code[0].bucket.bucket_arn],
        conditions={"StringEquals": {"s3:prefix": sorted({a.s3_object_key for a in code})}},
    )


def render_definition(
    scope: Construct, *, name: str, network: IsolatedNetwork, replacements: dict[str, str], defaults: dict[str, Any]
) -> str:
    """The committed definition ``pipelines/definitions/<name>.json`` with every placeholder replaced by its
    CloudFormation reference, as a JSON string with tokens (CDK turns it into an ``Fn::Join``).

    Subnets and the security group come from ``network``; image accounts from a per-region mapping; the
    region from the stack; parameter defaults from the profile. An unreplaced placeholder stops synth.
    """
    stack = cdk.Stack.of(scope)
    path = PIPELINES / "definitions" / f"{name}.json"
    text = path.read_text()
    table = json.loads((DATA_DIR / "sagemaker_images.json").read_text())
    every = dict(replacements)
    mapping: cdk.CfnMapping | None = None
    for framework in ("xgboost", "sklearn"):
        entry = table[framework]
        image = f"{entry['repository']}:{entry['tag']}"
        region = placeholders.REGION
        placeholder = f"{entry['registries'][region]}.dkr.ecr.{region}.amazonaws.com/{image}"
        if placeholder not in text:
            continue  # a mapping nothing reads is a template warning
        mapping = mapping or cdk.CfnMapping(scope, IMAGES_MAPPING, mapping=image_accounts())
        every[placeholder] = (
            f"{mapping.find_in_map(stack.region, framework)}.dkr.ecr.{stack.region}.{stack.url_suffix}/{image}"
        )
    every[json.dumps(placeholders.REGION)] = f'"{stack.region}"'
    subnets = [
        subnet.subnet_id for subnet in network.vpc.select_subnets(subnet_type=network.subnets.subnet_type).subnets
    ]
    group = network.workload_security_group.security_group_id

    def substitute(value: Any) -> Any:
        if value == [placeholders.SUBNET]:
            return subnets
        if value == [placeholders.SECURITY_GROUP]:
            return [group]
        if isinstance(value, list):
            return [substitute(v) for v in value]
        if isinstance(value, dict):
            if value.get("Name") in defaults and "DefaultValue" in value:
                return {**value, "DefaultValue": defaults[value["Name"]]}
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, str):
            for old in sorted(every, key=len, reverse=True):
                value = value.replace(old, every[old])
            if "placeholder" in value:
                raise ValueError(f"pipeline definition {name}: unreplaced value {value!r}")
        return value

    return str(stack.to_json_string(substitute(json.loads(text))))


class TrainingPipeline(Construct):
    """``pipeline`` (AWS::SageMaker::Pipeline), ``model_package_group``, ``role`` (the pipeline's own),
    optional ``schedule`` and ``new_data_rule``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MlConfig,
        name_prefix: str,
        network: IsolatedNetwork,
        lake: DataLake,
        feature_group_name: str,
        feature_group_arn: str,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        arn = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
        self.pipeline_name = f"{name_prefix}-training"
        self.pipeline_arn = f"{arn}:pipeline/{self.pipeline_name}"
        group_name = f"{name_prefix}-models"
        self.model_package_group_name = group_name

        scripts = {
            name: assets.Asset(
                self, name.removesuffix(".py").title().replace("_", "") + "Script", path=str(STEPS / name)
            )
            for name in placeholders.SCRIPTS
        }
        source = assets.Asset(
            self,
            "TrainingSource",
            path=str(STEPS),
            exclude=["*", "!train.py"],
            asset_hash_type=cdk.AssetHashType.SOURCE,
            bundling=cdk.BundlingOptions(
                image=cdk.DockerImage.from_registry("none"),
                local=_TrainingSourceBundle(),
                output_type=cdk.BundlingOutput.SINGLE_FILE,
            ),
        )

        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=group_name,
            model_package_group_description="Credit-default models; deploy only packages a person approved",
        )
        demonstrates(
            self.model_package_group,
            ["2.3", "3.3"],
            "The model registry: versions with metrics, deployed only after manual approval.",
        )

        self.role = self._role(
            stack=stack,
            arn=arn,
            lake=lake,
            group_name=group_name,
            feature_group_arn=feature_group_arn,
            code=[*scripts.values(), source],
        )
        body = self._definition(
            stack=stack,
            config=config,
            lake=lake,
            network=network,
            feature_group_name=feature_group_name,
            group_name=group_name,
            scripts=scripts,
            source=source,
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            role_arn=self.role.role.role_arn,
            pipeline_description="Preprocess, bias report, feature ingestion, train or tune, evaluate, "
            "gate on AUC, register for approval",
            pipeline_definition={"PipelineDefinitionBody": body},
        )
        self.pipeline.node.add_dependency(self.role.policy, self.model_package_group)
        demonstrates(
            self.pipeline,
            ["1.2", "1.3", "2.2", "2.3", "3.3"],
            "SageMaker Pipelines orchestrates preparation, bias checks, training, evaluation and registration.",
        )
        self.schedule = self._schedule(config, dead_letters) if config.retraining_schedule else None
        self.new_data_rule = self._new_data_rule(lake, dead_letters) if config.retrain_on_new_data else None

    def _role(
        self,
        *,
        stack: cdk.Stack,
        arn: str,
        lake: DataLake,
        group_name: str,
        feature_group_arn: str,
        code: list[assets.Asset],
    ) -> ServiceRole:
        jobs = [f"{arn}:processing-job/*", f"{arn}:training-job/*", f"{arn}:hyper-parameter-tuning-job/*"]
        packages = f"{arn}:model-package/{group_name}/*"
        artifacts = lake.artifacts.arn_for_objects("pipelines/*")
        baseline = lake.artifacts.arn_for_objects(f"{placeholders.BASELINE_PREFIX}/*")
        training_data = lake.raw.arn_for_objects(f"{TRAINING_PREFIX}*")
        role = ServiceRole(
            self,
            "Role",
            service="sagemaker.amazonaws.com",
            description="Training pipeline: runs its jobs in the VPC, reads training data, writes artifacts, "
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
                    resources=[f"{arn}:model-package-group/{group_name}", packages],
                    actions=[
                        "sagemaker:CreateModelPackage",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:AddTags",
                    ],
                ),
                iam.PolicyStatement(
                    sid="IngestFeatures",
                    resources=[feature_group_arn],
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
        )
        role.allow_sagemaker_runtime(key=lake.key, log_group_prefix="/aws/sagemaker/")
        role.allow(
            iam.PolicyStatement(
                sid="PassOwnRoleToJobs",
                actions=["iam:PassRole"],
                resources=[role.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        policy = role.policy
        for job in jobs:
            acknowledge_wildcard(policy, job, "SageMaker names each job per execution; the pipeline creates them.")
        acknowledge_wildcard(
            policy, packages, "Model package versions are numbered by the registry, in this group only."
        )
        acknowledge_wildcard(policy, artifacts, "Pipeline outputs are written per execution under pipelines/ only.")
        acknowledge_wildcard(policy, baseline, "Each run refreshes the drift baseline under monitoring/baseline/.")
        acknowledge_wildcard(policy, training_data, "Training reads every object a team uploads under training/.")
        role.allow_vpc_network_interfaces("the pipeline's jobs", also="PutMetricData is fenced by its namespace.")
        demonstrates(
            role.role, ["4.3"], "A role for the training pipeline only, separate from endpoint and monitor roles."
        )
        return role

    def _definition(
        self,
        *,
        stack: cdk.Stack,
        config: MlConfig,
        lake: DataLake,
        network: IsolatedNetwork,
        feature_group_name: str,
        group_name: str,
        scripts: dict[str, assets.Asset],
        source: assets.Asset,
    ) -> str:
        code_dir = "/opt/ml/processing/input/code/"
        return render_definition(
            self,
            name=config.pipeline_variant,
            network=network,
            replacements={
                placeholders.ROLE: self.role.role.role_arn,
                placeholders.KEY: lake.key.key_arn,
                json.dumps(placeholders.TRAINING_SOURCE): json.dumps(source.s3_object_url),
                **{f"s3://{placeholders.CODE}/{name}": asset.s3_object_url for name, asset in scripts.items()},
                **{code_dir + name: code_dir + asset.s3_object_key for name, asset in scripts.items()},
                placeholders.ARTIFACTS: lake.artifacts.bucket_name,
                placeholders.RAW: lake.raw.bucket_name,
                placeholders.FEATURE_GROUP: feature_group_name,
                placeholders.MODEL_PACKAGE_GROUP: group_name,
            },
            defaults={
                "ProcessingInstanceType": config.processing_instance_type,
                "TrainingInstanceType": config.training_instance_type,
                "AucThreshold": config.auc_threshold,
            },
        )

    def _schedule(self, config: MlConfig, dead_letters: sqs.IQueue) -> scheduler.CfnSchedule:
        schedule = pipeline_schedule(
            self,
            "RetrainingSchedule",
            pipeline_arn=self.pipeline_arn,
            expression=config.retraining_schedule or "",
            description="start the training pipeline on its retraining schedule",
            dead_letters=dead_letters,
            after=self.pipeline,
        )
        demonstrates(schedule, ["3.3"], "EventBridge Scheduler retrains on a timetable.")
        return schedule

    def _new_data_rule(self, lake: DataLake, dead_letters: sqs.IQueue) -> events.CfnRule:
        rule = pipeline_rule(
            self,
            "NewDataRule",
            pipeline_arn=self.pipeline_arn,
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
