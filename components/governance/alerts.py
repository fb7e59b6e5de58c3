"""The platform's encrypted notification topic (control 38; alarms, budgets and anomalies publish here)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from components.foundation.dead_letters import allow_eventbridge_rules, dead_letter_queue, email_subscription
from components.foundation.encryption import allow_service, platform_key
from components.foundation.exam import demonstrates

# Services that publish platform notifications, whether their KMS calls carry aws:SourceAccount, and the
# condition their topic-policy statement uses (facts: sns-publisher-conditions): the account for Budgets and
# CloudWatch, the rule ARN for EventBridge (its documented key), none documented for Cost Anomaly Detection.
PUBLISHERS = {
    "budgets.amazonaws.com": True,
    "cloudwatch.amazonaws.com": True,
    "costalerts.amazonaws.com": False,
    "events.amazonaws.com": False,
}


def _publisher_condition(service: str, stack: cdk.Stack) -> dict[str, dict[str, str]] | None:
    if service == "events.amazonaws.com":
        return {"ArnLike": {"aws:SourceArn": stack.format_arn(service="events", resource="rule", resource_name="*")}}
    if service == "costalerts.amazonaws.com":
        return None
    return {"StringEquals": {"aws:SourceAccount": stack.account}}


class AlertsTopic(Construct):
    """A KMS-encrypted, TLS-only topic that AWS Budgets, Cost Anomaly Detection, CloudWatch alarms and
    EventBridge rules of this account can publish to, with an email subscription."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str, removal_policy: cdk.RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.key = platform_key(
            self,
            "Key",
            description="Encrypts the platform alerts topic and its dead-letter queue. Apart from the lake key: "
            "Budgets, CloudWatch, EventBridge and Cost Anomaly Detection use it, and never reach data",
            removal_policy=removal_policy,
        )
        self.topic = sns.Topic(self, "Topic", display_name="ML platform alerts", master_key=self.key, enforce_ssl=True)
        for service, carries_source_account in PUBLISHERS.items():
            name = service.split(".")[0].capitalize()
            allow_service(
                self.key,
                sid=f"Allow{name}ToPublishEncrypted",
                service=service,
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                source_account_condition=carries_source_account,
            )
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Allow{name}ToPublish",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions=_publisher_condition(service, cdk.Stack.of(self)),
                )
            )
        # Notifications that cannot be delivered (an EventBridge target or the email subscription failing)
        # wait here for 14 days instead of vanishing.
        self.dead_letters = dead_letter_queue(
            self,
            "DeadLetterQueue",
            key=self.key,
            holds="the platform's notifications",
            removal_policy=removal_policy,
            also_acknowledge=["AwsSolutions-SQS3"],
        )
        allow_eventbridge_rules(self.dead_letters)
        email_subscription(self.topic, email, key=self.key, dead_letters=self.dead_letters)
        demonstrates(self.topic, ["4.2"], "One encrypted channel for cost, alarm and pipeline notifications.")
