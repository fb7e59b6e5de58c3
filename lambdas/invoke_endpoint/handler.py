"""Lambda entry point (``handler.handler``): configuration from the environment and the clients, created once
per container; Powertools for the logs (JSON, with the API Gateway request id as correlation id), the metrics
(CloudWatch embedded metric format: Latency, RecordsScored, BadRequests, ColdStart) and the traces (X-Ray).

POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE come from the stack's environment, as do the
settings ``api.Settings.from_env`` reads.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from api import Settings, create_app
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()  # patches boto3: the endpoint and feature store calls appear as subsegments
metrics = Metrics()

SETTINGS = Settings.from_env(os.environ)
RUNTIME = boto3.client("sagemaker-runtime")
FEATURE_STORE = boto3.client("sagemaker-featurestore-runtime")
app = create_app(SETTINGS, runtime=RUNTIME, feature_store=FEATURE_STORE, metrics=metrics)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)  # responses hold applicants' scores: not in traces
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
