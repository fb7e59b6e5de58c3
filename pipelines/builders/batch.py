"""The batch-scoring definition (``batch``; exam 3.1): create a model from an approved package, then a
batch transform job.

Both run in the VPC with network isolation and KMS. The SDK's ``ModelPackage`` describes the package through
the AWS API even inside a pipeline session, so the model step is built from a plain ``Model`` and its
container is then pointed at the ``ModelPackageArn`` parameter (``use_model_package``).
"""

from __future__ import annotations

import json
from typing import Any

from sagemaker.model import Model
from sagemaker.transformer import Transformer
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.steps import TransformStep

from pipelines.builders.common import per_execution, pipeline_definition, session, xgboost_image
from pipelines.placeholders import ARTIFACTS, BATCH, KEY, PACKAGE_MODEL_DATA, ROLE, SECURITY_GROUP, SUBNET


def build_batch() -> dict[str, Any]:
    """The batch definition as a dict (no AWS call, no upload, telemetry off)."""
    package = ParameterString("ModelPackageArn")  # required: which approved version scores the batch
    input_data = ParameterString("InputDataUri", default_value=f"s3://{ARTIFACTS}/batch/input/")
    instance_type = ParameterString("TransformInstanceType", default_value="ml.m5.large")
    create = create_model_step(instance_type)
    score = score_step(create, input_data, instance_type)
    return use_model_package(pipeline_definition(BATCH, [package, input_data, instance_type], [create, score]))


def create_model_step(instance_type: ParameterString) -> ModelStep:
    """``CreateModel``: a network-isolated model in the VPC (its container replaced by ``use_model_package``)."""
    model = Model(
        image_uri=xgboost_image(),
        model_data=f"s3://{ARTIFACTS}/{PACKAGE_MODEL_DATA}",
        role=ROLE,
        sagemaker_session=session(),
        vpc_config={"Subnets": [SUBNET], "SecurityGroupIds": [SECURITY_GROUP]},
        enable_network_isolation=True,
    )
    return ModelStep("CreateModel", step_args=model.create(instance_type=instance_type))


def score_step(create: ModelStep, input_data: ParameterString, instance_type: ParameterString) -> TransformStep:
    """``Score``: a batch transform of the JSON lines (one raw applicant record each) under ``input_data``, one
    probability per line out, KMS on volume and output."""
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type=instance_type,
        instance_count=1,
        output_path=per_execution(f"s3://{ARTIFACTS}/batch/output"),
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
        max_payload=6,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        sagemaker_session=session(),
        base_transform_job_name="score",
    )
    return TransformStep(
        "Score",
        step_args=transformer.transform(data=input_data, content_type="application/jsonlines", split_type="Line"),
    )


def use_model_package(definition: dict[str, Any]) -> dict[str, Any]:
    """Serve the approved package named at run time: the container becomes ``{"ModelPackageName": param}``."""
    for step in definition["Steps"]:
        if step["Type"] == "Model":
            step["Arguments"]["PrimaryContainer"] = {"ModelPackageName": {"Get": "Parameters.ModelPackageArn"}}
    if PACKAGE_MODEL_DATA in json.dumps(definition):
        raise ValueError("the model step still names the stand-in model data")
    return definition
