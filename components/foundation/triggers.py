"""What starts a SageMaker pipeline (an EventBridge Scheduler schedule or an EventBridge rule, each with a
role that may start that one pipeline and nothing else) and what tells a person (exam 3.3, 4.2)."""

from __future__ import annotations

from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from components.foundation.roles import ServiceRole

SCHEDULE_GROUP = "default"  # CfnSchedule without GroupName lands in the account's default group


def _starter_role(
    scope: Construct,
    construct_id: str,
    *,
    service: str,
    source_arn: str,
    description: str,
    statements: list[iam.PolicyStatement],
) -> ServiceRole:
    return ServiceRole(
        scope,
        construct_id,
        service=f"{service}.amazonaws.com",
        description=description,
        source_arn=source_arn,
        statements=statements,
    )


def _dead_letter_statements(dead_letters: sqs.IQueue) -> list[iam.PolicyStatement]:
    """EventBridge Scheduler sends undeliverable invocations to the DLQ with the schedule's own execution
    role (facts: scheduler-dlq-uses-execution-role), through the queue's KMS key."""
    found = [iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letters.queue_arn])]
    key = dead_letters.encryption_master_key
    if key is not None:
        found.append(
            iam.PolicyStatement(
                sid="DeadLetterKey", actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
            )
        )
    return found


def schedule(
    scope: Construct,
    construct_id: str,
    *,
    target_arn: str,
    statements: list[iam.PolicyStatement],
    expression: str,
    description: str,
    dead_letters: sqs.IQueue,
    after: IConstruct,
    pipeline_target: bool,
) -> scheduler.CfnSchedule:
    """Call ``target_arn`` on ``expression`` (rate or cron), retrying for an hour; what cannot be delivered
    goes to ``dead_letters``. The role trusts EventBridge Scheduler for this account's default schedule
    group only, the form Scheduler documents for aws:SourceArn (the schedule *group*, not the schedule)."""
    stack = cdk.Stack.of(scope)
    role = _starter_role(
        scope,
        f"{construct_id}Role",
        service="scheduler",
        source_arn=stack.format_arn(service="scheduler", resource="schedule-group", resource_name=SCHEDULE_GROUP),
        description=f"EventBridge Scheduler: {description}",
        statements=[*statements, *_dead_letter_statements(dead_letters)],
    )
    cfn_schedule = scheduler.CfnSchedule(
        scope,
        construct_id,
        description=description,
        schedule_expression=expression,
        flexible_time_window={"mode": "OFF"},
        target=scheduler.CfnSchedule.TargetProperty(
            arn=target_arn,
            role_arn=role.role.role_arn,
            dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
            ),
            sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                pipeline_parameter_list=[]
            )
            if pipeline_target
            else None,
        ),
    )
    cfn_schedule.node.add_dependency(role.policy, after)
    return cfn_schedule


class Pipeline(Protocol):
    """What a trigger needs of a SageMaker pipeline (``components.ml.pipeline.SageMakerPipeline`` is one)."""

    @property
    def arn(self) -> str: ...

    @property
    def pipeline(self) -> IConstruct: ...


def pipeline_schedule(
    scope: Construct,
    construct_id: str,
    *,
    pipeline: Pipeline,
    expression: str,
    description: str,
    dead_letters: sqs.IQueue,
) -> scheduler.CfnSchedule:
    """Start ``pipeline`` on ``expression``, once the pipeline exists."""
    return schedule(
        scope,
        construct_id,
        target_arn=pipeline.arn,
        statements=[iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline.arn])],
        expression=expression,
        description=description,
        dead_letters=dead_letters,
        after=pipeline.pipeline,
        pipeline_target=True,
    )


def pipeline_rule(
    scope: Construct,
    construct_id: str,
    *,
    pipeline: Pipeline,
    event_pattern: dict[str, Any],
    description: str,
    dead_letters: sqs.IQueue,
    parameters: dict[str, str] | None = None,
) -> events.CfnRule:
    """Start ``pipeline`` when ``event_pattern`` matches; undeliverable starts go to ``dead_letters``."""
    pipeline_arn = pipeline.arn
    stack = cdk.Stack.of(scope)
    role = _starter_role(
        scope,
        f"{construct_id}Role",
        service="events",
        source_arn=stack.format_arn(service="events", resource="rule", resource_name="*"),
        description=f"EventBridge: {description}",
        statements=[iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])],
    )
    rule = events.CfnRule(
        scope,
        construct_id,
        description=description,
        event_pattern=event_pattern,
        targets=[
            events.CfnRule.TargetProperty(
                id="Pipeline",
                arn=pipeline_arn,
                role_arn=role.role.role_arn,
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
                sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                    pipeline_parameter_list=[
                        events.CfnRule.SageMakerPipelineParameterProperty(name=name, value=value)
                        for name, value in (parameters or {}).items()
                    ]
                ),
                retry_policy=events.CfnRule.RetryPolicyProperty(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                ),
            )
        ],
    )
    rule.node.add_dependency(role.policy)
    return rule


def notification_rule(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    event_pattern: dict[str, Any],
    topic: sns.ITopic,
    dead_letters: sqs.IQueue,
    paths: dict[str, str],
    template: str,
) -> events.CfnRule:
    """Tell a person on ``topic`` when ``event_pattern`` matches: ``template`` with ``<name>`` placeholders
    filled from the event's JSON ``paths``; undeliverable messages go to ``dead_letters``."""
    return events.CfnRule(
        scope,
        construct_id,
        description=description,
        event_pattern=event_pattern,
        targets=[
            events.CfnRule.TargetProperty(
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
                id="AlertsTopic",
                arn=topic.topic_arn,
                retry_policy=events.CfnRule.RetryPolicyProperty(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                ),
                input_transformer=events.CfnRule.InputTransformerProperty(
                    input_paths_map=paths, input_template=f'"{template}"'
                ),
            )
        ],
    )
