"""The SDK set up once for every builder (one offline session, telemetry off) and the rendering of a definition."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
from sagemaker import estimator, image_uris, utils
from sagemaker import session as sdk_session
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import Parameter
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.step_collections import StepCollection
from sagemaker.workflow.steps import Step

from pipelines.placeholders import ARTIFACTS, CODE, REGION, XGBOOST_VERSION

# The SDK's only default here: no telemetry. The SDK 2.x reads the opt-out from its config only (no
# environment variable; SAGEMAKER_USER_CONFIG_OVERRIDE would name a file, still validated per look-up),
# and handing the session this dict keeps a developer's own ~/.config/sagemaker/config.yaml out of the build.
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


@functools.cache
def session() -> PipelineSession:
    """The one session every definition is built with, made once: offline (a fixed region and dummy
    credentials; a pipeline session makes no AWS call), a fixed default bucket so nothing is looked up, and
    ``SDK_CONFIG`` as its only SDK config: telemetry off."""
    boto = boto3.Session(region_name=REGION, aws_access_key_id="offline", aws_secret_access_key="offline")
    return PipelineSession(boto_session=boto, default_bucket=ARTIFACTS, sagemaker_config=copy.deepcopy(SDK_CONFIG))


class _NoTensorBoardApp:
    """Stands in for the TensorBoard app every estimator makes (``sagemaker.estimator.TensorBoardApp``): it
    creates a SageMaker client of boto3's default session for a Studio link nothing here asks for."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region


def _skip_validation(sagemaker_config: dict[str, Any] | None = None) -> None:
    """Stands in for ``sagemaker.config.validate_sagemaker_config`` while building (see ``sdk_shortcuts``)."""


@contextlib.contextmanager
def sdk_shortcuts() -> Iterator[None]:
    """Skip SDK work that cannot change a definition: most of the build time otherwise.

    * Config validation: ``PipelineSession`` validates its ``sagemaker_config`` against the SDK's JSON schema
      when it is created, and SDK 2.257.7 validates it again on every config look-up
      (``sagemaker.utils.get_sagemaker_config_value``, about 75 per definition), ~0.25 s each. The config
      is the constant ``SDK_CONFIG``; ``tests/test_pipeline_definition.py`` validates it once.
    * Endpoint data: every ``image_uris.retrieve`` makes a new botocore loader and parses ``endpoints.json``
      again (``sagemaker.utils._botocore_resolver``); the data is the same every time.
    * TensorBoard: every estimator makes a ``TensorBoardApp``, which creates a SageMaker client (~0.1 s) for
      a Studio link; no definition holds it.

    Each is put back on exit (a test checks it). A shortcut the SDK no longer has fails loudly here.

    The output is the same, as ``python -m pipelines.builders --check`` and the byte-for-byte test show.
    """
    patches = [
        (sdk_session, "validate_sagemaker_config", _skip_validation),  # imported there from sagemaker.config
        (utils, "validate_sagemaker_config", _skip_validation),
        (utils, "_botocore_resolver", functools.cache(utils._botocore_resolver)),
        (estimator, "TensorBoardApp", _NoTensorBoardApp),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in patches]
    try:
        for module, name, replacement in patches:
            setattr(module, name, replacement)
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def code(script: str) -> str:
    """Where a step script is in the definition (synth points it at the script's asset)."""
    return f"s3://{CODE}/{script}"


def per_execution(prefix: str, *parts: str) -> Join:
    """``prefix/<execution id>/parts...``: runs never overwrite each other's outputs."""
    return Join(on="/", values=[prefix, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])


def run_uri(*parts: str) -> Join:
    """A training run's own prefix in the artifacts bucket."""
    return per_execution(f"s3://{ARTIFACTS}/pipelines/runs", *parts)


def xgboost_image() -> str:
    """The XGBoost image (training, evaluation and serving) in the placeholder region."""
    return str(image_uris.retrieve("xgboost", REGION, version=XGBOOST_VERSION))


def pipeline_definition(
    name: str, parameters: Sequence[Parameter], steps: Sequence[Step | StepCollection]
) -> dict[str, Any]:
    """The definition of the pipeline ``name`` as a byte-stable dict (no AWS call, no upload)."""
    pipeline = Pipeline(name=name, parameters=parameters, steps=steps, sagemaker_session=session())
    return stabilize(dict(json.loads(pipeline.definition())))


def stabilize(definition: dict[str, Any]) -> dict[str, Any]:
    """Make the output byte-stable: the SDK stamps the tuning job's static hyperparameters with a
    timestamped ``sagemaker_job_name``; SageMaker names every job per execution anyway."""
    for step in definition["Steps"]:
        static = step.get("Arguments", {}).get("TrainingJobDefinition", {}).get("StaticHyperParameters", {})
        if "sagemaker_job_name" in static:
            static["sagemaker_job_name"] = json.dumps("train")
    return definition


def render(definition: dict[str, Any]) -> str:
    """The committed text of a definition (or of the feature schema)."""
    return json.dumps(definition, indent=2, sort_keys=True) + "\n"
