"""Python Lambda functions the way the platform runs them (control 39).

In the VPC's isolated subnets, with active tracing, a KMS-encrypted dead-letter queue, environment and log
group, explicit memory and timeout, the role's one customer-managed policy, and reserved concurrency only
where the profile reserves it: a new account can have a concurrency quota of 10, and Lambda refuses any
reservation that would leave fewer than 100 unreserved executions (facts: lambda-unreserved-minimum), so
the sandbox reserves nothing and production reserves what its profile says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from components.foundation.compliance import acknowledge, guard_exception, skip_checkov
from components.foundation.dead_letters import dead_letter_queue
from components.foundation.encryption import allow_logs, platform_key
from components.foundation.log_groups import encrypted_log_group
from components.foundation.roles import ServiceRole
from config.facts import fact

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
# The runtime the handler tests also run on (.venv-lambda, requirements-lambda.txt; facts: lambda-python-runtime).
RUNTIME = lambda_.Runtime.PYTHON_3_12


class Placement(Protocol):
    """Where a function runs: a VPC, its subnets and the security group workloads join
    (``components.network.IsolatedNetwork`` is one)."""

    @property
    def vpc(self) -> ec2.IVpc: ...

    @property
    def subnets(self) -> ec2.SubnetSelection: ...

    @property
    def workload_security_group(self) -> ec2.ISecurityGroup: ...


class VpcFunction(Construct):
    """``function``, ``role`` (a :class:`ServiceRole`), ``key`` and ``dead_letters`` of one function whose code
    is the folder ``lambdas/<folder>/`` (entry point ``handler.handler``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: str,
        description: str,
        network: Placement,
        statements: Sequence[iam.PolicyStatement],
        environment: dict[str, str],
        reserved_concurrency: int | None,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        memory_mb: int = 256,
        timeout_seconds: int = 15,
        role_description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = platform_key(
            self,
            "Key",
            description=f"Encrypts the logs, settings and dead letters of: {description}. Its own key: only this "
            "function's role and CloudWatch Logs use it, so the function never holds a grant on lake data",
            removal_policy=removal_policy,
        )
        allow_logs(self.key)
        self.dead_letters = dead_letter_queue(
            self, "DeadLetterQueue", key=self.key, holds="the function", removal_policy=removal_policy
        )
        logs = encrypted_log_group(
            self, "Logs", key=self.key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.role = ServiceRole(
            self,
            "Role",
            service="lambda.amazonaws.com",
            description=role_description,
            statements=[
                *statements,
                iam.PolicyStatement(
                    sid="FunctionLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[logs.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="DeadLetters", actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn]
                ),
                iam.PolicyStatement(
                    sid="UseFunctionKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn]
                ),
                iam.PolicyStatement(
                    sid="Tracing", actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
                ),
            ],
        )
        self.role.allow_vpc_network_interfaces(
            "the function", also="X-Ray trace calls take no resource.", service="lambda"
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(LAMBDAS / folder), exclude=["__pycache__", "__init__.py"]),
            role=self.role.locked,
            memory_size=memory_mb,
            timeout=cdk.Duration.seconds(timeout_seconds),
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=self.dead_letters,
            environment_encryption=self.key,
            environment=environment,
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[network.workload_security_group],
            log_group=logs,
        )
        guard_exception(
            self.function,
            "lambda_inside_vpc_check",
            "The function runs in the platform VPC's isolated subnets with the workload security group; both come "
            "from the Network stack as cross-stack references, which the rule cannot resolve as VPC ids.",
        )
        runtime = fact("lambda-python-runtime")
        acknowledge(
            self.function,
            ["AwsSolutions-L1", "Serverless-LambdaLatestVersion"],
            f"{runtime.value}, not the newest runtime: the newest Python the CI machines have (pyenv), so the "
            f"handlers' tests run on the deployed runtime's Python; supported until 2028-10-31 ({runtime.url}).",
        )
        if reserved_concurrency is None:
            unreserved = fact("lambda-unreserved-minimum")
            acknowledge(
                self.function,
                ["NIST.800.53.R5-LambdaConcurrency", "HIPAA.Security-LambdaConcurrency"],
                "The profile reserves no concurrency (functions.reserved_concurrency): Lambda refuses a "
                f"reservation that leaves fewer than {unreserved.value} unreserved executions, and new accounts "
                f"can have a quota of 10 ({unreserved.url}). Throttling is bounded by the API stage instead.",
            )
            skip_checkov(
                self.function,
                "CKV_AWS_115",
                "No reserved concurrency in this profile: new accounts can have a Lambda concurrency quota of 10 "
                f"and Lambda keeps {unreserved.value} unreserved ({unreserved.url}).",
            )
        # The function needs its network-interface permissions before it is created: depend on the policy
        # (the L2 would otherwise add a DependsOn on the role that its GetAtt already implies).
        function_resource = self.function.node.default_child
        assert isinstance(function_resource, lambda_.CfnFunction)
        policy = self.role.policy.node.default_child
        assert isinstance(policy, iam.CfnManagedPolicy)
        function_resource.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(policy)])
