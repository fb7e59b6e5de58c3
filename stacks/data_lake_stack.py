"""DataLake (stateful): the lake's key and buckets, its catalog, and streaming ingestion."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from components.data.catalog import LakeCatalog
from components.data.lake import DataLake
from components.data.streaming import StreamingIngestion
from config.schema import PlatformConfig


class DataLakeStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        lake_config = config.data_lake
        self.lake = DataLake(
            self,
            "Lake",
            config=lake_config,
            access_log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
        )
        self.catalog = LakeCatalog(
            self,
            "Catalog",
            name_prefix=config.name_prefix,
            key=self.lake.key,
            curated=self.lake.curated,
            results=self.lake.artifacts,
            crawler_schedule=lake_config.crawler_schedule,
            bytes_scanned_cutoff_mb=lake_config.athena_bytes_scanned_cutoff_mb,
            destroy_results_on_delete=removal_policy == cdk.RemovalPolicy.DESTROY,
        )
        self.streaming = StreamingIngestion(
            self,
            "Streaming",
            config=lake_config.streaming,
            key=self.lake.key,
            destination=self.lake.raw,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
        )
        # On teardown, delete the delivery stream before the raw bucket is emptied: Firehose flushes its buffer
        # into raw (facts: firehose-buffering) and would refill a bucket being emptied.
        emptier = self.lake.raw.node.try_find_child("AutoDeleteObjectsCustomResource")
        if emptier is not None:
            emptier.node.add_dependency(self.streaming.delivery_stream)
