"""Feature ingestion step (exam 1.2): put each applicant's model inputs into the SageMaker Feature Store.

The rows are the cleaned inputs before the fitted transform (``features.INPUTS``): every model version
transforms them with its own parameters, so the API's ``GET /applicants/{id}/prediction`` can score a stored
record with whichever version serves. A missing value is left out of the record (Feature Store features are
optional) and comes back as null, which the model imputes as in training.

Runs as a processing job inside the VPC; the ``sagemaker.featurestore-runtime`` interface endpoint
carries the calls (private DNS), and the online store replicates to the offline store in the lake.

    python ingest_features.py --input-dir /opt/ml/processing/features --feature-group-name NAME
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol


class FeatureStoreRuntime(Protocol):
    def put_record(self, **kwargs: Any) -> Any: ...


def records(paths: Iterable[Path]) -> Iterator[list[dict[str, str]]]:
    """Each CSV row as a Feature Store record: every column a feature, values as strings."""
    for path in paths:
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                yield [{"FeatureName": name, "ValueAsString": value} for name, value in row.items() if value != ""]


def ingest(
    client: FeatureStoreRuntime,
    feature_group: str,
    rows: Iterable[list[dict[str, str]]],
    attempts: int = 3,
    backoff_seconds: float = 0.5,
) -> int:
    """Put every record, retrying throttles; return how many were written."""
    written = 0
    for record in rows:
        for attempt in range(1, attempts + 1):
            try:
                client.put_record(FeatureGroupName=feature_group, Record=record)
                break
            except Exception as error:  # botocore ClientError or a transient connection error
                code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
                if attempt == attempts or code not in ("ThrottlingException", "ServiceUnavailable", ""):
                    raise
                time.sleep(backoff_seconds * attempt)
        written += 1
    return written


def main(argv: list[str] | None = None, client: FeatureStoreRuntime | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingest applicants' model inputs into a feature group")
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/features"))
    parser.add_argument("--feature-group-name", required=True)
    args = parser.parse_args(argv)
    files = sorted(args.input_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"ingest_features: no CSV files in {args.input_dir}")
    if client is None:
        import boto3  # in the container only; tests pass a stub

        client = boto3.client("sagemaker-featurestore-runtime")
    count = ingest(client, args.feature_group_name, records(files))
    print(f"ingested {count} records into {args.feature_group_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
