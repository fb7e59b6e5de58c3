"""The training definitions (``train``, ``train-spot``, ``tune``, ``tune-spot``; exam 2.2, 2.3, 3.3, 4.2).

Preprocess -> (BiasReport, IngestFeatures) and Train (or a Bayesian Tune) -> Evaluate -> CheckAuc ->
Register (PendingManualApproval, with the evaluation as model metrics) or Fail. Every processing, training
and tuning job runs in the VPC with inter-container traffic encryption and KMS on volumes and outputs
(SECURITY.md control 8).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sagemaker.inputs import TrainingInput
from sagemaker.parameter import ContinuousParameter, IntegerParameter
from sagemaker.processing import ScriptProcessor
from sagemaker.tuner import HyperparameterTuner
from sagemaker.workflow.entities import PipelineVariable
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TuningStep
from sagemaker.xgboost.estimator import XGBoost

from pipelines.builders.common import pipeline_definition, run_uri, session
from pipelines.builders.steps import (
    auc_gate,
    output_uri,
    processing_step,
    read,
    register_step,
    sklearn_processor,
    write,
    xgboost_processor,
)
from pipelines.placeholders import (
    ARTIFACTS,
    BASELINE_PREFIX,
    FACET,
    FACET_VALUE,
    FAVOURABLE,
    FEATURE_GROUP,
    KEY,
    LABEL,
    RAW,
    ROLE,
    SECURITY_GROUP,
    SUBNET,
    TRAINING_SOURCE,
    XGBOOST_VERSION,
    Variant,
)

AUC_METRIC: list[dict[str, str | PipelineVariable]] = [{"Name": "validation:auc", "Regex": "validation-auc:([0-9.]+)"}]
# What Preprocess writes for the later steps (``preprocessing``: the fitted transform, packed into the model).
SPLITS = ("train", "validation", "test", "features", "bias", "preprocessing")


class Parameters(NamedTuple):
    """The training pipeline's parameters, in the definition's order."""

    input_data: ParameterString
    processing_type: ParameterString
    training_type: ParameterString
    auc_threshold: ParameterFloat
    approval: ParameterString
    max_depth: ParameterInteger
    eta: ParameterFloat
    num_round: ParameterInteger
    early_stopping: ParameterInteger


def parameters() -> Parameters:
    """New parameter objects for one definition (the profile sets the instance types and threshold at synth)."""
    return Parameters(
        input_data=ParameterString("InputDataUri", default_value=f"s3://{RAW}/training/"),
        processing_type=ParameterString("ProcessingInstanceType", default_value="ml.m5.large"),
        training_type=ParameterString("TrainingInstanceType", default_value="ml.m5.large"),
        auc_threshold=ParameterFloat("AucThreshold", default_value=0.7),
        approval=ParameterString("ModelApprovalStatus", default_value="PendingManualApproval"),
        max_depth=ParameterInteger("MaxDepth", default_value=5),
        eta=ParameterFloat("Eta", default_value=0.1),
        num_round=ParameterInteger("NumRound", default_value=300),
        early_stopping=ParameterInteger("EarlyStoppingRounds", default_value=20),
    )


def build_training(variant: Variant) -> dict[str, Any]:
    """The training definition of ``variant`` as a dict (no AWS call, no upload, telemetry off)."""
    p = parameters()
    sklearn = sklearn_processor("preprocess", p.processing_type)  # Preprocess, BiasReport, IngestFeatures
    preprocess = preprocess_step(sklearn, p.input_data)
    bias, ingest = bias_step(sklearn, preprocess), ingest_step(sklearn, preprocess)
    fit, model_data = fit_step(variant, p, preprocess)
    evaluate, report = evaluate_step(p.processing_type, model_data, preprocess)
    evaluation = Join(on="/", values=[output_uri(evaluate, "evaluation"), "evaluation.json"])
    auc = JsonGet(step_name=evaluate.name, property_file=report, json_path="binary_classification_metrics.auc.value")
    gate = auc_gate(auc, p.auc_threshold, [register_step(model_data, evaluation, p.approval)])
    return pipeline_definition("training", list(p), [preprocess, bias, ingest, fit, evaluate, gate])


def preprocess_step(sklearn: ScriptProcessor, input_data: ParameterString) -> ProcessingStep:
    """Split and featurize the raw data; the latest training baseline lands where the drift job reads it."""
    outputs = [write(name, f"/opt/ml/processing/{name}", run_uri(name)) for name in SPLITS]
    baseline = write("baseline", "/opt/ml/processing/baseline", f"s3://{ARTIFACTS}/{BASELINE_PREFIX}")
    return processing_step(
        "Preprocess",
        sklearn,
        "preprocess.py",
        inputs=[read("raw", input_data, "/opt/ml/processing/input")],
        outputs=[*outputs, baseline],
        arguments=["--input-dir", "/opt/ml/processing/input", "--output-dir", "/opt/ml/processing"],
    )


def bias_step(sklearn: ScriptProcessor, preprocess: ProcessingStep) -> ProcessingStep:
    """The pre-training bias report of the facet and label."""
    return processing_step(
        "BiasReport",
        sklearn,
        "bias.py",
        inputs=[read("data", output_uri(preprocess, "bias"), "/opt/ml/processing/input")],
        outputs=[write("report", "/opt/ml/processing/bias", run_uri("bias"))],
        arguments=[
            *("--input-dir", "/opt/ml/processing/input", "--output-dir", "/opt/ml/processing/bias"),
            *("--facet", FACET, "--facet-value", FACET_VALUE, "--label", LABEL, "--favourable-label", FAVOURABLE),
        ],
    )


def ingest_step(sklearn: ScriptProcessor, preprocess: ProcessingStep) -> ProcessingStep:
    """Put the features into the Feature Store group."""
    return processing_step(
        "IngestFeatures",
        sklearn,
        "ingest_features.py",
        inputs=[read("features", output_uri(preprocess, "features"), "/opt/ml/processing/features")],
        arguments=["--input-dir", "/opt/ml/processing/features", "--feature-group-name", FEATURE_GROUP],
    )


def estimator(variant: Variant, p: Parameters) -> XGBoost:
    """Script-mode XGBoost (``train.py``) in the VPC, encrypted; managed spot with checkpoints if ``variant.spot``."""
    return XGBoost(
        entry_point="train.py",
        source_dir=TRAINING_SOURCE,
        framework_version=XGBOOST_VERSION,
        role=ROLE,
        instance_type=p.training_type,
        instance_count=1,
        sagemaker_session=session(),
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
            "max_depth": p.max_depth,
            "eta": p.eta,
            "num_round": p.num_round,
            "early_stopping_rounds": p.early_stopping,
        },
        metric_definitions=AUC_METRIC,
    )


def tuner(xgboost: XGBoost) -> HyperparameterTuner:
    """A Bayesian search for the best validation AUC: 8 jobs, 2 at a time."""
    return HyperparameterTuner(
        xgboost,
        objective_metric_name="validation:auc",
        objective_type="Maximize",
        strategy="Bayesian",
        hyperparameter_ranges={
            "max_depth": IntegerParameter(3, 8),
            "eta": ContinuousParameter(0.01, 0.3),
            "min_child_weight": ContinuousParameter(1, 10),
        },
        metric_definitions=AUC_METRIC,
        max_jobs=8,
        max_parallel_jobs=2,
        base_tuning_job_name="tune",
    )


def fit_step(variant: Variant, p: Parameters, preprocess: ProcessingStep) -> tuple[TrainingStep | TuningStep, Any]:
    """``Train`` (or ``Tune``) on the train and validation splits, and where the (best) model lands."""
    channels = {
        name: TrainingInput(output_uri(preprocess, name), content_type="text/csv") for name in ("train", "validation")
    }
    # The transform's fitted parameters: train.py packs them, with the serving code, into the model artifact.
    channels["preprocessing"] = TrainingInput(output_uri(preprocess, "preprocessing"), content_type="application/json")
    xgboost = estimator(variant, p)
    if variant.tuning:
        tune = TuningStep("Tune", step_args=tuner(xgboost).fit(inputs=channels))
        return tune, tune.get_top_model_s3_uri(top_k=0, s3_bucket=ARTIFACTS, prefix="pipelines/models")
    train = TrainingStep("Train", step_args=xgboost.fit(inputs=channels))
    return train, train.properties.ModelArtifacts.S3ModelArtifacts


def evaluate_step(
    processing_type: ParameterString, model_data: Any, preprocess: ProcessingStep
) -> tuple[ProcessingStep, PropertyFile]:
    """Score the model on the test split; the step and its ``evaluation.json`` report the gate reads."""
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    step = processing_step(
        "Evaluate",
        xgboost_processor("evaluate", processing_type),
        "evaluate.py",
        inputs=[
            read("model", model_data, "/opt/ml/processing/model"),
            read("test", output_uri(preprocess, "test"), "/opt/ml/processing/test"),
        ],
        outputs=[write("evaluation", "/opt/ml/processing/evaluation", run_uri("evaluation"))],
        arguments=[
            *("--model-dir", "/opt/ml/processing/model", "--test-dir", "/opt/ml/processing/test"),
            *("--output-dir", "/opt/ml/processing/evaluation"),
        ],
        property_files=[report],
    )
    return step, report
