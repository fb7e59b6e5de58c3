"""Stable identity: logical ids of stateful resources never change by accident, and one scrubbed
snapshot per stack shows every template change in review (assertions elsewhere prove behaviour)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.helpers import resources
from tools.platform import Synthesized

# Renaming any of these replaces a bucket, key, stream or trail: data loss or an orphan. If a change
# really means it, update this list in the same commit and say why.
STATEFUL_LOGICAL_IDS = {
    "Network": {
        "AWS::KMS::Key": {"LogsKeyA6AB43B2"},
        "AWS::Logs::LogGroup": {"NetworkFlowLogGroup4F8CEEEF"},
    },
    "DataLake": {
        "AWS::Logs::LogGroup": {"StreamingDeliveryLogGroup47097618"},
        "AWS::KMS::Key": {"LakeKey7B6C155C"},
        "AWS::S3::Bucket": {
            "LakeAccessLogsBucket6E9F3610",
            "LakeRawBucket28F84711",
            "LakeCuratedBucketD88CAD16",
            "LakeArtifactsBucketA1C017F3",
        },
        "AWS::Kinesis::Stream": {"StreamingStreamBBC8D0A0"},
        "AWS::Glue::Database": {"CatalogDatabaseE63956BB"},
    },
    "FeatureStore": {"AWS::SageMaker::FeatureGroup": {"FeaturesFeatureGroupC3F552C5"}},
    "MlPipeline": {"AWS::SageMaker::ModelPackageGroup": {"TrainingModelPackageGroup2A1BF969"}},
    "Governance": {
        "AWS::S3::Bucket": {"AuditBucket5C413F60"},
        "AWS::CloudTrail::Trail": {"AuditTrail3BF4E139"},
        "AWS::KMS::Key": {"AlertsKey9E1197AF", "AuditKey2ED08D30"},
        "AWS::Logs::LogGroup": {"AuditLogGroup4CD660E1"},
    },
}

_HASH = re.compile(r"[0-9a-f]{64}")


def scrub(template: dict[str, Any]) -> dict[str, Any]:
    """Asset hashes change with every dependency bump; the resources around them are what we review."""
    return dict(json.loads(_HASH.sub("<asset-hash>", json.dumps(template))))


@pytest.mark.parametrize("stack_id", sorted(STATEFUL_LOGICAL_IDS))
def test_stateful_logical_ids_are_pinned(platform: Synthesized, stack_id: str) -> None:
    template = platform.template(stack_id)
    for kind, expected in STATEFUL_LOGICAL_IDS[stack_id].items():
        if kind == "AWS::Kinesis::Stream" and platform.config.data_lake.streaming.source != "kinesis":
            assert not resources(template, kind)  # Firehose Direct PUT: no stream to pin
            continue
        assert set(resources(template, kind)) == expected, kind


# Every stack of each profile, plus Inference and Monitoring once a model is served (the others do not change).
STACKS = ("Network", "DataLake", "Governance", "FeatureStore", "MlPipeline", "Inference", "Monitoring")
SNAPSHOTS = [(build, stack) for build in ("sandbox", "production") for stack in STACKS]
SNAPSHOTS += [(build, stack) for build in ("sandbox-serving", "production-serving") for stack in STACKS[-2:]]


def digest(template: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(scrub(template), sort_keys=True).encode()).hexdigest()


def test_every_build_has_the_recorded_templates(builds: dict[str, Synthesized], snapshot: SnapshotAssertion) -> None:
    """A digest of every scrubbed template of every build: the stage's stacks, and with CI/CD the pipeline stack
    (``Cicd``) and each stack of each stage it deploys (``<Stage>/<stack>``). Any change to any template shows in
    review (the full snapshots below show the content of the main ones)."""
    digests = {}
    for name, build in builds.items():
        found = {stack_id: digest(build.template(stack_id)) for stack_id in sorted(build.stacks)}
        found |= {stack_id: digest(build.template(stack_id)) for stack_id in sorted(build.root_stacks)}
        for stage in sorted(build.pipeline_stage_folders):
            found |= {f"{stage}/{k}": digest(t) for k, t in sorted(build.pipeline_stage_templates(stage).items())}
        digests[name] = found
    assert digests == snapshot(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize(("build", "stack_id"), SNAPSHOTS)
def test_snapshot(builds: dict[str, Synthesized], build: str, stack_id: str, snapshot: SnapshotAssertion) -> None:
    assert scrub(builds[build].template(stack_id)) == snapshot(extension_class=JSONSnapshotExtension)
