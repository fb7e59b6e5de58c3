"""The model-deploy path: a package approved in the registry tells the team exactly how to serve it
(exam 3.3). Deploying stays a reviewed `make deploy MODEL_PACKAGE_ARN=...` with the package named."""

from __future__ import annotations

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.foundation.exam import demonstrates
from components.foundation.triggers import notification_rule
from components.ml.registry import ModelRegistry


class ApprovalNotifications(Construct):
    """``rule``: an approved package of ``registry`` announces, on ``topic``, how it gets served (``how_to_serve``,
    where ``<arn>`` is the package's ARN): the command, or the pipeline that deploys it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: ModelRegistry,
        topic: sns.ITopic,
        how_to_serve: str,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = notification_rule(
            self,
            "ApprovedRule",
            description="A model package was approved: announce how to serve it",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {
                    "ModelPackageGroupName": [registry.name],
                    "ModelApprovalStatus": ["Approved"],
                },
            },
            topic=topic,
            dead_letters=dead_letters,
            paths={"arn": "$.detail.ModelPackageArn"},
            template=f"Model package <arn> was approved. {how_to_serve}",
        )
        demonstrates(self.rule, ["3.3"], "Registry approval events drive the deployment path.")
