"""The operations dashboard (exam 4.2), built with cdk-monitoring-constructs: the endpoint per variant, drift,
the invocation function and API, and the pipelines.

The library has no SageMaker monitors, so endpoint and drift metrics go through its generic ``monitor_custom``,
from the constructs' own ``metric_*`` methods (the alarms read the same metrics); the function and the API use
the library's monitors.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk_monitoring_constructs as monitoring
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from components.foundation.exam import demonstrates
from components.ml.pipeline import SageMakerPipeline
from components.monitoring.drift import DriftMonitor
from components.serving.api import InvocationApi
from components.serving.endpoint import ModelEndpoint


class OperationsDashboard(Construct):
    """``dashboard``: one CloudWatch dashboard named ``<name>``; sections only for what exists."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        endpoint: ModelEndpoint | None,
        drift: DriftMonitor | None,
        api: InvocationApi | None,
        pipelines: Sequence[SageMakerPipeline],
    ) -> None:
        super().__init__(scope, construct_id)
        factory = monitoring.DefaultDashboardFactory(
            self,
            "Dashboards",
            dashboard_name_prefix=name,
            create_dashboard=True,
            create_summary_dashboard=False,
            create_alarm_dashboard=False,
        )
        facade = monitoring.MonitoringFacade(self, "Facade", dashboard_factory=factory)
        if endpoint is not None:
            self._endpoint(facade, endpoint)
        if drift is not None:
            facade.monitor_custom(
                human_readable_name="Drift",
                alarm_friendly_name="Drift",
                metric_groups=[
                    monitoring.CustomMetricGroup(
                        title="Max feature PSI and prediction drift",
                        metrics=[
                            drift.metric_max_feature_psi(label="MaxFeaturePSI"),
                            drift.metric_prediction_drift(label="PredictionDrift"),
                        ],
                        horizontal_annotations=[
                            cloudwatch.HorizontalAnnotation(value=drift.psi_threshold, label="drift alarm")
                        ],
                    ),
                ],
            )
        if api is not None:
            facade.monitor_lambda_function(lambda_function=api.function)
            facade.monitor_api_gateway(api=api.api, api_stage=api.api.deployment_stage.stage_name)
        facade.monitor_custom(
            human_readable_name="Pipelines",
            alarm_friendly_name="Pipelines",
            metric_groups=[
                monitoring.CustomMetricGroup(
                    title="Executions",
                    metrics=[
                        metric
                        for pipeline in pipelines
                        for metric in (pipeline.metric_execution_succeeded(), pipeline.metric_execution_failed())
                    ],
                ),
            ],
        )
        (self.dashboard,) = [c for c in self.node.find_all() if isinstance(c, cloudwatch.CfnDashboard)]
        demonstrates(
            self.dashboard,
            ["4.2"],
            "A dashboard for invocations, latency, errors, utilization, drift, "
            "the API, the function and the pipelines.",
        )

    @staticmethod
    def _endpoint(facade: monitoring.MonitoringFacade, endpoint: ModelEndpoint) -> None:
        variants = [v.name for v in endpoint.variants]
        facade.add_large_header(f"Endpoint {endpoint.endpoint_name}")
        groups = {
            "Invocations": endpoint.metric_invocations,
            "Model latency p99 (microseconds)": endpoint.metric_model_latency,
            "5xx errors": endpoint.metric_invocation_5xx_errors,
            "CPU utilization (%)": endpoint.metric_cpu_utilization,
            "Memory utilization (%)": endpoint.metric_memory_utilization,
        }
        facade.monitor_custom(
            human_readable_name="SageMaker endpoint",
            alarm_friendly_name="Endpoint",
            metric_groups=[
                monitoring.CustomMetricGroup(title=title, metrics=[metric(v, label=v) for v in variants])
                for title, metric in groups.items()
            ],
        )
