"""Service roles the way the platform makes them (controls 30-33).

Each role trusts one service principal, scoped with exactly the confused-deputy condition keys that
service documents sending when it assumes a role (``config/data/aws_facts.yaml``, each with its URL):
``aws:SourceAccount`` for this account and ``aws:SourceArn`` for the calling resource where documented,
nothing where the service sends neither (a key the service does not send makes the role unassumable, and
the deploy fails). Its permissions live in one
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

from components.foundation.compliance import acknowledge_wildcard, skip_checkov
from components.foundation.log_groups import log_group_arn
from config.facts import fact, trust_keys


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
        trust_as: str | None = None,
    ) -> None:
        """``trust_as`` names a use of ``service`` whose trust keys are documented apart (for example
        ``feature-store-offline-store``)."""
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        documented = trust_keys(f"{service}/{trust_as}" if trust_as else service)
        conditions: dict[str, dict[str, str]] = {}
        if documented.allows("aws:SourceAccount"):
            conditions.setdefault("StringEquals", {})["aws:SourceAccount"] = stack.account
        if documented.allows("sts:ExternalId"):
            conditions.setdefault("StringEquals", {})["sts:ExternalId"] = stack.account
        if source_arn:
            if not documented.allows("aws:SourceArn"):
                raise ValueError(
                    f"{self.node.path}: {service} does not document aws:SourceArn in role trust ({documented.url})"
                )
            conditions["ArnLike"] = {"aws:SourceArn": source_arn}
        self.role = iam.Role(
            self,
            "Role",
            description=description,
            assumed_by=iam.ServicePrincipal(service, conditions=conditions or None),
        )
        # Which entry of config/data/aws_facts.yaml the trust follows, for the template's reader and the tests.
        trust = self.role.node.default_child
        assert isinstance(trust, cdk.CfnResource)
        trust.add_metadata(
            "platform:trust-facts",
            {"entry": f"{service}/{trust_as}" if trust_as else service, "source": documented.url},
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
        logs = log_group_arn(self, f"{log_group_prefix}*")
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

    def allow_vpc_network_interfaces(self, who: str, *, also: str = "", service: str = "sagemaker") -> None:
        """The EC2 calls ``service`` (``sagemaker`` or ``lambda``) makes to attach ``who`` (jobs, a model, a
        function) to the VPC: the list that service documents (facts: sagemaker-vpc-permissions,
        lambda-vpc-permissions).

        AWS documents no resource-level scoping for them, so ``Resource: "*"`` is acknowledged here, once,
        with that evidence; every other statement of the policy names its resources.
        """
        documented = fact(f"{service}-vpc-permissions")
        self.allow(iam.PolicyStatement(sid="VpcNetworkInterfaces", resources=["*"], actions=list(documented.value)))
        reason = (
            f"The EC2 network-interface calls that place {who} in the VPC support no resource-level "
            f"permissions (AWS documents Resource '*'); every other write here names its resources. {also}"
        )
        acknowledge_wildcard(self.policy, "*", reason.strip())
        for check in ("CKV_AWS_111", "CKV_AWS_109"):
            skip_checkov(self.policy, check, reason.strip())
