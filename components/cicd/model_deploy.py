"""The model-deploy path of the pipeline (issue 13 part 2, exam 3.3): what a registry decision does.

A version Approved in the tooling account's registry is recorded, exactly, in one SSM parameter, and the pipeline
starts; its synth step reads the parameter (tools/model_version.py), so every stage of that one execution is
synthesized with that one version, and a re-run of the same commit with the same parameter synthesizes the same
templates. A version Rejected while it is the recorded one is replaced by the newest version still approved (or by
``none``: no endpoint), and the pipeline starts again: the rollback goes through the same test stage and the same
manual approval as any version (lambdas/record_approved/recorder.py).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.foundation.compliance import acknowledge_wildcard
from components.foundation.dead_letters import allow_eventbridge_rules
from components.foundation.exam import demonstrates
from components.foundation.functions import VpcFunction
from config.facts import fact

DECISIONS = ("Approved", "Rejected")  # the registry decisions the pipeline acts on, one rule each


def decision_pattern(registry_name: str, status: str) -> dict[str, Any]:
    """The EventBridge pattern of one registry decision on the versions of ``registry_name`` (facts:
    model-package-state-change-event)."""
    return {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": [registry_name], "ModelApprovalStatus": [status]},
    }


class ModelDeployTrigger(Construct):
    """``parameter`` (the version the pipeline deploys), ``recorder`` (the function keeping it) and ``rules`` (one
    per registry decision of ``registry_name``), starting the pipeline named ``pipeline_name``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry_name: str,
        parameter_name: str,
        pipeline_name: str,
        dead_letters: sqs.IQueue,
        dead_letter_key: kms.Key,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # The recorder owns the parameter (it creates it on the first decision): a template that owned its value
        # would reset it to that value on any later update of the resource, and the next run would then deploy
        # no model at all. Missing means `none` to the recorder and to tools/model_version.py.
        self.parameter_name = parameter_name
        # facts: ssm-parameter-arn-format (the name's leading slash is not part of the ARN).
        self.parameter_arn = stack.format_arn(service="ssm", resource="parameter", resource_name=parameter_name[1:])
        pipeline_arn = stack.format_arn(service="codepipeline", resource=pipeline_name)
        self.recorder = VpcFunction(
            self,
            "Recorder",
            folder="record_approved",
            description="Records the model package version the pipeline deploys and starts the pipeline",
            network=None,
            statements=[
                iam.PolicyStatement(
                    sid="KeepTheDeployedVersion",
                    actions=["ssm:GetParameter", "ssm:PutParameter"],
                    resources=[self.parameter_arn],
                ),
                iam.PolicyStatement(
                    sid="StartThePipeline", actions=["codepipeline:StartPipelineExecution"], resources=[pipeline_arn]
                ),
                # facts: list-model-packages-no-resource (ListModelPackages takes no resource in IAM).
                iam.PolicyStatement(
                    sid="FindTheNewestApproved", actions=["sagemaker:ListModelPackages"], resources=["*"]
                ),
            ],
            environment={
                "PARAMETER_NAME": parameter_name,
                "PIPELINE_NAME": pipeline_name,
                "MODEL_PACKAGE_GROUP": registry_name,
            },
            reserved_concurrency=None,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            timeout_seconds=30,
            role_description="Model deploy: keep the deployed-version parameter, start the platform pipeline",
        )
        listing = fact("list-model-packages-no-resource")
        acknowledge_wildcard(
            self.recorder.role.policy,
            "*",
            f"sagemaker:ListModelPackages supports no resource-level permission ({listing.url}); it only reads the "
            "registry's version list to find the newest approved version.",
        )
        allow_eventbridge_rules(dead_letters, key=dead_letter_key)  # what a rule cannot deliver lands there
        self.rules = {
            status: self._rule(status, registry_name, self.recorder.function, dead_letters) for status in DECISIONS
        }
        demonstrates(
            self.rules["Approved"],
            ["3.3"],
            "Model deploy: an approved registry version is recorded exactly and starts the pipeline that tests it in "
            "staging before a person approves production",
        )
        demonstrates(
            self.recorder.function,
            ["3.3"],
            "The deployed version, recorded in one SSM parameter: the pipeline synthesizes its stages from it, so a "
            "run is reproducible; a rejection of it rolls back to the newest version still approved",
        )

    def _rule(
        self, status: str, registry_name: str, function: lambda_.IFunction, dead_letters: sqs.IQueue
    ) -> events.CfnRule:
        rule = events.CfnRule(
            self,
            f"{status}Rule",
            description=f"A model package version of {registry_name} was {status.lower()}: record what to deploy",
            event_pattern=decision_pattern(registry_name, status),
            targets=[
                events.CfnRule.TargetProperty(
                    id="Recorder",
                    arn=function.function_arn,
                    dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                    ),
                )
            ],
        )
        lambda_.CfnPermission(
            self,
            f"{status}Invokes",
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal="events.amazonaws.com",
            source_arn=rule.attr_arn,
        )
        return rule
