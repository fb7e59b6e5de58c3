"""Encrypted CloudWatch log groups with explicit retention (control 36)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from components.foundation.compliance import guard_exception

CONTROL_TOWER_MINIMUM_DAYS = 365  # CT.CLOUDWATCH.PR.2: log groups retained at least a year


def log_group_arn(scope: IConstruct, name: str) -> str:
    """The ARN of the log groups named ``name`` (a pattern may end in ``*``) in the scope's account and region."""
    return cdk.Stack.of(scope).format_arn(
        service="logs", resource="log-group", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
    )


def encrypted_log_group(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    retention_days: int,
    removal_policy: cdk.RemovalPolicy,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    """A KMS-encrypted log group keeping ``retention_days`` (a value CloudWatch accepts; config checks it)."""
    group = logs.LogGroup(
        scope,
        construct_id,
        encryption_key=key,
        log_group_name=log_group_name,
        removal_policy=removal_policy,
    )
    # The L2 takes an enum; the profile holds the number CloudWatch takes, so set it on the L1.
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = retention_days
    if retention_days < CONTROL_TOWER_MINIMUM_DAYS:
        guard_exception(
            cfn,
            "cloudwatch_log_group_retention_period_check",
            f"The profile keeps these logs {retention_days} days to bound a sandbox's cost; production keeps "
            f"them at least {CONTROL_TOWER_MINIMUM_DAYS} days (validated in config/schema.py).",
        )
    return group
