"""The API's bodies as pydantic v2 models: what the resolver validates requests and responses against, and what
``docs/openapi.json`` is generated from (``python -m lambdas.invoke_endpoint.openapi``).

A record is one applicant, raw, as the training data holds it: the model's inputs are its required keys (JSON
null is allowed and imputed by the model exactly as in training: median or most frequent category), any
string is a valid category (one training never saw is encoded as training encodes it), and an unknown key is
an error, so a typo cannot silently become a missing value. Imports nothing but pydantic, so
``lambdas.invoke_endpoint.models`` can be imported from the repository too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

MAX_RECORDS = 100  # records per POST /predict request
BODY_SHAPE = 'send one record object or {"records": [record, ...]}'

# Numbers are JSON numbers (strict: "53" and true are wrong types), finite and >= 0.
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ApplicantRecord(BaseModel):
    """One applicant's raw features. The model's inputs are its required keys; the optional ones are
    bookkeeping (`applicant_id` is echoed back) or, like `sex`, accepted but never scored (fairness)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # The model's inputs, in this order (MODEL_INPUTS below reads them from here): required keys, may be null.
    age: Amount | None = Field(description="Age in years; null: the training median.", examples=[41])
    income: Amount | None = Field(description="Yearly income; null: the training median.", examples=[52000])
    debt_to_income: Amount | None = Field(description="Debt to income ratio; null: the training median.")
    credit_history_years: Amount | None = Field(description="Years of credit history; null: the training median.")
    open_accounts: Amount | None = Field(description="Open credit accounts; null: the training median.")
    employment_type: str | None = Field(
        description="E.g. salaried, self_employed, unemployed, retired; any string (a category training never "
        "saw is encoded as all zeros); null: the most frequent category.",
        examples=["salaried"],
    )
    education: str | None = Field(
        description="E.g. high_school, bachelor, master, doctorate; any string (unseen: level 0); null: the most "
        "frequent category.",
        examples=["bachelor"],
    )
    region: str | None = Field(
        description="E.g. north, south, east, west; any string (unseen: all zeros); null: the most frequent category.",
        examples=["north"],
    )
    # Optional keys, never sent to the model.
    applicant_id: str | None = Field(default=None, description="Echoed back with the prediction.")
    event_time: str | None = Field(default=None, description="When the features were observed.")
    sex: str | None = Field(default=None, description="Accepted, never scored (the bias report's facet).")


# The record's keys the model scores, in order: the required fields above (tests/ compares them with the
# training transform's inputs, pipelines/steps/features.py).
MODEL_INPUTS: tuple[str, ...] = tuple(
    name for name, field in ApplicantRecord.model_fields.items() if field.is_required()
)


class ApplicantBatch(BaseModel):
    """A batch of records, scored in one endpoint call."""

    model_config = ConfigDict(extra="forbid", strict=True)

    records: list[ApplicantRecord] = Field(
        min_length=1, max_length=MAX_RECORDS, description=f"1 to {MAX_RECORDS} records."
    )


def _body_shape(body: Any) -> str | None:
    """Which model a request body is: an object with ``records`` is a batch, any other object one record."""
    if isinstance(body, dict):
        return "batch" if "records" in body else "record"
    return None


# POST /predict takes either shape; the discriminator picks one, so an error names the fields of that shape only.
PredictRequest = Annotated[
    Annotated[ApplicantRecord, Tag("record")] | Annotated[ApplicantBatch, Tag("batch")],
    Discriminator(
        _body_shape,
        custom_error_type="body_shape",
        custom_error_message=BODY_SHAPE,
    ),
]


class Prediction(BaseModel):
    applicant_id: str | None = Field(description="The record's applicant_id, null if it had none.")
    probability: float = Field(ge=0, le=1, description="Probability of default.")
    decision: Literal["decline", "approve"] = Field(description="decline when probability >= the threshold.")


class ModelInfo(BaseModel):
    """Which model answered: the endpoint's variant, the registered package it serves and the artifact."""

    model_config = ConfigDict(protected_namespaces=())

    variant: str | None = Field(description="The production variant that answered (InvokedProductionVariant).")
    model_package_arn: str | None = Field(description="The model package version the variant serves, if known.")
    model_version: int | None = Field(description="That package's version number.")
    model_id: str = Field(description="The model artifact's identity, as the endpoint reports it.")


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per record, in the request's order.")
    model: ModelInfo


class ErrorDetail(BaseModel):
    field: str = Field(description="Where: records[2].income, income, or body.", examples=["records[2].income"])
    rule: str = Field(description="What the value breaks.", examples=["input should be a valid number"])


class BadRequestBody(BaseModel):
    error: str = Field(description="One line: the first field and its rule.", examples=["age: field required"])
    details: list[ErrorDetail] = Field(description="Every problem found.")


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, without internals.")


class EndpointAnswer(BaseModel):
    """What the endpoint's serving code (pipelines/steps/serve.py) answers in application/json."""

    model_config = ConfigDict(protected_namespaces=())

    predictions: list[Annotated[float, Field(ge=0, le=1)]]
    model_id: str
