"""The platform pipeline (control 37, exam 3.3): CDK Pipelines, V2, self-mutating, KMS everywhere, approvals.

One customer-managed key encrypts what the pipeline owns: the artifact bucket (a SecureBucket with access logs),
every CodeBuild project's output (CodeBuild takes the artifact bucket's key, facts:
codebuild-project-takes-artifact-key), the build log group and the notification topic. The pipeline deploys
through the CDK bootstrap roles of each target account (``cdk bootstrap --trust``, facts: cdk-bootstrap-trust):
it creates no role with a CloudFormation action of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import pipelines
from constructs import Construct

from components.foundation.compliance import acknowledge, acknowledge_wildcard, skip_checkov
from components.foundation.dead_letters import dead_letter_queue, email_subscription
from components.foundation.encryption import allow_logs, allow_service, platform_key
from components.foundation.exam import demonstrates
from components.foundation.log_groups import encrypted_log_group
from components.foundation.storage import SecureBucket
from config.schema import AcceptanceConfig, CicdConfig, ConnectionSource

ROOT = Path(__file__).resolve().parents[2]

# Pinned, current CodeBuild-managed image (aws-cdk#24609: the construct's default lags). standard:7.0 (Ubuntu
# 22.04) carries every runtime `make test` needs under pyenv and as runtime versions: Python 3.10, 3.11, 3.12 and
# Node.js 20 (facts: codebuild-standard-7-runtimes). standard:8.0 (Ubuntu 24.04), the newest aws-cdk-lib 2.275
# names, is the next step once its Python 3.10 (the SageMaker images' minor) is confirmed.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
COMPUTE_TYPE = codebuild.ComputeType.MEDIUM  # 4 GB / 2 vCPUs: the test suite synthesizes every build in 2 workers
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "20"}

# The CodeStar Notifications events a person acts on: a failed run (a failed build, deploy or test stage), an
# approval waiting, and an approval rejected (the run then fails too: production was not touched).
NOTIFIED_EVENTS = (
    codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
    codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
    codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_FAILED,
)
CONNECTION_PREFIXES = ("codestar-connections", "codeconnections")


def _runtimes() -> codebuild.BuildSpec:
    return codebuild.BuildSpec.from_object({"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}})


@dataclass(frozen=True)
class ApprovedVersion:
    """The model package version a stage is synthesized to serve, in the registry ``group`` of ``region``."""

    arn: str
    group: str
    region: str


@dataclass(frozen=True)
class SynthModel:
    """What the synth step runs first to read the version the model-deploy pipeline deploys (``command`` prints
    make variables, or nothing), and the permissions that takes."""

    command: str
    statements: Sequence[iam.PolicyStatement]
    wildcards: Mapping[str, str]  # resource ARN -> why it ends in a wildcard


def _pinned(package: str) -> str:
    """``package==version`` as requirements.txt pins it (one pin for the platform and the test stage)."""
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{package}=="):
            return line.strip()
    raise KeyError(f"requirements.txt pins no {package}")


def connection_arns(arn: str) -> list[str]:
    """The connection's ARN under both service prefixes: IAM matches the action's prefix against the resource's
    (facts: connections-rename-both-prefixes), and CDK grants only the old prefix's action."""
    service = arn.split(":")[2]
    return [arn.replace(f":{service}:", f":{prefix}:", 1) for prefix in CONNECTION_PREFIXES]


class PlatformPipeline(Construct):
    """The pipeline of one tooling account. ``synth_target`` is what ``make synth`` needs to rebuild this same
    cloud assembly (``PROFILE=name`` or ``CONFIG=path``); ``add_stage`` the stages in order, then ``build()``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cicd: CicdConfig,
        pipeline_name: str,
        synth_target: str,
        synth_model: SynthModel | None = None,
        alert_email: str,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self._cicd = cicd
        # Wildcard resources of the steps' own statements, with why, acknowledged on whichever policy holds them.
        self._wildcards: dict[str, str] = dict(synth_model.wildcards) if synth_model is not None else {}
        self.key = platform_key(
            self,
            "Key",
            description="Encrypts the platform pipeline's artifacts, build output, logs and notifications. A key of "
            "its own: it lives in the tooling account and the target accounts' deploy roles decrypt artifacts with it",
            removal_policy=removal_policy,
        )
        allow_logs(self.key)
        access_logs = SecureBucket(
            self,
            "AccessLogs",
            encryption_key=None,
            access_logs_bucket=None,
            removal_policy=removal_policy,
            noncurrent_version_expiration_days=30,
            expiration_days=max(log_retention_days, 30),
        )
        self.artifacts = SecureBucket(
            self,
            "Artifacts",
            encryption_key=self.key,
            access_logs_bucket=access_logs.bucket,
            removal_policy=removal_policy,
            noncurrent_version_expiration_days=30,
        ).bucket
        self.build_logs = encrypted_log_group(
            self, "BuildLogs", key=self.key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.source = self._source(cicd)
        # The README's quality gate, then the synth of this very assembly: CI and the pipeline never disagree. With
        # model deploy, the synth first reads the version to deploy (make variables, or nothing while none is).
        synthesize = f"make synth {synth_target}"
        if synth_model is not None:
            synthesize = f"model=$({synth_model.command}) && {synthesize} $model"
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            commands=["make test", synthesize],
            primary_output_directory="cdk.out",
            partial_build_spec=_runtimes(),
            role_policy_statements=list(synth_model.statements) if synth_model is not None else None,
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=pipeline_name,
            pipeline_type=codepipeline.PipelineType.V2,
            self_mutation=True,
            cross_account_keys=True,
            enable_key_rotation=True,
            artifact_bucket=self.artifacts,
            synth=synth,
            publish_assets_in_parallel=False,  # one asset project per type, not one per asset (aws-cdk#23016)
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=BUILD_IMAGE, compute_type=COMPUTE_TYPE, privileged=False
                ),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.build_logs, enabled=True)
                ),
            ),
        )
        self.topic = sns.Topic(
            self, "Notifications", display_name="ML platform pipeline", master_key=self.key, enforce_ssl=True
        )
        self.dead_letters = dead_letter_queue(
            self,
            "DeadLetterQueue",
            key=self.key,
            holds="the pipeline's notifications",
            removal_policy=removal_policy,
            also_acknowledge=["AwsSolutions-SQS3"],
        )
        email_subscription(self.topic, alert_email, key=self.key, dead_letters=self.dead_letters)
        allow_service(
            self.key,
            sid="AllowCodeStarNotificationsToPublishEncrypted",
            service="codestar-notifications.amazonaws.com",
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        )

    def _source(self, cicd: CicdConfig) -> pipelines.CodePipelineSource:
        source = cicd.source
        if isinstance(source, ConnectionSource):
            return pipelines.CodePipelineSource.connection(
                source.repository, source.branch, connection_arn=source.connection_arn, trigger_on_push=True
            )
        # The bucket is the user's, versioned (facts: s3-source-versioned-bucket); the action reads one zip from it.
        bucket = s3.Bucket.from_bucket_name(self, "SourceBucket", source.bucket)
        return pipelines.CodePipelineSource.s3(bucket, source.object_key)

    def acceptance_step(
        self,
        *,
        predict_url: cdk.CfnOutput,
        package_arn: str,
        decision_threshold: float,
        acceptance: AcceptanceConfig,
        api_arn: str,
    ) -> pipelines.CodeBuildStep:
        """The test stage: tools/acceptance.py sends labelled sample records to the tested stage's API (SigV4, the
        step's role) and fails the run when the answers, p95 latency, error rate or AUC miss the profile's
        limits. ``api_arn`` is the tested API's POST /predict in any API id (the id is the stage's, unknown here)."""
        arguments = (
            f'--url "$PREDICT_URL" --package-arn {package_arn} --threshold {decision_threshold} '
            f"--records {acceptance.records} --max-error-rate-percent {acceptance.max_error_rate_percent} "
            f"--max-p95-latency-ms {acceptance.max_p95_latency_ms} --min-auc {acceptance.min_auc} "
            f"--records-per-request {acceptance.records_per_request} --warm-up {acceptance.warm_up_requests}"
        )
        self._wildcards[api_arn] = (
            "The test stage signs its requests to the tested stage's POST /predict; that API's id is the stage's "
            "own (another assembly), so the ARN names the stage, method and path, in any API id of that account."
        )
        return pipelines.CodeBuildStep(
            "AcceptanceTest",
            input=self.source,
            env_from_cfn_outputs={"PREDICT_URL": predict_url},
            install_commands=[f"python -m pip install --quiet {_pinned('boto3')}"],
            commands=[f"python -m tools.acceptance {arguments}"],
            partial_build_spec=_runtimes(),
            role_policy_statements=[
                iam.PolicyStatement(sid="InvokeTheTestedApi", actions=["execute-api:Invoke"], resources=[api_arn])
            ],
        )

    def add_stage(
        self,
        stage: cdk.Stage,
        *,
        approval: bool,
        post: Sequence[pipelines.Step] = (),
        version: ApprovedVersion | None = None,
    ) -> None:
        """Deploy ``stage``, after a manual approval when ``approval``; ``post`` steps run after its deploy, and a
        failing one fails the run before any later stage. With model deploy, ``version`` is what the stage will
        serve: the approval names it, and after the approval a step checks it is still Approved (the run may have
        waited days; a version rejected meanwhile must not reach production by approving that old run)."""
        pre: list[pipelines.Step] = []
        if approval:
            comment = f"Deploy {stage.stage_name}?"
            if version is not None:
                comment = f"Deploy {stage.stage_name} serving model package {version.arn}?"
            gate = pipelines.ManualApprovalStep(f"Approve{stage.stage_name}", comment=comment)
            pre.append(gate)
            if version is not None:
                check = pipelines.CodeBuildStep(
                    f"StillApproved{stage.stage_name}",
                    input=self.source,
                    install_commands=[f"python -m pip install --quiet {_pinned('boto3')}"],
                    commands=[
                        f"python -m tools.model_version --still-approved {version.arn} --group {version.group} "
                        f"--region {version.region}"
                    ],
                    partial_build_spec=_runtimes(),
                    role_policy_statements=[
                        iam.PolicyStatement(
                            sid="CheckItIsStillApproved",
                            actions=["sagemaker:DescribeModelPackage"],
                            resources=[version.arn],
                        )
                    ],
                )
                check.add_step_dependency(gate)
                pre.append(check)
        self.pipeline.add_stage(stage, pre=pre, post=list(post))

    def build(self) -> None:
        """Render the pipeline, then finish what the L3 construct leaves out: both connection permissions, the
        notification rule, the exam records."""
        self.pipeline.build_pipeline()
        l2 = self.pipeline.pipeline
        if isinstance(self._cicd.source, ConnectionSource):
            arns = connection_arns(self._cicd.source.connection_arn)
            for role in self._source_roles(l2):
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        sid="UseTheConnectionUnderBothPrefixes",
                        actions=[f"{prefix}:UseConnection" for prefix in CONNECTION_PREFIXES],
                        resources=arns,
                    )
                )
        # facts: notification-topic-policy (the L2 target adds the topic policy statement).
        rule = l2.notify_on(
            "Notify",
            self.topic,
            events=list(NOTIFIED_EVENTS),
            detail_type=notifications.DetailType.BASIC,
        )
        self._acknowledge_generated()
        # CDK Pipelines renders the target accounts' bootstrap role ARNs as Fn::Join over AWS::Partition; cfn-lint
        # prefers Fn::Sub (E3703), a style rule on the construct's output. The pipeline also gets an explicit
        # DependsOn on its role next to the GetAtt (W3005), as CDK's provider functions do.
        lint_ignores = {"E3703"}
        for construct in (l2, l2.role.node.try_find_child("DefaultPolicy"), self.key, self.artifacts.policy):
            resource = construct.node.default_child if construct is not None else None
            if isinstance(resource, cdk.CfnResource):
                checks = sorted(lint_ignores | ({"W3005"} if construct is l2 else set()))
                resource.add_metadata("cfn-lint", {"config": {"ignore_checks": checks}})
        demonstrates(
            l2,
            ["3.3"],
            "CI/CD for the platform itself: a V2 CodePipeline that tests, synthesizes, updates itself and deploys "
            "each stage through CloudFormation, with a manual approval before production",
        )
        demonstrates(
            self.pipeline.synth_project,
            ["3.3"],
            "The build stage: CodeBuild runs the quality gate (make test) and synthesizes the stages (make synth)",
        )
        demonstrates(
            rule,
            ["3.3"],
            "Pipeline notifications: failed executions and approvals waiting, on an encrypted topic",
        )

    @staticmethod
    def _source_roles(l2: codepipeline.Pipeline) -> list[iam.Role]:
        source_stage = l2.node.find_child("Source")
        return [c for c in source_stage.node.find_all() if isinstance(c, iam.Role)]

    def _acknowledge_generated(self) -> None:
        """The findings on what CDK Pipelines generates (its roles' default policies and its CodeBuild projects),
        each acknowledged on the one policy or project that has it, with why it is needed there."""
        projects = [c for c in self.pipeline.node.find_all() if isinstance(c, codebuild.PipelineProject)]
        for project in projects:
            acknowledge(
                project,
                ["HIPAA.Security-CodeBuildProjectSourceRepoUrl", "PCI.DSS.321-CodeBuildProjectSourceRepoUrl"],
                "The project's source is the pipeline's artifact (type CODEPIPELINE): it has no repository URL, so "
                "no credentials can be embedded in one; the source connection is CodeConnections'.",
            )
            role_policy = project.role.node.try_find_child("DefaultPolicy") if project.role else None
            if isinstance(role_policy, iam.Policy):
                _acknowledge_project_grants(role_policy, project)
        for policy in (c for c in self.pipeline.node.find_all() if isinstance(c, iam.Policy)):
            acknowledge(
                policy,
                [
                    "HIPAA.Security-IAMNoInlinePolicy",
                    "NIST.800.53.R5-IAMNoInlinePolicy",
                    "PCI.DSS.321-IAMNoInlinePolicy",
                ],
                "CDK Pipelines generates this role and its policy from the grants each pipeline action needs; a "
                "role it owns cannot take the platform's managed-policy pattern without forking the construct.",
            )
            _acknowledge_wildcards(policy, self.artifacts, self._wildcards)


# CDK's grants on the pipeline's artifact bucket and key (grantReadWrite), by service: wildcard actions.
_ARTIFACT_GRANTS = {
    "s3": ("Abort*", "DeleteObject*", "GetBucket*", "GetObject*", "List*"),
    "kms": ("GenerateDataKey*", "ReEncrypt*"),
}


def _acknowledge_wildcards(policy: iam.Policy, artifacts: s3.IBucket, steps: Mapping[str, str]) -> None:
    """AwsSolutions-IAM5 on one generated policy: each wildcard it holds, acknowledged with why."""
    stack = cdk.Stack.of(policy)
    document = stack.resolve(policy.document.to_json())
    actions = {a for s in document.get("Statement", []) for a in _as_list(s["Action"])}
    resources = {_json_key(r) for s in document.get("Statement", []) for r in _as_list(s["Resource"])}
    for service, suffixes in _ARTIFACT_GRANTS.items():
        for suffix in (x for x in suffixes if f"{service}:{x}" in actions):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{service}:{suffix}]",
                f"CDK's grant on the pipeline's own artifact bucket and key ({service}:{suffix}), scoped to that "
                "bucket's objects and that one key.",
            )
    scoped = {
        artifacts.arn_for_objects("*"): "Pipeline artifacts are objects with generated keys under the pipeline's "
        "own artifact bucket.",
        f"arn:*:iam::{stack.account}:role/*": "Self-mutation assumes the CDK bootstrap roles of the target accounts "
        "by tag (iam:ResourceTag/aws-cdk:bootstrap-role), whose names the pipeline cannot know.",
        stack.format_arn(service="codebuild", resource="report-group", resource_name="*"): "The asset publishing "
        "projects' shared role: CodeBuild's report-group grant for projects created per asset.",
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/codebuild/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        ): "The asset publishing projects' shared role: CodeBuild's default log-group grant for every asset project.",
        **steps,
    }
    for resource_arn, reason in scoped.items():
        if _json_key(stack.resolve(resource_arn)) in resources:
            acknowledge_wildcard(policy, resource_arn, reason)
    if _json_key("*") in resources:
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "CDK Pipelines' self-mutation and asset steps call actions it scopes to no resource: "
            "cloudformation:DescribeStacks and s3:ListBucket (self-mutation), codebuild:StartBuild and "
            "BatchGetBuilds of the asset projects it creates per asset.",
        )
        if "codebuild:StartBuild" in actions:
            skip_checkov(
                policy,
                "CKV_AWS_111",
                "CDK Pipelines' asset role starts and stops the asset builds it creates per asset, on '*' (the "
                "projects' names are generated); it holds no other write action without a resource.",
            )


def _acknowledge_project_grants(policy: iam.Policy, project: codebuild.PipelineProject) -> None:
    """CodeBuild's default grants of one project: its own report groups and its own log streams."""
    stack = cdk.Stack.of(policy)
    for resource_arn in (
        stack.format_arn(service="codebuild", resource="report-group", resource_name=f"{project.project_name}-*"),
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/codebuild/{project.project_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        ),
    ):
        acknowledge_wildcard(
            policy,
            resource_arn,
            "CodeBuild's default grants for this one project: its own report groups and log streams.",
        )


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _json_key(value: object) -> str:
    return json.dumps(value, sort_keys=True)
