"""Per-variant alarms of a model endpoint: 5xx errors and p99 model latency. They notify the alerts topic and
are the endpoint's automatic rollback alarms during a blue/green deployment (controls 12, 14; exam 4.1, 4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns

from components.foundation.exam import demonstrates

if TYPE_CHECKING:
    from components.serving.endpoint import ModelEndpoint


def variant_alarms(
    endpoint: ModelEndpoint, variant: str, alerts: sns.ITopic
) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
    """The errors and latency alarms of ``variant``, in ``endpoint`` (ids ``<variant>ErrorsAlarm``,
    ``<variant>LatencyAlarm``), over one-minute periods: two of three breaching minutes alarm."""
    name, latency_ms = endpoint.endpoint_name, endpoint.config.latency_alarm_ms
    minute = cdk.Duration.minutes(1)
    errors = cloudwatch.Alarm(
        endpoint,
        f"{variant}ErrorsAlarm",
        alarm_description=f"{name}/{variant}: 5xx errors from the model (rolls back a deployment)",
        metric=endpoint.metric_invocation_5xx_errors(variant, period=minute),
        threshold=1,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    latency = cloudwatch.Alarm(
        endpoint,
        f"{variant}LatencyAlarm",
        alarm_description=f"{name}/{variant}: p99 model latency above {latency_ms} ms (rolls back a deployment)",
        metric=endpoint.metric_model_latency(variant, period=minute),
        threshold=latency_ms * 1000,  # ModelLatency is in microseconds
        evaluation_periods=3,
        datapoints_to_alarm=2,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    for alarm in (errors, latency):
        alarm.add_alarm_action(actions.SnsAction(alerts))
        alarm.add_ok_action(actions.SnsAction(alerts))
        demonstrates(alarm, ["4.1", "4.2"], "Per-variant alarm: notifies the alerts topic and gates rollback.")
    return errors, latency
