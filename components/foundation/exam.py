"""Learner layer: record on a resource which MLA-C01 task statements it demonstrates, and why.

The record lands in the resource's CloudFormation ``Metadata`` under ``MlaC01``, so a learner reading
a synthesized template sees it next to the resource, and ``tools.reports`` builds the coverage
report from the templates alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from constructs import IConstruct

from config.catalogs import exam_tasks

METADATA_KEY = "MlaC01"


def demonstrates(construct: IConstruct, tasks: Sequence[str], why: str) -> None:
    """Tag ``construct`` (an L1, or an L2 whose default child is one) with exam task ids and a reason."""
    known = exam_tasks()
    unknown = [task for task in tasks if task not in known]
    if not tasks or unknown:
        raise ValueError(f"exam tasks must be ids from the guide such as '3.2', got {list(tasks)}")
    if not why.strip():
        raise ValueError("say why the resource demonstrates the task")
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry exam metadata")
    resource.add_metadata(METADATA_KEY, {"tasks": sorted(tasks), "why": why})
