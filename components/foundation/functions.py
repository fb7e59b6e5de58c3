"""Python Lambda functions the way the platform runs them (control 39).

In the VPC's isolated subnets (or, in a stack without a VPC such as the pipeline's, outside any, acknowledged
with why), with active tracing, a KMS-encrypted dead-letter queue, environment and log
group, explicit memory and timeout, the role's one customer-managed policy, and reserved concurrency only
where the profile reserves it: a new account can have a concurrency quota of 10, and Lambda refuses any
reservation that would leave fewer than 100 unreserved executions (facts: lambda-unreserved-minimum), so
the sandbox reserves nothing and production reserves what its profile says.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from components.foundation.compliance import acknowledge, acknowledge_wildcard, guard_exception, skip_checkov
from components.foundation.dead_letters import dead_letter_queue
from components.foundation.encryption import allow_logs, platform_key
from components.foundation.log_groups import encrypted_log_group
from components.foundation.roles import ServiceRole
from config.facts import fact

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
# A function with a requirements.txt gets its libraries from here: ``make lambda-deps`` pip-installs them for the
# runtime (manylinux wheels, no Docker) into build/lambda/<folder>/, then copies the requirements it installed to
# .installed there: the folder is complete, and built from that requirements.txt.
LAMBDA_BUILD = LAMBDAS.parent / "build" / "lambda"
DEPS_TARGET = "make lambda-deps"
# What a function folder holds that is not the function: the repository's package marker, bytecode, its tests
# and its requirements file (its libraries come from the build folder instead).
NOT_SHIPPED = ("__pycache__", "__init__.py", "tests", "requirements.txt")
BUNDLE_FORMAT = "1"  # part of the asset hash: bump it when the bundle's layout changes
# The runtime the handler tests also run on (.venv-lambda, requirements-lambda.txt; facts: lambda-python-runtime).
RUNTIME = lambda_.Runtime.PYTHON_3_12


def function_sources(folder: Path) -> Iterator[Path]:
    """The files of ``folder`` that ship as the function's code, in a stable order."""
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(part in NOT_SHIPPED or part.endswith(".pyc") for part in parts):
            yield path


def source_hash(folder: Path) -> str:
    """The asset hash of a function with libraries: its sources and requirements.txt (which pins every library),
    not the bundle, so a synth neither reads nor hashes the 14 MB of libraries and templates stay stable."""
    digest = hashlib.sha256(f"bundle-format {BUNDLE_FORMAT}\n".encode())
    for path in [*function_sources(folder), folder / "requirements.txt"]:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@jsii.implements(cdk.ILocalBundling)
class _FunctionBundle:
    """CDK local bundling (``cdk.ILocalBundling``), no Docker: the prebuilt libraries, then the function's sources,
    copied into the asset's staging folder. CDK calls it only when that folder is not staged yet."""

    def __init__(self, sources: Path, libraries: Path) -> None:
        self.sources, self.libraries = sources, libraries

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: Any) -> bool:
        out = Path(output_dir)
        shutil.copytree(
            self.libraries,
            out,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".installed"),
            copy_function=shutil.copyfile,  # contents only: no build-time modes or timestamps
        )
        for path in function_sources(self.sources):
            target = out / path.relative_to(self.sources)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return True


def function_code(folder: str) -> lambda_.Code:
    """The code asset of ``lambdas/<folder>/``: the folder as it is, or, when it has a requirements.txt, its
    sources plus the libraries ``make lambda-deps`` built (fails at once, naming that target, if they are not)."""
    sources = LAMBDAS / folder
    if not (sources / "requirements.txt").exists():
        return lambda_.Code.from_asset(str(sources), exclude=["__pycache__", "__init__.py"])
    libraries, requirements = LAMBDA_BUILD / folder, (sources / "requirements.txt").read_text()
    marker = libraries / ".installed"
    if not marker.exists() or marker.read_text() != requirements:
        raise FileNotFoundError(
            f"{libraries} is missing or was built from another lambdas/{folder}/requirements.txt: run `{DEPS_TARGET}`"
        )
    return lambda_.Code.from_asset(
        str(sources),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=source_hash(sources),
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("none"),  # never pulled: local bundling always succeeds
            local=_FunctionBundle(sources, libraries),
        ),
    )


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
    is the folder ``lambdas/<folder>/`` (entry point ``handler.handler``), with the libraries its
    requirements.txt pins when it has one (:func:`function_code`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: str,
        description: str,
        network: Placement | None,
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
        if network is not None:
            self.role.allow_vpc_network_interfaces(
                "the function", also="X-Ray trace calls take no resource.", service="lambda"
            )
        else:
            acknowledge_wildcard(self.role.policy, "*", "X-Ray trace calls take no resource.")
        placement: dict[str, Any] = (
            {}
            if network is None
            else {
                "vpc": network.vpc,
                "vpc_subnets": network.subnets,
                "security_groups": [network.workload_security_group],
            }
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            handler="handler.handler",
            code=function_code(folder),
            role=self.role.locked,
            memory_size=memory_mb,
            timeout=cdk.Duration.seconds(timeout_seconds),
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=self.dead_letters,
            environment_encryption=self.key,
            environment=environment,
            log_group=logs,
            **placement,
        )
        if network is not None:
            guard_exception(
                self.function,
                "lambda_inside_vpc_check",
                "The function runs in the platform VPC's isolated subnets with the workload security group; both "
                "come from the Network stack as cross-stack references, which the rule cannot resolve as VPC ids.",
            )
        else:
            self._acknowledge_outside_vpc(description)
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

    def _acknowledge_outside_vpc(self, description: str) -> None:
        """A function of a stack without a VPC (the pipeline stack): it calls only AWS APIs, over TLS, with SigV4."""
        reason = (
            f"{description}: a function of a stack without a VPC (the pipeline's, in the tooling account); it only "
            "calls AWS APIs (over TLS, signed by its role), reads no data and serves no network."
        )
        acknowledge(
            self.function,
            ["HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"],
            reason,
        )
        guard_exception(self.function, "lambda_inside_vpc_check", reason)
        skip_checkov(self.function, "CKV_AWS_117", reason)
