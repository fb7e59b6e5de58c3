"""The model-deploy path: a package approved in the registry tells the team exactly how to serve it
(exam 3.3). Deploying stays a reviewed `cdk deploy` with the package named; the CI/CD stack automates it."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.exam import demonstrates


class ApprovalNotifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_package_group_name: str,
        topic: sns.ITopic,
        deploy_command: str,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.CfnRule(
            self,
            "ApprovedRule",
            description="A model package was approved: announce how to serve it",
            event_pattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": [model_package_group_name], "ModelApprovalStatus": ["Approved"]},
            },
            targets=[
                events.CfnRule.TargetProperty(
                    dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=dead_letters.queue_arn),
                    id="AlertsTopic",
                    arn=topic.topic_arn,
                    input_transformer=events.CfnRule.InputTransformerProperty(
                        input_paths_map={"arn": "$.detail.ModelPackageArn"},
                        input_template=f'"Model package <arn> was approved. Serve it with: {deploy_command}<arn>"',
                    ),
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                    ),
                )
            ],
        )
        demonstrates(self.rule, ["3.3"], "Registry approval events drive the deployment path.")
