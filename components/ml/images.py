"""The SageMaker images the platform runs, by region: their ECR accounts differ per region, so templates look them
up in a ``CfnMapping`` by ``AWS::Region`` (from ``config.catalogs.sagemaker_images``) instead of calling the SDK."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

from config.catalogs import sagemaker_images


def image_accounts(aliases: dict[str, str]) -> dict[str, dict[str, str]]:
    """Region -> {alias: ECR account} for the regions that offer every image of ``aliases`` (alias -> image)."""
    table = sagemaker_images()
    regions = sorted(set.intersection(*(set(table[image]["registries"]) for image in aliases.values())))
    return {
        region: {alias: table[image]["registries"][region] for alias, image in aliases.items()} for region in regions
    }


def image_uri(scope: IConstruct, mapping: cdk.CfnMapping, alias: str, image: str) -> str:
    """``<account>.dkr.ecr.<region>.<url suffix>/<image>``: the account from ``mapping`` (``image_accounts``)
    by the stack's region, ``image`` the repository (and ``:tag``)."""
    stack = cdk.Stack.of(scope)
    return f"{mapping.find_in_map(stack.region, alias)}.dkr.ecr.{stack.region}.{stack.url_suffix}/{image}"
