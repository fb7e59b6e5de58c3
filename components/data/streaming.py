"""Streaming ingestion into the raw zone (exam 1.1): a KMS-encrypted Kinesis data stream delivered by
Firehose, or Firehose Direct PUT with server-side encryption under the lake key.

Which to choose (``data_lake.streaming.source``): a Kinesis data stream keeps records for replay (24 h to
365 days), lets several consumers read the same records, and orders them per shard, at a fixed price per
shard-hour (provisioned) or stream-hour (on demand). Direct PUT has no fixed price: producers call Firehose,
which batches into S3; there is no replay and no second consumer. The sandbox takes Direct PUT; production
keeps the stream.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from components.foundation.compliance import acknowledge, acknowledge_wildcard
from components.foundation.exam import demonstrates
from components.foundation.log_groups import encrypted_log_group
from components.foundation.roles import ServiceRole
from config.schema import StreamingConfig

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
        self.stream: kinesis.Stream | None = None
        if config.source == "kinesis":
            on_demand = config.stream_mode == "on_demand"
            self.stream = kinesis.Stream(
                self,
                "Stream",
                encryption=kinesis.StreamEncryption.KMS,
                encryption_key=key,
                stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
                shard_count=None if on_demand else config.shard_count,
                retention_period=cdk.Duration.hours(config.retention_hours),
                removal_policy=removal_policy,
            )
            demonstrates(
                self.stream, ["1.1"], "Kinesis Data Streams takes real-time events, encrypted with the lake key."
            )
            acknowledge(
                self.stream,
                "AwsSolutions-KDS3",
                "The platform encrypts the stream with the lake's customer-managed key (rotation, key policy, "
                "audit) on purpose, not the AWS-managed aws/kinesis key.",
            )
        log_group = encrypted_log_group(
            self, "DeliveryLogGroup", key=key, retention_days=log_retention_days, removal_policy=removal_policy
        )
        read_stream = (
            [
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
                )
            ]
            if self.stream is not None
            else []
        )
        role = ServiceRole(
            self,
            "DeliveryRole",
            service="firehose.amazonaws.com",
            description="Firehose: write batches into the raw zone"
            + (", reading the ingestion stream" if self.stream is not None else " (Direct PUT)"),
            statements=[
                *read_stream,
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
        log_stream = logs.LogStream(self, "DeliveryLogStream", log_group=log_group, removal_policy=removal_policy)
        self.delivery_stream = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_type="KinesisStreamAsSource" if self.stream is not None else "DirectPut",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=self.stream.stream_arn, role_arn=role.role.role_arn
            )
            if self.stream is not None
            else None,
            # Direct PUT: records are encrypted at rest inside Firehose with the lake key (a stream source has
            # its own encryption, and Firehose rejects this setting for it).
            delivery_stream_encryption_configuration_input=None
            if self.stream is not None
            else firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="CUSTOMER_MANAGED_CMK", key_arn=key.key_arn
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
        if self.stream is not None:
            acknowledge(
                self.delivery_stream,
                "AwsSolutions-KDF1",
                "Firehose server-side encryption applies to Direct PUT only; this stream reads a KMS-encrypted "
                "Kinesis stream and writes SSE-KMS objects with the lake key.",
            )
