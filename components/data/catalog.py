"""Glue Data Catalog over the curated zone and an Athena workgroup to query it (exam 1.1, 1.2, 4.2)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from components.foundation.compliance import acknowledge_wildcard
from components.foundation.exam import demonstrates
from components.foundation.log_groups import log_group_arn
from components.foundation.roles import ServiceRole

FEATURE_STORE_PREFIX = "feature-store"  # components.data.feature_store.OFFLINE_PREFIX, kept equal by a test


class LakeCatalog(Construct):
    """A Glue database, a crawler that catalogs ``curated`` with encrypted logs, and a workgroup
    whose settings (encrypted results, per-query scan limit) users cannot override.

    ``name_prefix`` (``project-environment``) makes the account-unique names unique per deployment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        key: kms.IKey,
        curated: s3.IBucket,
        results: s3.IBucket,
        crawler_schedule: str | None,
        bytes_scanned_cutoff_mb: int,
        destroy_results_on_delete: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.database_name = name_prefix.replace("-", "_") + "_lake"
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="Curated zone of the ML platform's data lake"
            ),
        )
        demonstrates(database, ["1.1"], "The catalog makes curated S3 data queryable by Athena, Glue and SageMaker.")

        security = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"{name_prefix}-lake",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
                ),
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                    )
                ],
            ),
        )

        def glue_arn(resource: str, name: str | None = None) -> str:
            return stack.format_arn(service="glue", resource=resource, resource_name=name)

        tables_arn = glue_arn("table", f"{self.database_name}/*")
        crawler_logs_arn = log_group_arn(self, "/aws-glue/crawlers*")
        self.crawler_role = ServiceRole(
            self,
            "CrawlerRole",
            service="glue.amazonaws.com",
            description="Glue crawler: read the curated zone, write its tables to the lake database",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:ListBucket"],
                    resources=[curated.bucket_arn, curated.arn_for_objects("*")],
                ),
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
                ),
                iam.PolicyStatement(
                    actions=[
                        "glue:GetDatabase",
                        "glue:GetTable",
                        "glue:GetTables",
                        "glue:CreateTable",
                        "glue:UpdateTable",
                        "glue:GetPartition",
                        "glue:GetPartitions",
                        "glue:BatchCreatePartition",
                        "glue:BatchGetPartition",
                        "glue:UpdatePartition",
                        "glue:BatchUpdatePartition",
                        "glue:GetSecurityConfiguration",
                    ],
                    resources=[
                        glue_arn("catalog"),
                        glue_arn("database", self.database_name),
                        tables_arn,
                        glue_arn("securityConfiguration", f"{name_prefix}-lake"),
                    ],
                ),
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:AssociateKmsKey",
                    ],
                    resources=[crawler_logs_arn],
                ),
            ],
        )
        policy = self.crawler_role.policy
        acknowledge_wildcard(
            policy,
            curated.arn_for_objects("*"),
            "The crawler reads every object of the curated bucket, and only that bucket.",
        )
        acknowledge_wildcard(
            policy, tables_arn, "The crawler creates tables it discovers; they are confined to the lake database."
        )
        acknowledge_wildcard(
            policy,
            crawler_logs_arn,
            "Glue names crawler log groups itself under /aws-glue/crawlers; scoped to that prefix.",
        )
        self.crawler = glue.CfnCrawler(
            self,
            "Crawler",
            role=self.crawler_role.role.role_arn,
            database_name=self.database_name,
            description="Catalogs the curated zone of the lake",
            targets=glue.CfnCrawler.TargetsProperty(
                # Feature Store owns its offline-store table under feature-store/: the crawler must not
                # catalog (or rewrite) it a second time.
                s3_targets=[
                    glue.CfnCrawler.S3TargetProperty(
                        path=f"s3://{curated.bucket_name}/", exclusions=[f"{FEATURE_STORE_PREFIX}/**"]
                    )
                ]
            ),
            crawler_security_configuration=security.name,
            schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=crawler_schedule)
            if crawler_schedule
            else None,
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="UPDATE_IN_DATABASE", delete_behavior="LOG"
            ),
        )
        self.crawler.node.add_dependency(database, security)
        demonstrates(self.crawler, ["1.1", "1.2"], "Infers schemas and partitions of curated data into the catalog.")

        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{name_prefix}-lake",
            description="Queries over the lake: encrypted results, enforced settings, per-query scan limit",
            state="ENABLED",
            recursive_delete_option=destroy_results_on_delete,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_mb * 1024 * 1024,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{results.bucket_name}/athena-results/",
                    expected_bucket_owner=stack.account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )
        demonstrates(
            self.workgroup,
            ["1.1", "4.2"],
            "Enforced, encrypted query results and a scan limit that caps the cost of one query.",
        )
