"""The S3/KMS data lake: raw, curated and artifact zones plus their access-log bucket (exam 1.1, 4.3)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from components.foundation.encryption import allow_logs, platform_key
from components.foundation.exam import demonstrates
from components.foundation.storage import SecureBucket
from config.schema import DataLakeConfig
from pipelines import placeholders

# The prefixes that more than one domain shares: where a producer writes and another domain reads. A prefix
# only one component uses (batch/, monitoring/drift/, monitoring/model-monitor/) lives with that component.
TRAINING_PREFIX = "training/"  # in raw: the training data teams upload
READY_MARKER = f"{TRAINING_PREFIX}_READY"  # in raw: one upload of this object = one training pipeline execution
MODELS_PREFIX = "pipelines/models"  # in artifacts: model versions the training pipeline writes
BASELINE_PREFIX = placeholders.BASELINE_PREFIX  # in artifacts: the latest training run's drift baseline
CAPTURE_PREFIX = "data-capture"  # in artifacts: endpoint data capture, per endpoint, variant and hour
ASYNC_PREFIX = "async"  # in artifacts: async inference requests, results and failures


class DataLake(Construct):
    """One CMK for the lake, three zone buckets and the access-log bucket they log into.

    ``raw`` takes data as it arrives (batch uploads, the Firehose stream); ``curated`` holds cleaned,
    query-ready data (the Glue crawler's target); ``artifacts`` holds pipeline outputs, models,
    baselines, data capture and Athena results.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DataLakeConfig,
        access_log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = platform_key(
            self,
            "Key",
            removal_policy=removal_policy,
            description="Encrypts the data lake: buckets, stream, catalog logs, query results. One key for all "
            "data, so one key policy decides who can read it",
        )
        allow_logs(self.key)
        demonstrates(self.key, ["1.3", "4.3"], "A customer-managed, rotating key encrypts every zone of the lake.")
        # Always retained, like the audit bucket: S3 delivers access logs on a best-effort basis, hours late
        # at times (facts: s3-access-logs-best-effort), so an emptied log bucket can be refilled before it is
        # deleted and the teardown fails. Its objects expire by lifecycle; README says how to remove it.
        self.access_logs = SecureBucket(
            self,
            "AccessLogs",
            encryption_key=None,
            access_logs_bucket=None,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
            expiration_days=access_log_retention_days,
        ).bucket
        demonstrates(self.access_logs, ["4.3"], "Server access logs of every lake bucket, for audits.")

        def zone(construct_id: str, why: str) -> s3.Bucket:
            bucket = SecureBucket(
                self,
                construct_id,
                encryption_key=self.key,
                access_logs_bucket=self.access_logs,
                removal_policy=removal_policy,
                noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
                transition_to_infrequent_access_days=config.transition_to_infrequent_access_days,
            ).bucket
            demonstrates(bucket, ["1.1", "4.3"], why)
            return bucket

        self.raw = zone("Raw", "Landing zone for batch and streaming ingestion, SSE-KMS, versioned.")
        self.curated = zone("Curated", "Cleaned, query-ready data that the Glue crawler catalogs for Athena.")
        self.artifacts = zone("Artifacts", "Pipeline outputs, model artifacts, baselines and endpoint data capture.")

    @property
    def zones(self) -> dict[str, s3.IBucket]:
        """The data buckets by zone name (what CloudTrail records data events on)."""
        return {"raw": self.raw, "curated": self.curated, "artifacts": self.artifacts}
