"""An invocation path for applications: API Gateway (IAM auth, throttling, access logs) -> a Lambda in the
VPC -> the endpoint through the SageMaker runtime VPC endpoint (control 39; exam 3.1, 3.2).

The contract is ``docs/openapi.json`` (generated from the function's routes; a test checks this API has
exactly its paths and methods): ``POST /predict`` takes raw applicant records as JSON, ``GET
/applicants/{applicant_id}/prediction`` scores an applicant's features read from the online feature store
(through its VPC endpoint). The model applies the training transform itself (pipelines/steps/serve.py).
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from components.data.feature_store import FeatureStore
from components.foundation.compliance import acknowledge, guard_exception, skip_checkov
from components.foundation.exam import demonstrates
from components.foundation.functions import VpcFunction
from components.foundation.log_groups import encrypted_log_group
from components.network import IsolatedNetwork
from components.serving.endpoint import ModelEndpoint
from config.schema import ApiConfig

STAGE = "v1"
SERVICE = "credit-scoring-api"  # Powertools' service name: the logs' and metrics' dimension
METRICS_NAMESPACE = "MLPlatform/Api"  # Latency, RecordsScored, BadRequests (EMF, from the function's logs)


class InvocationApi(Construct):
    """``POST /predict`` (raw applicant records) and ``GET /applicants/{applicant_id}/prediction`` (features from
    ``features``' online store) answer probabilities and decisions from ``endpoint``. Callers sign requests
    (SigV4) with an IAM identity allowed ``execute-api:Invoke`` on ``api.arn_for_execute_api``. Exposes ``api``,
    ``function`` and ``handler`` (the VpcFunction)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ApiConfig,
        reserved_concurrency: int | None,
        endpoint: ModelEndpoint,
        features: FeatureStore,
        network: IsolatedNetwork,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = VpcFunction(
            self,
            "Function",
            folder="invoke_endpoint",
            description="Scores raw credit applications, or an applicant's stored features, on the endpoint",
            role_description="Invocation function: read online features, call the endpoint, write logs and traces",
            network=network,
            statements=[
                iam.PolicyStatement(
                    sid="InvokeTheEndpoint", actions=["sagemaker:InvokeEndpoint"], resources=[endpoint.endpoint_arn]
                ),
                # facts: featurestore-get-record-permission
                iam.PolicyStatement(
                    sid="ReadOnlineFeatures", actions=["sagemaker:GetRecord"], resources=[features.feature_group_arn]
                ),
                iam.PolicyStatement(
                    sid="DecryptOnlineFeatures", actions=["kms:Decrypt"], resources=[features.online_store_key.key_arn]
                ),
            ],
            environment={
                "ENDPOINT_NAME": endpoint.endpoint_name,
                # Which approved package each variant serves, so an answer names the model version of the variant
                # the endpoint reports (facts: invoked-production-variant).
                "VARIANT_PACKAGES": json.dumps({v.name: v.model_package_arn for v in endpoint.variants}),
                "DECISION_THRESHOLD": repr(config.decision_threshold),
                "FEATURE_GROUP_NAME": features.feature_group_name,
                # A literal that changes with the feature definitions: a schema change replaces the group under a
                # new name, and this stack must update with it (the name arrives by weak reference, resolved only
                # when this stack deploys; facts: fn-getstackoutput-weak).
                "FEATURE_SCHEMA_VERSION": features.schema_version,
                "POWERTOOLS_SERVICE_NAME": SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            reserved_concurrency=reserved_concurrency,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.function = self.handler.function
        key = self.handler.key
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
                stage_name=STAGE,
                tracing_enabled=True,
                metrics_enabled=True,
                # Execution logging (errors) needs the account's API Gateway CloudWatch role, which the
                # Governance stack sets (facts: apigateway-account-cloudwatch-role); no request bodies logged.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=config.throttle_rate_per_second,
                throttling_burst_limit=config.throttle_burst,
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
        integration = apigw.LambdaIntegration(self.function)
        predict = self.api.root.add_resource("predict").add_method(
            "POST", integration, authorization_type=apigw.AuthorizationType.IAM, request_validator=validator
        )
        by_applicant = (
            self.api.root.add_resource("applicants")
            .add_resource("{applicant_id}")
            .add_resource("prediction")
            .add_method(
                "GET",
                integration,
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
                request_parameters={"method.request.path.applicant_id": True},
            )
        )
        self.methods = [predict, by_applicant]
        for method in self.methods:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "Callers are applications with IAM identities, authorized by SigV4 (AWS_IAM); there are no "
                "end users for a Cognito user pool to sign in.",
            )
        demonstrates(self.api, ["3.1", "4.3"], "IAM-authenticated, throttled and access-logged inference API.")
        # API Gateway's invoke permissions name the source API; name the account too (Control Tower
        # CT.LAMBDA.PR.2 reads SourceAccount when the principal is a service).
        for permission in self.node.find_all():
            if isinstance(permission, lambda_.CfnPermission):
                permission.source_account = cdk.Stack.of(self).account
                guard_exception(
                    permission,
                    "lambda_function_public_access_prohibited_check",
                    "Only this API may invoke: SourceArn is its execute-api ARN and SourceAccount this account, "
                    "both CloudFormation references (the template is environment-agnostic), which the rule "
                    "accepts only as literal strings.",
                )
        stage = self.api.deployment_stage
        acknowledge(
            stage,
            ["AwsSolutions-APIG3", "NIST.800.53.R5-APIGWAssociatedWithWAF", "PCI.DSS.321-APIGWAssociatedWithWAF"],
            "Callers are IAM principals signing with SigV4 (no anonymous traffic to filter); a WAF web ACL "
            "is a per-organisation edge choice that can be attached to this stage.",
        )
        # API Gateway creates the execution log group itself, unencrypted and kept forever, unless it exists
        # first: make it here, KMS-encrypted with the profile's retention (control 36), before the stage.
        execution_logs = encrypted_log_group(
            self,
            "ExecutionLogs",
            key=key,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
            log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{STAGE}",
        )
        stage.node.add_dependency(execution_logs)
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
