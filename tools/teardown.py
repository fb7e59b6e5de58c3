"""First half of `make destroy`: lift termination protection from the profile's stateful stacks, and empty
what CloudFormation cannot delete while it holds something.

Stateful stacks are protected on every profile (control 40), so a teardown has to say so
explicitly. Production refuses unless CONFIRM_PRODUCTION_TEARDOWN=yes is set. Data the profile
retains (all of it in production; the audit and access-log buckets everywhere) stays in the account
after `cdk destroy`; README.md explains how to remove it.

A model package group that still holds versions cannot be deleted, so a profile that deletes its data
on teardown (``removal_policy: destroy``) deletes the group's versions first; otherwise `cdk destroy`
would stop at the MlPipeline stack.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3  # teardown talks to AWS (as preflight and verify do); synth and the stacks never

from config import ConfigError, load_settings
from stacks.stage import STATEFUL_STACKS


def _context(argv: list[str]) -> dict[str, str]:
    """The ``-c key=value`` pairs the Makefile passes to the CDK CLI."""
    pairs = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def delete_model_packages(sagemaker: Any, group: str) -> list[str]:
    """Delete every version in ``group`` (a sandbox teardown); returns the deleted ARNs.

    The whole list is read first (deleting while paging would shift the later pages); a group or a version that
    is already gone is not an error, so a second teardown, or one racing another, still completes."""
    arns = []
    try:
        for page in sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
            arns += [package["ModelPackageArn"] for package in page.get("ModelPackageSummaryList", [])]
    except sagemaker.exceptions.ClientError as error:
        if "does not exist" not in str(error):
            raise
    deleted = []
    for arn in arns:
        try:
            sagemaker.delete_model_package(ModelPackageName=arn)
        except sagemaker.exceptions.ClientError as error:
            if "does not exist" not in str(error):
                raise
            continue
        deleted.append(arn)
    return deleted


def main(argv: list[str]) -> int:
    context = _context(argv)
    try:
        config = load_settings(context.get("profile"), context.get("config") or None)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if config.environment == "production" and os.environ.get("CONFIRM_PRODUCTION_TEARDOWN") != "yes":
        print(
            "error: refusing to tear down production; set CONFIRM_PRODUCTION_TEARDOWN=yes to proceed", file=sys.stderr
        )
        return 1

    cloudformation = boto3.client("cloudformation", region_name=config.region)
    for stack_id in STATEFUL_STACKS:
        name = config.stack_name(stack_id)
        try:
            cloudformation.update_termination_protection(EnableTerminationProtection=False, StackName=name)
            print(f"termination protection lifted: {name}")
        except cloudformation.exceptions.ClientError as error:
            if "does not exist" not in str(error):
                raise
            print(f"not deployed, nothing to lift: {name}")
    if config.destroy_on_delete:
        group = f"{config.name_prefix}-models"
        sagemaker = boto3.client("sagemaker", region_name=config.region)
        deleted = delete_model_packages(sagemaker, group)
        print(f"model package versions deleted from {group}: {len(deleted)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
