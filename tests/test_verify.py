"""`make verify` offline: every part's success and failure path and the exact line a user reads.

AWS is botocore's Stubber over real clients (fake credentials, eu-west-1): each stubbed call checks its
parameters against the service model, so a misspelt parameter fails here as it would in AWS. Waits run
on a fake clock that advances when the code sleeps: nothing sleeps, nothing reaches the network.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from config import PlatformConfig, load_settings
from tools import verify
from tools.verify import Run

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)
RUN_ID = "20260504120000-abc123"
MARKER = f"verify-{RUN_ID}"
RAW = "mlops-sandbox-datalake-lakerawbucket-1"
ARTIFACTS = "mlops-sandbox-datalake-lakeartifactsbucket-1"
STREAM = "mlops-sandbox-DataLake-StreamingStream-1"
DELIVERY = "mlops-sandbox-DataLake-StreamingDeliveryStream-1"
TRAIL = "mlops-sandbox-Governance-AuditTrail-1"
CRAWLER = "CatalogCrawler-1"
STARTER = "mlops-sandbox-Monitoring-DriftStarterFunction-1"
TRAINING_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/mlops-sandbox-training/execution/exec1"
DRIFT_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/mlops-sandbox-drift/execution/drift1"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-sandbox-models/3"
API = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
URL = f"{API}/predict"
LOOKUP = f"{API}/applicants/A000001/prediction"  # the first sample applicant's stored record
SAMPLE_KEY = f"training/verify/{RUN_ID}/credit_applications.csv"
DAY_PREFIX = "streaming/events/year=2026/month=05/day=04/"
SANDBOX = load_settings("sandbox")
# The streaming tests with a Kinesis data stream in front of Firehose (production's choice; the sandbox
# defaults to Firehose Direct PUT, tested apart).
KINESIS = SANDBOX.model_copy(
    update={
        "data_lake": SANDBOX.data_lake.model_copy(
            update={
                "streaming": SANDBOX.data_lake.streaming.model_copy(
                    update={"source": "kinesis", "shard_count": 1, "retention_hours": 24}
                )
            }
        )
    }
)


class FakeClock:
    """Time moves only when the code sleeps."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds

    def now(self) -> datetime:
        return START + timedelta(seconds=self.elapsed)


_SESSION = boto3.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="SECRET", region_name="eu-west-1")
_CLIENTS: dict[str, Any] = {}


class Fake:
    """Stubbed clients by service name; ``add`` queues one answer of one call."""

    def __init__(self) -> None:
        self.stubbers: dict[str, Stubber] = {}

    def client(self, service: str) -> Any:
        if service not in _CLIENTS:
            _CLIENTS[service] = _SESSION.client(service)
        if service not in self.stubbers:
            self.stubbers[service] = Stubber(_CLIENTS[service])
            self.stubbers[service].activate()
        return _CLIENTS[service]

    def add(self, service: str, method: str, response: dict[str, Any], expected: dict[str, Any] | None = None) -> None:
        self.client(service)
        self.stubbers[service].add_response(method, response, expected)

    def error(self, service: str, method: str, code: str, message: str) -> None:
        self.client(service)
        self.stubbers[service].add_client_error(method, service_error_code=code, service_message=message)

    def close(self) -> None:
        for stubber in self.stubbers.values():
            stubber.deactivate()

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def fake() -> Iterator[Fake]:
    """Every answer a test queues must be asked for: a call the code stopped making fails the test."""
    stubs = Fake()
    yield stubs
    try:
        stubs.assert_done()
    finally:
        stubs.close()


Reply = str | Callable[[list[dict[str, Any]]], str]


class Sent:
    """The HTTP side of serving: checks each request as the API takes it (SigV4-signed for execute-api; a POST
    of JSON records, a GET without a body) and gives it the next queued answer; a reply may be a function of
    the request's records (a GET's one record is its applicant). The ``sent`` fixture checks every queued
    answer was asked for."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, str, int, Reply]] = []
        self.requests: list[tuple[str, str, bytes | None, dict[str, str]]] = []

    def add(self, method: str, url: str, status: int, reply: Reply) -> None:
        self.answers.append((method, url, status, reply))

    def __call__(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
        assert self.answers, f"no answer queued for {method} {url}"
        self.requests.append((method, url, data, headers))
        expected_method, expected_url, status, reply = self.answers.pop(0)
        assert (method, url) == (expected_method, expected_url)
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/20")
        assert "/eu-west-1/execute-api/aws4_request, SignedHeaders=" in headers["Authorization"]
        if method == "POST":
            assert data is not None
            assert headers["Content-Type"] == "application/json"
            payload = json.loads(data, parse_constant=lambda name: pytest.fail(f"{name} in the JSON body"))
            assert list(payload) == ["records"]
            records = payload["records"]
            assert 1 <= len(records) <= 100
        else:
            assert (method, data) == ("GET", None)
            assert "Content-Type" not in headers
            applicant = url.removeprefix(f"{API}/applicants/").removesuffix("/prediction")
            records = [{"applicant_id": applicant}]
        return status, reply(records) if callable(reply) else reply

    def assert_done(self) -> None:
        assert not self.answers, f"answers never asked for: {[a[:3] for a in self.answers]}"


@pytest.fixture
def sent() -> Iterator[Sent]:
    """Every answer a test queues must be asked for, like the stubbed clients'."""
    answers = Sent()
    yield answers
    answers.assert_done()


def record(number: int) -> dict[str, Any]:
    """A raw record as the API takes it (the sample's columns but the label; null for a missing value)."""
    return {
        "applicant_id": f"A{number:06d}",
        "event_time": "2026-01-01T00:00:00Z",
        "age": 30 + number,
        "income": None if number == 2 else 52000.5,
        "debt_to_income": 0.31,
        "credit_history_years": 12,
        "open_accounts": 3,
        "employment_type": None if number == 5 else "salaried",
        "education": "bachelor",
        "region": "north",
        "sex": "female",
    }


REQUESTS = [{"records": [record(n) for n in (1, 2, 3)]}, {"records": [record(n) for n in (4, 5, 6)]}]


def make_run(fake: Fake, *, config: PlatformConfig = SANDBOX, send: Sent | None = None, timeout: float = 3600) -> Run:
    lines: list[str] = []
    run = Run(
        config=config,
        client=fake.client,
        clock=FakeClock(),
        run_id=RUN_ID,
        region="eu-west-1",
        credentials=Credentials("AKIDTEST", "SECRET"),
        send=send or Sent(),
        timeout=timeout,
        out=lines.append,
        requests=lambda: REQUESTS,
    )
    run.lines = lines  # type: ignore[attr-defined]
    return run


def lines(run: Run) -> list[str]:
    found: list[str] = run.lines  # type: ignore[attr-defined]
    return found


def resources(*items: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": kind,
                "LastUpdatedTimestamp": START,
                "ResourceStatus": "CREATE_COMPLETE",
            }
            for logical, kind, physical in items
        ]
    }


def data_lake(fake: Fake) -> None:
    fake.add(
        "cloudformation",
        "list_stack_resources",
        resources(
            ("LakeRawBucket28F84711", "AWS::S3::Bucket", RAW),
            ("LakeRawBucketPolicy1A2B3C4D", "AWS::S3::BucketPolicy", "policy"),
            ("StreamingStreamBBC8D0A0", "AWS::Kinesis::Stream", STREAM),
            ("StreamingDeliveryStream38B4EEFB", "AWS::KinesisFirehose::DeliveryStream", DELIVERY),
            ("CatalogCrawler65DA2940", "AWS::Glue::Crawler", CRAWLER),
        ),
        {"StackName": "mlops-sandbox-DataLake"},
    )


def body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def listing(*objects: tuple[str, datetime]) -> dict[str, Any]:
    return {"Contents": [{"Key": key, "LastModified": modified, "Size": 1} for key, modified in objects]}


# --- trail ------------------------------------------------------------------------------------------


def governance(fake: Fake) -> None:
    fake.add(
        "cloudformation",
        "list_stack_resources",
        resources(("AuditTrail3BF4E139", "AWS::CloudTrail::Trail", TRAIL)),
        {"StackName": "mlops-sandbox-Governance"},
    )


def test_trail_logging_and_delivered(fake: Fake) -> None:
    run = make_run(fake)
    governance(fake)
    fake.add(
        "cloudtrail",
        "get_trail_status",
        {"IsLogging": True, "LatestDeliveryTime": START - timedelta(minutes=4)},
        {"Name": TRAIL},
    )
    verify.part_trail(run)
    assert lines(run) == [f"ok    0.0s  trail: logging, last delivery 2026-05-04T11:56:00Z (trail {TRAIL})"]
    fake.assert_done()


def test_trail_not_logging_says_how_to_start_it(fake: Fake) -> None:
    run = make_run(fake)
    governance(fake)
    fake.add("cloudtrail", "get_trail_status", {"IsLogging": False})
    verify.part_trail(run)
    assert lines(run) == [
        f"FAIL  0.0s  trail: trail {TRAIL} is not logging -> aws cloudtrail start-logging --name {TRAIL}"
    ]


def test_trail_delivery_error_points_at_the_bucket_and_key_policies(fake: Fake) -> None:
    run = make_run(fake)
    governance(fake)
    fake.add("cloudtrail", "get_trail_status", {"IsLogging": True, "LatestDeliveryError": "AccessDenied"})
    verify.part_trail(run)
    assert lines(run) == [
        f"FAIL  0.0s  trail: trail {TRAIL} cannot deliver log files: AccessDenied -> the audit bucket's policy "
        "and the trail key's policy (Governance stack)"
    ]


def test_trail_waits_for_a_first_delivery_then_times_out(fake: Fake) -> None:
    run = make_run(fake)
    governance(fake)
    for _ in range(31):  # every 30 s for 15 min, both ends included
        fake.add("cloudtrail", "get_trail_status", {"IsLogging": True})
    verify.part_trail(run)
    assert lines(run) == [
        "      0.0s  trail: logging; waiting up to 15 min for a first log file",
        f"FAIL 900.0s  trail: trail {TRAIL} is logging but has delivered no log file after 15 min -> CloudTrail "
        "delivers about every 5 minutes; check the audit bucket's policy and the trail key's policy, then run "
        "`make verify VERIFY_ARGS=--only=trail`",
    ]
    fake.assert_done()


def test_a_missing_stack_is_one_line_not_a_traceback(fake: Fake) -> None:
    run = make_run(fake)
    fake.error(
        "cloudformation",
        "list_stack_resources",
        "ValidationError",
        "Stack with id mlops-sandbox-Governance does not exist",
    )
    verify.part_trail(run)
    assert lines(run) == ["FAIL  0.0s  trail: stack mlops-sandbox-Governance is not deployed -> make deploy"]


def test_access_denied_names_the_permission_problem(fake: Fake) -> None:
    run = make_run(fake)
    governance(fake)
    fake.error("cloudtrail", "get_trail_status", "AccessDeniedException", "not authorized to GetTrailStatus")
    verify.part_trail(run)
    assert lines(run) == [
        "FAIL  0.0s  trail: GetTrailStatus: AccessDeniedException: not authorized to GetTrailStatus -> the credentials "
        "lack this permission (an administrator role deploys and verifies)"
    ]


# --- streaming --------------------------------------------------------------------------------------


def put_record(fake: Fake) -> None:
    record = {"source": "mlops-verify", "verify_id": MARKER, "sent_at": "2026-05-04T12:00:00Z"}
    fake.add(
        "kinesis",
        "put_record",
        {"ShardId": "shardId-000000000000", "SequenceNumber": "1"},
        {"StreamName": STREAM, "Data": (json.dumps(record) + "\n").encode(), "PartitionKey": MARKER},
    )


def empty_poll(fake: Fake) -> None:
    fake.add("s3", "list_objects_v2", {}, {"Bucket": RAW, "Prefix": DAY_PREFIX})
    fake.add("s3", "list_objects_v2", {}, {"Bucket": RAW, "Prefix": "streaming/errors/"})


def delivered(fake: Fake, key: str, text: str, *, version: str = "v1") -> None:
    fake.add(
        "s3", "list_objects_v2", listing((key, START + timedelta(seconds=15))), {"Bucket": RAW, "Prefix": DAY_PREFIX}
    )
    data = gzip.compress(text.encode())
    fake.add("s3", "get_object", {"Body": body(data), "VersionId": version}, {"Bucket": RAW, "Key": key})


def test_direct_put_records_go_to_firehose_itself(fake: Fake) -> None:
    assert SANDBOX.data_lake.streaming.source == "direct_put"
    run = make_run(fake)
    data_lake(fake)
    record = {"source": "mlops-verify", "verify_id": MARKER, "sent_at": "2026-05-04T12:00:00Z"}
    fake.add(
        "firehose",
        "put_record",
        {"RecordId": "r1"},
        {"DeliveryStreamName": DELIVERY, "Record": {"Data": (json.dumps(record) + "\n").encode()}},
    )
    key = f"{DAY_PREFIX}{DELIVERY}-1-2026-05-04-12-00-15-uuid"
    delivered(fake, key, our_record())
    verify.part_streaming(run)
    assert lines(run)[-1].startswith(f"ok    0.0s  streaming: record {MARKER} delivered to s3://{RAW}/{key}")


def our_record() -> str:
    return json.dumps({"source": "mlops-verify", "verify_id": MARKER}) + "\n"


def test_streaming_record_lands_in_raw_and_cleanup_removes_that_object(fake: Fake) -> None:
    run = make_run(fake, config=KINESIS)
    data_lake(fake)
    put_record(fake)
    empty_poll(fake)  # t=0: Firehose still buffering
    key = f"{DAY_PREFIX}{DELIVERY}-1-2026-05-04-12-00-15-uuid"
    delivered(fake, key, our_record())
    verify.part_streaming(run)
    assert lines(run) == [
        f"      0.0s  streaming: record {MARKER} put on {STREAM}; waiting for Firehose",
        f"ok   20.0s  streaming: record {MARKER} delivered to s3://{RAW}/{key} (20 s after the put)",
    ]
    fake.add("s3", "delete_object", {}, {"Bucket": RAW, "Key": key, "VersionId": "v1"})
    verify.clean_up(run)
    assert lines(run)[2] == "ok    0.0s  cleanup: removed 1 object(s), left 1 thing(s) on purpose"
    assert lines(run)[3:] == [
        f"            removed s3://{RAW}/{key}",
        f"            left the test record {MARKER} on {STREAM}: Kinesis cannot delete records; it expires after 24 h",
    ]
    fake.assert_done()


def test_streaming_keeps_an_object_that_holds_other_producers_records(fake: Fake) -> None:
    run = make_run(fake, config=KINESIS)
    data_lake(fake)
    put_record(fake)
    key = f"{DAY_PREFIX}{DELIVERY}-1-2026-05-04-12-00-15-uuid"
    delivered(fake, key, '{"event": "click"}\n' + our_record())
    verify.part_streaming(run)
    assert lines(run)[-1].startswith("ok    0.0s  streaming: record")
    verify.clean_up(run)  # no delete_object queued: a delete would fail the stubber
    assert f"            left s3://{RAW}/{key}: it also holds 1 record(s) of other producers" in lines(run)
    assert not any("could not remove" in line for line in lines(run)), lines(run)  # no delete was even tried


def test_streaming_skips_objects_without_the_record(fake: Fake) -> None:
    run = make_run(fake, config=KINESIS)
    data_lake(fake)
    put_record(fake)
    fake.add("s3", "list_objects_v2", listing((f"{DAY_PREFIX}other", START)), {"Bucket": RAW, "Prefix": DAY_PREFIX})
    fake.add("s3", "get_object", {"Body": body(b'{"event": "click"}\n')})
    fake.add("s3", "list_objects_v2", {}, {"Bucket": RAW, "Prefix": "streaming/errors/"})
    key = f"{DAY_PREFIX}{DELIVERY}-mine"
    fake.add(  # the next poll lists the same object again: it is not downloaded twice
        "s3",
        "list_objects_v2",
        listing((f"{DAY_PREFIX}other", START), (key, START)),
        {"Bucket": RAW, "Prefix": DAY_PREFIX},
    )
    fake.add("s3", "get_object", {"Body": body(our_record().encode())}, {"Bucket": RAW, "Key": key})
    verify.part_streaming(run)
    assert (
        lines(run)[-1] == f"ok   20.0s  streaming: record {MARKER} delivered to s3://{RAW}/{key} (20 s after the put)"
    )
    fake.assert_done()


def test_streaming_times_out_with_where_to_look(fake: Fake) -> None:
    run = make_run(fake, config=KINESIS)
    data_lake(fake)
    put_record(fake)
    for _ in range(22):  # every 20 s for the buffer interval (300 s) plus 120 s, both ends included
        empty_poll(fake)
    verify.part_streaming(run)
    assert lines(run)[-1] == (
        f"FAIL 420.0s  streaming: no object under raw/streaming/events/ after 7 min -> delivery stream {DELIVERY}: "
        f"`aws firehose describe-delivery-stream --delivery-stream-name {DELIVERY}`, its CloudWatch Logs group "
        "(DataLake stack, StreamingDeliveryLogGroup), its role's access to the stream and the lake key"
    )
    fake.assert_done()


def test_streaming_record_in_the_error_prefix_fails(fake: Fake) -> None:
    run = make_run(fake, config=KINESIS)
    data_lake(fake)
    put_record(fake)
    fake.add("s3", "list_objects_v2", {}, {"Bucket": RAW, "Prefix": DAY_PREFIX})
    key = "streaming/errors/S3.AccessDenied/year=2026/month=05/day=04/x"
    fake.add("s3", "list_objects_v2", listing((key, START)), {"Bucket": RAW, "Prefix": "streaming/errors/"})
    fake.add("s3", "get_object", {"Body": body(our_record().encode())})
    verify.part_streaming(run)
    assert lines(run)[-1] == (
        f"FAIL  0.0s  streaming: Firehose could not write the record and put it in s3://{RAW}/{key} -> that "
        "object's errorCode and errorMessage; the delivery role's access to raw and the lake key"
    )


# --- catalog ----------------------------------------------------------------------------------------


def crawl(fake: Fake, status: str, **last: Any) -> None:
    fake.add("glue", "start_crawler", {}, {"Name": CRAWLER})
    fake.add("glue", "get_crawler", {"Crawler": {"Name": CRAWLER, "State": "RUNNING"}})
    crawler = {"Name": CRAWLER, "State": "READY", "DatabaseName": "mlops_sandbox_lake"}
    fake.add(
        "glue", "get_crawler", {"Crawler": {**crawler, "LastCrawl": {"Status": status, "StartTime": START, **last}}}
    )


def query(fake: Fake, state: str, reason: str = "") -> None:
    fake.add(
        "glue", "get_tables", {"TableList": [{"Name": "credit_features_1"}]}, {"DatabaseName": "mlops_sandbox_lake"}
    )
    fake.add(
        "athena",
        "start_query_execution",
        {"QueryExecutionId": "q1"},
        {
            "QueryString": 'SELECT COUNT(*) FROM "mlops_sandbox_lake"."credit_features_1"',
            "WorkGroup": "mlops-sandbox-lake",
            "QueryExecutionContext": {"Database": "mlops_sandbox_lake"},
        },
    )
    fake.add(
        "athena", "get_query_execution", {"QueryExecution": {"QueryExecutionId": "q1", "Status": {"State": "RUNNING"}}}
    )
    done = {
        "QueryExecutionId": "q1",
        "Status": {"State": state, **({"StateChangeReason": reason} if reason else {})},
        "ResultConfiguration": {"OutputLocation": f"s3://{ARTIFACTS}/athena-results/q1.csv"},
    }
    fake.add("athena", "get_query_execution", {"QueryExecution": done})


def test_catalog_crawls_and_queries_then_removes_the_query_results(fake: Fake) -> None:
    run = make_run(fake)
    data_lake(fake)
    crawl(fake, "SUCCEEDED")
    query(fake, "SUCCEEDED")
    fake.add(
        "athena",
        "get_query_results",
        {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "_col0"}]}, {"Data": [{"VarCharValue": "3060"}]}]}},
    )
    verify.part_catalog(run)
    assert lines(run) == [
        f"ok   15.0s  crawler: {CRAWLER}: crawl SUCCEEDED into database mlops_sandbox_lake",
        'ok    2.0s  athena: SELECT COUNT(*) FROM "mlops_sandbox_lake"."credit_features_1" SUCCEEDED in workgroup '
        "mlops-sandbox-lake: 3060 rows",
    ]
    for key in ("athena-results/q1.csv", "athena-results/q1.csv.metadata"):
        fake.add("s3", "head_object", {"VersionId": "v9"}, {"Bucket": ARTIFACTS, "Key": key})
        fake.add("s3", "delete_object", {}, {"Bucket": ARTIFACTS, "Key": key, "VersionId": "v9"})
    verify.clean_up(run)
    assert lines(run)[3:6] == [
        f"            removed s3://{ARTIFACTS}/athena-results/q1.csv",
        f"            removed s3://{ARTIFACTS}/athena-results/q1.csv.metadata",
        "            left tables the crawler created or updated in mlops_sandbox_lake (the catalog is the platform's)",
    ]
    fake.assert_done()


def test_catalog_failed_crawl_shows_the_error_and_its_log_stream(fake: Fake) -> None:
    run = make_run(fake)
    data_lake(fake)
    crawl(fake, "FAILED", ErrorMessage="Insufficient Lake Formation permission", LogGroup="/aws-glue/crawlers-x")
    query(fake, "FAILED", "Access denied when writing to location: s3://artifacts/athena-results/")
    verify.part_catalog(run)
    assert lines(run) == [
        f"FAIL 15.0s  crawler: crawler {CRAWLER}: crawl FAILED: Insufficient Lake Formation permission -> CloudWatch "
        f"Logs /aws-glue/crawlers-x, stream {CRAWLER}; the crawler role's access to curated and the lake key",
        'FAIL  2.0s  athena: SELECT COUNT(*) FROM "mlops_sandbox_lake"."credit_features_1" in workgroup '
        "mlops-sandbox-lake: FAILED: Access denied when writing to location: s3://artifacts/athena-results/ -> the "
        "workgroup's result location (artifacts bucket) and the lake key; its per-query scan limit "
        "(data_lake.athena_bytes_scanned_cutoff_mb)",
    ]


def test_catalog_waits_for_a_crawl_already_running(fake: Fake) -> None:
    run = make_run(fake)
    data_lake(fake)
    fake.error(
        "glue", "start_crawler", "CrawlerRunningException", "Crawler with name CatalogCrawler-1 has already started"
    )
    fake.add("glue", "get_crawler", {"Crawler": {"Name": CRAWLER, "State": "STOPPING"}})
    last = {"Status": "SUCCEEDED", "StartTime": START - timedelta(minutes=30)}  # seen running: this crawl counts
    fake.add("glue", "get_crawler", {"Crawler": {"Name": CRAWLER, "State": "READY", "LastCrawl": last}})
    run.step("catalog", "crawler", lambda: verify.check_crawler(run))
    assert lines(run) == [
        "      0.0s  crawler: a crawl is already running; waiting for it",
        f"ok   15.0s  crawler: {CRAWLER}: crawl SUCCEEDED into database ",
    ]


def test_athena_without_tables_runs_select_1(fake: Fake) -> None:
    run = make_run(fake)
    fake.add("glue", "get_tables", {"TableList": []})
    fake.add(
        "athena",
        "start_query_execution",
        {"QueryExecutionId": "q2"},
        {"QueryString": "SELECT 1", "WorkGroup": ANY, "QueryExecutionContext": ANY},
    )
    fake.add(
        "athena",
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": "q2", "Status": {"State": "SUCCEEDED"}}},
    )
    assert (
        verify.check_query(run)
        == "SELECT 1 SUCCEEDED in workgroup mlops-sandbox-lake; mlops_sandbox_lake has no table yet"
    )


# --- training ---------------------------------------------------------------------------------------


def definition() -> str:
    return (ROOT / "pipelines" / "definitions" / f"{SANDBOX.ml.pipeline_variant}.json").read_text(encoding="utf-8")


def start_training(fake: Fake) -> None:
    fake.add(
        "sagemaker",
        "describe_pipeline",
        {"PipelineDefinition": definition()},
        {"PipelineName": "mlops-sandbox-training"},
    )
    data_lake(fake)
    fake.add("s3", "put_object", {"VersionId": "sample-v1"}, {"Bucket": RAW, "Key": SAMPLE_KEY, "Body": ANY})
    fake.add(
        "sagemaker",
        "start_pipeline_execution",
        {"PipelineExecutionArn": TRAINING_ARN},
        {
            "PipelineName": "mlops-sandbox-training",
            "PipelineExecutionDisplayName": MARKER,
            "PipelineExecutionDescription": "make verify",
            "PipelineParameters": [{"Name": "InputDataUri", "Value": f"s3://{RAW}/training/verify/{RUN_ID}/"}],
        },
    )


def poll(fake: Fake, arn: str, status: str, steps: list[dict[str, Any]], failure: str = "") -> None:
    fake.add(
        "sagemaker",
        "describe_pipeline_execution",
        {"PipelineExecutionStatus": status, **({"FailureReason": failure} if failure else {})},
        {"PipelineExecutionArn": arn},
    )
    fake.add(
        "sagemaker",
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": steps},
        {"PipelineExecutionArn": arn, "SortOrder": "Ascending"},
    )


def step(name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"StepName": name, "StepStatus": status, **extra}


TRAINED = ["Preprocess", "BiasReport", "IngestFeatures", "Train", "Evaluate", "CheckAuc", "Register-RegisterModel"]


def test_training_runs_on_the_uploaded_sample_and_follows_each_step(fake: Fake) -> None:
    run = make_run(fake)
    start_training(fake)
    poll(fake, TRAINING_ARN, "Executing", [step("Preprocess", "Executing")])
    poll(fake, TRAINING_ARN, "Succeeded", [step(name, "Succeeded") for name in TRAINED])
    fake.add(
        "sagemaker",
        "list_model_packages",
        {
            "ModelPackageSummaryList": [
                {
                    "ModelPackageArn": PACKAGE_ARN,
                    "CreationTime": START,
                    "ModelPackageStatus": "Completed",
                    "ModelApprovalStatus": "PendingManualApproval",
                }
            ]
        },
        {
            "ModelPackageGroupName": "mlops-sandbox-models",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 1,
        },
    )
    verify.part_training(run)
    assert lines(run) == [
        f"      0.0s  training: started exec1 on s3://{RAW}/{SAMPLE_KEY}",
        "      0.0s  training: Preprocess Executing",
        "     30.0s  training: Preprocess Succeeded",
        "     30.0s  training: BiasReport Succeeded",
        "     30.0s  training: IngestFeatures Succeeded",
        "     30.0s  training: Train Succeeded",
        "     30.0s  training: Evaluate Succeeded",
        "     30.0s  training: CheckAuc Succeeded",
        "     30.0s  training: Register-RegisterModel Succeeded",
        f"ok   30.0s  training: execution {MARKER} Succeeded (Preprocess, BiasReport, IngestFeatures, Train, "
        f"Evaluate, CheckAuc, Register-RegisterModel); registered {PACKAGE_ARN} (PendingManualApproval)",
    ]
    fake.add("s3", "delete_object", {}, {"Bucket": RAW, "Key": SAMPLE_KEY, "VersionId": "sample-v1"})
    verify.clean_up(run)
    assert f"            removed s3://{RAW}/{SAMPLE_KEY}" in lines(run)
    assert any(
        line.startswith(f"            left model package {PACKAGE_ARN}: a real candidate") for line in lines(run)
    )
    fake.assert_done()


def test_training_failure_shows_the_failing_step_and_its_reason_from_sagemaker(fake: Fake) -> None:
    run = make_run(fake)
    start_training(fake)
    job = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/pipelines-exec1-Train-abc"
    reason = "ClientError: Please use an instance type with more memory, or reduce the dataset size"
    steps = [
        step("Preprocess", "Succeeded"),
        step("Train", "Failed", FailureReason=reason, Metadata={"TrainingJob": {"Arn": job}}),
    ]
    poll(fake, TRAINING_ARN, "Failed", steps, failure="Step failure: One or multiple steps failed.")
    verify.part_training(run)
    assert lines(run)[-1] == (
        f"FAIL  0.0s  training: training Failed: step Train failed: {reason} -> CloudWatch Logs "
        "/aws/sagemaker/TrainingJobs, streams pipelines-exec1-Train-abc/*; aws sagemaker describe-training-job "
        "--training-job-name pipelines-exec1-Train-abc"
    )
    fake.add("s3", "delete_object", {}, {"Bucket": RAW, "Key": SAMPLE_KEY, "VersionId": "sample-v1"})
    verify.clean_up(run)  # the execution ended: its input is removed
    fake.assert_done()


def test_training_below_the_auc_gate_says_so(fake: Fake) -> None:
    run = make_run(fake)
    start_training(fake)
    gate = "Model AUC is below the AucThreshold parameter 0.7 ; not registered."
    steps = [
        step("CheckAuc", "Succeeded"),
        step("AucBelowThreshold", "Failed", Metadata={"Fail": {"ErrorMessage": gate}}),
    ]
    poll(fake, TRAINING_ARN, "Failed", steps)
    verify.part_training(run)
    assert lines(run)[-1] == (
        f"FAIL  0.0s  training: training Failed: step AucBelowThreshold failed: {gate} -> the pipeline's own gate "
        "stopped it (pipelines/README.md: the AUC gate)"
    )


def test_training_timeout_keeps_the_sample_while_the_execution_may_read_it(fake: Fake) -> None:
    run = make_run(fake, timeout=60)
    start_training(fake)
    for _ in range(3):  # t = 0, 30, 60
        poll(fake, TRAINING_ARN, "Executing", [step("Preprocess", "Starting")])
    verify.part_training(run)
    assert lines(run)[-1] == (
        "FAIL 60.0s  training: training still Executing after 60 s (Preprocess Starting) -> it keeps running: "
        f"aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {TRAINING_ARN}; "
        "or raise --timeout-minutes"
    )
    verify.clean_up(run)  # no delete queued: removing the input now would fail the run
    assert (
        f"            left s3://{RAW}/{SAMPLE_KEY}: execution {TRAINING_ARN} may still read it; remove it later "
        f"with `aws s3 rm s3://{RAW}/{SAMPLE_KEY}`"
    ) in lines(run)
    fake.assert_done()


def test_training_timeout_after_preprocess_removes_the_sample(fake: Fake) -> None:
    run = make_run(fake, timeout=30)
    start_training(fake)
    for _ in range(2):
        poll(fake, TRAINING_ARN, "Executing", [step("Preprocess", "Succeeded"), step("Train", "Executing")])
    verify.part_training(run)
    assert lines(run)[-1].startswith(
        "FAIL 30.0s  training: training still Executing after 30 s (Preprocess Succeeded, Train Executing)"
    )
    fake.add("s3", "delete_object", {}, {"Bucket": RAW, "Key": SAMPLE_KEY, "VersionId": "sample-v1"})
    verify.clean_up(run)
    fake.assert_done()


def test_training_pipeline_missing(fake: Fake) -> None:
    run = make_run(fake)
    fake.error("sagemaker", "describe_pipeline", "ResourceNotFound", "Pipeline not found")
    verify.part_training(run)
    assert lines(run) == [
        "FAIL  0.0s  training: pipeline mlops-sandbox-training does not exist -> make deploy (the MlPipeline stack)"
    ]
    verify.clean_up(run)
    assert lines(run)[-1] == "ok    0.0s  cleanup: nothing was created"


# --- serving ----------------------------------------------------------------------------------------


def inference(fake: Fake, outputs: dict[str, str]) -> None:
    stack = {
        "StackName": "mlops-sandbox-Inference",
        "CreationTime": START,
        "StackStatus": "UPDATE_COMPLETE",
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }
    fake.add("cloudformation", "describe_stacks", {"Stacks": [stack]}, {"StackName": "mlops-sandbox-Inference"})


def monitoring(fake: Fake, *items: tuple[str, str, str]) -> None:
    fake.add("cloudformation", "list_stack_resources", resources(*items), {"StackName": "mlops-sandbox-Monitoring"})


def answer(
    *,
    probabilities: tuple[float, ...] = (0.2, 0.7, 0.1),
    threshold: float = 0.5,
    variant: str | None = "primary",
    version: int | None = 3,
    model: bool = True,
    tamper: Callable[[list[dict[str, Any]]], object] | None = None,
) -> Callable[[list[dict[str, Any]]], str]:
    """The API's 200 answer to the records of a request: one prediction per record, in order, applicant_id
    echoed, the decision at ``threshold``; ``tamper`` edits the predictions to make a wrong one."""

    def reply(records: list[dict[str, Any]]) -> str:
        predictions = [
            {
                "applicant_id": r.get("applicant_id"),
                "probability": probabilities[n % len(probabilities)],
                "decision": "decline" if probabilities[n % len(probabilities)] >= threshold else "approve",
            }
            for n, r in enumerate(records)
        ]
        if tamper is not None:
            tamper(predictions)
        arn = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-sandbox-models/{version}"
        identity = {
            "variant": variant,
            "model_package_arn": arn if version is not None else None,
            "model_version": version,
            "model_id": "sha256:0f3c",
        }
        return json.dumps({"predictions": predictions, **({"model": identity} if model else {})})

    return reply


def predicts(sent: Sent, reply: Reply | None = None, *, status: int = 200, lookup: Reply | None = None) -> None:
    """Both POST requests answer ``reply`` (the right answer by default), then the GET answers ``lookup``."""
    for _ in REQUESTS:
        sent.add("POST", URL, status, reply or answer())
    sent.add("GET", LOOKUP, status, lookup or reply or answer())


SERVED = [
    f"ok    0.0s  serving: POST {URL}: 2 signed requests answered 200, one prediction for each of 6 records (decline "
    "from probability 0.5); answered by variant primary (model version 3)",
    f"ok    0.0s  lookup: GET {LOOKUP}: the stored record of applicant A000001 scored 0.2 (approve); answered by "
    "variant primary (model version 3)",
]


@pytest.mark.parametrize(
    ("outputs", "reason"),
    [
        ({}, "nothing serves yet: approve a model, then make deploy MODEL_PACKAGE_ARN=<arn> (README: Serving)"),
        (
            {"EndpointName": "mlops-sandbox-credit"},
            "endpoint mlops-sandbox-credit is async: no API (callers use S3 and InvokeEndpointAsync)",
        ),
    ],
)
def test_serving_is_skipped_until_a_model_serves(fake: Fake, sent: Sent, outputs: dict[str, str], reason: str) -> None:
    run = make_run(fake, send=sent)
    inference(fake, outputs)
    verify.part_serving(run)
    assert lines(run) == [
        f"skip  0.0s  serving: {reason}",
        f"skip  0.0s  lookup: {reason}",
        "skip  0.0s  drift: no request was served, so there is no captured traffic to check",
    ]


def test_lookup_is_skipped_when_serving_found_no_api(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    fake.error(
        "cloudformation", "describe_stacks", "ValidationError", "Stack with id mlops-sandbox-Inference does not exist"
    )
    verify.part_serving(run)
    assert lines(run) == [
        "FAIL  0.0s  serving: stack mlops-sandbox-Inference is not deployed -> make deploy",
        "skip  0.0s  lookup: the serving step found no API or no sample applicant to ask about (its line says why)",
        "skip  0.0s  drift: no request was served, so there is no captured traffic to check",
    ]


def capture(fake: Fake) -> None:
    env = {"ARTIFACTS_BUCKET": ARTIFACTS, "CAPTURE_PREFIX": "data-capture/mlops-sandbox-credit/"}
    fake.add("lambda", "get_function_configuration", {"Environment": {"Variables": env}}, {"FunctionName": STARTER})
    prefix = "data-capture/mlops-sandbox-credit/"
    fake.add(
        "s3",
        "list_objects_v2",
        {"CommonPrefixes": [{"Prefix": f"{prefix}primary/"}]},
        {"Bucket": ARTIFACTS, "Prefix": prefix, "Delimiter": "/"},
    )
    fake.add("s3", "list_objects_v2", {}, {"Bucket": ARTIFACTS, "Prefix": f"{prefix}primary/2026/05/04/11/"})
    fake.add(
        "s3",
        "list_objects_v2",
        listing((f"{prefix}primary/2026/05/04/12/00-01-uuid.jsonl", START)),
        {"Bucket": ARTIFACTS, "Prefix": f"{prefix}primary/2026/05/04/12/"},
    )


def serving(fake: Fake) -> None:
    inference(fake, {"PredictUrl": URL, "EndpointName": "mlops-sandbox-credit"})


def test_serving_signed_requests_a_lookup_then_the_drift_pipeline_on_captured_traffic(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    predicts(sent)
    monitoring(fake, ("DriftStarterFunctionF22CDA74", "AWS::Lambda::Function", STARTER))
    capture(fake)
    fake.add(
        "lambda",
        "invoke",
        {"StatusCode": 200, "Payload": body(json.dumps({"started": True, "execution": DRIFT_ARN}).encode())},
        {"FunctionName": STARTER, "InvocationType": "RequestResponse", "Payload": b"{}"},
    )
    poll(fake, DRIFT_ARN, "Succeeded", [step("Drift", "Succeeded")])
    verify.part_serving(run)
    assert lines(run) == [
        *SERVED,
        f"      0.0s  drift: waiting for data capture under s3://{ARTIFACTS}/data-capture/mlops-sandbox-credit/",
        f"      0.0s  drift: 1 capture file(s); invoking {STARTER}",
        f"      0.0s  drift: {STARTER} started drift1",
        "      0.0s  drift: Drift Succeeded",
        f"ok    0.0s  drift: {STARTER} started the drift pipeline; execution drift1 Succeeded",
    ]
    assert [(method, url) for method, url, _, _ in sent.requests] == [("POST", URL), ("POST", URL), ("GET", LOOKUP)]
    for (_, _, data, headers), request in zip(sent.requests, REQUESTS, strict=False):
        assert data is not None
        assert json.loads(data) == request  # the raw records, null where a value is missing
        assert "content-type" in headers["Authorization"].split("SignedHeaders=")[1]
    assert b'"income": null' in (sent.requests[0][2] or b"")
    fake.assert_done()


def test_serving_reports_each_variant_that_answered(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    sent.add("POST", URL, 200, answer())
    sent.add("POST", URL, 200, answer(variant="challenger", version=None))
    run.step("serving", "serving", lambda: verify.check_api(run, verify.Served()))
    assert lines(run) == [
        f"ok    0.0s  serving: POST {URL}: 2 signed requests answered 200, one prediction for each of 6 records "
        "(decline from probability 0.5); answered by variant primary (model version 3) 1x, variant challenger "
        "(model sha256:0f3c) 1x"
    ]


def test_decisions_follow_the_profiles_threshold_when_it_has_one(fake: Fake, sent: Sent) -> None:
    api_config = SANDBOX.inference.api.model_copy(update={"decision_threshold": 0.15})
    inference_config = SANDBOX.inference.model_copy(update={"api": api_config})
    run = make_run(fake, send=sent, config=SANDBOX.model_copy(update={"inference": inference_config}))
    assert verify.decision_threshold(SANDBOX) == 0.5  # the profile's default
    serving(fake)
    predicts(sent, answer(threshold=0.15))
    served = verify.Served()
    run.step("serving", "serving", lambda: verify.check_api(run, served))
    run.step("serving", "lookup", lambda: verify.check_lookup(run, served))
    assert lines(run) == [
        f"ok    0.0s  serving: POST {URL}: 2 signed requests answered 200, one prediction for each of 6 records "
        "(decline from probability 0.15); answered by variant primary (model version 3)",
        f"ok    0.0s  lookup: GET {LOOKUP}: the stored record of applicant A000001 scored 0.2 (decline); answered by "
        "variant primary (model version 3)",
    ]


def test_serving_forbidden_names_the_signature_and_the_permission(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    sent.add("POST", URL, 403, '{"message":"Missing Authentication Token"}')
    sent.add("GET", LOOKUP, 403, '{"message":"Missing Authentication Token"}')
    verify.part_serving(run)
    hint = "the SigV4 signature (credentials, region) and the caller's execute-api:Invoke permission"
    assert lines(run)[:2] == [
        f'FAIL  0.0s  serving: request 1 of 2: POST {URL} answered 403: {{"message":"Missing Authentication Token"}} '
        f"-> {hint}",
        f'FAIL  0.0s  lookup: GET {LOOKUP} answered 403: {{"message":"Missing Authentication Token"}} -> {hint}',
    ]


def test_serving_error_points_at_the_function_and_endpoint_logs_and_code(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    error = '{"error": "the model could not score this request"}'
    sent.add("POST", URL, 502, error)
    sent.add("GET", LOOKUP, 502, error)
    fake.add(
        "cloudformation",
        "list_stack_resources",
        resources(("InvocationFunction941E5903", "AWS::Lambda::Function", "mlops-sandbox-Inference-Invocation-1")),
        {"StackName": "mlops-sandbox-Inference"},
    )
    verify.part_serving(run)
    hint = (
        "CloudWatch Logs /aws/lambda/mlops-sandbox-Inference-Invocation-1, and endpoint mlops-sandbox-credit's logs "
        "/aws/sagemaker/Endpoints/mlops-sandbox-credit; the code: lambdas/invoke_endpoint/ and pipelines/steps/serve.py"
    )
    assert lines(run)[:2] == [
        f"FAIL  0.0s  serving: request 1 of 2: POST {URL} answered 502: {error} -> {hint}",
        f"FAIL  0.0s  lookup: GET {LOOKUP} answered 502: {error} -> {hint}",
    ]


def test_serving_a_rejected_request_points_at_what_the_function_accepts(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    sent.add("POST", URL, 400, '{"error": "record 0 lacks age"}')
    run.step("serving", "serving", lambda: verify.check_api(run, verify.Served()))
    assert lines(run) == [
        f'FAIL  0.0s  serving: request 1 of 2: POST {URL} answered 400: {{"error": "record 0 lacks age"}} -> what the '
        "prediction function accepts (lambdas/invoke_endpoint/) against the records sent (raw rows of the sample: "
        "pipelines/steps/features.py INPUTS); the API's access logs (Inference stack)"
    ]


def test_serving_wants_one_prediction_per_record(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    sent.add("POST", URL, 200, answer(tamper=lambda predictions: predictions.pop()))
    sent.add("GET", LOOKUP, 200, answer(tamper=lambda predictions: predictions.append(dict(predictions[0]))))
    verify.part_serving(run)
    hint = (
        "lambdas/invoke_endpoint/ (how it passes the records to the endpoint and its answer back) and the model's "
        "serving code (pipelines/steps/serve.py)"
    )
    assert lines(run)[:2] == [
        f"FAIL  0.0s  serving: request 1 of 2: POST {URL} answered 2 predictions for 3 records, expected one per "
        f"record -> {hint}",
        f"FAIL  0.0s  lookup: GET {LOOKUP} answered 2 predictions for 1 record, expected one per record -> {hint}",
    ]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (
            '{"predictions": [0.2, 0.7, 0.1], "endpoint": "mlops-sandbox-credit"}',  # the contract before
            "answered 200 without the model block (which variant and model version answered): {text} -> the answer "
            "the prediction function builds (lambdas/invoke_endpoint/)",
        ),
        (
            "<html>Internal</html>",
            "answered 200 without predictions: <html>Internal</html> -> the answer the prediction function builds "
            "(lambdas/invoke_endpoint/)",
        ),
        (
            answer(model=False),
            "answered 200 without the model block (which variant and model version answered): {text} -> the answer "
            "the prediction function builds (lambdas/invoke_endpoint/)",
        ),
        (
            answer(variant=""),
            'answered 200 without model.variant: {"variant": "", "model_package_arn": "arn:aws:sagemaker:eu-west-1:'
            '123456789012:model-package/mlops-sandbox-models/3", "model_version": 3, "model_id": "sha256:0f3c"} -> '
            "the answer the prediction function builds (lambdas/invoke_endpoint/: the endpoint's "
            "InvokedProductionVariant)",
        ),
        (
            answer(tamper=lambda predictions: predictions.reverse()),
            ": prediction 1 is for applicant 'A000003', its record is 'A000001' (one prediction per record, in the "
            "records' order, echoing applicant_id) -> lambdas/invoke_endpoint/",
        ),
        (
            answer(probabilities=(0.2, 1.5, 0.1)),
            ": prediction 2 (applicant A000002) has probability 1.5, expected a number from 0 to 1 -> the model's "
            "serving code (pipelines/steps/serve.py predict_fn) and lambdas/invoke_endpoint/",
        ),
        (
            answer(tamper=lambda predictions: predictions[2].update(probability="0.1")),
            ": prediction 3 (applicant A000003) has probability '0.1', expected a number from 0 to 1 -> the model's "
            "serving code (pipelines/steps/serve.py predict_fn) and lambdas/invoke_endpoint/",
        ),
        (
            answer(tamper=lambda predictions: predictions[1].update(decision="approve")),
            ": prediction 2 (applicant A000002) says 'approve' for probability 0.7, expected 'decline' (decline from "
            "probability 0.5) -> lambdas/invoke_endpoint/ (its decision threshold) against "
            "inference.api.decision_threshold in the profile",
        ),
        (
            answer(probabilities=(0.5,), tamper=lambda predictions: predictions[0].update(decision="approve")),
            ": prediction 1 (applicant A000001) says 'approve' for probability 0.5, expected 'decline' (decline from "
            "probability 0.5) -> lambdas/invoke_endpoint/ (its decision threshold) against "
            "inference.api.decision_threshold in the profile",
        ),
    ],
)
def test_serving_checks_every_prediction_and_the_model_block(
    fake: Fake, sent: Sent, reply: Reply, problem: str
) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    sent.add("POST", URL, 200, reply)
    run.step("serving", "serving", lambda: verify.check_api(run, verify.Served()))
    text = reply(REQUESTS[0]["records"]) if callable(reply) else reply
    separator = "" if problem.startswith(":") else " "
    assert lines(run) == [
        f"FAIL  0.0s  serving: request 1 of 2: POST {URL}{separator}{problem.replace('{text}', text)}"
    ]


def test_lookup_404_means_the_online_store_has_no_record(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    sent.add("POST", URL, 200, answer())
    sent.add("POST", URL, 200, answer())
    sent.add("GET", LOOKUP, 404, '{"error": "no stored record for applicant A000001"}')
    served = verify.Served()
    run.step("serving", "serving", lambda: verify.check_api(run, served))
    run.step("serving", "lookup", lambda: verify.check_lookup(run, served))
    assert lines(run) == [
        SERVED[0],
        f'FAIL  0.0s  lookup: GET {LOOKUP} answered 404: {{"error": "no stored record for applicant A000001"}} -> the '
        "online feature store has no record for applicant A000001: the training pipeline's IngestFeatures step has "
        "not run on the sample (make verify VERIFY_ARGS=--only=training,serving runs it), or lambdas/invoke_endpoint/ "
        "reads another feature group (its environment)",
    ]


def test_lookup_wants_the_asked_applicant(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    predicts(sent, lookup=answer(tamper=lambda predictions: predictions[0].update(applicant_id="A000009")))
    served = verify.Served()
    run.step("serving", "serving", lambda: verify.check_api(run, served))
    run.step("serving", "lookup", lambda: verify.check_lookup(run, served))
    assert lines(run)[1] == (
        f"FAIL  0.0s  lookup: GET {LOOKUP}: prediction 1 is for applicant 'A000009', its record is 'A000001' (one "
        "prediction per record, in the records' order, echoing applicant_id) -> lambdas/invoke_endpoint/"
    )


def test_drift_starter_skipping_for_want_of_a_baseline_is_reported(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    predicts(sent)
    monitoring(fake, ("DriftStarterFunctionF22CDA74", "AWS::Lambda::Function", STARTER))
    capture(fake)
    reason = f"skipped: no training baseline under s3://{ARTIFACTS}/monitoring/baseline/ yet"
    fake.add(
        "lambda",
        "invoke",
        {"StatusCode": 200, "Payload": body(json.dumps({"started": False, "reason": reason}).encode())},
    )
    verify.part_serving(run)
    assert lines(run)[-1] == (
        f"skip  0.0s  drift: {STARTER} {reason} -> run the training part first (it writes the baseline)"
    )


def test_drift_starter_error_is_a_failure_with_its_logs(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    predicts(sent)
    monitoring(fake, ("DriftStarterFunctionF22CDA74", "AWS::Lambda::Function", STARTER))
    capture(fake)
    error = {"errorMessage": "Task timed out after 30.00 seconds"}
    fake.add(
        "lambda",
        "invoke",
        {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": body(json.dumps(error).encode())},
    )
    verify.part_serving(run)
    assert lines(run)[-1] == (
        f"FAIL  0.0s  drift: function {STARTER} failed: Task timed out after 30.00 seconds -> CloudWatch Logs "
        f"/aws/lambda/{STARTER}; its role, VPC endpoints and environment"
    )


def test_drift_fails_when_nothing_is_captured(fake: Fake, sent: Sent) -> None:
    run = make_run(fake, send=sent)
    serving(fake)
    predicts(sent)
    monitoring(fake, ("DriftStarterFunctionF22CDA74", "AWS::Lambda::Function", STARTER))
    env = {"ARTIFACTS_BUCKET": ARTIFACTS, "CAPTURE_PREFIX": "data-capture/mlops-sandbox-credit/"}
    fake.add("lambda", "get_function_configuration", {"Environment": {"Variables": env}})
    for _ in range(21):  # every 30 s for 10 min: no variant folder at all
        fake.add("s3", "list_objects_v2", {})
    verify.part_serving(run)
    assert lines(run)[-1] == (
        f"FAIL 600.0s  drift: no data capture under s3://{ARTIFACTS}/data-capture/mlops-sandbox-credit/ 10 min after "
        "the requests -> endpoint mlops-sandbox-credit's DataCaptureConfig (it samples 100 % of requests: "
        "inference.data_capture_percent) and its role's s3:PutObject and kms:GenerateDataKey on the artifacts bucket"
    )
    fake.assert_done()


# --- observability ----------------------------------------------------------------------------------


def alarm_stacks(fake: Fake) -> None:
    fake.add(
        "cloudformation",
        "list_stack_resources",
        resources(
            ("ServingPrimaryErrorsAlarm7AE59464", "AWS::CloudWatch::Alarm", "errors-alarm"),
            ("ServingPrimaryLatencyAlarm4AD2DF87", "AWS::CloudWatch::Alarm", "latency-alarm"),
        ),
        {"StackName": "mlops-sandbox-Inference"},
    )
    monitoring(fake, ("DriftDriftAlarm8F29A910", "AWS::CloudWatch::Alarm", "drift-alarm"))


def test_observability_alarms_and_dashboard_exist(fake: Fake) -> None:
    run = make_run(fake)
    alarm_stacks(fake)
    fake.add(
        "cloudwatch",
        "describe_alarms",
        {
            "MetricAlarms": [
                {"AlarmName": "errors-alarm", "StateValue": "OK"},
                {"AlarmName": "latency-alarm", "StateValue": "OK"},
                {"AlarmName": "drift-alarm", "StateValue": "INSUFFICIENT_DATA"},
            ]
        },
        {
            "AlarmNames": ["errors-alarm", "latency-alarm", "drift-alarm"],
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        },
    )
    fake.add(
        "cloudwatch",
        "get_dashboard",
        {"DashboardBody": json.dumps({"widgets": [{}, {}, {}]})},
        {"DashboardName": "mlops-sandbox-operations"},
    )
    verify.part_observability(run)
    assert lines(run) == [
        "ok    0.0s  alarms: 3 alarm(s) exist (INSUFFICIENT_DATA 1, OK 2)",
        "ok    0.0s  dashboard: mlops-sandbox-operations: 3 widgets",
    ]


def test_observability_missing_alarm_and_dashboard_fail(fake: Fake) -> None:
    run = make_run(fake)
    alarm_stacks(fake)
    fake.add(
        "cloudwatch",
        "describe_alarms",
        {
            "MetricAlarms": [
                {"AlarmName": "errors-alarm", "StateValue": "ALARM"},
                {"AlarmName": "drift-alarm", "StateValue": "OK"},
            ]
        },
    )
    fake.error("cloudwatch", "get_dashboard", "ResourceNotFound", "Dashboard does not exist")
    verify.part_observability(run)
    assert lines(run) == [
        "FAIL  0.0s  alarms: 1 of 3 alarm(s) missing: latency-alarm -> the stacks have drifted from their templates: "
        "make deploy (CloudFormation: Detect drift)",
        "FAIL  0.0s  dashboard: dashboard mlops-sandbox-operations does not exist -> make deploy "
        "(the Monitoring stack)",
    ]


def test_observability_without_serving_has_no_alarms_to_check(fake: Fake) -> None:
    run = make_run(fake)
    fake.add("cloudformation", "list_stack_resources", resources(), {"StackName": "mlops-sandbox-Inference"})
    monitoring(fake)
    run.step("observability", "alarms", lambda: verify.check_alarms(run))
    assert lines(run) == [
        "skip  0.0s  alarms: this deploy has no alarms yet (the endpoint's and the drift alarm come with serving)"
    ]


# --- the command ------------------------------------------------------------------------------------


class FakeSession:
    def __init__(self, fake: Fake, *, credentials: bool = True) -> None:
        self.fake = fake
        self.region_name: str | None = "eu-west-1"
        self.credentials = Credentials("AKIDTEST", "SECRET") if credentials else None

    def get_credentials(self) -> Any:
        return self.credentials

    def client(self, service_name: str, region_name: str | None = None) -> Any:
        assert region_name == "eu-west-1"
        return self.fake.client(service_name)


def identity(fake: Fake) -> None:
    fake.add("sts", "get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x"})


def run_main(fake: Fake, argv: list[str], **kwargs: Any) -> int:
    return verify.main(
        argv, session_factory=lambda _region: FakeSession(fake, **kwargs), clock=FakeClock(), run_id=RUN_ID
    )


def test_only_runs_the_named_parts_and_exits_0(fake: Fake, capsys: pytest.CaptureFixture[str]) -> None:
    identity(fake)
    governance(fake)
    fake.add("cloudtrail", "get_trail_status", {"IsLogging": True, "LatestDeliveryTime": START})
    assert run_main(fake, ["-c", "profile=sandbox", "--only", "trail"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"verify mlops-sandbox in account 123456789012, eu-west-1 (run {RUN_ID})",
        f"ok    0.0s  trail: logging, last delivery 2026-05-04T12:00:00Z (trail {TRAIL})",
        "ok    0.0s  cleanup: nothing was created",
        "summary: 2 ok, 0 failed, 0 skipped in 0s",
    ]
    fake.assert_done()


def test_skip_training_and_a_failure_exit_1(fake: Fake, capsys: pytest.CaptureFixture[str]) -> None:
    identity(fake)
    fake.add("cloudformation", "list_stack_resources", resources(), {"StackName": "mlops-sandbox-Governance"})
    assert run_main(fake, ["-c", "profile=sandbox", "--only=training,trail", "--skip-training"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "FAIL  0.0s  trail: mlops-sandbox-Governance has no AWS::CloudTrail::Trail AuditTrail* -> make deploy, then "
        "check the stack's events in CloudFormation",
        "skip  0.0s  training: skipped (--skip-training)",
        "ok    0.0s  cleanup: nothing was created",
        "summary: 1 ok, 1 failed, 1 skipped in 0s; failed: trail",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--only", "trail,stream"],
            "error: --only: unknown part 'stream' (parts: trail, streaming, catalog, training, serving, observability)",
        ),
        (["--timeout-minutes", "0"], "error: --timeout-minutes: must be more than 0"),
        (["--verbose"], "error: unknown argument '--verbose' (python -m tools.verify --help)"),
        (["-c", "profile=nope"], "error: profile: unknown profile 'nope' (available: production, sandbox, staging)"),
    ],
)
def test_bad_arguments_are_one_line(
    fake: Fake, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run_main(fake, argv) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err.splitlines()) == ("", [message])


def test_no_credentials_is_one_line(fake: Fake, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(fake, ["-c", "profile=sandbox"], credentials=False) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: no AWS credentials (for example `aws sso login` and AWS_PROFILE)"
    ]


def test_cli_with_a_bad_profile_prints_one_line_and_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.verify", "-c", "profile=nope", "--skip-training"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: profile: unknown profile 'nope' (available: production, sandbox, staging)"
    ]


RECORD_KEYS = [  # a raw row of the sample without the label, in the sample's column order
    "applicant_id",
    "event_time",
    "age",
    "income",
    "debt_to_income",
    "credit_history_years",
    "open_accounts",
    "employment_type",
    "education",
    "region",
    "sex",
]


def test_sample_requests_are_what_the_model_takes() -> None:
    import pandas as pd  # noqa: PLC0415 - as verify: only the serving tests need it

    from pipelines.data.generate import SAMPLE  # noqa: PLC0415
    from pipelines.steps import features  # noqa: PLC0415

    assert set(features.INPUTS) <= set(RECORD_KEYS)  # every model input is sent
    payloads = verify.sample_requests()
    assert len(payloads) == verify.REQUESTS
    assert all(list(payload) == ["records"] and 1 <= len(payload["records"]) <= 100 for payload in payloads)
    bodies = [json.dumps(payload, allow_nan=False) for payload in payloads]  # raises on NaN or a numpy value
    records = [record for payload in payloads for record in payload["records"]]
    assert len(records) == verify.REQUESTS * verify.ROWS_PER_REQUEST == 1000  # the drift check's 1,000 rows
    assert all(list(record) == RECORD_KEYS for record in records)  # raw rows, no label, no encoded feature
    assert len({record["applicant_id"] for record in records}) > len(records) * 0.9  # spread over the sample
    # each record is its row of the sample, a missing value as null (the model imputes it as in training)
    sample = pd.read_csv(SAMPLE).drop_duplicates().set_index("applicant_id")
    assert sample.index.is_unique
    nulls = 0
    for record in records:
        row = sample.loc[record["applicant_id"]]
        for key in RECORD_KEYS[1:]:
            value = record[key]
            if pd.isna(row[key]):
                assert value is None, (record["applicant_id"], key)
                nulls += 1
            elif key in features.NUMERIC:
                assert type(value) in (int, float) and value == row[key], (record["applicant_id"], key)
            else:
                assert value == row[key], (record["applicant_id"], key)
    assert nulls > 0  # the sample's missing values are in the requests
    # the model's own serving code takes them: its parser, then the training transform without a gap
    params = features.fit(pd.read_csv(SAMPLE))
    for text in bodies:
        frame = features.records_frame(features.parse_records(text.encode(), "application/json"))
        assert not features.transform(frame, params).isna().to_numpy().any()


def test_an_unexpected_error_is_one_line_and_the_cleanup_still_runs(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(fake)
    run.created.append(verify.Created(RAW, "training/verify/x.csv", "v1"))
    governance(fake)

    def broken(_client: Any, _name: str) -> dict[str, Any]:
        raise KeyError("IsLogging")

    monkeypatch.setattr(verify, "trail_status", broken)
    fake.add("s3", "delete_object", {}, {"Bucket": RAW, "Key": "training/verify/x.csv", "VersionId": "v1"})
    verify.verify(run, ("trail",))
    assert lines(run)[0] == "FAIL  0.0s  trail: unexpected KeyError: 'IsLogging' -> a bug in tools/verify.py?"
    assert lines(run)[1:] == [
        "ok    0.0s  cleanup: removed 1 object(s), left 0 thing(s) on purpose",
        f"            removed s3://{RAW}/training/verify/x.csv",
    ]
    fake.assert_done()


def test_ctrl_c_still_cleans_up(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(fake)

    def interrupted(_run: Run) -> None:
        raise KeyboardInterrupt

    run.created.append(verify.Created(RAW, SAMPLE_KEY, "v1", keep=f"execution {TRAINING_ARN} may still read it"))
    monkeypatch.setitem(verify.PART_FUNCTIONS, "trail", interrupted)
    results = verify.verify(run, ("trail",))
    assert [r.status for r in results] == ["FAIL", "ok"]
    assert lines(run)[0] == "FAIL        interrupted: stopped by the user; cleaning up"
    assert lines(run)[2].startswith(f"            left s3://{RAW}/{SAMPLE_KEY}: execution {TRAINING_ARN} may still")


def test_summary_counts_and_names_the_failures() -> None:
    results = [
        verify.Result("trail", "trail", "ok", 1.0, ""),
        verify.Result("streaming", "streaming", "FAIL", 420.0, ""),
        verify.Result("training", "training", "skip", 0.0, ""),
    ]
    assert verify.summary(results, 754.0) == "summary: 1 ok, 1 failed, 1 skipped in 12m34s; failed: streaming"


def test_the_region_follows_aws_region_like_the_cdk_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert verify._boto3_session(None).region_name == "eu-central-1"
    assert verify._boto3_session("eu-west-1").region_name == "eu-west-1"  # a region the profile pins wins


def test_credentials_for_another_account_than_the_profile_pins(
    fake: Fake, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profile = (ROOT / "config" / "sandbox.yaml").read_text(encoding="utf-8") + "account: '999999999999'\n"
    (tmp_path / "pinned.yaml").write_text(profile, encoding="utf-8")
    identity(fake)
    assert run_main(fake, ["-c", f"config={tmp_path / 'pinned.yaml'}"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: the credentials are for account 123456789012; the profile pins 999999999999"
    ]
