"""SECURITY.md controls 40 and 41: protection and retention of stateful resources."""

from __future__ import annotations

import pytest

from stacks.stage import STATEFUL_STACKS
from tests.helpers import every_resource, resources
from tools.platform import Synthesized

DATA_STORES = (
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::Kinesis::Stream",
    "AWS::SageMaker::FeatureGroup",
    "AWS::SageMaker::ModelPackageGroup",
)


def test_control_40_stateful_stacks_have_termination_protection(platform: Synthesized) -> None:
    for stack_id, stack in platform.stacks.items():
        assert stack.termination_protection is (stack_id in STATEFUL_STACKS), stack_id
    assert set(STATEFUL_STACKS) == {"DataLake", "FeatureStore", "Governance"}


def test_control_41_production_retains_every_data_store(production: Synthesized) -> None:
    found = 0
    for kind in DATA_STORES:
        for stack_id, logical, resource in every_resource(production, kind):
            assert resource.get("DeletionPolicy") == "Retain", f"{stack_id}/{logical}"
            assert resource.get("UpdateReplacePolicy") == "Retain", f"{stack_id}/{logical}"
            found += 1
    assert found >= 12
    assert not list(every_resource(production, "Custom::S3AutoDeleteObjects"))


def test_control_41_sandbox_opts_into_clean_teardown_visibly(sandbox: Synthesized) -> None:
    assert sandbox.config.removal_policy == "destroy"  # the explicit opt-in, in config/sandbox.yaml
    lake = sandbox.template("DataLake")
    data_buckets = {k: v for k, v in resources(lake, "AWS::S3::Bucket").items() if "AccessLogs" not in k}
    for logical, bucket in data_buckets.items():
        assert bucket["DeletionPolicy"] == "Delete", logical
    emptied = {r["Properties"]["BucketName"]["Ref"] for r in resources(lake, "Custom::S3AutoDeleteObjects").values()}
    assert emptied == set(data_buckets)


@pytest.mark.exam("4.3")
def test_audit_bucket_is_retained_in_every_profile(platform: Synthesized) -> None:
    (audit,) = resources(platform.template("Governance"), "AWS::S3::Bucket").values()
    assert audit["DeletionPolicy"] == "Retain"
    assert not resources(platform.template("Governance"), "Custom::S3AutoDeleteObjects")
