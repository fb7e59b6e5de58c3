"""ARNs of this stack's account and region (``Stack.format_arn``), for the resource kinds many domains name."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def sagemaker_arn(scope: IConstruct, resource: str, name: str) -> str:
    """``arn:<partition>:sagemaker:<region>:<account>:<resource>/<name>`` (a pattern may end in ``*``)."""
    return cdk.Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name)
