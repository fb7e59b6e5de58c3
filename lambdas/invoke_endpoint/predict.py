"""Score credit applications on the SageMaker endpoint: validate the request, call, shape the answer.

Plain functions over a ``client`` with ``invoke_endpoint``, so the tests pass a stub and no AWS call is
made. Requests are CSV rows of the model's features (the preprocess step's order, no header); the
answer is one default probability per row.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

MAX_BODY_BYTES = 5 * 1024 * 1024  # below SageMaker's 6 MB real-time payload limit
MAX_ROWS = 1000
LOG = logging.getLogger(__name__)


class Runtime(Protocol):
    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]: ...


class BadRequestError(ValueError):
    """The caller sent something the model cannot score: a 400 with the reason."""


def parse_rows(body: str | None, feature_count: int) -> list[list[float]]:
    if not body or not body.strip():
        raise BadRequestError("send CSV rows of features in the request body")
    if len(body.encode()) > MAX_BODY_BYTES:
        raise BadRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes; split the batch")
    rows = []
    for number, line in enumerate(body.strip().splitlines(), start=1):
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != feature_count:
            raise BadRequestError(f"row {number} has {len(cells)} values; the model takes {feature_count}")
        try:
            rows.append([float(cell) for cell in cells])
        except ValueError:
            raise BadRequestError(f"row {number} has a value that is not a number") from None
    if len(rows) > MAX_ROWS:
        raise BadRequestError(f"at most {MAX_ROWS} rows per request")
    return rows


def score(client: Runtime, endpoint: str, rows: list[list[float]]) -> list[float]:
    body = "\n".join(",".join(repr(value) for value in row) for row in rows)
    response = client.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=body)
    text = response["Body"].read().decode()
    predictions = [float(value) for value in text.replace("\n", ",").split(",") if value.strip()]
    if len(predictions) != len(rows):
        raise RuntimeError(f"the endpoint answered {len(predictions)} predictions for {len(rows)} rows")
    return predictions


def respond(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway proxy response."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}


def handle(event: dict[str, Any], client: Runtime, *, endpoint: str, feature_count: int) -> dict[str, Any]:
    """Map an API Gateway proxy event to a response; never leak internals in an error."""
    try:
        rows = parse_rows(event.get("body"), feature_count)
        predictions = score(client, endpoint, rows)
    except BadRequestError as error:
        return respond(400, {"error": str(error)})
    except Exception as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        LOG.exception("invocation failed (%s)", code or type(error).__name__)
        if code in ("ThrottlingException", "ServiceUnavailable"):
            return respond(503, {"error": "the model is busy; retry with backoff"})
        if code == "ModelError":
            return respond(502, {"error": "the model could not score this request"})
        return respond(500, {"error": "internal error"})
    return respond(200, {"predictions": predictions, "endpoint": endpoint})
