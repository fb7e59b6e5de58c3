"""Keep "the model package version the platform pipeline deploys" in one SSM parameter, from registry events.

The registry emits "SageMaker Model Package State Change" on every change of a version; two EventBridge rules
send this function the Approved and the Rejected ones of the platform's group. The parameter holds a model
package ARN, or ``NONE``; this function creates it on the first decision (no template owns its value). The
pipeline's synth step reads it (tools/model_version.py), so each change here is followed by a pipeline run:

- Approved: that version is recorded and deployed, unless it is the recorded one or older than it (an approval
  moves forward; re-approving a rejected version newer than the recorded one is just another approval);
- Rejected, of the recorded version: the newest version still Approved replaces it, or ``NONE`` (the pipeline
  then removes the endpoints); of any other version: nothing changes (it is neither served nor waiting).

Rules match on the event, not on this function's configuration, so a rule edited by hand cannot make it record
another group's version: it checks the group and the status itself and says why it ignored an event.
"""

from __future__ import annotations

from typing import Any

NONE = "none"
APPROVED, REJECTED = "Approved", "Rejected"


def ignored_because(detail: dict[str, Any], group: str) -> str | None:
    """Why this event must change nothing (another group, another status, no ARN), or None to act on it."""
    arn, event_group = detail.get("ModelPackageArn"), detail.get("ModelPackageGroupName")
    status = detail.get("ModelApprovalStatus")
    if event_group != group:
        return f"ignored: {arn} is in group {event_group}, not {group}"
    if status not in (APPROVED, REJECTED):
        return f"ignored: {arn} is {status}, neither {APPROVED} nor {REJECTED}"
    if not arn:
        return f"ignored: a {status} event of {group} without a ModelPackageArn"
    return None


def recorded(ssm: Any, parameter_name: str) -> str:
    """The version the parameter holds (an ARN or ``NONE``). This function owns the parameter (no template does:
    a stack update would reset a value CloudFormation owned), so it is missing until the first decision."""
    try:
        return str(ssm.get_parameter(Name=parameter_name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return NONE


def version(arn: str) -> int:
    """The version number a model package version's ARN ends with (``.../model-package/GROUP/N``)."""
    return int(arn.rsplit("/", 1)[1])


def _comparable(recorded_value: str) -> bool:
    """Whether the recorded value is a version ARN (a value written by hand may not be: then any approval
    replaces it, rather than the event failing on every retry)."""
    return recorded_value.rsplit("/", 1)[-1].isdigit()


def not_forward(arn: str, current: str) -> str | None:
    """Why an Approved event must not move the recorded version, or None. SageMaker can send the event more than
    once for one change, and sends it for other changes of a version that is still Approved (its lifecycle
    stage, its description): so the same version is not recorded twice, and an older version does not replace
    a newer one (rolling back is rejecting the newer version, or writing the parameter by hand)."""
    if arn == current:
        return f"ignored: {arn} is already the recorded version"
    if current != NONE and _comparable(current) and version(arn) < version(current):
        return f"ignored: {arn} is older than the recorded version {current}; reject that one to roll back"
    return None


def record(ssm: Any, parameter_name: str, value: str) -> None:
    ssm.put_parameter(Name=parameter_name, Value=value, Type="String", Overwrite=True)


def newest_approved(sagemaker: Any, group: str, *, rejected: str) -> str:
    """The group's newest Approved version other than ``rejected``, or ``NONE``.

    Two results, not one: if the list still shows the version just rejected (read right after its change), the
    skip must leave the next approved version, not ``NONE`` (which would remove the endpoints)."""
    listing = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus=APPROVED,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=2,
    )
    arns = [summary["ModelPackageArn"] for summary in listing.get("ModelPackageSummaryList", [])]
    return next((str(arn) for arn in arns if arn != rejected), NONE)


def start(codepipeline: Any, pipeline_name: str) -> str:
    """Start the platform pipeline (its synth step reads the parameter); the execution id."""
    return str(codepipeline.start_pipeline_execution(name=pipeline_name)["pipelineExecutionId"])


def on_state_change(
    ssm: Any,
    sagemaker: Any,
    codepipeline: Any,
    event: dict[str, Any],
    *,
    parameter_name: str,
    pipeline_name: str,
    group: str,
) -> dict[str, Any]:
    """``{"recorded": ARN, "execution": ID}`` (Approved), ``{"rejected": ARN, "rolled_back_to": ARN or NONE,
    "execution": ID}`` (Rejected, of the recorded version) or ``{"ignored": why}``; AWS errors propagate, so
    Lambda retries the event and then keeps it in the dead-letter queue."""
    detail = event.get("detail") or {}
    reason = ignored_because(detail, group)
    if reason:
        return {"ignored": reason}
    arn = str(detail["ModelPackageArn"])
    current = recorded(ssm, parameter_name)
    if detail["ModelApprovalStatus"] == APPROVED:
        why = not_forward(arn, current)
        if why:
            return {"ignored": why}
        record(ssm, parameter_name, arn)
        return {"recorded": arn, "execution": start(codepipeline, pipeline_name)}
    if current != arn:
        return {"ignored": f"ignored: rejected {arn} is not the recorded version ({current})"}
    replacement = newest_approved(sagemaker, group, rejected=arn)
    record(ssm, parameter_name, replacement)
    return {"rejected": arn, "rolled_back_to": replacement, "execution": start(codepipeline, pipeline_name)}
