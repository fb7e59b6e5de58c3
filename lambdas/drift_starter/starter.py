"""Start the drift pipeline only when it has something to compare: captured traffic and a baseline.

SageMaker fails a processing job whose ``S3Prefix`` input holds no object, before the job's script runs
(facts: processing-empty-input-fails). A drift check scheduled on a new endpoint (no traffic captured yet)
or before the first training run (no baseline yet) would therefore fail every day and mail a pipeline
failure. This function looks first, says plainly why it skipped, and starts the pipeline otherwise.
"""

from __future__ import annotations

from typing import Any

DESCRIPTION = "Scheduled drift check"


def missing_input(s3: Any, bucket: str, prefixes: dict[str, str]) -> str | None:
    """The first input with no object under its prefix, said as a reason, or None when all have data."""
    for name, prefix in prefixes.items():
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
        if not listing.get("KeyCount", 0):
            return f"skipped: no {name} under s3://{bucket}/{prefix} yet"
    return None


def start_if_ready(
    s3: Any, sagemaker: Any, *, bucket: str, capture_prefix: str, baseline_prefix: str, pipeline_name: str
) -> dict[str, Any]:
    """``{"started": True, "execution": ARN}`` or ``{"started": False, "reason": ...}``."""
    reason = missing_input(s3, bucket, {"captured traffic": capture_prefix, "training baseline": baseline_prefix})
    if reason:
        return {"started": False, "reason": reason}
    response = sagemaker.start_pipeline_execution(PipelineName=pipeline_name, PipelineExecutionDescription=DESCRIPTION)
    return {"started": True, "execution": response["PipelineExecutionArn"]}
