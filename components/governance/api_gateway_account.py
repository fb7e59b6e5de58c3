"""Account-level settings a resource of the platform needs before it can be created (exam 4.2, 4.3).

API Gateway writes a stage's access and execution logs to CloudWatch Logs with one IAM role per account
and region, set on ``AWS::ApiGateway::Account``. In an account and region that never set it, creating a
stage with logging fails ("CloudWatch Logs role ARN must be set in account settings to enable logging";
facts: apigateway-account-cloudwatch-role). The Governance stack sets it, before any API exists, unless the
profile says the account's owner (a landing zone, say) already manages it.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from components.foundation.compliance import acknowledge_wildcard
from components.foundation.exam import demonstrates
from components.foundation.log_groups import log_group_arn
from components.foundation.roles import ServiceRole
from config.facts import fact


class ApiGatewayLoggingRole(Construct):
    """``role`` and ``account`` (the AWS::ApiGateway::Account setting that points at it).

    The role is retained on delete: the setting is account-wide and outlives this stack (deleting the
    resource does not reset it), so other APIs of the account keep logging after a teardown.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        documented = fact("apigateway-account-cloudwatch-role")
        log_groups = log_group_arn(self, "*")
        self.role = ServiceRole(
            self,
            "Role",
            service="apigateway.amazonaws.com",
            description="API Gateway (account setting): write REST API access and execution logs",
            statements=[
                iam.PolicyStatement(sid="WriteApiLogs", actions=list(documented.value), resources=[log_groups])
            ],
        )
        acknowledge_wildcard(
            self.role.policy,
            log_groups,
            "API Gateway names execution log groups per API and stage (API-Gateway-Execution-Logs_<id>/<stage>) "
            "and writes access logs to the group a stage names; the account-wide role must reach all of them.",
        )
        self.role.role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.role.policy.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role.role_arn)
        self.account.node.add_dependency(self.role.policy)
        demonstrates(
            self.account,
            ["4.2", "4.3"],
            "The account's API Gateway logging role: without it no stage can log (documented account setting).",
        )
