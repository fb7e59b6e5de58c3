"""Streaming ingestion: a KMS-encrypted Kinesis stream delivered by Firehose into the raw zone (exam 1.1)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from components.compliance import acknowledge, acknowledge_wildcard
from components.exam import demonstrates
from components.log_groups import encrypted_log_group
from components.roles import ServiceRole
from config.settings import StreamingConfig

# Hive-style date partitions, so the crawler and Athena prune by day.
DATA_PREFIX = "streaming/events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
ERROR_PREFIX = (
    "streaming/errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
)


class StreamingIngestion(Construct):
    """Producers put records on ``stream``; Firehose batches, compresses and writes them to ``raw``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StreamingConfig,
        key: kms.IKey,
        destination: s3.IBucket,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stream = kinesis.Stream(
            self,
            "Stream",
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=key,
            stream_mode=kinesis.StreamMode.PROVISIONED,
            shard_count=config.shard_count,
            retention_period=cdk.Duration.hours(config.retention_hours),
            removal_policy=removal_policy,
        )
        demonstrates(self.stream, ["1.1"], "Kinesis Data Streams takes real-time events, encrypted with the lake key.")
        log_group = encrypted_log_group(
            self, "DeliveryLogGroup", key=key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        role = ServiceRole(
            self,
            "DeliveryRole",
            service="firehose.amazonaws.com",
            description="Firehose: read the ingestion stream, write batches into the raw zone",
            statements=[
                iam.PolicyStatement(
                    actions=[
                        "kinesis:DescribeStream",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:GetShardIterator",
                        "kinesis:GetRecords",
                        "kinesis:ListShards",
                        "kinesis:SubscribeToShard",
                    ],
                    resources=[self.stream.stream_arn],
                ),
                iam.PolicyStatement(
                    actions=[
                        "s3:AbortMultipartUpload",
                        "s3:GetBucketLocation",
                        "s3:GetObject",
                        "s3:ListBucket",
                        "s3:ListBucketMultipartUploads",
                        "s3:PutObject",
                    ],
                    resources=[destination.bucket_arn, destination.arn_for_objects("streaming/*")],
                ),
                iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                ),
            ],
        )
        acknowledge_wildcard(
            role.policy,
            destination.arn_for_objects("streaming/*"),
            "Firehose writes date-partitioned objects it names itself, only under streaming/.",
        )
        acknowledge(
            self.stream,
            "AwsSolutions-KDS3",
            "The platform encrypts the stream with the lake's customer-managed key (rotation, key policy, "
            "audit) on purpose, not the AWS-managed aws/kinesis key.",
        )
        log_stream = logs.LogStream(self, "DeliveryLogStream", log_group=log_group, removal_policy=removal_policy)
        self.delivery_stream = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=self.stream.stream_arn, role_arn=role.role.role_arn
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=destination.bucket_arn,
                role_arn=role.role.role_arn,
                prefix=DATA_PREFIX,
                error_output_prefix=ERROR_PREFIX,
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=config.buffer_interval_seconds, size_in_m_bs=config.buffer_size_mib
                ),
                compression_format="GZIP",
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                        awskms_key_arn=key.key_arn
                    )
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=log_group.log_group_name, log_stream_name=log_stream.log_stream_name
                ),
            ),
        )
        self.delivery_stream.node.add_dependency(role.policy)
        demonstrates(
            self.delivery_stream,
            ["1.1"],
            "Firehose delivers the stream into date-partitioned, compressed, KMS-encrypted raw objects.",
        )
        acknowledge(
            self.delivery_stream,
            "AwsSolutions-KDF1",
            "Firehose server-side encryption applies to Direct PUT only; this stream reads a KMS-encrypted "
            "Kinesis stream and writes SSE-KMS objects with the lake key.",
        )
