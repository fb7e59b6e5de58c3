"""The model version the platform pipeline deploys, as ``make`` arguments: what its synth step runs first.

    python -m tools.model_version --parameter NAME --group GROUP [--region REGION]
    python -m tools.model_version --still-approved ARN --group GROUP [--region REGION]

The parameter is kept by lambdas/record_approved from the registry's Approved and Rejected events. This reads
it and prints one line for ``args=$(python -m tools.model_version ...) && make synth PROFILE=x $args``:

    PIPELINE_MODEL_PACKAGE_ARN=<arn> PIPELINE_MODEL_DATA_URL=<s3 url>

or nothing while no version is recorded (the parameter missing or ``none``): the stages then deploy without an
endpoint. The version is described again here because it may have been rejected, or the parameter edited by
hand, since the event: a version that is not an Approved member of the group, or has no model artifact in S3,
is refused with one ``error:`` line and exit 1, so the pipeline stops before any stage deploys. Read-only.

``--still-approved ARN`` is the check the pipeline runs between a production approval and the production deploy:
a run can wait days at its approval, and a version rejected in the registry meanwhile must not be deployed by
approving that old run (exit 1, one ``error:`` line; ``ok: ...`` otherwise).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from lambdas.record_approved.recorder import APPROVED, NONE

# The line is word-split by the shell and read by make: a value must hold no space, quote, glob or ``$``.
SAFE_VALUE = re.compile(r"[A-Za-z0-9._~:/=+@,%-]+")


class RefusedError(Exception):
    """The recorded version must not be deployed; the message says which and why."""


def recorded_arn(ssm: Any, parameter_name: str) -> str | None:
    """The recorded model package ARN, or None while no version is (no parameter yet, or ``none``)."""
    try:
        value = str(ssm.get_parameter(Name=parameter_name)["Parameter"]["Value"]).strip()
    except ssm.exceptions.ParameterNotFound:
        return None
    return None if value == NONE else value


def model_data_url(sagemaker: Any, arn: str, group: str) -> str:
    """The S3 URL of ``arn``'s model artifact once it is an Approved version of ``group``; RefusedError if not
    (DescribeModelPackage gives the status and the containers, facts: model-package-describe)."""
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    package_group, status = package.get("ModelPackageGroupName"), package.get("ModelApprovalStatus")
    if package_group != group:
        raise RefusedError(f"model package {arn} is in group {package_group}, not {group}")
    if status != APPROVED:
        raise RefusedError(f"model package {arn} is {status}, not {APPROVED} (it may have been rejected since)")
    containers = package.get("InferenceSpecification", {}).get("Containers", [])
    url = str(containers[0].get("ModelDataUrl") or "") if containers else ""
    if not url.startswith("s3://"):
        raise RefusedError(f"model package {arn} has no model artifact in S3 (ModelDataUrl {url or 'missing'})")
    for value in (arn, url):
        if not SAFE_VALUE.fullmatch(value):
            raise RefusedError(f"model package {arn} names {value!r}: a make argument cannot carry it")
    return url


def client(service: str, region: str | None) -> Any:
    import boto3  # noqa: PLC0415 - tests pass stubbed clients; a real run only needs boto3

    return boto3.client(service, region_name=region)


def make_args(arn: str, url: str) -> str:
    return f"PIPELINE_MODEL_PACKAGE_ARN={arn} PIPELINE_MODEL_DATA_URL={url}"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.model_version", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--parameter", help="the SSM parameter lambdas/record_approved keeps")
    source.add_argument("--still-approved", metavar="ARN", help="check that this version is still Approved, only")
    parser.add_argument("--group", required=True, help="the model package group the version must belong to")
    parser.add_argument("--region", help="the AWS Region (default: the environment's)")
    return parser.parse_args(argv)


def main(argv: list[str], ssm: Any = None, sagemaker: Any = None) -> int:
    args = parse(argv)
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only at run time

    origin = f"parameter {args.parameter}" if args.parameter else "the production approval"
    try:
        arn = args.still_approved or recorded_arn(
            ssm if ssm is not None else client("ssm", args.region), args.parameter
        )
        if arn is None:
            return 0
        sagemaker = sagemaker if sagemaker is not None else client("sagemaker", args.region)
        url = model_data_url(sagemaker, arn, args.group)
    except RefusedError as refusal:
        print(f"error: {refusal} (from {origin})", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:  # NoCredentialsError and NoRegionError are BotoCoreErrors
        print(f"error: cannot read the model version from {origin}: {error}", file=sys.stderr)
        return 1
    print(f"ok: {arn} is still an {APPROVED} version of {args.group}" if args.still_approved else make_args(arn, url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
