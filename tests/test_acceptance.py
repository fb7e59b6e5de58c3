"""The model-deploy pipeline's acceptance stage (``tools/acceptance.py``) offline, against the real prediction
function.

Each signed POST is checked as API Gateway takes it (SigV4 for execute-api) and resolved in-process by the real
routes of ``lambdas/invoke_endpoint/api.py`` over an endpoint that scores each record with a deterministic function
of its inputs, so the AUC is known: the labels never leave the tool. Time is a fake clock that each request
advances; nothing sleeps, nothing reaches the network.
"""

from __future__ import annotations

import csv
import json
import random
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from botocore.exceptions import EndpointConnectionError

from lambdas.invoke_endpoint import models as contract
from tests.invoke_endpoint_support import LambdaContext, endpoint_answer, function_module, rest_event
from tools import acceptance
from tools.verify import MAX_RECORDS, StepFailedError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "pipelines" / "data" / "credit_applications.csv"
URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/predict"
PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-staging-models/7"
OLDER = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-staging-models/6"
api = function_module("api")
METRICS = Metrics(namespace="Test")  # the tests' own instance, cleared after each test

Scorer = Callable[[dict[str, Any]], float]
Edit = Callable[[int, dict[str, Any]], dict[str, Any]]


def risk(inputs: dict[str, Any]) -> float:
    """The fake model: debt to income squashed into [0, 1). Monotonic, so its AUC is that of the ratio."""
    ratio = float(inputs["debt_to_income"])
    return ratio / (1 + ratio)


def inverted(inputs: dict[str, Any]) -> float:
    return 1 - risk(inputs)


def sample(count: int) -> list[dict[str, str]]:
    """The first ``count`` labelled rows of the sample, read here apart from the tool."""
    with SAMPLE.open(newline="") as file:
        return [row for row in csv.DictReader(file) if row["default"] in ("0", "1")][:count]


def pairwise_auc(scores: list[float], labels: list[int]) -> float:
    """The AUC by its definition, every positive against every negative: the reference for the rank formula."""
    positives = [s for s, label in zip(scores, labels, strict=True) if label == 1]
    negatives = [s for s, label in zip(scores, labels, strict=True) if label == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def expected_auc(count: int, scorer: Scorer = risk) -> float:
    rows = sample(count)
    return pairwise_auc([scorer(row) for row in rows], [int(row["default"]) for row in rows])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Endpoint:
    """InvokeEndpoint over ``scorer``: one probability per record the function sends (the model's inputs)."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def invoke_endpoint(self, **kwargs: Any) -> dict[str, Any]:
        inputs = json.loads(kwargs["Body"])
        return endpoint_answer([self.scorer(record) for record in inputs], variant="Primary")


class Staging:
    """The staging API behind API Gateway, in-process. ``packages`` and ``threshold`` are the function's settings
    (what the stack deployed); ``latency(n)`` is how long request n takes; ``gateway(n)`` an answer API Gateway
    gives instead of calling the function (a timeout, a throttle); ``edit(n, answer)`` changes an answer."""

    def __init__(
        self,
        clock: Clock,
        *,
        scorer: Scorer = risk,
        packages: dict[str, str] | None = None,
        threshold: float = 0.5,
        latency: Callable[[int], float] = lambda n: 0.2,
        gateway: Callable[[int], tuple[int, str] | None] = lambda n: None,
        edit: Edit = lambda n, answer: answer,
    ) -> None:
        self.clock, self.latency, self.gateway, self.edit = clock, latency, gateway, edit
        settings = api.Settings(
            endpoint_name="credit-endpoint",
            decision_threshold=threshold,
            variant_packages={"Primary": PACKAGE} if packages is None else packages,
        )
        self.app = api.create_app(settings, runtime=Endpoint(scorer), feature_store=None, metrics=METRICS)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
        assert (method, url) == ("POST", URL)
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/20")
        assert "/eu-west-1/execute-api/aws4_request, SignedHeaders=" in headers["Authorization"]
        assert headers["Content-Type"] == "application/json"
        assert body is not None
        payload = json.loads(body, parse_constant=lambda name: pytest.fail(f"{name} in the JSON body"))
        self.bodies.append(payload)
        number = len(self.bodies)
        self.clock.now += self.latency(number)
        instead = self.gateway(number)
        if instead is not None:
            return instead
        response = self.app.resolve(rest_event("POST", "/predict", body=body.decode()), LambdaContext())
        assert response["statusCode"] == 200, response["body"]  # the function takes every request the tool sends
        return 200, json.dumps(self.edit(number, json.loads(response["body"])))


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials for boto3's default chain (read from the environment first), the region as CodeBuild
    sets it, and no metrics left over."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    yield
    METRICS.clear_metrics()


def args(records: int = 200, **limits: Any) -> list[str]:
    values = {
        "url": URL,
        "package-arn": PACKAGE,
        "threshold": 0.5,
        "records": records,
        "max-error-rate-percent": 1,
        "max-p95-latency-ms": 1000,
        "min-auc": 0.6,
    } | {key.replace("_", "-"): value for key, value in limits.items()}
    return [part for key, value in values.items() for part in (f"--{key}", str(value))]


def run(capsys: pytest.CaptureFixture[str], argv: list[str], send: Any, clock: Clock) -> tuple[int, list[str]]:
    code = acceptance.main(argv, send=send, clock=clock)
    return code, capsys.readouterr().out.splitlines()


def test_a_good_model_on_staging_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    staging = Staging(clock)
    code, lines = run(capsys, args(), staging, clock)
    assert lines == [
        "ok    error rate: 0.0 % of 2 requests (limit 1 %)",
        "ok    p95 latency: 200 ms over 2 requests (limit 1000 ms)",
        "ok    answers: 0 wrong of 200 records (limit 0)",
        f"ok    auc: {expected_auc(200):.4f} over 200 records (limit 0.6)",
    ]
    assert code == 0
    assert f"{expected_auc(200):.4f}" == "0.6524"  # the sample's first 200 rows under the fake model


def test_an_older_fleet_answering_fails_the_answers_check(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    code, lines = run(capsys, args(), Staging(clock, packages={"Primary": OLDER}), clock)
    assert code == 1
    assert lines[2] == (
        f"FAIL  answers: 200 wrong of 200 records (limit 0); first: request 1, record 1: the model block names "
        f"'{OLDER}', not {PACKAGE} (an older fleet still serving?)"
    )
    assert [line[:6] for line in lines] == ["ok    ", "ok    ", "FAIL  ", "ok    "]


def test_a_function_deciding_on_another_threshold_fails_the_answers_check(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    rows = sample(200)
    declined = [row for row in rows if 0.25 <= risk(row) < 0.5]  # declined at 0.25, approved at 0.5
    first = next(index for index, row in enumerate(rows, start=1) if 0.25 <= risk(row) < 0.5)
    code, lines = run(capsys, args(), Staging(clock, threshold=0.25), clock)
    assert code == 1
    assert lines[2] == (
        f"FAIL  answers: {len(declined)} wrong of 200 records (limit 0); first: request 1, record {first}: decision "
        f"'decline' for probability {risk(rows[first - 1])}, expected 'approve' (decline from probability 0.5)"
    )


def _flip_decision(number: int, answer: dict[str, Any]) -> dict[str, Any]:
    if number == 2:
        prediction = answer["predictions"][2]
        prediction["decision"] = "decline" if prediction["decision"] == "approve" else "approve"
    return answer


def _impossible_probability(number: int, answer: dict[str, Any]) -> dict[str, Any]:
    if number == 1:
        answer["predictions"][6]["probability"] = 1.5
    return answer


def _too_few_predictions(number: int, answer: dict[str, Any]) -> dict[str, Any]:
    if number == 2:
        answer["predictions"].pop()
    return answer


@pytest.mark.parametrize(
    ("edit", "wrong", "first", "scored"),
    [
        (_flip_decision, 1, "request 2, record 3: decision '{decision}' for probability {probability}, expected", 200),
        (_impossible_probability, 1, "request 1, record 7: probability 1.5, expected a number from 0 to 1", 199),
        (_too_few_predictions, 100, "request 2: 99 predictions for 100 records: ", 100),
    ],
)
def test_each_wrong_answer_counts_and_the_first_is_named(
    capsys: pytest.CaptureFixture[str], edit: Edit, wrong: int, first: str, scored: int
) -> None:
    clock = Clock()
    row = sample(200)[102]  # request 2, record 3
    flipped = "decline" if risk(row) < 0.5 else "approve"
    code, lines = run(capsys, args(), Staging(clock, edit=edit), clock)
    assert code == 1
    assert lines[2].startswith(
        f"FAIL  answers: {wrong} wrong of 200 records (limit 0); first: "
        + first.format(decision=flipped, probability=risk(row))
    )
    assert lines[3].startswith("ok    auc: ") and lines[3].endswith(f" over {scored} records (limit 0.6)")


def test_slow_answers_fail_the_p95(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    code, lines = run(capsys, args(), Staging(clock, latency=lambda n: 0.2 if n == 1 else 1.5), clock)
    assert code == 1
    assert lines[1] == "FAIL  p95 latency: 1500 ms over 2 requests (limit 1000 ms)"
    assert [line[:6] for line in lines] == ["ok    ", "FAIL  ", "ok    ", "ok    "]


def test_the_p95_is_a_nearest_rank_one_slow_request_in_twenty_passes(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    latency = {20: 3.0, 7: 0.9}
    staging = Staging(clock, latency=lambda n: latency.get(n, 0.1))
    code, lines = run(capsys, args(2000), staging, clock)
    assert lines[1] == "ok    p95 latency: 900 ms over 20 requests (limit 1000 ms)"  # the 19th of 20, not the 20th
    assert code == 0


def test_5xx_on_some_requests_fail_the_error_rate(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    timeout = (504, '{"message": "Endpoint request timed out"}')  # API Gateway's own answer after 29 s
    staging = Staging(clock, gateway=lambda n: timeout if n == 2 else None)
    code, lines = run(capsys, args(300), staging, clock)
    assert code == 1
    assert lines == [
        "FAIL  error rate: 33.3 % of 3 requests (limit 1 %); first: request 2 answered 504: "
        '{"message": "Endpoint request timed out"}',
        "ok    p95 latency: 200 ms over 3 requests (limit 1000 ms)",
        "ok    answers: 0 wrong of 200 records (limit 0)",  # the answered requests' records
        lines[3],
    ]
    assert lines[3].startswith("ok    auc: ") and lines[3].endswith(" over 200 records (limit 0.6)")


def test_an_error_rate_within_its_limit_passes(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    staging = Staging(clock, gateway=lambda n: (429, '{"message": "Too Many Requests"}') if n == 3 else None)
    code, lines = run(capsys, args(1000, max_error_rate_percent=10), staging, clock)
    assert lines[0] == "ok    error rate: 10.0 % of 10 requests (limit 10 %)"
    assert code == 0


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (StepFailedError("could not reach https://abc123...: timed out", "network"), "could not reach https://abc123"),
        (EndpointConnectionError(endpoint_url=URL), "Could not connect to the endpoint URL"),
        (ConnectionResetError(104, "Connection reset by peer"), "Connection reset by peer"),
    ],
)
def test_transport_errors_are_failed_requests_not_tracebacks(
    capsys: pytest.CaptureFixture[str], error: Exception, said: str
) -> None:
    clock = Clock()
    staging = Staging(clock)

    def send(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
        if not staging.bodies:
            staging.bodies.append({})
            clock.now += 60
            raise error
        return staging(method, url, body, headers)

    code, lines = run(capsys, args(), send, clock)
    assert code == 1
    assert lines[0].startswith("FAIL  error rate: 50.0 % of 2 requests (limit 1 %); first: request 1 got no answer: ")
    assert said in lines[0]
    assert lines[1] == "FAIL  p95 latency: 60000 ms over 2 requests (limit 1000 ms)"  # the wait counts


def test_inverted_scores_fail_the_auc(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    code, lines = run(capsys, args(), Staging(clock, scorer=inverted), clock)
    assert code == 1
    assert lines[3] == f"FAIL  auc: {expected_auc(200, inverted):.4f} over 200 records (limit 0.6)"
    assert f"{expected_auc(200, inverted):.4f}" == "0.3476"


def test_every_request_failing_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    forbidden = (403, '{"message": "Missing Authentication Token"}')
    code, lines = run(capsys, args(), Staging(clock, gateway=lambda n: forbidden), clock)
    assert code == 1
    assert lines == [
        f"FAIL  requests: all 2 requests to {URL} failed; first: request 1 answered 403: "
        '{"message": "Missing Authentication Token"}'
    ]


def test_no_credentials_fail_every_request_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(acceptance, "_credentials", lambda: None)
    staging = Staging(clock)
    code, lines = run(capsys, args(), staging, clock)
    said = "first: request 1 got no answer: Unable to locate credentials"
    assert (code, lines) == (1, [f"FAIL  requests: all 2 requests to {URL} failed; {said}"])
    assert staging.bodies == []  # signing failed before anything was sent


def test_requests_carry_the_model_inputs_only_and_never_more_than_100_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    staging = Staging(clock)
    code, _ = run(capsys, args(250), staging, clock)
    assert code == 0
    assert [len(body["records"]) for body in staging.bodies] == [100, 100, 50]
    assert all(list(body) == ["records"] for body in staging.bodies)
    sent = [record for body in staging.bodies for record in body["records"]]
    assert all(list(record) == list(contract.MODEL_INPUTS) for record in sent)  # no label, id, time or facet
    for record, row in zip(sent, sample(250), strict=True):  # the sample's rows, in order
        for key, value in record.items():
            if row[key] == "":
                assert value is None  # imputed by the model as in training
            elif key in acceptance.NUMERIC:
                assert isinstance(value, float) and value == float(row[key])
            else:
                assert value == row[key]
    assert any(value is None for record in sent for value in record.values())


def test_the_inputs_are_the_apis_and_the_training_transforms() -> None:
    from pipelines.steps import features  # noqa: PLC0415 - pandas: only this test needs it

    assert acceptance.INPUTS == contract.MODEL_INPUTS
    assert list(acceptance.NUMERIC) == features.NUMERIC
    assert list(acceptance.CATEGORICAL) == features.CATEGORICAL
    assert acceptance.LABEL == features.LABEL
    assert contract.MAX_RECORDS == MAX_RECORDS  # what the tool batches by


def test_auc_averages_the_ranks_of_ties() -> None:
    # Positives 0.4 and 0.8 against negatives 0.1 and 0.4: 0.4 beats 0.1 and ties 0.4 (1 + 0.5), 0.8 beats both
    # (2): 3.5 of 4 pairs. By ranks: 0.1 is 1, the two 0.4s share (2 + 3) / 2, 0.8 is 4; (2.5 + 4 - 3) / 4.
    assert acceptance.auc([0.1, 0.4, 0.4, 0.8], [0, 0, 1, 1]) == 0.875
    assert acceptance.auc([0.8, 0.4, 0.1, 0.4], [1, 0, 0, 1]) == 0.875  # the order of the records does not matter
    assert acceptance.auc([0.3, 0.3, 0.3], [0, 1, 0]) == 0.5
    assert acceptance.auc([0.1, 0.9], [0, 1]) == 1.0
    assert acceptance.auc([0.1, 0.9], [1, 0]) == 0.0
    generator = random.Random(7)
    scores = [generator.choice([0.1, 0.2, 0.3, 0.5, 0.8]) for _ in range(300)]  # many ties
    labels = [int(generator.random() < 0.3 + 0.5 * s) for s in scores]
    assert acceptance.auc(scores, labels) == pytest.approx(pairwise_auc(scores, labels), abs=1e-12)


@pytest.mark.parametrize(
    ("scores", "labels", "said"),
    [
        ([0.1, 0.2, 0.3], [0, 0, 0], "one class only: 3 records, all labelled 0"),
        ([0.1, 0.2], [1, 1], "one class only: 2 records, all labelled 1"),
        ([], [], "one class only: 0 records"),
        ([0.1, 0.2], [0, 1, 1], "2 scores for 3 labels"),
        ([0.1, 0.2], [0, 2], "labels must be 0 or 1"),
    ],
)
def test_auc_refuses_what_it_cannot_compute(scores: list[float], labels: list[int], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        acceptance.auc(scores, labels)


def test_the_auc_check_fails_on_one_class_without_a_crash() -> None:
    check = acceptance.check_auc([(0.2, 0), (0.7, 0)], 0.7)
    assert check.line() == "FAIL  auc: cannot compute: one class only: 2 records, all labelled 0 (limit 0.7)"


def test_nearest_rank() -> None:
    assert acceptance.nearest_rank([float(n) for n in range(20, 0, -1)], 95) == 19
    assert acceptance.nearest_rank([float(n) for n in range(1, 101)], 95) == 95
    assert acceptance.nearest_rank([float(n) for n in range(1, 101)], 7) == 7  # 7 / 100 * 100 > 7 in floats
    assert acceptance.nearest_rank([5.0], 95) == 5
    assert acceptance.nearest_rank([3.0, 1.0], 50) == 1


AVAILABLE = len(sample(10**6))


@pytest.mark.parametrize(
    ("changed", "said"),
    [
        ({"records": 9}, "--records: from 10 (fewer say nothing about a p95 or an AUC) to the"),
        ({"records": AVAILABLE + 1}, f"to the {AVAILABLE} labelled rows of credit_applications.csv, not"),
        ({"threshold": 0}, "--threshold: a probability between 0 and 1 (both excluded), not 0"),
        ({"threshold": 1}, "--threshold: a probability between 0 and 1 (both excluded), not 1"),
        ({"threshold": "nan"}, "--threshold: a probability between 0 and 1 (both excluded), not nan"),
        ({"max_error_rate_percent": -1}, "--max-error-rate-percent: a percentage from 0 to 100, not -1"),
        ({"max_error_rate_percent": 100.5}, "--max-error-rate-percent: a percentage from 0 to 100, not 100.5"),
        ({"max_p95_latency_ms": 0}, "--max-p95-latency-ms: a number of milliseconds above 0, not 0"),
        ({"max_p95_latency_ms": "inf"}, "--max-p95-latency-ms: a number of milliseconds above 0, not inf"),
        ({"min_auc": 1.5}, "--min-auc: an AUC from 0 to 1, not 1.5"),
        (
            {"url": "http://abc123.example/predict"},
            "--url: an https:// PredictUrl, not 'http://abc123.example/predict'",
        ),
        ({"records": "many"}, "argument --records: invalid int value: 'many'"),
    ],
)
def test_arguments_are_refused_before_any_request(
    capsys: pytest.CaptureFixture[str], changed: dict[str, Any], said: str
) -> None:
    clock = Clock()
    staging = Staging(clock)
    with pytest.raises(SystemExit) as stopped:
        acceptance.main(args(**changed), send=staging, clock=clock)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err
    assert staging.bodies == []


def test_every_limit_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    without = args()
    without = without[: without.index("--min-auc")]
    with pytest.raises(SystemExit):
        acceptance.main(without, send=Staging(Clock()), clock=Clock())
    assert "the following arguments are required: --min-auc" in capsys.readouterr().err


def test_the_region_is_the_option_else_aws_region_else_aws_default_region(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(SystemExit):
        acceptance.main(args(), send=Staging(Clock()), clock=Clock())
    assert "--region: not given, and neither AWS_REGION nor AWS_DEFAULT_REGION is set" in capsys.readouterr().err
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    clock = Clock()
    assert acceptance.main(args(), send=Staging(clock), clock=clock) == 0
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clock = Clock()
    assert acceptance.main([*args(), "--region", "eu-west-1"], send=Staging(clock), clock=clock) == 0  # signed for it


def test_a_sample_that_cannot_be_sent_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "credit_applications.csv"
    broken.write_text("age,income,default\n41,52000,0\n")
    with pytest.raises(acceptance.SampleError, match="lacks debt_to_income, credit_history_years"):
        acceptance.labelled_rows(broken)
    header = ",".join([*acceptance.INPUTS, "default"])
    broken.write_text(f"{header}\n41,52000,0.3,12,3,salaried,bachelor,north,0\n41,lots,0.3,12,3,,,,1\n")
    with pytest.raises(
        acceptance.SampleError, match=re.escape("credit_applications.csv line 3: income 'lots' is not a number")
    ):
        acceptance.labelled_rows(broken)


# Runs the tool as CodeBuild does, where only boto3 is installed: importing any of these fails the run.
NOT_INSTALLED = ("pydantic", "yaml", "numpy", "pandas", "sklearn", "aws_cdk", "aws_lambda_powertools", "config")
CODEBUILD = textwrap.dedent(
    f"""
    import importlib.abc, json, sys

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {NOT_INSTALLED!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}")
            return None

    sys.meta_path.insert(0, NotInstalled())
    from tools import acceptance

    def send(method, url, body, headers):
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256")
        records = json.loads(body)["records"]
        model = {{"variant": "Primary", "model_package_arn": "{PACKAGE}", "model_version": 7, "model_id": "m"}}
        predictions = [{{"applicant_id": None, "probability": 0.1, "decision": "approve"}} for _ in records]
        return 200, json.dumps({{"predictions": predictions, "model": model}})

    sys.exit(acceptance.main(sys.argv[1:], send=send))
    """
)


def test_the_tool_needs_only_boto3_and_the_standard_library() -> None:
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"}
    result = subprocess.run(
        [sys.executable, "-c", CODEBUILD, *args(min_auc=0), "--region", "eu-west-1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stderr == ""
    assert result.stdout.splitlines()[3] == "ok    auc: 0.5000 over 200 records (limit 0)"  # every score tied
    assert result.returncode == 0


def test_a_cold_start_is_warmed_up_untimed_and_small_requests_give_the_p95_its_sample(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the pipeline renders (--records-per-request 10 --warm-up 1): the freshly deployed function's first call
    (5 s here) is sent first and counted nowhere; 200 records make 20 timed requests, each 0.2 s."""
    clock = Clock()
    staging = Staging(clock, latency=lambda n: 5.0 if n == 1 else 0.2)
    code, lines = run(capsys, [*args(), "--records-per-request", "10", "--warm-up", "1"], staging, clock)
    assert code == 0, lines
    assert [len(body["records"]) for body in staging.bodies] == [1] + [10] * 20
    assert lines[:2] == [
        "ok    error rate: 0.0 % of 20 requests (limit 1 %)",
        "ok    p95 latency: 200 ms over 20 requests (limit 1000 ms)",
    ]
    # Without the warm-up, the same cold start is the p95 of few large requests: the check would fail on it.
    clock, cold = Clock(), Staging(Clock(), latency=lambda n: 5.0 if n == 1 else 0.2)
    cold.clock = clock
    code, lines = run(capsys, args(), cold, clock)
    assert code == 1 and lines[1].startswith("FAIL  p95 latency: 5000 ms over 2 requests")


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--records-per-request", "101", "--records-per-request: from 1 to 100"),
        ("--warm-up", "11", "--warm-up: from 0"),
    ],
)
def test_request_shape_options_are_refused_outside_their_range(
    capsys: pytest.CaptureFixture[str], option: str, value: str, said: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        acceptance.main([*args(), option, value], send=Staging(Clock()), clock=Clock())
    assert exit_.value.code == 2
    assert said in capsys.readouterr().err
