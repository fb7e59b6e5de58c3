"""Platform notifications (exam 4.2, 3.3): failed pipeline executions and every model registry decision reach the
alerts topic through EventBridge, with a dead-letter queue for undelivered events."""

from __future__ import annotations

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.foundation.exam import demonstrates
from components.foundation.triggers import notification_rule
from components.ml.pipeline import SageMakerPipeline
from components.ml.registry import ModelRegistry


class PlatformNotifications(Construct):
    """Failed executions of ``pipelines`` and every state change in ``registry`` but approvals (announced by the
    Inference stack with the command that serves the version), on the alerts topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipelines: list[SageMakerPipeline],
        registry: ModelRegistry,
        topic: sns.ITopic,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failures = notification_rule(
            self,
            "PipelineFailures",
            description="A platform pipeline execution failed",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
                "detail": {"pipelineArn": [p.arn for p in pipelines], "currentPipelineExecutionStatus": ["Failed"]},
            },
            topic=topic,
            dead_letters=dead_letters,
            paths={"pipeline": "$.detail.pipelineArn", "execution": "$.detail.pipelineExecutionArn"},
            template="Pipeline execution <execution> of <pipeline> failed.",
        )
        demonstrates(self.failures, ["4.2"], "Pipeline failures reach a person through EventBridge and SNS.")
        self.registry = notification_rule(
            self,
            "RegistryChanges",
            description="A model package of the platform was registered or rejected",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                # Approvals have their own message, with the command that serves the version (the Inference
                # stack's ApprovalNotifications): one approval, one message (facts: eventbridge-anything-but).
                "detail": {
                    "ModelPackageGroupName": [registry.name],
                    "ModelApprovalStatus": [{"anything-but": "Approved"}],
                },
            },
            topic=topic,
            dead_letters=dead_letters,
            paths={"arn": "$.detail.ModelPackageArn", "status": "$.detail.ModelApprovalStatus"},
            template="Model package <arn> is now <status>.",
        )
        demonstrates(self.registry, ["3.3"], "Every registry decision is announced (approvals with how to serve).")
