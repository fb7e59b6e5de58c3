"""The model registry (exam 2.3, 3.3): one SageMaker model package group whose versions the training pipeline
registers as ``PendingManualApproval``; only a version a person approved is ever served."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from components.foundation.arns import sagemaker_arn
from components.foundation.exam import demonstrates


class ModelRegistry:
    """The model package group ``name``, built into the owner's construct (``<scope>/ModelPackageGroup``, so
    its logical id stays the owner's). ``arn`` is the group's; ``package_arns`` matches every version in it."""

    def __init__(self, scope: Construct, *, name: str, description: str) -> None:
        self.name = name
        self.group = sagemaker.CfnModelPackageGroup(
            scope, "ModelPackageGroup", model_package_group_name=name, model_package_group_description=description
        )
        self.arn = sagemaker_arn(scope, "model-package-group", name)
        self.package_arns = sagemaker_arn(scope, "model-package", f"{name}/*")
        demonstrates(
            self.group,
            ["2.3", "3.3"],
            "The model registry: versions with metrics, deployed only after manual approval.",
        )

    def apply_removal_policy(self, policy: cdk.RemovalPolicy) -> None:
        """The registry holds every approved model's lineage: kept in production (control 41)."""
        self.group.apply_removal_policy(policy)
