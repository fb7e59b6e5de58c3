"""What starts a SageMaker pipeline (an EventBridge Scheduler schedule or an EventBridge rule, each with a
role that may start that one pipeline and nothing else) and what tells a person (exam 3.3, 4.2)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from components.roles import ServiceRole


def _starter_role(
    scope: Construct, construct_id: str, *, service: str, resource: str, pipeline_arn: str, description: str
) -> ServiceRole:
    stack = cdk.Stack.of(scope)
    return ServiceRole(
        scope,
        construct_id,
        service=f"{service}.amazonaws.com",
        description=description,
        source_arn=f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{resource}/*",
        statements=[iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])],
    )


def pipeline_schedule(
    scope: Construct, construct_id: str, *, pipeline_arn: str, expression: str, description: str, after: IConstruct
) -> scheduler.CfnSchedule:
    """Start ``pipeline_arn`` on ``expression`` (rate or cron), retrying for an hour."""
    role = _starter_role(
        scope,
        f"{construct_id}Role",
        service="scheduler",
        resource="schedule",
        pipeline_arn=pipeline_arn,
        description=f"EventBridge Scheduler: {description}",
    )
    schedule = scheduler.CfnSchedule(
        scope,
        construct_id,
        description=description,
        schedule_expression=expression,
        flexible_time_window={"mode": "OFF"},
        target=scheduler.CfnSchedule.TargetProperty(
            arn=pipeline_arn,
            role_arn=role.role.role_arn,
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
            ),
            sage_maker_pipeline_parameters=scheduler.CfnSchedule.SageMakerPipelineParametersProperty(
                pipeline_parameter_list=[]
            ),
        ),
    )
    schedule.node.add_dependency(role.policy, after)
    return schedule


def pipeline_rule(
    scope: Construct,
    construct_id: str,
    *,
    pipeline_arn: str,
    event_pattern: dict[str, Any],
    description: str,
    dead_letters: sqs.IQueue,
    parameters: dict[str, str] | None = None,
) -> events.CfnRule:
    """Start ``pipeline_arn`` when ``event_pattern`` matches; undeliverable starts go to ``dead_letters``."""
    role = _starter_role(
        scope,
        f"{construct_id}Role",
        service="events",
        resource="rule",
        pipeline_arn=pipeline_arn,
        description=f"EventBridge: {description}",
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
