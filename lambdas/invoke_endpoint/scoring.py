"""The function's two AWS calls, as plain functions over the clients they are given (tests pass stubbed ones):
the endpoint (``sagemaker-runtime`` InvokeEndpoint) and the online feature store (``sagemaker-featurestore-runtime``
GetRecord). Errors the services answer are left to the caller as botocore ``ClientError``s."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from models import MODEL_INPUTS, EndpointAnswer

JSON = "application/json"


class Runtime(Protocol):
    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]: ...


class FeatureStore(Protocol):
    def get_record(self, **kwargs: Any) -> dict[str, Any]: ...


class EndpointContractError(RuntimeError):
    """The endpoint answered something else than one probability per record: a 500, never a guess."""


@dataclass(frozen=True)
class Scores:
    probabilities: list[float]
    variant: str | None  # InvokedProductionVariant
    model_id: str
    latency_ms: float  # the endpoint call, as the Latency metric reports it


def score(runtime: Runtime, endpoint_name: str, records: Sequence[Mapping[str, Any]]) -> Scores:
    """Send the model's inputs of ``records`` (nothing else: no id, no ``sex``) to the endpoint in one call."""
    body = json.dumps([{name: record[name] for name in MODEL_INPUTS} for record in records])
    started = time.perf_counter()
    response = runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType=JSON, Accept=JSON, Body=body)
    latency_ms = (time.perf_counter() - started) * 1000
    try:
        answer = EndpointAnswer.model_validate_json(response["Body"].read())
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise EndpointContractError(f"the endpoint's answer is not the serving contract: {error}") from None
    if len(answer.predictions) != len(records):
        raise EndpointContractError(
            f"the endpoint answered {len(answer.predictions)} predictions for {len(records)} records"
        )
    return Scores(answer.predictions, response.get("InvokedProductionVariant"), answer.model_id, latency_ms)


def stored_features(feature_store: FeatureStore, feature_group: str, applicant_id: str) -> dict[str, str | None] | None:
    """The applicant's latest model inputs in the online store, as the strings it keeps (None: the feature is
    absent from the record), or None when the store has no record for the applicant.

    GetRecord answers an empty result, not an error, when no record has the identifier; ResourceNotFound means
    the feature group itself is missing (a deployment error). Its other errors: ValidationError, AccessForbidden,
    InternalFailure, ServiceUnavailable
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_feature_store_GetRecord.html).
    """
    response = feature_store.get_record(
        FeatureGroupName=feature_group,
        RecordIdentifierValueAsString=applicant_id,
        FeatureNames=list(MODEL_INPUTS),
    )
    values = {feature["FeatureName"]: feature.get("ValueAsString") for feature in response.get("Record") or []}
    if not values:
        return None
    return {name: values.get(name) for name in MODEL_INPUTS}
