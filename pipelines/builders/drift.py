"""The drift-monitoring definition (``drift``; exam 4.1): one network-isolated processing job over the
endpoint's data capture.

Control 15: VPC, network isolation, inter-container encryption, KMS on volume and output. The job needs no
network: it reads S3 inputs that SageMaker stages and logs its metrics (EMF).
"""

from __future__ import annotations

from typing import Any

from sagemaker.workflow.parameters import ParameterString

from pipelines.builders.common import per_execution, pipeline_definition
from pipelines.builders.steps import processing_step, read, sklearn_processor, write
from pipelines.placeholders import ARTIFACTS, BASELINE_PREFIX, DRIFT, ENDPOINT


def build_drift() -> dict[str, Any]:
    """The drift definition as a dict (no AWS call, no upload, telemetry off)."""
    capture = ParameterString("CaptureUri", default_value=f"s3://{ARTIFACTS}/data-capture/{ENDPOINT}/")
    baseline = ParameterString("BaselineUri", default_value=f"s3://{ARTIFACTS}/{BASELINE_PREFIX}/")
    threshold = ParameterString("PsiThreshold", default_value="0.2")
    step = processing_step(
        "Drift",
        sklearn_processor("drift", "ml.m5.large", isolated=True),
        "drift.py",
        inputs=[
            read("capture", capture, "/opt/ml/processing/capture"),
            read("baseline", baseline, "/opt/ml/processing/baseline"),
        ],
        outputs=[write("report", "/opt/ml/processing/report", per_execution(f"s3://{ARTIFACTS}/monitoring/drift"))],
        arguments=[
            *("--capture-dir", "/opt/ml/processing/capture", "--baseline-dir", "/opt/ml/processing/baseline"),
            *("--output-dir", "/opt/ml/processing/report", "--endpoint-name", ENDPOINT),
            *("--psi-threshold", threshold),
        ],
    )
    return pipeline_definition(DRIFT, [capture, baseline, threshold], [step])
