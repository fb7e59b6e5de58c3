"""An invocation path for applications: API Gateway (IAM auth, throttling, access logs) -> a Lambda in the
VPC -> the endpoint through the SageMaker runtime VPC endpoint (control 39; exam 3.1, 3.2)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.compliance import acknowledge, skip_checkov
from components.encryption import allow_logs, platform_key
from components.exam import demonstrates
from components.log_groups import encrypted_log_group
from components.network import IsolatedNetwork
from components.roles import ServiceRole
from config.settings import InferenceConfig

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "lambdas" / "invoke_endpoint"


class InvocationApi(Construct):
    """``POST /predict`` with CSV rows returns default probabilities. Callers sign requests (SigV4) with an
    IAM identity allowed ``execute-api:Invoke`` on ``api.arn_for_execute_api``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InferenceConfig,
        endpoint_name: str,
        endpoint_arn: str,
        feature_count: int,
        network: IsolatedNetwork,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        key = platform_key(
            self,
            "Key",
            description="Encrypts the invocation function's logs, settings and DLQ",
            removal_policy=removal_policy,
        )
        allow_logs(key)
        dead_letters = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            removal_policy=removal_policy,
        )
        acknowledge(
            dead_letters,
            "Serverless-SQSRedrivePolicy",
            "This queue is itself the invocation function's dead-letter queue; failed events end here for inspection.",
        )
        function_logs = encrypted_log_group(
            self, "FunctionLogs", key=key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        role = ServiceRole(
            self,
            "FunctionRole",
            service="lambda.amazonaws.com",
            description="Invocation function: call the endpoint, write its logs, traces and dead letters",
            statements=[
                iam.PolicyStatement(
                    sid="InvokeTheEndpoint", actions=["sagemaker:InvokeEndpoint"], resources=[endpoint_arn]
                ),
                iam.PolicyStatement(
                    sid="FunctionLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[function_logs.log_group_arn],
                ),
                iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letters.queue_arn]),
                iam.PolicyStatement(
                    sid="UseFunctionKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
                ),
                iam.PolicyStatement(
                    sid="Tracing", actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
                ),
            ],
        )
        role.allow_vpc_network_interfaces("the function", also="X-Ray trace calls take no resource.")
        self.function = lambda_.Function(
            self,
            "Function",
            description="Scores CSV rows on the credit-default endpoint",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(FUNCTION_DIR), exclude=["__pycache__", "__init__.py"]),
            role=role.locked,
            memory_size=256,
            timeout=cdk.Duration.seconds(15),
            reserved_concurrent_executions=config.function_reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=dead_letters,
            environment_encryption=key,
            environment={"ENDPOINT_NAME": endpoint_name, "FEATURE_COUNT": str(feature_count)},
            vpc=network.vpc,
            vpc_subnets=network.subnets,
            security_groups=[network.workload_security_group],
            log_group=function_logs,
        )
        # The function needs its network-interface permissions before it is created: depend on the policy
        # (the L2 would otherwise add a DependsOn on the role that its GetAtt already implies).
        function_resource = self.function.node.default_child
        assert isinstance(function_resource, lambda_.CfnFunction)
        function_resource.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(role.policy.node.default_child)])  # type: ignore[arg-type]
        demonstrates(self.function, ["3.2", "4.3"], "A function in the VPC that calls the endpoint privately.")

        access_logs = encrypted_log_group(
            self, "AccessLogs", key=key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Credit-default scoring (IAM-signed requests only)",
            cloud_watch_role=False,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=config.api_throttle_rate_per_second,
                throttling_burst_limit=config.api_throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        method = self.api.root.add_resource("predict").add_method(
            "POST",
            apigw.LambdaIntegration(self.function),
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator=validator,
        )
        acknowledge(
            method,
            "AwsSolutions-COG4",
            "Callers are applications with IAM identities, authorized by SigV4 (AWS_IAM); there are no "
            "end users for a Cognito user pool to sign in.",
        )
        demonstrates(self.api, ["3.1", "4.3"], "IAM-authenticated, throttled and access-logged inference API.")
        stage = self.api.deployment_stage
        acknowledge(
            stage,
            ["AwsSolutions-APIG3", "NIST.800.53.R5-APIGWAssociatedWithWAF", "PCI.DSS.321-APIGWAssociatedWithWAF"],
            "Callers are IAM principals signing with SigV4 (no anonymous traffic to filter); a WAF web ACL "
            "is a per-organisation edge choice that can be attached to this stage.",
        )
        acknowledge(
            stage,
            [
                "AwsSolutions-APIG6",
                "NIST.800.53.R5-APIGWExecutionLoggingEnabled",
                "PCI.DSS.321-APIGWExecutionLoggingEnabled",
                "HIPAA.Security-APIGWExecutionLoggingEnabled",
            ],
            "Execution logging needs an account-wide API Gateway CloudWatch role with an AWS-managed policy "
            "(control 31); structured access logs and X-Ray tracing are on for this stage.",
        )
        acknowledge(
            stage,
            [
                "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
                "PCI.DSS.321-APIGWCacheEnabledAndEncrypted",
                "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            ],
            "Predictions are per request and must not be served from a cache; no cache cluster exists.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Predictions are per request and must not be served from a cache; no cache cluster exists.",
        )
        acknowledge(
            stage,
            ["NIST.800.53.R5-APIGWSSLEnabled", "PCI.DSS.321-APIGWSSLEnabled", "HIPAA.Security-APIGWSSLEnabled"],
            "The integration is a Lambda proxy, not an HTTP backend, so there is no backend TLS client "
            "certificate to present.",
        )
