"""The audit trail: CloudTrail into an Object-Locked bucket and CloudWatch Logs (control 35; exam 4.2, 4.3)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from components.foundation.encryption import allow_logs, platform_key
from components.foundation.exam import demonstrates
from components.foundation.log_groups import encrypted_log_group
from components.foundation.roles import ServiceRole
from components.foundation.storage import SecureBucket


class AuditTrail(Construct):
    """A multi-region trail with log file validation, encrypted by its own key, recording management
    events everywhere and S3 data events on ``data_buckets``.

    The audit bucket keeps objects under Object Lock (governance mode) and is always retained: audit
    records outlive the platform, whatever the profile's teardown choice.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_buckets: Sequence[s3.IBucket],
        access_logs_bucket: s3.IBucket,
        object_lock_days: int,
        noncurrent_version_expiration_days: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        trails_arn = stack.format_arn(service="cloudtrail", region="*", resource="trail", resource_name="*")
        # Retained like the audit bucket it encrypts: a deleted key would leave the kept logs unreadable.
        self.key = platform_key(
            self,
            "Key",
            description="Encrypts the CloudTrail audit trail and its log group. Separation of duties: auditors "
            "read it, data users and pipelines cannot; retained with the audit bucket",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        allow_logs(self.key)
        # The key policy CloudTrail documents for a trail (facts: cloudtrail-bucket-key-needs-decrypt), scoped to this
        # account's trails by aws:SourceArn as the page recommends. kms:Decrypt is required because the audit
        # bucket uses an S3 Bucket Key (facts: cloudtrail-bucket-key-needs-decrypt).
        from_these_trails = {"ArnLike": {"aws:SourceArn": trails_arn}}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogs",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    **from_these_trails,
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails_arn},
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDecryptForBucketKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions=from_these_trails,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=from_these_trails,
            )
        )
        self.bucket = SecureBucket(
            self,
            "Bucket",
            encryption_key=self.key,
            access_logs_bucket=access_logs_bucket,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            object_lock_days=object_lock_days,
            noncurrent_version_expiration_days=max(noncurrent_version_expiration_days, object_lock_days),
        ).bucket
        demonstrates(self.bucket, ["4.3"], "Audit logs under Object Lock (governance mode): tamper-resistant evidence.")
        trail_condition = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": trails_arn},
        }
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailAclCheck",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=trail_condition,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailWrite",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
                conditions=trail_condition,
            )
        )
        self.log_group = encrypted_log_group(
            self, "LogGroup", key=self.key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        logs_role = ServiceRole(
            self,
            "LogsRole",
            # No aws:SourceArn / aws:SourceAccount here: CloudTrail does not support them on this role
            # (facts: trust keys of cloudtrail.amazonaws.com); with them the trail fails to create.
            service="cloudtrail.amazonaws.com",
            description="CloudTrail delivery into the audit log group",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]
                )
            ],
        )
        self.trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            is_logging=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            kms_key_id=self.key.key_arn,
            s3_bucket_name=self.bucket.bucket_name,
            cloud_watch_logs_log_group_arn=self.log_group.log_group_arn,
            cloud_watch_logs_role_arn=logs_role.role.role_arn,
            event_selectors=[
                cloudtrail.CfnTrail.EventSelectorProperty(
                    include_management_events=True,
                    read_write_type="All",
                    data_resources=[
                        cloudtrail.CfnTrail.DataResourceProperty(
                            type="AWS::S3::Object", values=[bucket.arn_for_objects("") for bucket in data_buckets]
                        )
                    ],
                )
            ],
        )
        policy = self.bucket.policy
        assert policy is not None
        self.trail.node.add_dependency(policy, logs_role.policy)
        demonstrates(
            self.trail,
            ["4.2", "4.3"],
            "Who did what, where: every API call in every region, plus reads and writes of lake data.",
        )
