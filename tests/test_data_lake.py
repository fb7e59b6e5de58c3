"""SECURITY.md controls 20-29 (every bucket and key of every stack) and the lake's services."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.data.streaming import DATA_PREFIX
from tests.helpers import as_list, every_resource, props, resources, statements
from tools.platform import Synthesized

pytestmark = pytest.mark.exam("1.1", "4.3")


def buckets(platform: Synthesized) -> dict[str, dict[str, Any]]:
    return {f"{stack}/{logical}": r for stack, logical, r in every_resource(platform, "AWS::S3::Bucket")}


def access_log_bucket_ids(platform: Synthesized) -> set[str]:
    """The bucket(s) other buckets deliver server access logs to."""
    return {
        f"DataLake/{logical}"
        for logical, r in resources(platform.template("DataLake"), "AWS::S3::Bucket").items()
        if "LoggingConfiguration" not in props(r)
    }


def test_every_profile_has_the_lake_zones_log_and_audit_buckets(platform: Synthesized) -> None:
    names = {key.split("/")[1] for key in buckets(platform)}
    assert {n[: n.index("Bucket")] for n in names} == {
        "LakeAccessLogs",
        "LakeRaw",
        "LakeCurated",
        "LakeArtifacts",
        "Audit",
    }
    assert len(access_log_bucket_ids(platform)) == 1


def test_control_20_block_public_access(platform: Synthesized) -> None:
    for bucket in buckets(platform).values():
        assert props(bucket)["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }


def test_control_21_tls_only_bucket_policies(platform: Synthesized) -> None:
    policies = {}
    for stack, _, policy in every_resource(platform, "AWS::S3::BucketPolicy"):
        policies[f"{stack}/{props(policy)['Bucket']['Ref']}"] = props(policy)["PolicyDocument"]
    for bucket_id in buckets(platform):
        denies = [s for s in statements(policies[bucket_id]) if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies), bucket_id
        assert any(s["Condition"] == {"NumericLessThan": {"s3:TlsVersion": 1.2}} for s in denies), bucket_id


def test_control_22_sse_kms_with_bucket_keys_except_the_access_log_bucket(platform: Synthesized) -> None:
    log_buckets = access_log_bucket_ids(platform)
    for bucket_id, bucket in buckets(platform).items():
        (rule,) = props(bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        if bucket_id in log_buckets:
            assert default == {"SSEAlgorithm": "AES256"}  # S3 access logging cannot deliver to SSE-KMS
        else:
            assert default["SSEAlgorithm"] == "aws:kms"
            assert "Fn::GetAtt" in default["KMSMasterKeyID"]  # a key of this platform, not aws/s3
            assert rule["BucketKeyEnabled"] is True


def test_control_23_versioning(platform: Synthesized) -> None:
    for bucket in buckets(platform).values():
        assert props(bucket)["VersioningConfiguration"] == {"Status": "Enabled"}


def test_control_24_server_access_logs(platform: Synthesized) -> None:
    log_buckets = access_log_bucket_ids(platform)
    for bucket_id, bucket in buckets(platform).items():
        if bucket_id not in log_buckets:
            assert props(bucket)["LoggingConfiguration"]["DestinationBucketName"], bucket_id


def test_control_25_ownership_enforced_and_lifecycle(platform: Synthesized) -> None:
    for bucket in buckets(platform).values():
        assert props(bucket)["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        (rule,) = props(bucket)["LifecycleConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1
        assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7


def test_control_26_object_lock_governance_on_the_audit_bucket(platform: Synthesized) -> None:
    (audit,) = [b for key, b in buckets(platform).items() if key.startswith("Governance/")]
    assert props(audit)["ObjectLockEnabled"] is True
    retention = props(audit)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": "GOVERNANCE", "Days": platform.config.governance.audit.object_lock_days}


def test_controls_27_29_keys_rotate_and_wait_30_days(platform: Synthesized) -> None:
    keys = list(every_resource(platform, "AWS::KMS::Key"))
    assert len(keys) >= 4  # network logs, lake, audit, alerts
    for _, logical, key in keys:
        assert props(key)["EnableKeyRotation"] is True, logical
        assert props(key)["PendingWindowInDays"] == 30, logical


def test_control_28_no_unconditioned_star_principal_in_key_policies(platform: Synthesized) -> None:
    for _, logical, key in every_resource(platform, "AWS::KMS::Key"):
        for statement in statements(props(key)["KeyPolicy"]):
            principal = statement["Principal"]
            star = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS", [])))
            assert not (star and "Condition" not in statement), logical


def test_glue_crawler_catalogs_curated_with_encrypted_logs(platform: Synthesized) -> None:
    template = platform.template("DataLake")
    (crawler,) = resources(template, "AWS::Glue::Crawler").values()
    (target,) = props(crawler)["Targets"]["S3Targets"]
    assert "LakeCuratedBucket" in str(target["Path"])
    (security,) = resources(template, "AWS::Glue::SecurityConfiguration").values()
    encryption = props(security)["EncryptionConfiguration"]
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert props(crawler)["CrawlerSecurityConfiguration"] == props(security)["Name"]
    schedule = platform.config.data_lake.crawler_schedule
    assert props(crawler).get("Schedule") == ({"ScheduleExpression": schedule} if schedule else None)


def test_athena_workgroup_enforces_encrypted_results_and_a_scan_limit(platform: Synthesized) -> None:
    (workgroup,) = resources(platform.template("DataLake"), "AWS::Athena::WorkGroup").values()
    configuration = props(workgroup)["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    limit = platform.config.data_lake.athena_bytes_scanned_cutoff_mb * 1024 * 1024
    assert configuration["BytesScannedCutoffPerQuery"] == limit


@pytest.mark.exam("1.1")
def test_streaming_ingestion_is_encrypted_and_date_partitioned(platform: Synthesized) -> None:
    """Both sources encrypted: a KMS Kinesis stream in front of Firehose, or Direct PUT with Firehose's
    server-side encryption under the lake key (the sandbox's choice: no fixed price)."""
    template = platform.template("DataLake")
    streaming = platform.config.data_lake.streaming
    streams = resources(template, "AWS::Kinesis::Stream")
    (delivery,) = resources(template, "AWS::KinesisFirehose::DeliveryStream").values()
    if streaming.source == "kinesis":
        ((stream_id, stream),) = streams.items()
        assert props(stream)["StreamEncryption"]["EncryptionType"] == "KMS"
        assert "LakeKey" in json.dumps(props(stream)["StreamEncryption"]["KeyId"])
        assert props(stream).get("ShardCount") == streaming.shard_count
        assert props(stream)["StreamModeDetails"]["StreamMode"] == streaming.stream_mode.upper()
        assert props(delivery)["DeliveryStreamType"] == "KinesisStreamAsSource"
        source = props(delivery)["KinesisStreamSourceConfiguration"]
        assert source["KinesisStreamARN"] == {"Fn::GetAtt": [stream_id, "Arn"]}
        assert "DeliveryStreamEncryptionConfigurationInput" not in props(delivery)
    else:
        assert not streams
        assert props(delivery)["DeliveryStreamType"] == "DirectPut"
        encryption = props(delivery)["DeliveryStreamEncryptionConfigurationInput"]
        assert encryption["KeyType"] == "CUSTOMER_MANAGED_CMK" and "LakeKey" in json.dumps(encryption["KeyARN"])
    destination = props(delivery)["ExtendedS3DestinationConfiguration"]
    assert "LakeRawBucket" in str(destination["BucketARN"])
    assert destination["Prefix"] == DATA_PREFIX
    assert "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/" in DATA_PREFIX
    assert "AWSKMSKeyARN" in destination["EncryptionConfiguration"]["KMSEncryptionConfig"]
    assert destination["CloudWatchLoggingOptions"]["Enabled"] is True
