"""The one way the platform makes a dead-letter queue (control 38): KMS-encrypted, TLS-only, 14 days."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.foundation.compliance import acknowledge, guard_exception
from components.foundation.encryption import allow_service


def dead_letter_queue(
    scope: Construct,
    construct_id: str,
    *,
    key: kms.IKey,
    holds: str,
    removal_policy: cdk.RemovalPolicy,
    also_acknowledge: Sequence[str] = (),
) -> sqs.Queue:
    """A queue where what could not be delivered (``holds``) waits 14 days for inspection. A dead-letter queue
    has no dead-letter queue of its own, which the rule packs and Control Tower would otherwise ask for."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
        removal_policy=removal_policy,
    )
    reason = f"This queue is itself the dead-letter queue of {holds}; undeliverable messages end here for inspection."
    acknowledge(queue, ["Serverless-SQSRedrivePolicy", *also_acknowledge], reason)
    guard_exception(
        queue, "sqs_dlq_check", f"{reason} A dead-letter queue of a dead-letter queue would only move them again."
    )
    return queue


def email_subscription(topic: sns.ITopic, email: str, *, key: kms.Key, dead_letters: sqs.IQueue) -> None:
    """Subscribe ``email`` to ``topic``; what SNS cannot deliver goes to ``dead_letters``, which SNS may write
    through ``key`` (the queue's key; no source-account condition: SNS sends none for a subscription's DLQ)."""
    allow_service(
        key,
        sid="AllowSnsToDeadLetterEncrypted",
        service="sns.amazonaws.com",
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        source_account_condition=False,
    )
    topic.add_subscription(subscriptions.EmailSubscription(email, dead_letter_queue=dead_letters))


def allow_eventbridge_rules(queue: sqs.IQueue, *, key: kms.Key | None = None) -> None:
    """Let this account's EventBridge rules put what their targets could not take into ``queue``, and, given the
    queue's ``key``, encrypt with it (EventBridge's KMS calls carry no source account: facts: sns-publisher-conditions;
    the alerts topic's key already allows EventBridge as a publisher)."""
    stack = cdk.Stack.of(queue)
    if key is not None:
        allow_service(
            key,
            sid="AllowEventBridgeToDeadLetterEncrypted",
            service="events.amazonaws.com",
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            source_account_condition=False,
        )
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="EventBridgeRulesOfThisAccount",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={
                "ArnLike": {
                    "aws:SourceArn": stack.format_arn(
                        service="events", account=stack.account, resource="rule", resource_name="*"
                    )
                }
            },
        )
    )
