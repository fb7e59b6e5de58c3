"""SageMaker Feature Store: one feature group, online and offline, KMS-encrypted, offline in the lake
(control 16; exam 1.2)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from components.data.catalog import LakeCatalog
from components.data.lake import DataLake
from components.foundation.arns import sagemaker_arn
from components.foundation.compliance import acknowledge_wildcard
from components.foundation.exam import demonstrates
from components.foundation.roles import ServiceRole
from pipelines import placeholders

SCHEMA = placeholders.FEATURE_SCHEMA
OFFLINE_PREFIX = "feature-store"
LABEL = placeholders.LABEL  # the target column: in the feature group for training, never a model input


def load_schema(path: Path = SCHEMA) -> dict[str, Any]:
    """The schema the preprocess step writes (pipelines/feature_schema.json, checked by a test)."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def model_features(schema: dict[str, Any] | None = None) -> list[str]:
    """The model's raw inputs, in order (``features.INPUTS``): the feature group's features without the record
    id, the event time and the label. The model transforms them itself (pipelines/steps/serve.py)."""
    schema = schema or load_schema()
    skip = {schema["record_identifier"], schema["event_time"], LABEL}
    return [feature["name"] for feature in schema["features"] if feature["name"] not in skip]


def schema_version(schema: dict[str, Any]) -> str:
    """Six hex digits of the feature definitions' digest: what a group name carries to change with them."""
    return hashlib.sha256(json.dumps(schema["features"], sort_keys=True).encode()).hexdigest()[:6]


class FeatureStore(Construct):
    """A feature group whose online store and lake-resident offline store (with its Glue table in the
    lake database) are encrypted with the lake key. ``feature_group_name`` and ``feature_group_arn``
    are what the training pipeline ingests into."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        lake: DataLake,
        catalog: LakeCatalog,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        key, bucket, database_name = lake.key, lake.curated, catalog.database_name
        schema = load_schema()
        # Feature group names are unique per account and Region, and a retained group keeps its name after a
        # teardown (facts: feature-group-name-unique): a fixed name would make the next deploy fail with
        # "already exists". The stack id's last twelve hex digits make the name unique per stack creation.
        suffix = cdk.Fn.select(4, cdk.Fn.split("-", cdk.Fn.select(2, cdk.Fn.split("/", stack.stack_id))))
        # Features cannot be removed from a group or change type (facts: feature-group-features-cannot-change): a
        # digest of the definitions in the name makes a schema change a replacement (a new group, then the
        # old one removed or retained per the removal policy) instead of an update CloudFormation cannot make.
        version = schema_version(schema)
        table_name = f"{name.replace('-', '_')}_{version}_{suffix}"
        name = f"{name}-{version}-{suffix}"
        offline_objects = bucket.arn_for_objects(f"{OFFLINE_PREFIX}/*")
        role = ServiceRole(
            self,
            "OfflineStoreRole",
            service="sagemaker.amazonaws.com",
            trust_as="feature-store-offline-store",
            description="Feature Store: write the offline store into the lake's curated bucket",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:PutObject", "s3:GetObject", "s3:PutObjectAcl"], resources=[offline_objects]
                ),
                iam.PolicyStatement(actions=["s3:GetBucketAcl", "s3:GetBucketLocation"], resources=[bucket.bucket_arn]),
                iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]),
                iam.PolicyStatement(
                    sid="OfflineStoreTable",
                    actions=["glue:GetTable", "glue:UpdateTable"],
                    resources=[
                        stack.format_arn(service="glue", resource="catalog"),
                        stack.format_arn(service="glue", resource="database", resource_name=database_name),
                        stack.format_arn(
                            service="glue", resource="table", resource_name=f"{database_name}/{table_name}"
                        ),
                    ],
                ),
            ],
        )
        acknowledge_wildcard(
            role.policy,
            offline_objects,
            "Feature Store names offline-store objects itself, only under the feature-store/ prefix.",
        )
        self.feature_group = sagemaker.CfnFeatureGroup(
            self,
            "FeatureGroup",
            feature_group_name=name,
            description="Applicants' model inputs (before each model's fitted transform), from the training pipeline",
            record_identifier_feature_name=schema["record_identifier"],
            event_time_feature_name=schema["event_time"],
            feature_definitions=[
                sagemaker.CfnFeatureGroup.FeatureDefinitionProperty(feature_name=f["name"], feature_type=f["type"])
                for f in schema["features"]
            ],
            online_store_config={"EnableOnlineStore": True, "SecurityConfig": {"KmsKeyId": key.key_arn}},
            offline_store_config={
                "S3StorageConfig": {"S3Uri": f"s3://{bucket.bucket_name}/{OFFLINE_PREFIX}", "KmsKeyId": key.key_arn},
                "DisableGlueTableCreation": False,
                "DataCatalogConfig": {
                    "Catalog": "AwsDataCatalog",
                    "Database": database_name,
                    "TableName": table_name,
                },
            },
            role_arn=role.role.role_arn,
        )
        self.feature_group.node.add_dependency(role.policy)
        self.feature_group.apply_removal_policy(removal_policy)
        # Ref of a feature group is its name: consumers read it as one plain value.
        self.feature_group_name = self.feature_group.ref
        self.feature_group_arn = sagemaker_arn(self, "feature-group", self.feature_group_name)
        # The online store is encrypted with this key: every caller of GetRecord/PutRecord needs kms:Decrypt on
        # it (facts: online-store-callers-need-kms-decrypt).
        self.online_store_key = key
        self.schema_version = version
        demonstrates(
            self.feature_group,
            ["1.2"],
            "Feature Store serves each applicant's model inputs online (the API scores them by id) and offline.",
        )
