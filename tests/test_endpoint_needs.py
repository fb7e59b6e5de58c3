"""Interface endpoints exist exactly where the code calls them (issue 10; SECURITY.md control 4).

The needed set is derived from the synthesized assembly, not from the config: every Lambda function in the
VPC and every pipeline job that is not network-isolated is found in the templates, its code is read from
the assembly's assets, and the boto3 clients it creates name the endpoint services it reaches (the catalog
in config/data/interface_endpoints.yaml maps clients to services; S3 goes through the gateway endpoint).
The test fails when an endpoint exists that nothing calls, and when something calls a service that has no
endpoint (in every AZ the VPC has).
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from config.catalogs import interface_endpoint_catalog
from tests.helpers import every_resource, props, service_suffix
from tools.platform import Synthesized

CLIENT = re.compile(r"""boto3\.client\(\s*["']([a-z0-9-]+)["']""")
GATEWAY_CLIENTS = {"s3", "dynamodb"}  # gateway endpoints, no interface endpoint


def clients_in(sources: dict[str, str]) -> set[str]:
    return {client for text in sources.values() for client in CLIENT.findall(text)}


def _assets(build: Synthesized) -> Path:
    return build.template_path("Network").parent.parent  # the stage's assembly sits beside the app's assets


def _function_code(build: Synthesized, function: dict[str, Any]) -> dict[str, str]:
    key = props(function)["Code"].get("S3Key", "")
    folder = _assets(build) / f"asset.{key.removesuffix('.zip')}"
    # The function's own modules sit at the asset's root; its bundled libraries (lambdas/<name>/requirements.txt)
    # are packages below it whose docstrings show boto3 examples. They make no AWS call of their own in what the
    # function uses (Powertools' logger, metrics in EMF, tracer through the Lambda X-Ray daemon, event handler).
    return {str(p): p.read_text() for p in folder.glob("*.py")} if folder.is_dir() else {}


def _pipeline_body(resource: dict[str, Any]) -> dict[str, Any]:
    body = props(resource)["PipelineDefinition"]["PipelineDefinitionBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return dict(json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts)))


def _steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        for branch in ("IfSteps", "ElseSteps"):
            found += _steps(step.get("Arguments", {}).get(branch, []))
    return found


def _isolated(arguments: dict[str, Any]) -> bool:
    return bool(
        arguments.get("NetworkConfig", {}).get("EnableNetworkIsolation")
        or arguments.get("EnableNetworkIsolation")
        or arguments.get("TrainingJobDefinition", {}).get("EnableNetworkIsolation")
    )


def _job_code(build: Synthesized, stack_id: str, step: dict[str, Any]) -> dict[str, str]:
    arguments = step["Arguments"]
    entrypoint = arguments.get("AppSpecification", {}).get("ContainerEntrypoint", [])
    scripts = [Path(p).name for p in entrypoint if p.endswith(".py")]
    sources = {name: (_assets(build) / f"asset.{name}").read_text() for name in scripts}
    if step["Type"] in ("Training", "Tuning"):  # script mode: the source bundle the template references
        template = build.template_path(stack_id).read_text()
        for bundle in _assets(build).glob("asset.*.gz"):
            digest = bundle.name.removeprefix("asset.").split(".")[0]
            if digest in template:
                with tarfile.open(fileobj=io.BytesIO(bundle.read_bytes())) as tar:
                    for member in tar.getmembers():
                        extracted = tar.extractfile(member) if member.name.endswith(".py") else None
                        if extracted is not None:
                            sources[f"{bundle.name}/{member.name}"] = extracted.read().decode()
    return sources


def callers(build: Synthesized) -> dict[str, set[str]]:
    """What runs in the VPC and calls AWS, with the boto3 clients its code creates."""
    found: dict[str, set[str]] = {}
    for stack_id, logical, function in every_resource(build, "AWS::Lambda::Function"):
        if "VpcConfig" in props(function):
            found[f"{stack_id}/{logical}"] = clients_in(_function_code(build, function))
    for stack_id, logical, pipeline in every_resource(build, "AWS::SageMaker::Pipeline"):
        for step in _steps(_pipeline_body(pipeline)["Steps"]):
            if step["Type"] in ("Processing", "Training", "Tuning") and not _isolated(step["Arguments"]):
                found[f"{stack_id}/{logical}/{step['Name']}"] = clients_in(_job_code(build, stack_id, step))
    return found


def needed_endpoints(called: set[str]) -> set[str]:
    catalog = interface_endpoint_catalog()["endpoints"]
    return {name for name, entry in catalog.items() if called & set(entry.get("clients", []))}


def interface_endpoints(build: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        service_suffix(props(e)["ServiceName"]): e
        for _, _, e in every_resource(build, "AWS::EC2::VPCEndpoint")
        if props(e)["VpcEndpointType"] == "Interface"
    }


@pytest.mark.exam("3.2", "4.3")
def test_interface_endpoints_are_exactly_what_the_code_calls(platform: Synthesized) -> None:
    found = callers(platform)
    called = set().union(*found.values())
    unreachable = (
        called
        - GATEWAY_CLIENTS
        - {c for e in interface_endpoint_catalog()["endpoints"].values() for c in e.get("clients", [])}
    )
    assert not unreachable, f"clients with no endpoint in the catalog: {unreachable}"
    expected = needed_endpoints(called) | set(platform.config.network.interface_endpoints)
    existing = set(interface_endpoints(platform))
    assert existing - expected == set(), f"endpoints nothing calls: {sorted(existing - expected)}"
    assert expected - existing == set(), f"called without an endpoint: {sorted(expected - existing)} ({found})"


def test_every_endpoint_reaches_every_az_of_the_vpc(platform: Synthesized) -> None:
    subnets = len(list(every_resource(platform, "AWS::EC2::Subnet")))
    for service, endpoint in interface_endpoints(platform).items():
        assert len(props(endpoint)["SubnetIds"]) == subnets, service


def test_the_config_table_of_callers_matches_the_code(platform: Synthesized) -> None:
    """config's callers_in_vpc decides the endpoints before anything is built; the code is the truth."""
    declared = {client for clients in platform.config.callers_in_vpc.values() for client in clients}
    assert set().union(*callers(platform).values()) == declared


def test_the_derivation_sees_each_caller(builds: dict[str, Synthesized]) -> None:
    """Guards the test itself: the scan finds the clients the platform's code really creates."""
    idle = callers(builds["sandbox"])
    assert {"sagemaker-featurestore-runtime"} in list(idle.values())  # the ingestion step
    serving = set().union(*callers(builds["sandbox-serving"]).values())
    assert {"sagemaker-runtime", "sagemaker", "s3"} <= serving  # prediction function and drift starter
    assert needed_endpoints(serving) == {"sagemaker.api", "sagemaker.runtime", "sagemaker.featurestore-runtime"}


def test_every_customer_managed_key_says_why_it_is_a_key_of_its_own(platform: Synthesized) -> None:
    """Each key costs USD 1 a month: its description names what it encrypts and why that is a separate key."""
    for _, logical, key in every_resource(platform, "AWS::KMS::Key"):
        description = props(key)["Description"]
        purpose, _, why = description.partition(". ")
        assert purpose.startswith("Encrypts") and len(why) > 30, (logical, description)
