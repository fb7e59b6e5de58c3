"""Customer-managed KMS keys the way every key of the platform is made (controls 27-29)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from components.foundation.log_groups import log_group_arn


def platform_key(
    scope: Construct, construct_id: str, *, description: str, removal_policy: cdk.RemovalPolicy
) -> kms.Key:
    """A symmetric CMK with yearly rotation and the longest (30-day) deletion window.

    The default key policy trusts the account root (IAM decides), never an unconditioned ``*``.
    Services get narrower statements through :func:`allow_logs` and :func:`allow_service`.
    """
    key = kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        pending_window=cdk.Duration.days(30),
        removal_policy=removal_policy,
    )
    # Control Tower CT.KMS.PR.2: grants only for AWS services acting for a principal (SageMaker encrypting a
    # job's volumes, for one), never a grant a principal makes for itself or hands to someone else.
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="GrantsOnlyForAwsServices",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
        )
    )
    return key


def allow_logs(key: kms.IKey) -> None:
    """Let CloudWatch Logs of this account and region use the key, for log groups only."""
    stack = cdk.Stack.of(key)
    log_groups = log_group_arn(key, "*")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        )
    )


def allow_service(
    key: kms.IKey, *, sid: str, service: str, actions: list[str], source_account_condition: bool = True
) -> None:
    """Let an AWS service use the key, on behalf of this account only where the service says so.

    ``source_account_condition=False`` is for services whose KMS requests do not carry
    ``aws:SourceAccount`` (EventBridge delivering to an encrypted topic, for one): the condition would
    silently drop every message. The topic policy still fences those services to this account.
    """
    conditions = (
        {"StringEquals": {"aws:SourceAccount": cdk.Stack.of(key).account}} if source_account_condition else None
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(service)],
            actions=actions,
            resources=["*"],
            conditions=conditions,
        )
    )
