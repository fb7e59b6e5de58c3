"""Small readers over synthesized templates, shared by the assertion tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tools.platform import Synthesized

Resource = dict[str, Any]


def resources(template: dict[str, Any], resource_type: str) -> dict[str, Resource]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == resource_type}


def every_resource(platform: Synthesized, resource_type: str | None = None) -> Iterator[tuple[str, str, Resource]]:
    """(stack id, logical id, resource) across every stack of the platform."""
    for stack_id in platform.stacks:
        for logical_id, resource in platform.template(stack_id).get("Resources", {}).items():
            if resource_type is None or resource["Type"] == resource_type:
                yield stack_id, logical_id, resource


def props(resource: Resource) -> dict[str, Any]:
    return dict(resource.get("Properties", {}))


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def this_account(value: Any) -> bool:
    return bool(value == {"Ref": "AWS::AccountId"})


def service_suffix(service_name: Any) -> str:
    """``com.amazonaws.<region>.sagemaker.api`` (an Fn::Join) -> ``sagemaker.api``."""
    if isinstance(service_name, dict) and "Fn::Join" in service_name:
        return str(service_name["Fn::Join"][1][-1]).lstrip(".")
    return str(service_name).split(".", 3)[-1]


def pipeline_of(template: dict[str, Any]) -> dict[str, Any]:
    """The properties of a template's one CodePipeline pipeline."""
    (pipeline,) = resources(template, "AWS::CodePipeline::Pipeline").values()
    return props(pipeline)
