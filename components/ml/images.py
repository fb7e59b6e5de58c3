"""The SageMaker images the platform runs, by region: their ECR accounts differ per region, so templates look them
up in a ``CfnMapping`` by ``AWS::Region`` (from ``config.catalogs.sagemaker_images``) instead of calling the SDK."""

from __future__ import annotations

from config.catalogs import sagemaker_images


def image_accounts(aliases: dict[str, str]) -> dict[str, dict[str, str]]:
    """Region -> {alias: ECR account} for the regions that offer every image of ``aliases`` (alias -> image)."""
    table = sagemaker_images()
    regions = sorted(set.intersection(*(set(table[image]["registries"]) for image in aliases.values())))
    return {
        region: {alias: table[image]["registries"][region] for alias, image in aliases.items()} for region in regions
    }
