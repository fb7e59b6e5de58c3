"""Autoscaling of a model endpoint's variants (control 13; exam 3.2, 4.2): target tracking on invocations per
instance (realtime) or on the backlog per instance with a step from zero (async), cooldowns, and optional
business-hours capacity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_iam as iam

from components.foundation.exam import demonstrates

if TYPE_CHECKING:
    from components.serving.endpoint import ModelEndpoint

SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def scaling_role(endpoint: ModelEndpoint) -> iam.IRole:
    """Application Auto Scaling's service-linked role for SageMaker (AWS creates it on first use), so no
    hand-made role with a broad trust is added per variant."""
    arn = cdk.Stack.of(endpoint).format_arn(
        service="iam", region="", resource="role", resource_name=SERVICE_LINKED_ROLE
    )
    return iam.Role.from_role_arn(endpoint, "AutoscalingServiceLinkedRole", arn, mutable=False)


def scale_variant(endpoint: ModelEndpoint, variant: str, role: iam.IRole) -> autoscaling.ScalableTarget:
    """The scalable target of ``variant`` (id ``<variant>Scaling`` in ``endpoint``) and its policies."""
    config = endpoint.config
    target = autoscaling.ScalableTarget(
        endpoint,
        f"{variant}Scaling",
        service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
        resource_id=f"endpoint/{endpoint.endpoint_name}/variant/{variant}",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        min_capacity=config.min_capacity,
        max_capacity=config.max_capacity,
        role=role,
    )
    target.node.add_dependency(endpoint.endpoint)
    scaling = config.autoscaling
    scale_in = cdk.Duration.seconds(scaling.scale_in_cooldown_seconds)
    scale_out = cdk.Duration.seconds(scaling.scale_out_cooldown_seconds)
    if config.mode == "async":
        backlog = endpoint.metric_backlog_size_per_instance()
        target.scale_to_track_metric(
            "BacklogTracking",
            custom_metric=backlog,
            target_value=config.async_max_concurrent_invocations_per_instance,
            scale_in_cooldown=scale_in,
            scale_out_cooldown=scale_out,
        )
        waiting = endpoint.metric_has_backlog_without_capacity(period=cdk.Duration.minutes(1))
        target.scale_on_metric(
            "ScaleFromZero",
            metric=waiting,
            adjustment_type=autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            scaling_steps=[
                autoscaling.ScalingInterval(upper=0.5, change=0),
                autoscaling.ScalingInterval(lower=0.5, change=1),
            ],
            cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
        )
    else:
        target.scale_to_track_metric(
            "InvocationsTracking",
            target_value=scaling.target_invocations_per_instance,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scale_in,
            scale_out_cooldown=scale_out,
        )
    if scaling.business_hours_min_capacity:
        target.scale_on_schedule(
            "BusinessHours",
            schedule=autoscaling.Schedule.cron(hour="8", minute="0", week_day="MON-FRI"),
            min_capacity=scaling.business_hours_min_capacity,
            max_capacity=max(config.max_capacity, scaling.business_hours_min_capacity),
        )
        target.scale_on_schedule(
            "AfterHours",
            schedule=autoscaling.Schedule.cron(hour="18", minute="0", week_day="MON-FRI"),
            min_capacity=config.min_capacity,
            max_capacity=config.max_capacity,
        )
    demonstrates(target, ["3.2", "4.2"], "Autoscaling on invocations per instance, with cooldowns and schedules.")
    return target
