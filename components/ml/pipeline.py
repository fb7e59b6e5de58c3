"""One builder for every SageMaker pipeline of the platform (training, drift, batch scoring).

Each pipeline is the committed definition ``pipelines/definitions/<name>.json`` (generated offline with the
SageMaker Python SDK by ``python -m pipelines.builders``) with its placeholders replaced by CloudFormation
references, run by a role of its own that may pass itself to the jobs it starts. Synth never imports the SDK.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from components.data.lake import DataLake
from components.foundation.arns import sagemaker_arn
from components.foundation.compliance import acknowledge_wildcard
from components.foundation.roles import ServiceRole
from components.ml.images import image_accounts, image_uri
from components.network import IsolatedNetwork
from config.catalogs import sagemaker_images
from pipelines import placeholders

IMAGES_MAPPING = "SageMakerImageAccounts"
# Where a processing job finds its code: SageMaker downloads the code input under this folder.
PROCESSING_CODE_DIR = "/opt/ml/processing/input/code/"
# The namespace SageMaker Pipelines publishes execution metrics in.
PIPELINE_METRICS = "AWS/Sagemaker/ModelBuildingPipeline"


@jsii.implements(cdk.ILocalBundling)
class _StepFiles:
    """Pack files of ``pipelines/steps`` in-process (no Docker), byte-for-byte reproducibly (fixed times,
    modes and headers): ``zipapp``, a Python zip application whose ``__main__.py`` is ``files[0]`` (``python3
    <file>`` runs it, the other files importable beside it); ``sourcedir``, the ``sourcedir.tar.gz`` a
    script-mode training job extracts into ``/opt/ml/code``."""

    def __init__(self, files: Sequence[str], kind: str) -> None:
        self.files, self.kind = tuple(files), kind

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: Any) -> bool:
        contents = {name: (placeholders.STEPS / name).read_bytes() for name in self.files}
        if self.kind == "zipapp":
            path = os.path.join(output_dir, self.files[0].removesuffix(".py") + ".pyz")
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for index, (name, data) in enumerate(contents.items()):
                    entry = zipfile.ZipInfo("__main__.py" if index == 0 else name, date_time=(1980, 1, 1, 0, 0, 0))
                    entry.external_attr, entry.compress_type = 0o644 << 16, zipfile.ZIP_DEFLATED
                    archive.writestr(entry, data)
            return True
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in contents.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
        with gzip.GzipFile(os.path.join(output_dir, "sourcedir.tar.gz"), "wb", mtime=0) as archive:
            archive.write(buffer.getvalue())
        return True


def _packed(scope: Construct, construct_id: str, files: Sequence[str], kind: str) -> assets.Asset:
    return assets.Asset(
        scope,
        construct_id,
        path=str(placeholders.STEPS),
        exclude=["*", *(f"!{name}" for name in files)],
        asset_hash_type=cdk.AssetHashType.SOURCE,
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("none"),
            local=_StepFiles(files, kind),
            output_type=cdk.BundlingOutput.SINGLE_FILE,
        ),
    )


def step_script(scope: Construct, construct_id: str, name: str) -> assets.Asset:
    """The asset of the step script ``pipelines/steps/<name>``: the file itself, or, if it imports modules from
    beside it (``placeholders.IMPORTS``), a zip application of it and them, which ``python3`` runs the same way."""
    imports = placeholders.IMPORTS.get(name)
    if not imports:
        return assets.Asset(scope, construct_id, path=str(placeholders.STEPS / name))
    return _packed(scope, construct_id, [name, *imports], "zipapp")


def training_source(scope: Construct, construct_id: str) -> assets.Asset:
    """The ``sourcedir.tar.gz`` of the training job: ``placeholders.TRAINING_FILES``."""
    return _packed(scope, construct_id, placeholders.TRAINING_FILES, "sourcedir")


def code_listing(code: Sequence[assets.Asset]) -> iam.PolicyStatement:
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


def processing_code(scripts: Mapping[str, assets.Asset]) -> dict[str, str]:
    """Replacements for step scripts: their S3 location and the path the job runs them from."""
    return {
        **{f"s3://{placeholders.CODE}/{name}": asset.s3_object_url for name, asset in scripts.items()},
        **{PROCESSING_CODE_DIR + name: PROCESSING_CODE_DIR + asset.s3_object_key for name, asset in scripts.items()},
    }


def render_definition(
    scope: Construct, *, name: str, network: IsolatedNetwork, replacements: dict[str, str], defaults: dict[str, Any]
) -> str:
    """The committed definition ``pipelines/definitions/<name>.json`` with every placeholder replaced by its
    CloudFormation reference, as a JSON string with tokens (CDK turns it into an ``Fn::Join``).

    Subnets and the security group come from ``network``; image accounts from a per-region mapping; the
    region from the stack; parameter defaults from the profile. An unreplaced placeholder stops synth.
    """
    stack = cdk.Stack.of(scope)
    text = (placeholders.DEFINITIONS / f"{name}.json").read_text()
    table = sagemaker_images()
    every = dict(replacements)
    mapping: cdk.CfnMapping | None = None
    for framework in ("xgboost", "sklearn"):
        entry = table[framework]
        image = f"{entry['repository']}:{entry['tag']}"
        region = placeholders.REGION
        placeholder = f"{entry['registries'][region]}.dkr.ecr.{region}.amazonaws.com/{image}"
        if placeholder not in text:
            continue  # a mapping nothing reads is a template warning
        mapping = mapping or cdk.CfnMapping(
            scope, IMAGES_MAPPING, mapping=image_accounts({"xgboost": "xgboost", "sklearn": "sklearn"})
        )
        every[placeholder] = image_uri(scope, mapping, framework, image)
    every[json.dumps(placeholders.REGION)] = f'"{stack.region}"'
    subnets = network.workload_subnet_ids
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


class SageMakerPipeline:
    """A SageMaker pipeline and its role, built into the caller's construct (``<scope>/Role``,
    ``<scope>/Pipeline``): not a construct of its own, so the logical ids stay those of its owner.

    The role gets ``statements`` (what the pipeline's jobs read and write), the SageMaker runtime
    permissions (lake key, log groups under ``log_group_prefix``, metrics), ``iam:PassRole`` on itself for
    SageMaker only, acknowledgments for each wildcard of ``wildcards`` with its reason, and the VPC
    network-interface calls for ``vpc_who``. The definition gets the role, the lake key and the artifacts
    bucket, plus ``replacements``; ``defaults`` override parameter defaults. The ``CfnPipeline`` waits for
    the role's policy and ``depends_on``.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        name: str,
        definition: str,
        description: str,
        role_description: str,
        statements: Sequence[iam.PolicyStatement],
        lake: DataLake,
        network: IsolatedNetwork,
        log_group_prefix: str,
        metrics_namespace: str | None = "/aws/sagemaker/*",
        pass_role_sid: str = "PassOwnRoleToJobs",
        wildcards: Mapping[str, str],
        vpc_who: str,
        vpc_also: str = "",
        replacements: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any],
        depends_on: Sequence[IConstruct] = (),
    ) -> None:
        self.name = name
        self.arn = sagemaker_arn(scope, "pipeline", name)
        self.role = ServiceRole(
            scope, "Role", service="sagemaker.amazonaws.com", description=role_description, statements=statements
        )
        self.role.allow_sagemaker_runtime(
            key=lake.key, log_group_prefix=log_group_prefix, metrics_namespace=metrics_namespace
        )
        self.role.allow(
            iam.PolicyStatement(
                sid=pass_role_sid,
                actions=["iam:PassRole"],
                resources=[self.role.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        for resource, reason in wildcards.items():
            acknowledge_wildcard(self.role.policy, resource, reason)
        self.role.allow_vpc_network_interfaces(vpc_who, also=vpc_also)
        body = render_definition(
            scope,
            name=definition,
            network=network,
            replacements={
                placeholders.ROLE: self.role.role.role_arn,
                placeholders.KEY: lake.key.key_arn,
                placeholders.ARTIFACTS: lake.artifacts.bucket_name,
                **(replacements or {}),
            },
            defaults=dict(defaults),
        )
        self.pipeline = sagemaker.CfnPipeline(
            scope,
            "Pipeline",
            pipeline_name=name,
            role_arn=self.role.role.role_arn,
            pipeline_description=description,
            pipeline_definition={"PipelineDefinitionBody": body},
        )
        self.pipeline.node.add_dependency(self.role.policy, *depends_on)

    def metric(self, metric_name: str, *, statistic: str = "Sum", label: str | None = None) -> cloudwatch.Metric:
        """A SageMaker Pipelines metric of this pipeline (``ExecutionSucceeded``, ``ExecutionFailed``, ...)."""
        return cloudwatch.Metric(
            namespace=PIPELINE_METRICS,
            metric_name=metric_name,
            statistic=statistic,
            label=label,
            dimensions_map={"PipelineName": self.name},
        )

    def metric_execution_succeeded(self) -> cloudwatch.Metric:
        return self.metric("ExecutionSucceeded", label=f"{self.name} ExecutionSucceeded")

    def metric_execution_failed(self) -> cloudwatch.Metric:
        return self.metric("ExecutionFailed", label=f"{self.name} ExecutionFailed")
