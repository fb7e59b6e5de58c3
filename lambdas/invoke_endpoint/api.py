"""The API's routes (Powertools event handler, API Gateway REST proxy events) over clients passed in.

``create_app`` builds the resolver for a configuration, a ``sagemaker-runtime`` client, a
``sagemaker-featurestore-runtime`` client and a Metrics instance; ``handler.py`` calls it once per container
with real clients, the tests with stubbed ones, and ``openapi.py`` with none (it only reads the routes).

- ``POST /predict``: one record or ``{"records": [...]}`` (pydantic-validated: ``models.py``) -> the endpoint.
- ``GET /applicants/{applicant_id}/prediction``: the applicant's features from the online feature store ->
  the endpoint.

Every error is ``{"error": "..."}`` (a 400 adds ``details``) and never carries internals: what went wrong is
logged, with the request's correlation id, instead.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from models import (
    BODY_SHAPE,
    MAX_RECORDS,
    ApplicantBatch,
    ApplicantRecord,
    BadRequestBody,
    ErrorBody,
    ErrorDetail,
    ModelInfo,
    Prediction,
    PredictRequest,
    PredictResponse,
)
from scoring import FeatureStore, Runtime, score, stored_features

logger = Logger(child=True)
tracer = Tracer()  # the handler's segment; the boto3 calls are its subsegments (Tracer patches botocore)

BUSY = "the model is busy; retry with backoff"
BUSY_CODES = frozenset({"ThrottlingException", "ServiceUnavailable"})
MAX_DETAILS = 100  # problems listed in one 400 (a record with many unknown keys could list thousands)


@dataclass(frozen=True)
class Settings:
    """What the CDK stack sets in the function's environment."""

    endpoint_name: str
    decision_threshold: float
    variant_packages: Mapping[str, str] = field(default_factory=dict)  # variant name -> model package ARN
    feature_group_name: str | None = None  # None: no online feature store in this deployment

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Read ``ENDPOINT_NAME``, ``DECISION_THRESHOLD``, ``VARIANT_PACKAGES`` (a JSON object, may be absent)
        and ``FEATURE_GROUP_NAME`` (absent or empty: none). A missing or malformed value fails the container's
        start, which Lambda reports as an init error, rather than every request."""
        packages = json.loads(environ.get("VARIANT_PACKAGES") or "{}")
        if not isinstance(packages, dict) or not all(isinstance(v, str) for v in packages.values()):
            raise ValueError("VARIANT_PACKAGES must be a JSON object of variant name -> model package ARN")
        threshold = float(environ["DECISION_THRESHOLD"])
        if not 0 <= threshold <= 1:
            raise ValueError(f"DECISION_THRESHOLD must be a probability, not {threshold}")
        return cls(
            endpoint_name=environ["ENDPOINT_NAME"],
            decision_threshold=threshold,
            variant_packages=packages,
            feature_group_name=environ.get("FEATURE_GROUP_NAME") or None,
        )


class ApplicantNotFoundError(LookupError):
    """The online store has no record for the applicant: a 404."""


class NoFeatureStoreError(LookupError):
    """FEATURE_GROUP_NAME is not set: this deployment has no online store to read (a 501)."""


def model_version(package_arn: str | None) -> int | None:
    """The version of a model package ARN (``...:model-package/<group>/<version>``), or None."""
    last = (package_arn or "").rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else None


def field_path(loc: Sequence[str | int]) -> str:
    """``("records", 2, "income")`` -> ``records[2].income``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def describe(errors: Sequence[Mapping[str, Any]]) -> BadRequestBody:
    """The 400 body for pydantic's errors: each problem as a field path and the rule its value breaks.

    Powertools places body errors under ``body`` and the discriminator adds the shape it chose (``record`` or
    ``batch``): neither is part of the caller's field names. The problems nearest the top come first, so a
    batch that is too large says so before it lists its records' problems. Input values are never echoed."""
    found = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"]:
            loc = loc[1:]
        if loc[:1] in (["record"], ["batch"]):
            loc = loc[1:]
        kind = error.get("type", "")
        if kind == "json_invalid":
            loc, rule = [], "malformed JSON"
        elif kind == "missing" and not loc:
            rule = 'send a JSON body: one record object or {"records": [record, ...]}'
        elif kind == "missing":
            rule = "field required"
        elif kind == "extra_forbidden":
            rule = "unknown field"
        elif kind == "too_long" and loc == ["records"]:
            rule = f"at most {MAX_RECORDS} records per request"
        elif kind == "too_short" and loc == ["records"]:
            rule = "at least 1 record"
        else:
            message = str(error.get("msg", kind))
            rule = message[:1].lower() + message[1:]
        found.append((len(loc), ErrorDetail(field=field_path(loc), rule=rule)))
    details = [detail for _, detail in sorted(found, key=lambda item: item[0])][:MAX_DETAILS]
    if not details:
        details = [ErrorDetail(field="body", rule="invalid request")]
    line = f"{details[0].field}: {details[0].rule}"
    if len(found) > 1:
        line += f" (and {len(found) - 1} more)"
    return BadRequestBody(error=line, details=details)


def _error(status: HTTPStatus, message: str) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody(error=message).model_dump(),
    )


def _json(model: type[Any], description: str) -> OpenAPIResponse:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}


SCORED = _json(PredictResponse, "One prediction per record, in order, and the model that made them.")
ERRORS: dict[int, OpenAPIResponse] = {
    500: _json(ErrorBody, '"internal error": the function or the endpoint failed; details are in the logs.'),
    502: _json(ErrorBody, "The model could not score the records (the endpoint's ModelError)."),
    503: _json(ErrorBody, f'"{BUSY}": the endpoint or the feature store throttled or is unavailable.'),
}


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None,
    feature_store: FeatureStore | None,
    metrics: Metrics,
) -> APIGatewayRestResolver:
    """The resolver with both routes and the error handlers (``runtime=None`` and ``feature_store=None`` serve
    only to read the routes: the OpenAPI document)."""
    app = APIGatewayRestResolver(enable_validation=True)

    def predictions(records: Sequence[ApplicantRecord]) -> PredictResponse:
        if runtime is None:
            raise RuntimeError("create_app was given no sagemaker-runtime client")
        scores = score(runtime, settings.endpoint_name, [record.model_dump() for record in records])
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=scores.latency_ms)
        metrics.add_metric(name="RecordsScored", unit=MetricUnit.Count, value=len(records))
        package = settings.variant_packages.get(scores.variant or "")
        tracer.put_annotation(key="variant", value=scores.variant or "")
        logger.info(
            "scored", extra={"records": len(records), "variant": scores.variant, "latency_ms": scores.latency_ms}
        )
        return PredictResponse(
            predictions=[
                Prediction(
                    applicant_id=record.applicant_id,
                    probability=probability,
                    decision="decline" if probability >= settings.decision_threshold else "approve",
                )
                for record, probability in zip(records, scores.probabilities, strict=True)
            ],
            model=ModelInfo(
                variant=scores.variant,
                model_package_arn=package,
                model_version=model_version(package),
                model_id=scores.model_id,
            ),
        )

    @app.post(
        "/predict",
        operation_id="predict",
        summary="Score raw applicant records",
        description=f'One record, or up to {MAX_RECORDS} as {{"records": [...]}}. Every model input is '
        "required and may be null (imputed as in training); any string is a category; unknown keys are "
        "rejected.",
        responses={
            200: SCORED,
            400: _json(BadRequestBody, "The body is not one record or a batch of records: what and where."),
            **ERRORS,
        },
    )
    def predict(
        request: Annotated[PredictRequest, Body(description="One applicant record, or a batch of them.")],
    ) -> PredictResponse:
        if not isinstance(app.current_event.json_body, dict):
            # Powertools validates only the first element of a JSON array sent for a non-list body: refuse arrays.
            raise RequestValidationError([{"type": "body_shape", "loc": ("body",), "msg": BODY_SHAPE}])
        records = request.records if isinstance(request, ApplicantBatch) else [request]
        return predictions(records)

    @app.get(
        "/applicants/<applicant_id>/prediction",
        operation_id="predictStoredApplicant",
        summary="Score an applicant from the online feature store",
        description="Reads the applicant's latest features from the online feature store and scores them.",
        responses={
            200: SCORED,
            404: _json(ErrorBody, "The online store has no features for this applicant (or no such route)."),
            501: _json(ErrorBody, "This deployment has no online feature store."),
            **ERRORS,
        },
    )
    def predict_stored(
        applicant_id: Annotated[str, Path(description="The feature group's record identifier.", min_length=1)],
    ) -> PredictResponse:
        if not settings.feature_group_name:
            raise NoFeatureStoreError
        if feature_store is None:
            raise RuntimeError("create_app was given no sagemaker-featurestore-runtime client")
        features = stored_features(feature_store, settings.feature_group_name, applicant_id)
        if features is None:
            raise ApplicantNotFoundError(applicant_id)
        # The store keeps every value as a string: lax validation turns the numeric ones into floats.
        record = ApplicantRecord.model_validate({**features, "applicant_id": applicant_id}, strict=False)
        return predictions([record])

    @app.exception_handler([RequestValidationError, RequestUnsupportedContentType])
    def bad_request(error: RequestValidationError | RequestUnsupportedContentType) -> Response[Any]:
        body = describe(error.errors())
        metrics.add_metric(name="BadRequests", unit=MetricUnit.Count, value=1)
        logger.info("bad request", extra={"problem": body.error, "problems": len(body.details)})
        return Response(
            status_code=HTTPStatus.BAD_REQUEST.value,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(),
        )

    @app.exception_handler(ApplicantNotFoundError)
    def unknown_applicant(error: ApplicantNotFoundError) -> Response[Any]:
        return _error(HTTPStatus.NOT_FOUND, f"no features for applicant {error.args[0]} in the online store")

    @app.exception_handler(NoFeatureStoreError)
    def no_feature_store(_: NoFeatureStoreError) -> Response[Any]:
        return _error(HTTPStatus.NOT_IMPLEMENTED, "this deployment has no online feature store")

    @app.not_found
    def no_route(_: NotFoundError) -> Response[Any]:
        event = app.current_event
        return _error(HTTPStatus.NOT_FOUND, f"no route {event.http_method} {event.path}")

    @app.exception_handler(ClientError)
    def aws_error(error: ClientError) -> Response[Any]:
        code = error.response.get("Error", {}).get("Code", "")
        # A ModelError names the endpoint's log stream, where the model's own traceback is.
        where = {"operation": error.operation_name, "code": code, "log_stream": error.response.get("LogStreamArn")}
        if code in BUSY_CODES:
            logger.warning("%s throttled or unavailable", error.operation_name, extra=where)
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, BUSY)
        logger.exception("%s failed with %s", error.operation_name, code or "an unknown error", extra=where)
        if code == "ModelError":
            return _error(HTTPStatus.BAD_GATEWAY, "the model could not score this request")
        return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    @app.exception_handler(Exception)
    def internal_error(_: Exception) -> Response[Any]:
        logger.exception("the request failed")
        return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    return app
