"""Service roles the way the platform makes them (controls 30-33).

Each role trusts one service principal, scoped to this account (``aws:SourceAccount``) and, where the
service sends it, to the calling resource (``aws:SourceArn``). Its permissions live in one
customer-managed policy that lists them explicitly, never an AWS-managed policy and never an inline
policy. Constructs that would otherwise ``grant`` themselves more receive
``role.without_policy_updates()``, so the policy below stays the whole truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from components.compliance import acknowledge_wildcard, skip_checkov


class ServiceRole(Construct):
    """``self.role`` (to read) and ``self.locked`` (to hand to L2 constructs) plus ``self.policy``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        description: str,
        statements: Sequence[iam.PolicyStatement],
        source_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        conditions: dict[str, dict[str, str]] = {"StringEquals": {"aws:SourceAccount": stack.account}}
        if source_arn:
            conditions["ArnLike"] = {"aws:SourceArn": source_arn}
        self.role = iam.Role(
            self, "Role", description=description, assumed_by=iam.ServicePrincipal(service, conditions=conditions)
        )
        self.policy = iam.ManagedPolicy(
            self, "Policy", description=f"Permissions of: {description}", statements=list(statements), roles=[self.role]
        )
        self.locked = self.role.without_policy_updates()

    def allow(self, *statements: iam.PolicyStatement) -> None:
        """Add statements that need the role to exist first (``iam:PassRole`` on itself, for one)."""
        self.policy.add_statements(*statements)

    def allow_sagemaker_runtime(
        self, *, key: kms.IKey, log_group_prefix: str, metrics_namespace: str | None = "/aws/sagemaker/*"
    ) -> None:
        """What every SageMaker job or model role needs: the lake key (its data, and grants for encrypted
        volumes), the log groups SageMaker creates for it under ``log_group_prefix``, and its metrics."""
        stack = cdk.Stack.of(self)
        logs = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{log_group_prefix}*"
        self.allow(
            iam.PolicyStatement(
                sid="UseLakeKey",
                resources=[key.key_arn],
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            ),
            iam.PolicyStatement(
                sid="EncryptVolumes",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(
                sid="Logs",
                resources=[logs],
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            ),
        )
        acknowledge_wildcard(self.policy, logs, f"SageMaker names these log groups itself, under {log_group_prefix}.")
        if metrics_namespace:
            self.allow(
                iam.PolicyStatement(
                    sid="Metrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringLike": {"cloudwatch:namespace": metrics_namespace}},
                )
            )

    def allow_vpc_network_interfaces(self, who: str, *, also: str = "") -> None:
        """The EC2 calls a service makes to attach ``who`` (jobs, a model, a function) to the VPC.

        AWS documents no resource-level scoping for them, so ``Resource: "*"`` is acknowledged here, once,
        with that evidence; every other statement of the policy names its resources.
        """
        self.allow(
            iam.PolicyStatement(
                sid="VpcNetworkInterfaces",
                resources=["*"],
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
            )
        )
        reason = (
            f"The EC2 network-interface calls that place {who} in the VPC support no resource-level "
            f"permissions (AWS documents Resource '*'); every other write here names its resources. {also}"
        )
        acknowledge_wildcard(self.policy, "*", reason.strip())
        for check in ("CKV_AWS_111", "CKV_AWS_109"):
            skip_checkov(self.policy, check, reason.strip())
