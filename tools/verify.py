"""`make verify`: after a deploy, prove each part of the platform works, with one line per step.

    python -m tools.verify -c profile=sandbox [-c config=PATH] [--only PART[,PART]] [--skip-training]
                           [--timeout-minutes N]

Parts, in the order they run: ``trail`` (the trail logs and has delivered a file), ``streaming`` (a
record put on the Kinesis stream lands in ``raw/streaming/events/`` through Firehose), ``catalog`` (the
crawler runs; Athena answers a query in the platform's workgroup), ``training`` (the pipeline runs on the
project's sample, step by step), ``serving`` (when the Inference stack has a ``PredictUrl``: SigV4-signed
requests of the sample's raw records, the prediction for an applicant the online feature store holds, then
the drift starter and the drift pipeline on the captured traffic) and ``observability`` (the stacks' alarms
and the dashboard exist). A cleanup always runs last and says what it removed and what it left on purpose.

Every AWS call sits in a small function that takes its client, and every wait takes a :class:`Clock`,
so the tests pass botocore-stubbed clients and a fake clock. Read-only except for what the cleanup
lists. Like ``tools/teardown.py``, this is a tool: synth and the stacks never import it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # loaded in _target only, so tools.acceptance imports the serving helpers with boto3 alone
    from config import PlatformConfig

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "pipelines" / "data" / "credit_applications.csv"

PARTS = ("trail", "streaming", "catalog", "training", "serving", "observability")
VERIFY_SOURCE = "mlops-verify"  # every test record carries it, so consumers can drop verify's data
STREAM_PREFIX = "streaming/events/"  # components/data/streaming.py DATA_PREFIX, before its date partitions
STREAM_ERROR_PREFIX = "streaming/errors/"
TRAINING_VERIFY_PREFIX = "training/verify/"  # under training/: the only raw prefix the pipeline role reads
# Serving sends the sample in REQUESTS requests of ROWS_PER_REQUEST rows. Enough rows that the drift job
# (at least 50 records) sees the training distribution, not noise: with N captured rows the PSI of an
# undrifted feature is about (bins - 1) / N, so 1,000 rows keep it near 0.01, far below the alarm's 0.2. Many
# requests because capture samples whole requests: at 20 % (production) 20 requests all miss 1 time in 90.
REQUESTS, ROWS_PER_REQUEST = 20, 50
MAX_RECORDS = 100  # the most records the prediction API takes in one request
JSON = "application/json"
TERMINAL = ("Succeeded", "Failed", "Stopped")
STEP_DONE = ("Succeeded", "Failed", "Stopped")

# How long each wait may take (seconds) and how often it polls. Pipelines use --timeout-minutes.
TRAIL_LIMIT, TRAIL_EVERY = 15 * 60, 30
STREAM_MARGIN, STREAM_EVERY = 120, 20  # on top of the profile's Firehose buffer interval
CRAWLER_LIMIT, CRAWLER_EVERY = 15 * 60, 15
QUERY_LIMIT, QUERY_EVERY = 5 * 60, 2
CAPTURE_LIMIT, CAPTURE_EVERY = 10 * 60, 30
PIPELINE_EVERY = 30
CLOCK_SKEW = timedelta(minutes=5)  # S3's LastModified against this machine's clock

Status = Literal["ok", "FAIL", "skip"]
T = TypeVar("T")


class StepFailedError(Exception):
    """A step found a problem: ``message`` says what, ``hint`` where to look."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class StepSkippedError(Exception):
    """A step that does not apply to this deploy (or was turned off), with the reason."""


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...
    def now(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)


# (method, url, body or None, headers) -> (status, text): the HTTP side of serving, faked in the tests.
Sender = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, str]]
Payload = dict[str, Any]  # one request body of the prediction API: {"records": [record, ...]}


def wait_until(check: Callable[[], T | None], *, clock: Clock, limit: float, every: float) -> T | None:
    """Call ``check`` until it returns something or ``limit`` seconds pass (then None)."""
    deadline = clock.monotonic() + limit
    while True:
        found = check()
        if found is not None:
            return found
        left = deadline - clock.monotonic()
        if left <= 0:
            return None
        clock.sleep(min(every, left))


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# --- CloudFormation: what each resource is called ------------------------------------------------


def stack_resources(cloudformation: Any, stack_name: str) -> list[dict[str, Any]]:
    """Every resource of a stack (list_stack_resources pages; describe_stack_resources stops at 100)."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StackName": stack_name, **({"NextToken": token} if token else {})}
        try:
            page = cloudformation.list_stack_resources(**kwargs)
        except ClientError as error:
            if "does not exist" in str(error):
                raise StepFailedError(f"stack {stack_name} is not deployed", "make deploy") from None
            raise
        found += page.get("StackResourceSummaries", [])
        token = page.get("NextToken")
        if not token:
            return found


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StepFailedError(f"stack {stack_name} is not deployed", "make deploy") from None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def physical_ids(resources: list[dict[str, Any]], logical_prefix: str, resource_type: str) -> list[str]:
    """Physical names of the resources whose logical id starts with ``logical_prefix`` (CDK appends a hash)."""
    return [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == resource_type
        and r["LogicalResourceId"].startswith(logical_prefix)
        and r.get("PhysicalResourceId")
    ]


# --- the small AWS functions ----------------------------------------------------------------------


def trail_status(cloudtrail: Any, name: str) -> dict[str, Any]:
    return dict(cloudtrail.get_trail_status(Name=name))


def put_record(kinesis: Any, stream: str, data: bytes, partition_key: str) -> str:
    response = kinesis.put_record(StreamName=stream, Data=data, PartitionKey=partition_key)
    return str(response["SequenceNumber"])


def put_firehose_record(firehose: Any, delivery_stream: str, data: bytes) -> str:
    """Direct PUT (data_lake.streaming.source: direct_put): producers write to Firehose itself."""
    response = firehose.put_record(DeliveryStreamName=delivery_stream, Record={"Data": data})
    return str(response["RecordId"])


def new_objects(s3: Any, bucket: str, prefix: str, since: datetime) -> list[dict[str, Any]]:
    """Objects under ``prefix`` modified at or after ``since``, newest first."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
        page = s3.list_objects_v2(**kwargs)
        found += [o for o in page.get("Contents", []) if o["LastModified"] >= since]
        token = page.get("NextContinuationToken")
        if not token:
            return sorted(found, key=lambda o: o["LastModified"], reverse=True)


def sub_prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


def read_text(s3: Any, bucket: str, key: str) -> tuple[str, str | None]:
    """The object's text (gunzipped when Firehose compressed it) and its version id."""
    response = s3.get_object(Bucket=bucket, Key=key)
    body = response["Body"].read()
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8", errors="replace"), response.get("VersionId")


def upload(s3: Any, bucket: str, key: str, body: bytes) -> str | None:
    version: str | None = s3.put_object(Bucket=bucket, Key=key, Body=body).get("VersionId")
    return version


def delete_object(s3: Any, bucket: str, key: str, version_id: str | None) -> None:
    """Delete one version for good (a plain delete in a versioned bucket only adds a delete marker)."""
    if version_id is None:
        version_id = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
    if version_id is None:
        s3.delete_object(Bucket=bucket, Key=key)
    else:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)


def start_crawler(glue: Any, name: str) -> bool:
    """Start a crawl; False when one is already running (then wait for that one)."""
    try:
        glue.start_crawler(Name=name)
    except ClientError as error:
        if error_code(error) == "CrawlerRunningException":
            return False
        raise
    return True


def crawler(glue: Any, name: str) -> dict[str, Any]:
    return dict(glue.get_crawler(Name=name)["Crawler"])


def table_names(glue: Any, database: str) -> list[str]:
    return sorted(t["Name"] for t in glue.get_tables(DatabaseName=database).get("TableList", []))


def start_query(athena: Any, sql: str, workgroup: str, database: str) -> str:
    response = athena.start_query_execution(
        QueryString=sql, WorkGroup=workgroup, QueryExecutionContext={"Database": database}
    )
    return str(response["QueryExecutionId"])


def query_execution(athena: Any, query_id: str) -> dict[str, Any]:
    return dict(athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"])


def first_value(athena: Any, query_id: str) -> str | None:
    rows = athena.get_query_results(QueryExecutionId=query_id, MaxResults=2)["ResultSet"]["Rows"]
    return str(rows[1]["Data"][0].get("VarCharValue")) if len(rows) > 1 else None


def pipeline_definition(sagemaker: Any, name: str) -> dict[str, Any]:
    try:
        response = sagemaker.describe_pipeline(PipelineName=name)
    except ClientError as error:
        if error_code(error) == "ResourceNotFound":
            raise StepFailedError(f"pipeline {name} does not exist", "make deploy (the MlPipeline stack)") from None
        raise
    return dict(json.loads(response["PipelineDefinition"]))


def start_pipeline(sagemaker: Any, name: str, display_name: str, parameters: dict[str, str]) -> str:
    response = sagemaker.start_pipeline_execution(
        PipelineName=name,
        PipelineExecutionDisplayName=display_name,
        PipelineExecutionDescription="make verify",
        PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
    )
    return str(response["PipelineExecutionArn"])


def execution(sagemaker: Any, arn: str) -> tuple[str, str]:
    response = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    return str(response["PipelineExecutionStatus"]), str(response.get("FailureReason", ""))


def execution_steps(sagemaker: Any, arn: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
        page = sagemaker.list_pipeline_execution_steps(**kwargs, **({"NextToken": token} if token else {}))
        found += page.get("PipelineExecutionSteps", [])
        token = page.get("NextToken")
        if not token:
            return found


def newest_model_package(sagemaker: Any, group: str) -> dict[str, Any] | None:
    packages = sagemaker.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
    )["ModelPackageSummaryList"]
    return dict(packages[0]) if packages else None


def function_environment(lambda_client: Any, name: str) -> dict[str, str]:
    response = lambda_client.get_function_configuration(FunctionName=name)
    return dict(response.get("Environment", {}).get("Variables", {}))


def invoke(lambda_client: Any, name: str) -> dict[str, Any]:
    response = lambda_client.invoke(FunctionName=name, InvocationType="RequestResponse", Payload=b"{}")
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage", "") if isinstance(payload, dict) else str(payload)
        raise StepFailedError(
            f"function {name} failed: {message}",
            f"CloudWatch Logs /aws/lambda/{name}; its role, VPC endpoints and environment",
        )
    return dict(payload) if isinstance(payload, dict) else {"answer": payload}


def alarm_states(cloudwatch: Any, names: list[str]) -> dict[str, str]:
    """State of each alarm that exists, by name (describe_alarms takes at most 100 names)."""
    found: dict[str, str] = {}
    for start in range(0, len(names), 100):
        response = cloudwatch.describe_alarms(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for alarm in [*response.get("MetricAlarms", []), *response.get("CompositeAlarms", [])]:
            found[alarm["AlarmName"]] = alarm["StateValue"]
    return found


def dashboard_widgets(cloudwatch: Any, name: str) -> int:
    try:
        body = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    except ClientError as error:
        if error_code(error) in ("ResourceNotFound", "ResourceNotFoundException"):
            raise StepFailedError(f"dashboard {name} does not exist", "make deploy (the Monitoring stack)") from None
        raise
    return len(json.loads(body).get("widgets", []))


def signed_request(
    credentials: Any, region: str, method: str, url: str, *, payload: Payload | None, send: Sender
) -> tuple[int, str]:
    """Call an IAM-authorized API, signed with SigV4 for execute-api: a POST carries ``payload`` as JSON
    (never NaN: the API's JSON parser rejects it), a GET nothing."""
    body = None if payload is None else json.dumps(payload, allow_nan=False).encode()
    headers = {} if body is None else {"Content-Type": JSON}
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return send(method, url, body, {k: str(v) for k, v in request.headers.items()})


def urllib_send(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise StepFailedError(f"could not reach {url}: {reason}", "network access to API Gateway") from None


def _json_value(value: Any) -> Any:
    """A CSV cell as JSON: a missing value (NaN) as null, numpy numbers as Python ones, text as is."""
    import pandas as pd  # noqa: PLC0415 - pandas is loaded only when serving is verified

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def sample_requests(requests: int = REQUESTS, rows: int = ROWS_PER_REQUEST) -> list[Payload]:
    """Request bodies of rows spread over the project's sample, as the API takes them: raw records (every
    column of the sample but the label; a missing value is null, the model imputes it as in training),
    distributed as in training, at most ``MAX_RECORDS`` per request."""
    import pandas as pd  # noqa: PLC0415 - pandas is loaded only when serving is verified

    from pipelines.steps import features  # noqa: PLC0415 - idem

    frame = pd.read_csv(SAMPLE)
    keys = [column for column in frame.columns if column != features.LABEL]
    missing = [name for name in [features.RECORD_ID, *features.INPUTS] if name not in keys]
    if missing:
        raise StepFailedError(
            f"{SAMPLE.relative_to(ROOT)} lacks {', '.join(missing)}, which the model takes",
            "pipelines/data/generate.py and pipelines/steps/features.py INPUTS",
        )
    step = max(1, len(frame) // (requests * rows))
    chosen = frame.iloc[::step].head(requests * rows)[keys]
    records = [
        {key: _json_value(value) for key, value in zip(keys, row, strict=True)} for row in chosen.itertuples(False)
    ]
    size = min(rows, MAX_RECORDS)
    return [{"records": records[start : start + size]} for start in range(0, len(records), size)]


# --- one run ----------------------------------------------------------------------------------------


@dataclass
class Result:
    part: str
    name: str
    status: Status
    seconds: float
    detail: str


@dataclass
class Created:
    """An object this run wrote that the platform does not keep; ``keep`` says why it must stay for now."""

    bucket: str
    key: str
    version_id: str | None
    keep: str = ""


@dataclass
class Run:
    config: PlatformConfig
    client: Callable[[str], Any]
    clock: Clock
    run_id: str
    region: str
    credentials: Any
    send: Sender = urllib_send
    timeout: float = 60 * 60
    out: Callable[[str], None] = lambda line: print(line, flush=True)
    requests: Callable[[], list[Payload]] = sample_requests
    results: list[Result] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    _resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _step_start: float = 0.0
    _step_name: str = ""

    def resources(self, stack_id: str) -> list[dict[str, Any]]:
        if stack_id not in self._resources:
            self._resources[stack_id] = stack_resources(self.client("cloudformation"), self.config.stack_name(stack_id))
        return self._resources[stack_id]

    def resource(self, stack_id: str, logical_prefix: str, resource_type: str) -> str:
        ids = physical_ids(self.resources(stack_id), logical_prefix, resource_type)
        if not ids:
            raise StepFailedError(
                f"{self.config.stack_name(stack_id)} has no {resource_type} {logical_prefix}*",
                "make deploy, then check the stack's events in CloudFormation",
            )
        return ids[0]

    def progress(self, text: str) -> None:
        self.out(f"{'':4} {self.clock.monotonic() - self._step_start:4.1f}s  {self._step_name}: {text}")

    def step(self, part: str, name: str, body: Callable[[], str]) -> Result:
        """Run one step, print its line, never raise: what a user reads is the line, not a traceback."""
        self._step_start, self._step_name = self.clock.monotonic(), name
        status: Status = "ok"
        try:
            detail = body()
        except StepSkippedError as skipped:
            status, detail = "skip", str(skipped)
        except StepFailedError as failed:
            status, detail = "FAIL", failed.message + (f" -> {failed.hint}" if failed.hint else "")
        except ClientError as error:
            code = error_code(error)
            status = "FAIL"
            detail = f"{error.operation_name}: {code}: {error.response['Error'].get('Message', '')}"
            if "AccessDenied" in code or "Unauthorized" in code:
                detail += " -> the credentials lack this permission (an administrator role deploys and verifies)"
        except BotoCoreError as error:
            status, detail = "FAIL", f"{error} -> credentials, region and network access to AWS"
        except Exception as error:  # one line and the cleanup, not a traceback mid-run
            status, detail = "FAIL", f"unexpected {type(error).__name__}: {error} -> a bug in tools/verify.py?"
        result = Result(part, name, status, self.clock.monotonic() - self._step_start, detail)
        self.results.append(result)
        self.out(f"{status:<4} {result.seconds:4.1f}s  {name}: {detail}")
        return result


# --- trail ------------------------------------------------------------------------------------------


def check_trail(run: Run) -> str:
    name = run.resource("Governance", "AuditTrail", "AWS::CloudTrail::Trail")
    cloudtrail = run.client("cloudtrail")

    def delivered() -> dict[str, Any] | None:
        status = trail_status(cloudtrail, name)
        if not status.get("IsLogging"):
            raise StepFailedError(f"trail {name} is not logging", f"aws cloudtrail start-logging --name {name}")
        if status.get("LatestDeliveryError"):
            raise StepFailedError(
                f"trail {name} cannot deliver log files: {status['LatestDeliveryError']}",
                "the audit bucket's policy and the trail key's policy (Governance stack)",
            )
        if status.get("LatestCloudWatchLogsDeliveryError"):
            raise StepFailedError(
                f"trail {name} cannot deliver to CloudWatch Logs: {status['LatestCloudWatchLogsDeliveryError']}",
                "the trail's CloudWatch Logs role and its log group's key (Governance stack)",
            )
        if status.get("LatestDeliveryTime"):
            return status
        if not waiting:
            waiting.append(True)
            run.progress(f"logging; waiting up to {minutes(TRAIL_LIMIT)} for a first log file")
        return None

    waiting: list[bool] = []
    found = wait_until(delivered, clock=run.clock, limit=TRAIL_LIMIT, every=TRAIL_EVERY)
    if found is None:
        raise StepFailedError(
            f"trail {name} is logging but has delivered no log file after {minutes(TRAIL_LIMIT)}",
            "CloudTrail delivers about every 5 minutes; check the audit bucket's policy and the trail key's "
            "policy, then run `make verify VERIFY_ARGS=--only=trail`",
        )
    return f"logging, last delivery {iso(found['LatestDeliveryTime'])} (trail {name})"


def part_trail(run: Run) -> None:
    run.step("trail", "trail", lambda: check_trail(run))


# --- streaming --------------------------------------------------------------------------------------


def _day_prefixes(since: datetime, until: datetime) -> list[str]:
    """Firehose's date partitions (UTC) from ``since`` to ``until``."""
    days, day = [], since.astimezone(UTC).date()
    while day <= until.astimezone(UTC).date():
        days.append(f"{STREAM_PREFIX}year={day:%Y}/month={day:%m}/day={day:%d}/")
        day += timedelta(days=1)
    return days


def _foreign_lines(text: str) -> int:
    """Records in a delivered object that are not verify's (other producers' data must stay)."""
    count = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            count += 1
            continue
        if not (isinstance(record, dict) and record.get("source") == VERIFY_SOURCE):
            count += 1
    return count


def check_streaming(run: Run) -> str:
    raw = run.resource("DataLake", "LakeRawBucket", "AWS::S3::Bucket")
    marker = f"verify-{run.run_id}"
    sent = run.clock.now()
    record = {"source": VERIFY_SOURCE, "verify_id": marker, "sent_at": iso(sent)}
    data = (json.dumps(record) + "\n").encode()
    if run.config.data_lake.streaming.source == "kinesis":
        stream = run.resource("DataLake", "StreamingStream", "AWS::Kinesis::Stream")
        put_record(run.client("kinesis"), stream, data, marker)
        retention = run.config.data_lake.streaming.retention_hours
        run.left.append(
            f"the test record {marker} on {stream}: Kinesis cannot delete records; it expires after {retention} h"
        )
    else:
        stream = run.resource("DataLake", "StreamingDeliveryStream", "AWS::KinesisFirehose::DeliveryStream")
        put_firehose_record(run.client("firehose"), stream, data)
    run.progress(f"record {marker} put on {stream}; waiting for Firehose")
    s3, since, seen = run.client("s3"), sent - CLOCK_SKEW, set()
    arrived = 0

    def landed() -> tuple[str, str, str | None] | None:
        nonlocal arrived
        for prefix in [*_day_prefixes(since, run.clock.now()), STREAM_ERROR_PREFIX]:
            for obj in new_objects(s3, raw, prefix, since):
                if obj["Key"] in seen:
                    continue
                seen.add(obj["Key"])
                arrived += prefix != STREAM_ERROR_PREFIX
                text, version = read_text(s3, raw, obj["Key"])
                if marker not in text:
                    continue
                if prefix == STREAM_ERROR_PREFIX:
                    raise StepFailedError(
                        f"Firehose could not write the record and put it in s3://{raw}/{obj['Key']}",
                        "that object's errorCode and errorMessage; the delivery role's access to raw and the lake key",
                    )
                return obj["Key"], text, version
        return None

    limit = run.config.data_lake.streaming.buffer_interval_seconds + STREAM_MARGIN
    found = wait_until(landed, clock=run.clock, limit=limit, every=STREAM_EVERY)
    if found is None:
        delivery = run.resource("DataLake", "StreamingDeliveryStream", "AWS::KinesisFirehose::DeliveryStream")
        what = (
            f"{arrived} new object(s) under raw/{STREAM_PREFIX} but none holds record {marker}"
            if arrived
            else f"no object under raw/{STREAM_PREFIX}"
        )
        raise StepFailedError(
            f"{what} after {minutes(limit)}",
            f"delivery stream {delivery}: `aws firehose describe-delivery-stream --delivery-stream-name {delivery}`, "
            "its CloudWatch Logs group (DataLake stack, StreamingDeliveryLogGroup), its role's access to the stream "
            "and the lake key",
        )
    key, text, version = found
    others = _foreign_lines(text)
    if others:
        run.left.append(f"s3://{raw}/{key}: it also holds {others} record(s) of other producers")
    else:
        run.created.append(Created(raw, key, version))
    after = (run.clock.now() - sent).total_seconds()
    return f"record {marker} delivered to s3://{raw}/{key} ({after:.0f} s after the put)"


def part_streaming(run: Run) -> None:
    run.step("streaming", "streaming", lambda: check_streaming(run))


# --- catalog ----------------------------------------------------------------------------------------


def check_crawler(run: Run) -> str:
    name = run.resource("DataLake", "CatalogCrawler", "AWS::Glue::Crawler")
    glue, started = run.client("glue"), run.clock.now()
    if not start_crawler(glue, name):
        run.progress("a crawl is already running; waiting for it")
    seen_running = False

    def finished() -> dict[str, Any] | None:
        nonlocal seen_running
        state = crawler(glue, name)
        if state.get("State") != "READY":
            seen_running = True
            return None
        last = state.get("LastCrawl", {})
        fresh = seen_running or ("StartTime" in last and last["StartTime"] >= started - CLOCK_SKEW)
        return state if fresh and last else None

    found = wait_until(finished, clock=run.clock, limit=CRAWLER_LIMIT, every=CRAWLER_EVERY)
    if found is None:
        raise StepFailedError(
            f"crawler {name} has not finished after {minutes(CRAWLER_LIMIT)}",
            f"`aws glue get-crawler --name {name}` and its log stream in /aws-glue/crawlers",
        )
    last = found["LastCrawl"]
    if last.get("Status") != "SUCCEEDED":
        logs = f"{last.get('LogGroup', '/aws-glue/crawlers')}, stream {last.get('LogStream', name)}"
        raise StepFailedError(
            f"crawler {name}: crawl {last.get('Status')}: {last.get('ErrorMessage', 'no message')}",
            f"CloudWatch Logs {logs}; the crawler role's access to curated and the lake key",
        )
    return f"{name}: crawl SUCCEEDED into database {found.get('DatabaseName', '')}"


def check_query(run: Run) -> str:
    database = run.config.name_prefix.replace("-", "_") + "_lake"  # components/data/catalog.py
    workgroup = f"{run.config.name_prefix}-lake"
    tables = table_names(run.client("glue"), database)
    sql = f'SELECT COUNT(*) FROM "{database}"."{tables[0]}"' if tables else "SELECT 1"
    athena = run.client("athena")
    query_id = start_query(athena, sql, workgroup, database)

    def done() -> dict[str, Any] | None:
        found = query_execution(athena, query_id)
        return found if found["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") else None

    found = wait_until(done, clock=run.clock, limit=QUERY_LIMIT, every=QUERY_EVERY)
    if found is None:
        raise StepFailedError(
            f"query {query_id} ({sql}) still running after {minutes(QUERY_LIMIT)}",
            f"`aws athena get-query-execution --query-execution-id {query_id}`",
        )
    output = found.get("ResultConfiguration", {}).get("OutputLocation", "")
    if output.startswith("s3://"):
        bucket, _, key = output[5:].partition("/")
        run.created += [Created(bucket, key, None), Created(bucket, f"{key}.metadata", None)]
    state = found["Status"]["State"]
    if state != "SUCCEEDED":
        raise StepFailedError(
            f"{sql} in workgroup {workgroup}: {state}: {found['Status'].get('StateChangeReason', 'no reason')}",
            "the workgroup's result location (artifacts bucket) and the lake key; its per-query scan limit "
            "(data_lake.athena_bytes_scanned_cutoff_mb)",
        )
    if not tables:
        return f"{sql} SUCCEEDED in workgroup {workgroup}; {database} has no table yet"
    return f"{sql} SUCCEEDED in workgroup {workgroup}: {first_value(athena, query_id)} rows"


def part_catalog(run: Run) -> None:
    run.left.append(
        f"tables the crawler created or updated in {run.config.name_prefix.replace('-', '_')}_lake (the catalog is "
        "the platform's)"
    )
    run.step("catalog", "crawler", lambda: check_crawler(run))
    run.step("catalog", "athena", lambda: check_query(run))


# --- pipelines (training, drift) --------------------------------------------------------------------


def where_to_look(step: dict[str, Any], arn: str) -> str:
    metadata = step.get("Metadata", {})
    for kind, group, command in (
        ("ProcessingJob", "/aws/sagemaker/ProcessingJobs", "describe-processing-job --processing-job-name"),
        ("TrainingJob", "/aws/sagemaker/TrainingJobs", "describe-training-job --training-job-name"),
        (
            "TuningJob",
            "/aws/sagemaker/TrainingJobs",
            "describe-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name",
        ),
    ):
        if kind in metadata:
            job = str(metadata[kind].get("Arn", "")).rsplit("/", 1)[-1]
            return f"CloudWatch Logs {group}, streams {job}/*; aws sagemaker {command} {job}"
    if "Fail" in metadata:
        return "the pipeline's own gate stopped it (pipelines/README.md: the AUC gate)"
    return f"aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {arn}"


@dataclass
class Followed:
    status: str
    failure: str
    steps: list[dict[str, Any]]


def follow(run: Run, arn: str, limit: float) -> tuple[Followed, bool]:
    """Poll an execution until it ends or ``limit`` passes, printing each step's status as it changes.
    Returns the last state seen and whether the execution ended."""
    sagemaker = run.client("sagemaker")
    seen: dict[str, str] = {}
    latest = Followed("Executing", "", [])

    def ended() -> Followed | None:
        nonlocal latest
        status, failure = execution(sagemaker, arn)
        steps = execution_steps(sagemaker, arn)
        for step in steps:
            name, state = step["StepName"], step["StepStatus"]
            if seen.get(name) != state:
                seen[name] = state
                run.progress(f"{name} {state}")
        latest = Followed(status, failure, steps)
        return latest if status in TERMINAL else None

    finished = wait_until(ended, clock=run.clock, limit=limit, every=PIPELINE_EVERY) is not None
    return latest, finished


def pipeline_failure(what: str, followed: Followed, arn: str) -> StepFailedError:
    failed = [s for s in followed.steps if s["StepStatus"] == "Failed"]
    if failed:
        step = failed[-1]
        reason = step.get("FailureReason") or step.get("Metadata", {}).get("Fail", {}).get("ErrorMessage", "")
        return StepFailedError(
            f"{what} {followed.status}: step {step['StepName']} failed: {reason or followed.failure}",
            where_to_look(step, arn),
        )
    return StepFailedError(
        f"{what} {followed.status}: {followed.failure or 'no failure reason'}",
        f"aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {arn}",
    )


def pipeline_timeout(what: str, followed: Followed, arn: str, limit: float) -> StepFailedError:
    steps = ", ".join(f"{s['StepName']} {s['StepStatus']}" for s in followed.steps) or "no step started"
    return StepFailedError(
        f"{what} still {followed.status} after {minutes(limit)} ({steps})",
        f"it keeps running: aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn {arn}; "
        "or raise --timeout-minutes",
    )


def _readers(definition: dict[str, Any], parameter: str) -> set[str]:
    """Steps whose arguments read ``parameter`` (the sample must stay until they have run)."""
    needle = f'"Parameters.{parameter}"'
    return {s["Name"] for s in definition.get("Steps", []) if needle in json.dumps(s)}


def check_training(run: Run) -> str:
    prefix = run.config.name_prefix
    pipeline, group = f"{prefix}-training", f"{prefix}-models"
    sagemaker = run.client("sagemaker")
    definition = pipeline_definition(sagemaker, pipeline)
    raw = run.resource("DataLake", "LakeRawBucket", "AWS::S3::Bucket")
    folder = f"{TRAINING_VERIFY_PREFIX}{run.run_id}/"
    key = f"{folder}{SAMPLE.name}"
    version = upload(run.client("s3"), raw, key, SAMPLE.read_bytes())
    sample = Created(raw, key, version)
    run.created.append(sample)
    names = {p["Name"] for p in definition.get("Parameters", [])}
    parameters = {"InputDataUri": f"s3://{raw}/{folder}"} if "InputDataUri" in names else {}
    readers = _readers(definition, "InputDataUri") if parameters else {s["Name"] for s in definition.get("Steps", [])}
    arn = start_pipeline(sagemaker, pipeline, f"verify-{run.run_id}", parameters)
    sample.keep = f"execution {arn} may still read it"  # until its reading steps have run
    run.left += [
        "the training run's artifacts in the artifacts bucket and its baseline under monitoring/baseline/ "
        "(the drift check reads it)",
        f"the sample's feature records in the feature group {prefix}-credit-features-* (every run on the sample "
        "ingests the same records)",
    ]
    run.progress(f"started {arn.rsplit('/', 1)[-1]} on s3://{raw}/{key}")
    followed, ended = follow(run, arn, run.timeout)
    done = {s["StepName"] for s in followed.steps if s["StepStatus"] in STEP_DONE}
    if ended or readers <= done:
        sample.keep = ""
    if not ended:
        raise pipeline_timeout("training", followed, arn, run.timeout)
    if followed.status != "Succeeded":
        raise pipeline_failure("training", followed, arn)
    package = newest_model_package(sagemaker, group)
    registered = ""
    if package is not None:
        registered = f"; registered {package['ModelPackageArn']} ({package.get('ModelApprovalStatus', '')})"
        run.left.append(
            f"model package {package['ModelPackageArn']}: a real candidate; approve it to serve "
            "(README: Serving a model) or `aws sagemaker delete-model-package --model-package-name <arn>`"
        )
    return f"execution verify-{run.run_id} Succeeded ({', '.join(s['StepName'] for s in followed.steps)}){registered}"


def part_training(run: Run) -> None:
    run.step("training", "training", lambda: check_training(run))


def skip_training(run: Run) -> None:
    def skipped() -> str:
        raise StepSkippedError("skipped (--skip-training)")

    run.step("training", "training", skipped)


# --- serving ----------------------------------------------------------------------------------------


@dataclass
class Served:
    """What the serving step learnt, for the steps after it."""

    api: str = ""  # the API's base URL (PredictUrl without /predict)
    skipped: str = ""  # why the serving step did not call the API (the lookup step skips for the same reason)
    sent: datetime | None = None
    endpoint: str = ""
    applicant_id: str | None = None  # a sample applicant: the lookup step asks for its stored record's prediction


PREDICT_CODE = "lambdas/invoke_endpoint/"  # the prediction function's package
SERVE_CODE = "pipelines/steps/serve.py"  # the model's serving code


def decision_threshold(config: PlatformConfig) -> float:
    """The probability from which the API declines (``inference.api.decision_threshold``, the function's
    DECISION_THRESHOLD)."""
    return config.inference.api.decision_threshold


def _answer(where: str, text: str) -> tuple[list[Any], dict[str, Any]]:
    """The predictions and the model block of a 200 answer."""
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list):
        raise StepFailedError(
            f"{where} answered 200 without predictions: {text[:300]}",
            f"the answer the prediction function builds ({PREDICT_CODE})",
        )
    model = answer.get("model") if isinstance(answer, dict) else None
    if not isinstance(model, dict):
        raise StepFailedError(
            f"{where} answered 200 without the model block (which variant and model version answered): {text[:300]}",
            f"the answer the prediction function builds ({PREDICT_CODE})",
        )
    if not isinstance(model.get("variant"), str) or not model["variant"]:
        raise StepFailedError(
            f"{where} answered 200 without model.variant: {json.dumps(model)[:300]}",
            f"the answer the prediction function builds ({PREDICT_CODE}: the endpoint's InvokedProductionVariant)",
        )
    return predictions, model


def _problem(prediction: Any, applicant_id: Any, threshold: float) -> tuple[str, str] | None:
    """What is wrong with one prediction, and where to look; None when it is right."""
    if not isinstance(prediction, dict):
        return f"is not an object: {json.dumps(prediction)[:100]}", PREDICT_CODE
    if prediction.get("applicant_id") != applicant_id:
        return (
            f"is for applicant {prediction.get('applicant_id')!r}, its record is {applicant_id!r} (one prediction "
            "per record, in the records' order, echoing applicant_id)",
            PREDICT_CODE,
        )
    probability = prediction.get("probability")
    if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1:
        return (
            f"(applicant {applicant_id}) has probability {probability!r}, expected a number from 0 to 1",
            f"the model's serving code ({SERVE_CODE} predict_fn) and {PREDICT_CODE}",
        )
    expected = "decline" if probability >= threshold else "approve"
    if prediction.get("decision") != expected:
        return (
            f"(applicant {applicant_id}) says {prediction.get('decision')!r} for probability {probability}, expected "
            f"{expected!r} (decline from probability {threshold})",
            f"{PREDICT_CODE} (its decision threshold) against inference.api.decision_threshold in the profile",
        )
    return None


def _check_predictions(where: str, predictions: list[Any], records: list[Payload], threshold: float) -> None:
    if len(predictions) != len(records):
        raise StepFailedError(
            f"{where} answered {len(predictions)} predictions for {len(records)} record"
            f"{'s' if len(records) != 1 else ''}, expected one per record",
            f"{PREDICT_CODE} (how it passes the records to the endpoint and its answer back) and the model's "
            f"serving code ({SERVE_CODE})",
        )
    for number, (prediction, record) in enumerate(zip(predictions, records, strict=True), start=1):
        found = _problem(prediction, record.get("applicant_id"), threshold)
        if found is not None:
            raise StepFailedError(f"{where}: prediction {number} {found[0]}", found[1])


def _model_name(model: dict[str, Any]) -> str:
    version = model.get("model_version")
    if isinstance(version, int) and not isinstance(version, bool):
        return f"variant {model['variant']} (model version {version})"
    return f"variant {model['variant']} (model {model.get('model_id') or 'without an id'})"


def check_api(run: Run, served: Served) -> str:
    outputs = stack_outputs(run.client("cloudformation"), run.config.stack_name("Inference"))
    url, endpoint = outputs.get("PredictUrl"), outputs.get("EndpointName")
    if not url:
        served.skipped = (
            f"endpoint {endpoint} is async: no API (callers use S3 and InvokeEndpointAsync)"
            if endpoint
            else "nothing serves yet: approve a model, then make deploy MODEL_PACKAGE_ARN=<arn> (README: Serving)"
        )
        raise StepSkippedError(served.skipped)
    served.api, served.endpoint = url.rstrip("/").removesuffix("/predict"), endpoint or ""
    payloads = run.requests()
    records = [record for payload in payloads for record in payload["records"]]
    served.applicant_id = next((str(r["applicant_id"]) for r in records if r.get("applicant_id")), None)
    served.sent = run.clock.now()
    threshold = decision_threshold(run.config)
    answered: dict[str, int] = {}
    for number, payload in enumerate(payloads, start=1):
        where = f"request {number} of {len(payloads)}: POST {url}"
        status, text = signed_request(run.credentials, run.region, "POST", url, payload=payload, send=run.send)
        if status != 200:
            raise StepFailedError(f"{where} answered {status}: {text[:300]}", _api_hint(run, status, endpoint))
        predictions, model = _answer(where, text)
        _check_predictions(where, predictions, payload["records"], threshold)
        name = _model_name(model)
        answered[name] = answered.get(name, 0) + 1
    run.left.append(f"the requests captured under data-capture/{endpoint}/ (what the drift check compares)")
    by = ", ".join(name if len(answered) == 1 else f"{name} {count}x" for name, count in answered.items())
    return (
        f"POST {url}: {len(payloads)} signed requests answered 200, one prediction for each of {len(records)} "
        f"records (decline from probability {threshold}); answered by {by}"
    )


def check_lookup(run: Run, served: Served) -> str:
    """The prediction for a record the online feature store holds: the training pipeline's IngestFeatures step
    put every (deduplicated) row of the sample there."""
    if served.skipped:
        raise StepSkippedError(served.skipped)
    if not served.api or served.applicant_id is None:
        raise StepSkippedError("the serving step found no API or no sample applicant to ask about (its line says why)")
    applicant = served.applicant_id
    url = f"{served.api}/applicants/{urllib.parse.quote(applicant, safe='')}/prediction"
    where = f"GET {url}"
    status, text = signed_request(run.credentials, run.region, "GET", url, payload=None, send=run.send)
    if status == 404:
        raise StepFailedError(
            f"{where} answered 404: {text[:300]}",
            f"the online feature store has no record for applicant {applicant}: the training pipeline's "
            "IngestFeatures step has not run on the sample (make verify VERIFY_ARGS=--only=training,serving runs "
            f"it), or {PREDICT_CODE} reads another feature group (its environment)",
        )
    if status != 200:
        raise StepFailedError(f"{where} answered {status}: {text[:300]}", _api_hint(run, status, served.endpoint))
    predictions, model = _answer(where, text)
    _check_predictions(where, predictions, [{"applicant_id": applicant}], decision_threshold(run.config))
    prediction = predictions[0]
    return (
        f"{where}: the stored record of applicant {applicant} scored {prediction['probability']} "
        f"({prediction['decision']}); answered by {_model_name(model)}"
    )


def _api_hint(run: Run, status: int, endpoint: str | None) -> str:
    if status == 403:
        return "the SigV4 signature (credentials, region) and the caller's execute-api:Invoke permission"
    if status == 429:
        return "the API's throttling (inference.api.throttle_rate_per_second, throttle_burst)"
    if status == 400:
        return (
            f"what the prediction function accepts ({PREDICT_CODE}) against the records sent (raw rows of the "
            "sample: pipelines/steps/features.py INPUTS); the API's access logs (Inference stack)"
        )
    if status < 500:
        return "the API's access logs (Inference stack, InvocationApi access log group)"
    try:
        functions = physical_ids(run.resources("Inference"), "InvocationFunction", "AWS::Lambda::Function")
    except (StepFailedError, ClientError, BotoCoreError):
        functions = []
    logs = f"/aws/lambda/{functions[0]}" if functions else "the prediction function's log group"
    return (
        f"CloudWatch Logs {logs}, and endpoint {endpoint}'s logs /aws/sagemaker/Endpoints/{endpoint}; the code: "
        f"{PREDICT_CODE} and {SERVE_CODE}"
    )


def _captured(s3: Any, bucket: str, prefix: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Capture files newer than ``since``: SageMaker writes <prefix><variant>/yyyy/mm/dd/hh/*.jsonl."""
    hours: list[str] = []
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour <= until:
        hours.append(f"{hour:%Y/%m/%d/%H}/")
        hour += timedelta(hours=1)
    found: list[dict[str, Any]] = []
    for variant in sub_prefixes(s3, bucket, prefix):
        for part in hours:
            found += new_objects(s3, bucket, variant + part, since)
    return found


def check_drift(run: Run, served: Served) -> str:
    if served.sent is None:
        raise StepSkippedError("no request was served, so there is no captured traffic to check")
    functions = physical_ids(run.resources("Monitoring"), "DriftStarterFunction", "AWS::Lambda::Function")
    if not functions:
        raise StepSkippedError("this deploy has no drift check (serverless endpoints capture nothing)")
    starter, lam = functions[0], run.client("lambda")
    env = function_environment(lam, starter)
    bucket, prefix = env.get("ARTIFACTS_BUCKET", ""), env.get("CAPTURE_PREFIX", "")
    s3, since = run.client("s3"), served.sent - CLOCK_SKEW
    run.progress(f"waiting for data capture under s3://{bucket}/{prefix}")
    found = wait_until(
        lambda: _captured(s3, bucket, prefix, since, run.clock.now()) or None,
        clock=run.clock,
        limit=CAPTURE_LIMIT,
        every=CAPTURE_EVERY,
    )
    if found is None:
        raise StepFailedError(
            f"no data capture under s3://{bucket}/{prefix} {minutes(CAPTURE_LIMIT)} after the requests",
            f"endpoint {served.endpoint}'s DataCaptureConfig (it samples "
            f"{run.config.inference.data_capture_percent} % of requests: inference.data_capture_percent) and its "
            "role's s3:PutObject and kms:GenerateDataKey on the artifacts bucket",
        )
    run.progress(f"{len(found)} capture file(s); invoking {starter}")
    answer = invoke(lam, starter)
    if not answer.get("started"):
        reason = str(answer.get("reason", answer))
        if "captured traffic" in reason:
            raise StepFailedError(
                f"{starter} answered {reason!r} although s3://{bucket}/{found[0]['Key']} exists",
                f"the function's CAPTURE_PREFIX ({prefix}) against the endpoint's capture destination",
            )
        raise StepSkippedError(f"{starter} {reason} -> run the training part first (it writes the baseline)")
    arn = str(answer["execution"])
    run.progress(f"{starter} started {arn.rsplit('/', 1)[-1]}")
    followed, ended = follow(run, arn, run.timeout)
    if not ended:
        raise pipeline_timeout("drift", followed, arn, run.timeout)
    if followed.status != "Succeeded":
        raise pipeline_failure("drift", followed, arn)
    execution_id = arn.rsplit("/", 1)[-1]
    run.left.append(f"the drift report s3://{bucket}/monitoring/drift/{execution_id}/drift.json")
    return f"{starter} started the drift pipeline; execution {execution_id} Succeeded"


def part_serving(run: Run) -> None:
    served = Served()
    run.step("serving", "serving", lambda: check_api(run, served))
    run.step("serving", "lookup", lambda: check_lookup(run, served))
    run.step("serving", "drift", lambda: check_drift(run, served))


# --- observability ----------------------------------------------------------------------------------


def check_alarms(run: Run) -> str:
    names = [
        name
        for stack_id in ("Inference", "Monitoring")
        for name in physical_ids(run.resources(stack_id), "", "AWS::CloudWatch::Alarm")
    ]
    if not names:
        raise StepSkippedError("this deploy has no alarms yet (the endpoint's and the drift alarm come with serving)")
    states = alarm_states(run.client("cloudwatch"), names)
    missing = [n for n in names if n not in states]
    if missing:
        raise StepFailedError(
            f"{len(missing)} of {len(names)} alarm(s) missing: {', '.join(missing)}",
            "the stacks have drifted from their templates: make deploy (CloudFormation: Detect drift)",
        )
    counts = {state: list(states.values()).count(state) for state in sorted(set(states.values()))}
    summary = ", ".join(f"{state} {count}" for state, count in counts.items())
    firing = sorted(n for n, s in states.items() if s == "ALARM")
    return f"{len(names)} alarm(s) exist ({summary})" + (f"; in ALARM: {', '.join(firing)}" if firing else "")


def check_dashboard(run: Run) -> str:
    name = f"{run.config.name_prefix}-operations"
    return f"{name}: {dashboard_widgets(run.client('cloudwatch'), name)} widgets"


def part_observability(run: Run) -> None:
    run.step("observability", "alarms", lambda: check_alarms(run))
    run.step("observability", "dashboard", lambda: check_dashboard(run))


# --- cleanup ----------------------------------------------------------------------------------------


def clean_up(run: Run) -> Result:
    lines: list[str] = []

    def body() -> str:
        s3 = run.client("s3") if run.created else None
        removed, kept, failed = 0, 0, []
        for item in run.created:
            where = f"s3://{item.bucket}/{item.key}"
            if item.keep:
                kept += 1
                lines.append(f"left {where}: {item.keep}; remove it later with `aws s3 rm {where}`")
                continue
            try:
                delete_object(s3, item.bucket, item.key, item.version_id)
            except (ClientError, BotoCoreError) as error:
                failed.append(where)
                lines.append(f"could not remove {where}: {error}")
                continue
            removed += 1
            lines.append(f"removed {where}")
        lines.extend(f"left {what}" for what in run.left)
        if failed:
            raise StepFailedError(f"could not remove {', '.join(failed)}", "`aws s3 rm` them by hand")
        if not run.created and not run.left:
            return "nothing was created"
        return f"removed {removed} object(s), left {kept + len(run.left)} thing(s) on purpose"

    result = run.step("cleanup", "cleanup", body)
    for line in lines:
        run.out(f"{'':12}{line}")
    return result


PART_FUNCTIONS: dict[str, Callable[[Run], None]] = {
    "trail": part_trail,
    "streaming": part_streaming,
    "catalog": part_catalog,
    "training": part_training,
    "serving": part_serving,
    "observability": part_observability,
}


def verify(run: Run, parts: tuple[str, ...] = PARTS, *, skip_training_run: bool = False) -> list[Result]:
    """Run the chosen parts in order, then the cleanup; every step's line is printed as it ends."""
    try:
        for part in PARTS:
            if part not in parts:
                continue
            if part == "training" and skip_training_run:
                skip_training(run)
            else:
                PART_FUNCTIONS[part](run)
    except KeyboardInterrupt:  # Ctrl-C in a long wait: still clean up (what is in use is left and named)
        run.results.append(Result("interrupted", "interrupted", "FAIL", 0.0, "stopped by the user"))
        run.out("FAIL        interrupted: stopped by the user; cleaning up")
    clean_up(run)
    return run.results


def summary(results: list[Result], seconds: float) -> str:
    counts = {status: sum(r.status == status for r in results) for status in ("ok", "FAIL", "skip")}
    took = f"{seconds:.0f}s" if seconds < 120 else f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    line = f"summary: {counts['ok']} ok, {counts['FAIL']} failed, {counts['skip']} skipped in {took}"
    failed = [r.name for r in results if r.status == "FAIL"]
    return line + (f"; failed: {', '.join(failed)}" if failed else "")


# --- command line -----------------------------------------------------------------------------------


def _context(argv: list[str]) -> dict[str, str]:
    """The ``-c key=value`` pairs the Makefile passes to the CDK CLI: the same parsing as
    ``tools.teardown._context``, kept here because importing ``tools.teardown`` loads aws_cdk (via
    ``stacks.stage``), seconds of start-up and a Node.js process that a boto3 tool does not need."""
    pairs = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "-c"]
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", action="append", default=[], metavar="KEY=VALUE", help="profile=NAME, config=PATH")
    parser.add_argument("--only", default="", metavar="PART[,PART]", help=f"parts: {', '.join(PARTS)}")
    parser.add_argument("--skip-training", action="store_true", help="do not run the training pipeline")
    parser.add_argument("--timeout-minutes", type=float, default=60.0, help="limit for each pipeline execution")
    return parser


class Session(Protocol):
    region_name: str | None

    def get_credentials(self) -> Any: ...
    def client(self, service_name: str, region_name: str | None = None) -> Any: ...


def _boto3_session(region: str | None) -> Session:
    """The profile's region, else AWS_REGION (what the CDK CLI and the README use; boto3 reads only
    AWS_DEFAULT_REGION and the shared config)."""
    region = region or os.environ.get("AWS_REGION") or None
    session: Session = boto3.Session(region_name=region) if region else boto3.Session()
    return session


def _clients(session: Session, region: str) -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, region_name=region)
        return cache[service]

    return client


class UsageError(Exception):
    """What stops the command before any part runs: said in one line, exit code 1."""


@dataclass
class Target:
    config: PlatformConfig
    parts: tuple[str, ...]
    skip_training: bool
    timeout: float


@dataclass
class Connection:
    client: Callable[[str], Any]
    region: str
    credentials: Any
    account: str


def _target(argv: list[str]) -> Target:
    args, unknown = _parser().parse_known_args(argv)
    if unknown:
        raise UsageError(f"unknown argument {unknown[0]!r} (python -m tools.verify --help)")
    parts = tuple(p.strip() for p in args.only.split(",") if p.strip()) or PARTS
    wrong = [p for p in parts if p not in PARTS]
    if wrong:
        raise UsageError(f"--only: unknown part {wrong[0]!r} (parts: {', '.join(PARTS)})")
    if args.timeout_minutes <= 0:
        raise UsageError("--timeout-minutes: must be more than 0")
    from config import ConfigError, load_settings  # noqa: PLC0415 - pydantic and PyYAML: see TYPE_CHECKING above
    from config.loader import CONTEXT_OVERRIDES  # noqa: PLC0415 - idem

    context = _context(argv)
    overrides = {field: context[key] for key, field in CONTEXT_OVERRIDES.items() if context.get(key)}
    try:
        config = load_settings(context.get("profile"), context.get("config") or None, overrides)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return Target(config, parts, args.skip_training, args.timeout_minutes * 60)


def _connect(config: PlatformConfig, session_factory: Callable[[str | None], Session]) -> Connection:
    try:
        session = session_factory(config.region)
        credentials = session.get_credentials()
        region = session.region_name
        if credentials is None:
            raise UsageError("no AWS credentials (for example `aws sso login` and AWS_PROFILE)")
        if region is None:
            raise UsageError("no region: set AWS_REGION, or `region` in the profile")
        client = _clients(session, region)
        account = str(client("sts").get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as error:
        raise UsageError(f"cannot use these credentials: {error}") from None
    if config.account and config.account != account:
        raise UsageError(f"the credentials are for account {account}; the profile pins {config.account}")
    return Connection(client, region, credentials, account)


def main(
    argv: list[str],
    *,
    session_factory: Callable[[str | None], Session] = _boto3_session,
    clock: Clock | None = None,
    send: Sender = urllib_send,
    run_id: str | None = None,
    requests: Callable[[], list[Payload]] = sample_requests,
) -> int:
    try:
        target = _target(argv)
        connection = _connect(target.config, session_factory)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    clock = clock or SystemClock()
    started = clock.monotonic()
    run = Run(
        config=target.config,
        client=connection.client,
        clock=clock,
        run_id=run_id or f"{clock.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}",
        region=connection.region,
        credentials=connection.credentials,
        send=send,
        timeout=target.timeout,
        requests=requests,
    )
    run.out(
        f"verify {target.config.name_prefix} in account {connection.account}, {connection.region} (run {run.run_id})"
    )
    results = verify(run, target.parts, skip_training_run=target.skip_training)
    run.out(summary(results, clock.monotonic() - started))
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
