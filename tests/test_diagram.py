"""The architecture diagram (docs/architecture.dot, .svg): generated from the templates, and kept current.

The freshness test needs no Graphviz: it regenerates the DOT from the session's builds, compares it with the
committed one, and checks that the committed SVG carries the hash of that DOT (``make docs`` stamps it when it
renders). The other tests run the derivation on small hand-written assemblies.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tools import diagram
from tools.platform import Synthesized

STACKS = ("Network", "DataLake", "Governance", "FeatureStore", "MlPipeline", "Inference", "Monitoring")


@pytest.fixture(scope="module")
def primary(builds: Mapping[str, Synthesized]) -> diagram.Graph:
    return diagram.derive(diagram.Assembly.of(builds[diagram.PRIMARY_BUILD]))


@pytest.fixture(scope="module")
def pic(builds: Mapping[str, Synthesized]) -> diagram.Picture:
    return diagram.architecture(builds)


def test_committed_diagram_is_current(pic: diagram.Picture) -> None:
    dot = diagram.to_dot(pic)
    assert diagram.DOT_FILE.read_text(encoding="utf-8") == dot, "docs/architecture.dot is stale: run `make docs`"
    svg = diagram.SVG_FILE.read_text(encoding="utf-8")
    assert diagram.svg_source_hash(svg) == diagram.sha256(dot), (
        "docs/architecture.svg was not rendered from docs/architecture.dot: run `make docs`"
    )


def test_every_stack_is_a_cluster_and_every_step_an_edge(pic: diagram.Picture) -> None:
    dot = diagram.to_dot(pic)
    for stack_id in STACKS:
        assert f'subgraph "cluster_{stack_id}"' in dot
    drawn = {e.step for e in pic.edges}
    assert set(diagram.STEPS) <= drawn, set(diagram.STEPS) - drawn
    assert 30 <= len(pic.nodes) + len(pic.actors) <= 60  # readable: the main resources, not every policy
    assert not pic.gaps, "CURATED_FLOWS entries whose resources are gone: update them in tools/diagram.py"


def test_main_flow_edges_come_from_the_templates(primary: diagram.Graph) -> None:
    derived = {(e.source, e.target, e.step) for e in diagram.flows(primary).edges}
    expected = {
        ("DataLake/Streaming/DeliveryStream", "DataLake/Lake/Raw/Bucket", "ingest"),  # Firehose destination
        ("DataLake/Lake/Raw/Bucket", "MlPipeline/Training/Pipeline", "lake"),  # the definition's input
        ("MlPipeline/Training/Pipeline", "FeatureStore/Features/FeatureGroup", "features"),  # stack output
        ("MlPipeline/Training/Pipeline", "MlPipeline/Training/ModelPackageGroup", "registry"),  # a name
        ("Inference/Invocation/Function/Function", "Inference/Serving/Endpoint", "serving"),  # environment
        ("Inference/Serving/EndpointConfig", "DataLake/Lake/Artifacts/Bucket", "capture"),  # DataCaptureConfig
        ("DataLake/Lake/Artifacts/Bucket", "Monitoring/Drift/Pipeline", "drift"),
        ("Monitoring/Drift/DriftAlarm", "Monitoring/Drift/RetrainOnDrift", "retraining"),  # event pattern
        ("Monitoring/Drift/RetrainOnDrift", "MlPipeline/Training/Pipeline", "retraining"),  # target ARN
    }
    assert expected <= derived, expected - derived


def test_labels_are_readable_and_carry_no_hashes(pic: diagram.Picture) -> None:
    titles = {n.title for n in pic.nodes.values()}
    assert {"Raw bucket", "Training pipeline", "Serving endpoint", "Drift alarm", "5 VPC endpoints"} <= titles
    dot = diagram.to_dot(pic)
    assert not re.findall(r"[a-z][0-9A-F]{8}\b", dot)  # no logical id (they end in an 8-digit hash)
    assert "MLA-C01 1.1" in dot  # the exam metadata labels the resources


def test_option_build_additions_are_marked(pic: diagram.Picture) -> None:
    assert pic.nodes["Inference/BatchScoring/Pipeline"].option == "inference.batch_transform"
    assert not pic.nodes["Inference/Serving/Endpoint"].option


# --- the derivation, on hand-written assemblies -------------------------------------------------------------


def write_assembly(folder: Path, stacks: dict[str, dict[str, Any]], paths: dict[str, dict[str, str]]) -> Path:
    """A minimal cloud assembly: a manifest, one template and one metadata file per stack."""
    artifacts = {}
    for stack_id, template in stacks.items():
        (folder / f"{stack_id}.template.json").write_text(json.dumps(template))
        metadata = {
            f"/Stage/{stack_id}/{path}": [{"type": "aws:cdk:logicalId", "data": logical}]
            for logical, path in paths.get(stack_id, {}).items()
        }
        (folder / f"{stack_id}.metadata.json").write_text(json.dumps(metadata))
        artifacts[stack_id] = {
            "type": "aws:cloudformation:stack",
            "displayName": f"Stage/{stack_id}",
            "properties": {"templateFile": f"{stack_id}.template.json", "stackName": f"app-{stack_id}"},
            "additionalMetadataFile": f"{stack_id}.metadata.json",
        }
    (folder / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return folder


LAKE: dict[str, Any] = {
    "Description": "the lake",
    "Resources": {
        "RawBucketA1B2C3D4": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "KeyE5F6A7B8": {"Type": "AWS::KMS::Key", "Properties": {}},
    },
    "Outputs": {
        "ExportRaw": {"Value": {"Ref": "RawBucketA1B2C3D4"}, "Export": {"Name": "app-raw"}},
        "PublishRawArn": {"Value": {"Fn::GetAtt": ["RawBucketA1B2C3D4", "Arn"]}},
    },
}
TRAINING: dict[str, Any] = {
    "Resources": {
        "PipelineC9D0E1F2": {
            "Type": "AWS::SageMaker::Pipeline",
            "Properties": {
                "PipelineName": "app-training",
                "PipelineDefinition": {
                    "PipelineDefinitionBody": {
                        "Fn::Join": [
                            "",
                            [
                                '{"Parameters":[{"Name":"Input","DefaultValue":"s3://',
                                {"Fn::ImportValue": "app-raw"},
                                '"}]}',
                            ],
                        ]
                    }
                },
            },
        },
        "RuleA3B4C5D6": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {
                    "detail": {
                        "bucket": {
                            "name": [
                                {"Fn::GetStackOutput": {"StackName": "app-DataLake", "OutputName": "PublishRawArn"}}
                            ]
                        }
                    }
                },
                "Targets": [
                    {"Arn": {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:1:pipeline/app-training"}}
                ],
            },
        },
    }
}
PATHS = {
    "DataLake": {"RawBucketA1B2C3D4": "Lake/Raw/Bucket/Resource", "KeyE5F6A7B8": "Lake/Key/Resource"},
    "MlPipeline": {"PipelineC9D0E1F2": "Training/Pipeline", "RuleA3B4C5D6": "Training/NewDataRule"},
}


def graph_of(tmp_path: Path, training: dict[str, Any] = TRAINING) -> diagram.Graph:
    folder = write_assembly(tmp_path, {"DataLake": LAKE, "MlPipeline": training}, PATHS)
    return diagram.derive(diagram.Assembly.read(folder))


def test_references_across_stacks_imports_and_names_become_edges(tmp_path: Path) -> None:
    graph = graph_of(tmp_path)
    assert set(graph.nodes) == {
        "DataLake/Lake/Raw/Bucket",
        "DataLake/Lake/Key",
        "MlPipeline/Training/Pipeline",
        "MlPipeline/Training/NewDataRule",
    }
    assert graph.nodes["MlPipeline/Training/NewDataRule"].title == "New data rule"
    edges = {(e.source, e.target, e.label) for e in diagram.flows(graph).edges}
    assert edges == {
        ("DataLake/Lake/Raw/Bucket", "MlPipeline/Training/Pipeline", "training data"),  # Fn::ImportValue
        ("DataLake/Lake/Raw/Bucket", "MlPipeline/Training/NewDataRule", "_READY written"),  # Fn::GetStackOutput
        ("MlPipeline/Training/NewDataRule", "MlPipeline/Training/Pipeline", "starts"),  # the name in Fn::Sub
    }


def test_the_picture_follows_the_templates(tmp_path: Path) -> None:
    training = copy.deepcopy(TRAINING)
    training["Resources"]["RuleA3B4C5D6"]["Properties"]["Targets"] = []  # the rule no longer starts the pipeline
    edges = {(e.source, e.target) for e in diagram.flows(graph_of(tmp_path, training)).edges}
    assert ("MlPipeline/Training/NewDataRule", "MlPipeline/Training/Pipeline") not in edges


def test_an_unknown_reference_is_drawn_grey(tmp_path: Path) -> None:
    training = copy.deepcopy(TRAINING)
    training["Resources"]["RuleA3B4C5D6"]["Properties"]["RoleArn"] = {"Fn::GetAtt": ["PipelineC9D0E1F2", "Arn"]}
    found = diagram.flows(graph_of(tmp_path, training))
    assert [(r.source, r.where) for r in found.unknown] == [("MlPipeline/Training/NewDataRule", "RoleArn")]
    assert any(e.label == "refers to" for e in found.edges)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("Lake/Raw/Bucket/Resource", "Raw bucket"),
        ("Invocation/Function/Function/Resource", "Invocation function"),
        ("Operations/Dashboards/Dashboard/Resource", "Operations dashboard"),
        ("Serving/PrimaryModel", "Primary model"),
        ("Costs/SageMakerBudget", "SageMaker budget"),
        ("Network/Vpc/Resource", "Network VPC"),
    ],
)
def test_human_names_come_from_construct_paths(path: str, name: str) -> None:
    assert diagram.human_name(path) == name


def test_svg_stamp_names_the_dot_it_was_rendered_from() -> None:
    svg = '<?xml version="1.0"?>\n<svg></svg>\n'
    stamped = diagram.stamped(svg, "digraph a {}")
    assert stamped.startswith('<?xml version="1.0"?>\n<!-- rendered from')
    assert diagram.svg_source_hash(stamped) == diagram.sha256("digraph a {}")
    assert diagram.svg_source_hash(svg) is None


def test_rendering_without_graphviz_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(SystemExit, match="apt-get install graphviz"):
        diagram.render_svg("digraph a {}")
