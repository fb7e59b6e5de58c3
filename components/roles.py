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
