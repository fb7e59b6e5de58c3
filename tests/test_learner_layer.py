"""The learner layer: exam metadata on resources, and generated documents that stay true."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from components.foundation.exam import METADATA_KEY, demonstrates
from config.catalogs import exam_tasks
from tests.helpers import every_resource
from tools.platform import Synthesized
from tools.reports import documents


def recorded(platform: Synthesized) -> dict[str, tuple[str, set[str]]]:
    """logical id -> (type, task ids) of every resource carrying exam metadata."""
    return {
        logical: (r["Type"], set(r["Metadata"][METADATA_KEY]["tasks"]))
        for _, logical, r in every_resource(platform)
        if METADATA_KEY in r.get("Metadata", {})
    }


def test_every_stack_records_exam_tasks_with_known_ids(platform: Synthesized) -> None:
    known = set(exam_tasks())
    for stack_id in platform.stacks:
        records = [
            r["Metadata"][METADATA_KEY]
            for r in platform.template(stack_id)["Resources"].values()
            if METADATA_KEY in r.get("Metadata", {})
        ]
        assert records, stack_id
        for record in records:
            assert set(record["tasks"]) <= known
            assert record["why"]


@pytest.mark.parametrize(
    ("resource_type", "task"),
    [
        ("AWS::EC2::VPC", "3.2"),
        ("AWS::EC2::FlowLog", "4.3"),
        ("AWS::S3::Bucket", "4.3"),
        ("AWS::Kinesis::Stream", "1.1"),
        ("AWS::KinesisFirehose::DeliveryStream", "1.1"),
        ("AWS::Glue::Crawler", "1.2"),
        ("AWS::CloudTrail::Trail", "4.2"),
        ("AWS::Budgets::Budget", "4.2"),
    ],
)
def test_main_resources_say_which_task_they_demonstrate(platform: Synthesized, resource_type: str, task: str) -> None:
    tasks = [t for kind, t in recorded(platform).values() if kind == resource_type]
    if resource_type == "AWS::Kinesis::Stream" and platform.config.data_lake.streaming.source != "kinesis":
        assert not tasks  # Firehose Direct PUT: no stream
        return
    assert tasks and all(task in t for t in tasks), resource_type


def test_demonstrates_rejects_unknown_tasks_and_missing_reasons() -> None:
    stack = cdk.Stack(cdk.App(), "Probe")
    topic = cdk.CfnResource(stack, "Thing", type="AWS::SNS::Topic")
    with pytest.raises(ValueError, match="ids from the guide"):
        demonstrates(topic, ["9.9"], "no such task")
    with pytest.raises(ValueError, match="say why"):
        demonstrates(topic, ["4.2"], " ")
    demonstrates(topic, ["4.2"], "a reason")
    assert stack.resolve(topic.get_metadata(METADATA_KEY)) == {"tasks": ["4.2"], "why": "a reason"}


def test_generated_documents_are_current(builds: dict[str, Synthesized]) -> None:
    for path, text in documents(builds).items():
        assert path.exists() and path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make docs`"
