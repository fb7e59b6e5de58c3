"""The model-deploy pipeline's automated test stage: before anyone approves production, score labelled rows of
the project's sample on the staging API, and stop the pipeline (exit 1) unless it answers reliably, fast, right
and well enough.

    python -m tools.acceptance --url PREDICT_URL --package-arn ARN --threshold 0.5 --records 200
                               --max-error-rate-percent 1 --max-p95-latency-ms 1000 --min-auc 0.7 [--region R]

A CodeBuild step runs it after the staging deploy and before the manual approval for production. Synth renders
every limit into the pipeline from the profile, so this tool loads no profile, and it needs only boto3 and the
standard library: the step installs nothing else (no pandas, numpy, scikit-learn or pydantic).

It sends the first ``--records`` labelled rows of ``pipelines/data/credit_applications.csv`` as the API takes
them: the model's raw inputs only (a missing value as null, imputed by the model as in training), never the
label, the applicant's id or the facet, at most ``MAX_RECORDS`` records per request, each request SigV4-signed
for execute-api with boto3's default credentials (in CodeBuild, the project's role) and timed. Then one line per
check, ``ok    <check>: ...`` or ``FAIL  <check>: ...``, and exit 0 only when all pass:

- ``error rate``: requests answered other than 2xx, or not at all, in percent of the requests;
- ``p95 latency``: of every request, answered or not (nearest rank: one measured value, no interpolation);
- ``answers``: every answered record has a probability in [0, 1] and the decision ``--threshold`` implies, and
  its answer's model block names ``--package-arn`` (the version just approved, not an older fleet still serving);
- ``auc``: of the probabilities against the labels (rank-based, ties averaged).

When every request fails there is nothing to measure: one line says so. An AWS or network error is never a
traceback: it is a failed request.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from tools.verify import MAX_RECORDS, SAMPLE, Payload, Sender, StepFailedError, signed_request, urllib_send

LABEL = "default"
# The model's raw inputs, the API's required keys: lambdas/invoke_endpoint/models.py MODEL_INPUTS and the
# training transform's pipelines/steps/features.py NUMERIC and CATEGORICAL (the tests compare them). Both modules
# import libraries this tool goes without (pydantic; pandas and numpy), so the names are repeated here.
NUMERIC = ("age", "income", "debt_to_income", "credit_history_years", "open_accounts")
CATEGORICAL = ("employment_type", "education", "region")
INPUTS = (*NUMERIC, *CATEGORICAL)
MIN_RECORDS = 10  # fewer say nothing about a p95 or an AUC
PERCENTILE = 95
SHOWN = 200  # characters of an answer or an error quoted in a line

Clock = Callable[[], float]  # seconds, monotonic: time.monotonic, a fake one in the tests
Post = Callable[[Payload], tuple[int, str]]  # one signed POST of a body to the API -> (status, text)
Scored = tuple[float, int]  # an answered record's probability and its label
TRANSPORT_ERRORS = (StepFailedError, BotoCoreError, OSError, http.client.HTTPException)


class SampleError(Exception):
    """The sample cannot be sent as it is (a column missing, a cell not a number): one line, exit 1."""


@dataclass(frozen=True)
class Row:
    """One labelled row of the sample: the record that is sent, and the label that stays here."""

    record: dict[str, Any]
    label: int


@dataclass(frozen=True)
class Outcome:
    """One request: its rows, the HTTP status (None when no answer came), the answer or the error, how long."""

    rows: list[Row]
    status: int | None
    text: str
    seconds: float

    @property
    def answered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.passed else 'FAIL':<5} {self.name}: {self.detail}"


# --- the sample -------------------------------------------------------------------------------------


def _cell(key: str, text: str) -> Any:
    """A CSV cell as the API takes it: empty is null, a numeric input a finite JSON number, a category its text."""
    if text == "":
        return None
    if key not in NUMERIC:
        return text
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # the API's JSON parser rejects NaN and infinities
        raise ValueError(f"{key} {text!r} is not a number")
    return number


def _row(cells: dict[str, str]) -> Row:
    return Row({key: _cell(key, cells[key]) for key in INPUTS}, int(cells[LABEL]))


def labelled_rows(path: Path = SAMPLE) -> list[Row]:
    """Every row labelled 0 or 1, in the file's order, so that ``--records N`` always means the same N rows."""
    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            missing = [name for name in (*INPUTS, LABEL) if name not in (reader.fieldnames or [])]
            if missing:
                raise SampleError(f"{path.name} lacks {', '.join(missing)}, which the model takes or is scored on")
            rows: list[Row] = []
            for cells in reader:
                if cells[LABEL] in ("0", "1"):
                    try:
                        rows.append(_row(cells))
                    except ValueError as error:
                        raise SampleError(f"{path.name} line {reader.line_num}: {error}") from None
            return rows
    except OSError as error:
        raise SampleError(f"cannot read {path}: {error.strerror or error}") from None


def batches(rows: Sequence[Row], size: int = MAX_RECORDS) -> list[list[Row]]:
    """The rows in requests of at most ``size`` records (the API refuses more than MAX_RECORDS)."""
    return [list(rows[start : start + size]) for start in range(0, len(rows), size)]


# --- sending ----------------------------------------------------------------------------------------


def _credentials() -> Any:
    """boto3's default chain (in CodeBuild, the project's role). None when there are none: then signing fails
    each request, which counts as failed, rather than a traceback."""
    try:
        return boto3.Session().get_credentials()
    except BotoCoreError:
        return None


def signed_post(url: str, region: str, credentials: Any, send: Sender) -> Post:
    """POST a body to ``url``, signed as ``tools.verify`` signs its requests (SigV4 for execute-api)."""

    def post(payload: Payload) -> tuple[int, str]:
        return signed_request(credentials, region, "POST", url, payload=payload, send=send)

    return post


def send_all(post: Post, groups: list[list[Row]], clock: Clock) -> list[Outcome]:
    """Send each group as ``{"records": [...]}``, one after the other, timing each from the call to its answer
    or its error. A transport or AWS error is an outcome without a status, never an exception."""
    outcomes: list[Outcome] = []
    for rows in groups:
        started = clock()
        status: int | None
        try:
            status, text = post({"records": [row.record for row in rows]})
        except TRANSPORT_ERRORS as error:
            status, text = None, str(error) or type(error).__name__
        outcomes.append(Outcome(rows, status, text, clock() - started))
    return outcomes


def _requests(count: int) -> str:
    return f"{count} request{'' if count == 1 else 's'}"


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN else flat[:SHOWN] + "..."


def _failure(number: int, outcome: Outcome) -> str:
    if outcome.status is None:
        return f"request {number} got no answer: {_shown(outcome.text)}"
    return f"request {number} answered {outcome.status}: {_shown(outcome.text)}"


# --- measures ---------------------------------------------------------------------------------------


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The smallest value with at least ``percent`` % of the values at or below it. The rank is computed in
    integers: in floating point, 7 / 100 * 100 is 7.000000000000001, whose ceiling would pick the next value."""
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def _average_ranks(scores: Sequence[float]) -> list[float]:
    """1-based ranks of the scores, tied scores sharing the average of the ranks they span."""
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for index in order[start : end + 1]:
            ranks[index] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve: the chance that a random positive scores above a random negative, a tie counting
    half (the Mann-Whitney U from ranks). Refuses one class: with no pair to compare there is no AUC."""
    if len(scores) != len(labels):
        raise ValueError(f"{len(scores)} scores for {len(labels)} labels")
    if any(label not in (0, 1) for label in labels):
        raise ValueError("labels must be 0 or 1")
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise ValueError(f"one class only: {len(labels)} records, all labelled {labels[0] if labels else '-'}")
    ranks = _average_ranks(scores)
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


# --- checks -----------------------------------------------------------------------------------------


def check_errors(outcomes: Sequence[Outcome], limit: float) -> Check:
    failed = [(number, o) for number, o in enumerate(outcomes, start=1) if not o.answered]
    rate = 100 * len(failed) / len(outcomes)
    passed = rate <= limit
    detail = f"{rate:.1f} % of {_requests(len(outcomes))} (limit {limit:g} %)"
    return Check("error rate", passed, detail if passed else f"{detail}; first: {_failure(*failed[0])}")


def check_latency(outcomes: Sequence[Outcome], limit_ms: float) -> Check:
    p95 = nearest_rank([o.seconds * 1000 for o in outcomes], PERCENTILE)
    return Check(
        "p95 latency", p95 <= limit_ms, f"{p95:.0f} ms over {_requests(len(outcomes))} (limit {limit_ms:g} ms)"
    )


def _probability(prediction: Any) -> float | None:
    """The prediction's probability when it is a number from 0 to 1 (NaN is not), else None."""
    value = prediction.get("probability") if isinstance(prediction, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return None
    return float(value)


def _prediction_problem(prediction: Any, threshold: float) -> str | None:
    if not isinstance(prediction, dict):
        return f"not an object: {_shown(json.dumps(prediction))}"
    probability = _probability(prediction)
    if probability is None:
        return f"probability {prediction.get('probability')!r}, expected a number from 0 to 1"
    expected = "decline" if probability >= threshold else "approve"
    if prediction.get("decision") != expected:
        return (
            f"decision {prediction.get('decision')!r} for probability {probability}, expected {expected!r} "
            f"(decline from probability {threshold:g})"
        )
    return None


def _model_problem(answer: dict[str, Any], package_arn: str) -> str | None:
    model = answer.get("model")
    served = model.get("model_package_arn") if isinstance(model, dict) else None
    if served == package_arn:
        return None
    return f"the model block names {served!r}, not {package_arn} (an older fleet still serving?)"


def read_answer(number: int, outcome: Outcome, package_arn: str, threshold: float) -> tuple[list[str], list[Scored]]:
    """What is wrong with the records of one answered request (one entry per wrong record), and each usable
    probability with its label. A probability counts for the AUC even when its answer is wrong otherwise: the
    answers check fails for that already, and the AUC still says how good the served model is."""
    try:
        answer = json.loads(outcome.text)
    except ValueError:
        answer = None
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(answer, dict) or not isinstance(predictions, list) or len(predictions) != len(outcome.rows):
        count = len(predictions) if isinstance(predictions, list) else "no"
        malformed = f"request {number}: {count} predictions for {len(outcome.rows)} records: {_shown(outcome.text)}"
        return [malformed] * len(outcome.rows), []
    model_problem = _model_problem(answer, package_arn)
    wrong: list[str] = []
    scored: list[Scored] = []
    for index, (prediction, row) in enumerate(zip(predictions, outcome.rows, strict=True), start=1):
        problem = _prediction_problem(prediction, threshold) or model_problem
        if problem:
            wrong.append(f"request {number}, record {index}: {problem}")
        probability = _probability(prediction)
        if probability is not None:
            scored.append((probability, row.label))
    return wrong, scored


def check_answers(outcomes: Sequence[Outcome], package_arn: str, threshold: float) -> tuple[Check, list[Scored]]:
    """The answers check, and the probabilities with their labels that the AUC is computed on."""
    wrong: list[str] = []
    scored: list[Scored] = []
    records = 0
    for number, outcome in enumerate(outcomes, start=1):
        if outcome.answered:
            records += len(outcome.rows)
            problems, rows = read_answer(number, outcome, package_arn, threshold)
            wrong += problems
            scored += rows
    detail = f"{len(wrong)} wrong of {records} records (limit 0)"
    return Check("answers", not wrong, f"{detail}; first: {wrong[0]}" if wrong else detail), scored


def check_auc(scored: Sequence[Scored], minimum: float) -> Check:
    try:
        value = auc([probability for probability, _ in scored], [label for _, label in scored])
    except ValueError as error:
        return Check("auc", False, f"cannot compute: {error} (limit {minimum:g})")
    return Check("auc", value >= minimum, f"{value:.4f} over {len(scored)} records (limit {minimum:g})")


def checks(outcomes: Sequence[Outcome], args: argparse.Namespace) -> list[Check]:
    answers, scored = check_answers(outcomes, args.package_arn, args.threshold)
    return [
        check_errors(outcomes, args.max_error_rate_percent),
        check_latency(outcomes, args.max_p95_latency_ms),
        answers,
        check_auc(scored, args.min_auc),
    ]


# --- command line -----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    """Every limit is required: synth renders them from the profile, and a default here would hide a missing one."""
    parser = argparse.ArgumentParser(prog="python -m tools.acceptance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the staging API's PredictUrl (.../predict)")
    parser.add_argument("--package-arn", required=True, help="the model package version staging must serve")
    parser.add_argument("--threshold", type=float, required=True, help="decline from this probability, in (0, 1)")
    parser.add_argument("--records", type=int, required=True, help=f"labelled rows to send, at least {MIN_RECORDS}")
    parser.add_argument("--max-error-rate-percent", type=float, required=True, help="failed requests, in [0, 100]")
    parser.add_argument("--max-p95-latency-ms", type=float, required=True, help="p95 of the requests' latency")
    parser.add_argument("--min-auc", type=float, required=True, help="AUC of the probabilities, in [0, 1]")
    parser.add_argument(
        "--records-per-request",
        type=int,
        default=MAX_RECORDS,
        help=f"records in each timed request, 1 to {MAX_RECORDS} (more requests: a p95 that means something)",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=0,
        help="untimed one-record requests sent first, 0 to 10 (a fresh deploy's first call pays the cold start)",
    )
    parser.add_argument("--region", help="the API's region (default: AWS_REGION, then AWS_DEFAULT_REGION)")
    return parser


def _refusals(args: argparse.Namespace, available: int) -> list[str]:
    """Why the arguments cannot be run, in the order of the options. Each rule says what is right, so NaN (which
    argparse's float takes) breaks it too."""
    rules = [
        (args.url.startswith("https://"), f"--url: an https:// PredictUrl, not {args.url!r}"),
        (0 < args.threshold < 1, f"--threshold: a probability between 0 and 1 (both excluded), not {args.threshold:g}"),
        (
            MIN_RECORDS <= args.records <= available,
            f"--records: from {MIN_RECORDS} (fewer say nothing about a p95 or an AUC) to the {available} labelled "
            f"rows of {SAMPLE.name}, not {args.records}",
        ),
        (
            0 <= args.max_error_rate_percent <= 100,
            f"--max-error-rate-percent: a percentage from 0 to 100, not {args.max_error_rate_percent:g}",
        ),
        (
            0 < args.max_p95_latency_ms < math.inf,
            f"--max-p95-latency-ms: a number of milliseconds above 0, not {args.max_p95_latency_ms:g}",
        ),
        (0 <= args.min_auc <= 1, f"--min-auc: an AUC from 0 to 1, not {args.min_auc:g}"),
        (
            1 <= args.records_per_request <= MAX_RECORDS,
            f"--records-per-request: from 1 to {MAX_RECORDS} (the API's limit), not {args.records_per_request}",
        ),
        (0 <= args.warm_up <= 10, f"--warm-up: from 0 to 10 requests, not {args.warm_up}"),
        (bool(args.region), "--region: not given, and neither AWS_REGION nor AWS_DEFAULT_REGION is set"),
    ]
    return [message for right, message in rules if not right]


def main(argv: list[str], send: Sender | None = None, clock: Clock | None = None) -> int:
    """0 only when every check passes; 1 otherwise (argparse exits 2 on bad arguments): any non-zero code stops
    the pipeline before production. ``send`` and ``clock`` are the network and the time, faked by the tests."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    try:
        rows = labelled_rows()
    except SampleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    refusals = _refusals(args, len(rows))
    if refusals:
        parser.error(refusals[0])
    post = signed_post(args.url, args.region, _credentials(), send or urllib_send)
    timer = clock or time.monotonic
    send_all(post, [rows[:1]] * args.warm_up, timer)  # untimed, uncounted: a cold start is not the model's latency
    outcomes = send_all(post, batches(rows[: args.records], args.records_per_request), timer)
    if not any(outcome.answered for outcome in outcomes):
        print(
            f"FAIL  requests: all {_requests(len(outcomes))} to {args.url} failed; first: {_failure(1, outcomes[0])}",
            flush=True,
        )
        return 1
    results = checks(outcomes, args)
    for result in results:
        print(result.line(), flush=True)
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
