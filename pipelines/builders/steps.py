"""Small step factories: every processing job runs in the VPC with inter-container traffic encryption and KMS
on its volume and outputs (SECURITY.md controls 8 and 15), the registration and the quality gate.

Each factory names only what differs between its uses; the security settings are fixed here, so a new step
cannot leave them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.network import NetworkConfig
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.entities import PipelineVariable
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.step_collections import StepCollection
from sagemaker.workflow.steps import ProcessingStep, Step

from pipelines.builders.common import code, session, xgboost_image
from pipelines.placeholders import (
    KEY,
    MODEL_PACKAGE_GROUP,
    ROLE,
    SECURITY_GROUP,
    SERVING_INSTANCE_TYPES,
    SKLEARN_VERSION,
    SUBNET,
)

InstanceType = str | PipelineVariable


def network(*, isolated: bool = False) -> NetworkConfig:
    """The platform's subnets and workload security group, inter-container traffic encrypted; ``isolated``:
    no network at all inside the container (the job reads only the inputs SageMaker stages)."""
    return NetworkConfig(
        subnets=[SUBNET],
        security_group_ids=[SECURITY_GROUP],
        encrypt_inter_container_traffic=True,
        enable_network_isolation=isolated,
    )


def _secured(*, isolated: bool) -> dict[str, Any]:
    """The arguments every processor gets: the pipeline role, the session, the VPC and the key."""
    return {
        "role": ROLE,
        "sagemaker_session": session(),
        "network_config": network(isolated=isolated),
        "volume_kms_key": KEY,
        "output_kms_key": KEY,
    }


def sklearn_processor(base_job_name: str, instance_type: InstanceType, *, isolated: bool = False) -> SKLearnProcessor:
    """One instance of the scikit-learn image (preprocess, bias, ingest_features, drift), secured."""
    return SKLearnProcessor(
        framework_version=SKLEARN_VERSION,
        instance_type=instance_type,
        instance_count=1,
        base_job_name=base_job_name,
        **_secured(isolated=isolated),
    )


def xgboost_processor(base_job_name: str, instance_type: InstanceType) -> ScriptProcessor:
    """One instance of the XGBoost image running a script with ``python3`` (evaluate), secured."""
    return ScriptProcessor(
        image_uri=xgboost_image(),
        command=["python3"],
        instance_type=instance_type,
        instance_count=1,
        base_job_name=base_job_name,
        **_secured(isolated=False),
    )


def read(name: str, source: Any, destination: str) -> ProcessingInput:
    """A processing input: ``source`` (a URI or a step property) staged into ``destination``."""
    return ProcessingInput(source=source, destination=destination, input_name=name)


def write(name: str, source: str, destination: Any) -> ProcessingOutput:
    """A processing output: the container's ``source`` folder uploaded to ``destination``."""
    return ProcessingOutput(output_name=name, source=source, destination=destination)


def processing_step(
    name: str,
    processor: ScriptProcessor,
    script: str,
    *,
    inputs: list[ProcessingInput],
    outputs: list[ProcessingOutput] | None = None,
    arguments: Sequence[str | PipelineVariable],
    property_files: list[PropertyFile] | None = None,
) -> ProcessingStep:
    """The step that runs ``pipelines/steps/<script>`` on ``processor`` (whose settings secure it)."""
    return ProcessingStep(
        name,
        step_args=processor.run(code=code(script), inputs=inputs, outputs=outputs, arguments=list(arguments)),
        property_files=property_files,
    )


def output_uri(step: ProcessingStep, output: str) -> Any:
    """Where ``step`` wrote its output ``output`` (a property the next step reads)."""
    return step.properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri


# How the XGBoost container serves the artifact train.py packs: script mode (facts: xgboost-script-mode-serving),
# the code read from the model's own code/ folder (facts: network-isolation-no-outbound; the SDK's convention
# for isolated models, sagemaker.model.Model._script_mode_env_vars), JSON answers unless a caller asks for CSV.
SERVING_ENV: dict[str, str | PipelineVariable] = {
    "SAGEMAKER_PROGRAM": "serve.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json",
}


def register_step(model_data: Any, evaluation: Any, approval: PipelineVariable) -> ModelStep:
    """Register the model in the model package group, its status ``approval``, the evaluation report
    (``evaluation``: its S3 URI) as its model quality metrics. One package holds booster, transform and
    serving code (one ``model.tar.gz``): approval, blue/green and rollback move them together."""
    model = Model(
        image_uri=xgboost_image(), model_data=model_data, role=ROLE, sagemaker_session=session(), env=SERVING_ENV
    )
    return ModelStep(
        "Register",
        step_args=model.register(
            content_types=["application/json", "application/jsonlines"],
            response_types=["application/json", "text/csv"],
            # Every instance type a profile may serve or batch-score this version on (config validation reads
            # these lists from the committed definitions: inference.instance_type must be in both).
            inference_instances=list(SERVING_INSTANCE_TYPES),
            transform_instances=list(SERVING_INSTANCE_TYPES),
            model_package_group_name=MODEL_PACKAGE_GROUP,
            approval_status=approval,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=evaluation, content_type="application/json")
            ),
            description="Credit-default classifier: XGBoost with its preprocessing, from the training pipeline",
        ),
    )


def auc_gate(auc: JsonGet, threshold: ParameterFloat, passed: list[Step | StepCollection]) -> ConditionStep:
    """``CheckAuc``: run ``passed`` if ``auc`` is at least ``threshold``, else fail the execution."""
    below = FailStep(
        "AucBelowThreshold",
        error_message=Join(
            on=" ", values=["Model AUC is below the AucThreshold parameter", threshold, "; not registered."]
        ),
    )
    return ConditionStep(
        "CheckAuc",
        # JsonGet is the documented left operand here; the SDK's type hint omits it.
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=threshold)],  # type: ignore[arg-type]
        if_steps=passed,
        else_steps=[below],
    )
