"""Build the SageMaker Pipeline definitions with the SageMaker Python SDK 2.x, offline.

    python -m pipelines.definition          # rewrite pipelines/definitions/*.json
    python -m pipelines.definition --check  # exit 1 if a committed definition is stale

The SDK needs concrete values where the stack has CloudFormation references (role, key, buckets,
subnets, security group, code locations, region), so the builder writes the placeholders below
and ``components.ml_pipeline`` replaces each with the real reference at synth time. Synth reads the
committed JSON and never imports the SDK: deterministic and fast. A test regenerates every variant
and fails if the committed files differ.

Steps: Preprocess -> (BiasReport, IngestFeatures) and Train (or a Bayesian Tune) -> Evaluate ->
CheckAuc -> Register (PendingManualApproval, with the evaluation as model metrics) or Fail.
Every processing, training and tuning job runs in the VPC with inter-container traffic encryption
and KMS on volumes and outputs (SECURITY.md control 8).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFINITIONS = Path(__file__).resolve().parent / "definitions"
FEATURE_SCHEMA = Path(__file__).resolve().parent / "feature_schema.json"

# Stand-ins the stack replaces (components.ml_pipeline.Placeholders).
REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/placeholder-pipeline-role"
KEY = "arn:aws:kms:us-east-1:111122223333:key/placeholder-kms-key"
ARTIFACTS = "placeholder-artifacts-bucket"
RAW = "placeholder-raw-bucket"
CODE = "placeholder-code-bucket"
SUBNET = "subnet-placeholder"
SECURITY_GROUP = "sg-placeholder"
FEATURE_GROUP = "placeholder-feature-group"
MODEL_PACKAGE_GROUP = "placeholder-model-package-group"
SCRIPTS = ("preprocess.py", "bias.py", "ingest_features.py", "evaluate.py")
DRIFT_SCRIPTS = ("drift.py",)
TRAINING_SOURCE = f"s3://{CODE}/sourcedir.tar.gz"

XGBOOST_VERSION = "3.0-5"
# The processing image (preprocess, bias, ingest_features, drift): scikit-learn 1.4-2 (Python 3.10,
# pandas 2.3.2). 1.2-1 has pandas 1.1.3 on Python 3.9; config/data/containers.yaml has each image's
# versions and their source, and `make test` runs every script on them (tests/test_container_parity.py).
SKLEARN_VERSION = "1.4-2"
FACET, FACET_VALUE, LABEL, FAVOURABLE = "sex", "female", "default", "0"


@dataclass(frozen=True)
class Variant:
    """A definition variant: the SDK fixes these at build time, so each is its own committed file."""

    tuning: bool
    spot: bool

    @property
    def name(self) -> str:
        return ("tune" if self.tuning else "train") + ("-spot" if self.spot else "")


VARIANTS = tuple(Variant(tuning, spot) for tuning in (False, True) for spot in (False, True))


def _code(script: str) -> str:
    return f"s3://{CODE}/{script}"


def build(variant: Variant) -> dict[str, Any]:
    """The pipeline definition of ``variant`` as a dict (no AWS call, no upload, telemetry off)."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import boto3
    from sagemaker import image_uris
    from sagemaker.inputs import TrainingInput
    from sagemaker.model import Model
    from sagemaker.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.network import NetworkConfig
    from sagemaker.parameter import ContinuousParameter, IntegerParameter
    from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
    from sagemaker.sklearn.processing import SKLearnProcessor
    from sagemaker.tuner import HyperparameterTuner
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.model_step import ModelStep
    from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.properties import PropertyFile
    from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TuningStep
    from sagemaker.xgboost.estimator import XGBoost

    session = PipelineSession(
        boto_session=boto3.Session(region_name=REGION, aws_access_key_id="offline", aws_secret_access_key="offline"),
        default_bucket=ARTIFACTS,
        sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}},
    )
    input_data = ParameterString("InputDataUri", default_value=f"s3://{RAW}/training/")
    processing_type = ParameterString("ProcessingInstanceType", default_value="ml.m5.large")
    training_type = ParameterString("TrainingInstanceType", default_value="ml.m5.large")
    auc_threshold = ParameterFloat("AucThreshold", default_value=0.7)
    approval = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")
    max_depth = ParameterInteger("MaxDepth", default_value=5)
    eta = ParameterFloat("Eta", default_value=0.1)
    num_round = ParameterInteger("NumRound", default_value=300)
    early_stopping = ParameterInteger("EarlyStoppingRounds", default_value=20)
    parameters = [
        input_data,
        processing_type,
        training_type,
        auc_threshold,
        approval,
        max_depth,
        eta,
        num_round,
        early_stopping,
    ]

    def run_uri(*parts: str) -> Join:
        """A per-execution prefix, so runs never overwrite each other's outputs."""
        return Join(
            on="/", values=[f"s3://{ARTIFACTS}/pipelines/runs", ExecutionVariables.PIPELINE_EXECUTION_ID, *parts]
        )

    network = NetworkConfig(
        subnets=[SUBNET],
        security_group_ids=[SECURITY_GROUP],
        encrypt_inter_container_traffic=True,
        enable_network_isolation=False,
    )
    secure: dict[str, Any] = {
        "role": ROLE,
        "sagemaker_session": session,
        "network_config": network,
        "volume_kms_key": KEY,
        "output_kms_key": KEY,
    }
    sklearn = SKLearnProcessor(
        framework_version=SKLEARN_VERSION,
        instance_type=processing_type,
        instance_count=1,
        base_job_name="preprocess",
        **secure,
    )

    outputs = ["train", "validation", "test", "features", "bias"]
    preprocess = ProcessingStep(
        "Preprocess",
        step_args=sklearn.run(
            code=_code("preprocess.py"),
            inputs=[ProcessingInput(source=input_data, destination="/opt/ml/processing/input", input_name="raw")],
            outputs=[
                ProcessingOutput(output_name=name, source=f"/opt/ml/processing/{name}", destination=run_uri(name))
                for name in outputs
            ]
            # The latest training baseline lands where the drift job reads it.
            + [
                ProcessingOutput(
                    output_name="baseline",
                    source="/opt/ml/processing/baseline",
                    destination=f"s3://{ARTIFACTS}/{BASELINE_PREFIX}",
                )
            ],
            arguments=["--input-dir", "/opt/ml/processing/input", "--output-dir", "/opt/ml/processing"],
        ),
    )

    def output_of(name: str) -> Any:
        return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    bias = ProcessingStep(
        "BiasReport",
        step_args=sklearn.run(
            code=_code("bias.py"),
            inputs=[
                ProcessingInput(source=output_of("bias"), destination="/opt/ml/processing/input", input_name="data")
            ],
            outputs=[
                ProcessingOutput(output_name="report", source="/opt/ml/processing/bias", destination=run_uri("bias"))
            ],
            arguments=[
                "--input-dir",
                "/opt/ml/processing/input",
                "--output-dir",
                "/opt/ml/processing/bias",
                "--facet",
                FACET,
                "--facet-value",
                FACET_VALUE,
                "--label",
                LABEL,
                "--favourable-label",
                FAVOURABLE,
            ],
        ),
    )
    ingest = ProcessingStep(
        "IngestFeatures",
        step_args=sklearn.run(
            code=_code("ingest_features.py"),
            inputs=[
                ProcessingInput(
                    source=output_of("features"), destination="/opt/ml/processing/features", input_name="features"
                )
            ],
            arguments=["--input-dir", "/opt/ml/processing/features", "--feature-group-name", FEATURE_GROUP],
        ),
    )

    estimator = XGBoost(
        entry_point="train.py",
        source_dir=TRAINING_SOURCE,
        framework_version=XGBOOST_VERSION,
        role=ROLE,
        instance_type=training_type,
        instance_count=1,
        sagemaker_session=session,
        subnets=[SUBNET],
        security_group_ids=[SECURITY_GROUP],
        encrypt_inter_container_traffic=True,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        output_path=f"s3://{ARTIFACTS}/pipelines/models",
        code_location=f"s3://{ARTIFACTS}/code",
        disable_profiler=True,
        base_job_name="train",
        max_run=3600,
        use_spot_instances=variant.spot,
        max_wait=7200 if variant.spot else None,
        # Per execution: SageMaker copies the checkpoint location into a job when it starts and train.py resumes
        # from it, so a shared location would make every retraining continue the previous run's model.
        checkpoint_s3_uri=run_uri("checkpoints") if variant.spot else None,
        # SageMaker Debugger is closed to new customers: no hook rule in the training request.
        debugger_hook_config=False,
        hyperparameters={
            "max_depth": max_depth,
            "eta": eta,
            "num_round": num_round,
            "early_stopping_rounds": early_stopping,
        },
        metric_definitions=[{"Name": "validation:auc", "Regex": "validation-auc:([0-9.]+)"}],
    )
    channels = {name: TrainingInput(output_of(name), content_type="text/csv") for name in ("train", "validation")}
    if variant.tuning:
        tuner = HyperparameterTuner(
            estimator,
            objective_metric_name="validation:auc",
            objective_type="Maximize",
            strategy="Bayesian",
            hyperparameter_ranges={
                "max_depth": IntegerParameter(3, 8),
                "eta": ContinuousParameter(0.01, 0.3),
                "min_child_weight": ContinuousParameter(1, 10),
            },
            metric_definitions=[{"Name": "validation:auc", "Regex": "validation-auc:([0-9.]+)"}],
            max_jobs=8,
            max_parallel_jobs=2,
            base_tuning_job_name="tune",
        )
        fit: Any = TuningStep("Tune", step_args=tuner.fit(inputs=channels))
        model_data: Any = fit.get_top_model_s3_uri(top_k=0, s3_bucket=ARTIFACTS, prefix="pipelines/models")
    else:
        fit = TrainingStep("Train", step_args=estimator.fit(inputs=channels))
        model_data = fit.properties.ModelArtifacts.S3ModelArtifacts

    xgboost_image = image_uris.retrieve("xgboost", REGION, version=XGBOOST_VERSION)
    evaluator = ScriptProcessor(
        image_uri=xgboost_image,
        command=["python3"],
        instance_type=processing_type,
        instance_count=1,
        base_job_name="evaluate",
        **secure,
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        "Evaluate",
        property_files=[report],
        step_args=evaluator.run(
            code=_code("evaluate.py"),
            inputs=[
                ProcessingInput(source=model_data, destination="/opt/ml/processing/model", input_name="model"),
                ProcessingInput(source=output_of("test"), destination="/opt/ml/processing/test", input_name="test"),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation", source="/opt/ml/processing/evaluation", destination=run_uri("evaluation")
                )
            ],
            arguments=[
                "--model-dir",
                "/opt/ml/processing/model",
                "--test-dir",
                "/opt/ml/processing/test",
                "--output-dir",
                "/opt/ml/processing/evaluation",
            ],
        ),
    )

    model = Model(image_uri=xgboost_image, model_data=model_data, role=ROLE, sagemaker_session=session)
    evaluation_uri = Join(
        on="/",
        values=[evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"],
    )
    register = ModelStep(
        "Register",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            # Every instance type a profile may serve or batch-score this version on (config validation reads
            # these lists from the committed definitions: inference.instance_type must be in both).
            inference_instances=list(SERVING_INSTANCE_TYPES),
            transform_instances=list(SERVING_INSTANCE_TYPES),
            model_package_group_name=MODEL_PACKAGE_GROUP,
            approval_status=approval,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=evaluation_uri, content_type="application/json")
            ),
            description="XGBoost credit-default classifier registered by the training pipeline",
        ),
    )
    auc = JsonGet(step_name=evaluate.name, property_file=report, json_path="binary_classification_metrics.auc.value")
    gate = ConditionStep(
        "CheckAuc",
        # JsonGet is the documented left operand here; the SDK's type hint omits it.
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=auc_threshold)],  # type: ignore[arg-type]
        if_steps=[register],
        else_steps=[
            FailStep(
                "AucBelowThreshold",
                error_message=Join(
                    on=" ", values=["Model AUC is below the AucThreshold parameter", auc_threshold, "; not registered."]
                ),
            )
        ],
    )
    pipeline = Pipeline(
        name="training",
        parameters=parameters,
        steps=[preprocess, bias, ingest, fit, evaluate, gate],
        sagemaker_session=session,
    )
    return stabilize(dict(json.loads(pipeline.definition())))


BATCH = "batch"  # the batch-scoring definition's file name (definitions/batch.json)
DRIFT = "drift"  # the drift-monitoring definition (definitions/drift.json)
SERVING_INSTANCE_TYPES = ("ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.large", "ml.c5.xlarge")
BASELINE_PREFIX = "monitoring/baseline"  # the latest training run's baseline, read by the drift job
ENDPOINT = "placeholder-endpoint"


def build_drift() -> dict[str, Any]:
    """Drift monitoring (exam 4.1): one network-isolated processing job over the endpoint's data capture.

    Control 15: VPC, network isolation, inter-container encryption, KMS on volume and output. The job
    needs no network: it reads S3 inputs that SageMaker stages and logs its metrics (EMF).
    """
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import boto3
    from sagemaker.network import NetworkConfig
    from sagemaker.processing import ProcessingInput, ProcessingOutput
    from sagemaker.sklearn.processing import SKLearnProcessor
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.functions import Join
    from sagemaker.workflow.parameters import ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.steps import ProcessingStep

    session = PipelineSession(
        boto_session=boto3.Session(region_name=REGION, aws_access_key_id="offline", aws_secret_access_key="offline"),
        default_bucket=ARTIFACTS,
        sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}},
    )
    capture = ParameterString("CaptureUri", default_value=f"s3://{ARTIFACTS}/data-capture/{ENDPOINT}/")
    baseline = ParameterString("BaselineUri", default_value=f"s3://{ARTIFACTS}/{BASELINE_PREFIX}/")
    threshold = ParameterString("PsiThreshold", default_value="0.2")
    processor = SKLearnProcessor(
        framework_version=SKLEARN_VERSION,
        instance_type="ml.m5.large",
        instance_count=1,
        role=ROLE,
        sagemaker_session=session,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        base_job_name="drift",
        network_config=NetworkConfig(
            subnets=[SUBNET],
            security_group_ids=[SECURITY_GROUP],
            encrypt_inter_container_traffic=True,
            enable_network_isolation=True,
        ),
    )
    step = ProcessingStep(
        "Drift",
        step_args=processor.run(
            code=_code("drift.py"),
            inputs=[
                ProcessingInput(source=capture, destination="/opt/ml/processing/capture", input_name="capture"),
                ProcessingInput(source=baseline, destination="/opt/ml/processing/baseline", input_name="baseline"),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="report",
                    source="/opt/ml/processing/report",
                    destination=Join(
                        on="/", values=[f"s3://{ARTIFACTS}/monitoring/drift", ExecutionVariables.PIPELINE_EXECUTION_ID]
                    ),
                )
            ],
            arguments=[
                "--capture-dir",
                "/opt/ml/processing/capture",
                "--baseline-dir",
                "/opt/ml/processing/baseline",
                "--output-dir",
                "/opt/ml/processing/report",
                "--endpoint-name",
                ENDPOINT,
                "--psi-threshold",
                threshold,
            ],
        ),
    )
    pipeline = Pipeline(name=DRIFT, parameters=[capture, baseline, threshold], steps=[step], sagemaker_session=session)
    return stabilize(dict(json.loads(pipeline.definition())))


def build_batch() -> dict[str, Any]:
    """Batch scoring (exam 3.1): create a model from an approved package, then a batch transform job.

    Both run in the VPC with network isolation and KMS. The SDK's ``ModelPackage`` describes the package
    through the AWS API even inside a pipeline session, so the model step is built from a plain ``Model``
    and its container is then pointed at the ``ModelPackageArn`` parameter (see ``_use_model_package``).
    """
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import boto3
    from sagemaker import image_uris
    from sagemaker.model import Model
    from sagemaker.transformer import Transformer
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.functions import Join
    from sagemaker.workflow.model_step import ModelStep
    from sagemaker.workflow.parameters import ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.steps import TransformStep

    session = PipelineSession(
        boto_session=boto3.Session(region_name=REGION, aws_access_key_id="offline", aws_secret_access_key="offline"),
        default_bucket=ARTIFACTS,
        sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}},
    )
    package = ParameterString("ModelPackageArn")  # required: which approved version scores the batch
    input_data = ParameterString("InputDataUri", default_value=f"s3://{ARTIFACTS}/batch/input/")
    instance_type = ParameterString("TransformInstanceType", default_value="ml.m5.large")
    model = Model(
        image_uri=image_uris.retrieve("xgboost", REGION, version=XGBOOST_VERSION),
        model_data=f"s3://{ARTIFACTS}/{PACKAGE_MODEL_DATA}",
        role=ROLE,
        sagemaker_session=session,
        vpc_config={"Subnets": [SUBNET], "SecurityGroupIds": [SECURITY_GROUP]},
        enable_network_isolation=True,
    )
    create = ModelStep("CreateModel", step_args=model.create(instance_type=instance_type))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type=instance_type,
        instance_count=1,
        output_path=Join(on="/", values=[f"s3://{ARTIFACTS}/batch/output", ExecutionVariables.PIPELINE_EXECUTION_ID]),
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
        max_payload=6,
        volume_kms_key=KEY,
        output_kms_key=KEY,
        sagemaker_session=session,
        base_transform_job_name="score",
    )
    score = TransformStep(
        "Score", step_args=transformer.transform(data=input_data, content_type="text/csv", split_type="Line")
    )
    pipeline = Pipeline(
        name=BATCH, parameters=[package, input_data, instance_type], steps=[create, score], sagemaker_session=session
    )
    return _use_model_package(stabilize(dict(json.loads(pipeline.definition()))))


PACKAGE_MODEL_DATA = "placeholder-model-data/model.tar.gz"


def _use_model_package(definition: dict[str, Any]) -> dict[str, Any]:
    """Serve the approved package named at run time: the container becomes ``{"ModelPackageName": param}``."""
    for step in definition["Steps"]:
        if step["Type"] == "Model":
            step["Arguments"]["PrimaryContainer"] = {"ModelPackageName": {"Get": "Parameters.ModelPackageArn"}}
    if PACKAGE_MODEL_DATA in json.dumps(definition):
        raise ValueError("the model step still names the stand-in model data")
    return definition


def stabilize(definition: dict[str, Any]) -> dict[str, Any]:
    """Make the output byte-stable: the SDK stamps the tuning job's static hyperparameters with a
    timestamped ``sagemaker_job_name``; SageMaker names every job per execution anyway."""
    for step in definition["Steps"]:
        static = step.get("Arguments", {}).get("TrainingJobDefinition", {}).get("StaticHyperParameters", {})
        if "sagemaker_job_name" in static:
            static["sagemaker_job_name"] = json.dumps("train")
    return definition


def render(definition: dict[str, Any]) -> str:
    return json.dumps(definition, indent=2, sort_keys=True) + "\n"


@contextlib.contextmanager
def _config_validated_once() -> Iterator[None]:
    """Skip the SDK's repeated validation of the sessions' config (it holds only the telemetry opt-out).

    ``PipelineSession`` validates its ``sagemaker_config`` against the SDK's JSON schema when it is created;
    SDK 2.257.7 then validates it again on every config lookup (``sagemaker.utils.get_sagemaker_config_value``,
    about 75 per definition, each checking the whole schema first): ~90% of the build time. The output is
    the same, as the byte-for-byte regeneration test shows.
    """
    from sagemaker import utils

    name = "validate_sagemaker_config"  # imported into sagemaker.utils from sagemaker.config
    original = getattr(utils, name)
    setattr(utils, name, lambda sagemaker_config=None: None)
    try:
        yield
    finally:
        setattr(utils, name, original)


def outputs() -> dict[Path, str]:
    """Every committed file this module generates: the definitions and the Feature Store schema."""
    from pipelines.steps.preprocess import feature_schema

    with _config_validated_once():
        files = {DEFINITIONS / f"{variant.name}.json": render(build(variant)) for variant in VARIANTS}
        files[DEFINITIONS / f"{BATCH}.json"] = render(build_batch())
        files[DEFINITIONS / f"{DRIFT}.json"] = render(build_drift())
    files[FEATURE_SCHEMA] = render(feature_schema())
    return files


def main(argv: list[str]) -> int:
    import logging
    import warnings

    logging.disable(logging.WARNING)  # the SDK's deprecation and "popping out job name" notices
    warnings.filterwarnings("ignore", module="sagemaker")
    stale = []
    for path, text in outputs().items():
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(DEFINITIONS.parent.parent)}")
    for path in stale:
        print(f"stale: {path.relative_to(DEFINITIONS.parent.parent)} (run `make pipeline`)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
