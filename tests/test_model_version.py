"""tools.model_version, what the platform pipeline's synth step runs first: the recorded version as make
arguments, nothing while none is recorded, and one ``error:`` line (exit 1) for a version it must not deploy,
through botocore's Stubber (fake credentials, eu-west-1, no network)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.record_approved.recorder import NONE
from tools import model_version

ROOT = Path(__file__).resolve().parent.parent
GROUP, PARAMETER = "mlops-sandbox-models", "/mlops-sandbox/model-package"
ARN = f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/{GROUP}/3"
DATA = "s3://mlops-sandbox-artifacts/training/pipelines-abc123/output/model.tar.gz"
ARGV = ["--parameter", PARAMETER, "--group", GROUP, "--region", "eu-west-1"]
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    """(ssm, its stubber, sagemaker, its stubber): a call nobody stubbed fails the test (and the tool never
    writes, so only get_parameter and describe_model_package are ever stubbed)."""
    ssm, sagemaker = client("ssm"), client("sagemaker")
    with Stubber(ssm) as ssm_stub, Stubber(sagemaker) as sm_stub:
        yield ssm, ssm_stub, sagemaker, sm_stub
        ssm_stub.assert_no_pending_responses()
        sm_stub.assert_no_pending_responses()


Clients = tuple[Any, Stubber, Any, Stubber]


def holds(stub: Stubber, value: str) -> None:
    stub.add_response(
        "get_parameter", {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": value}}, {"Name": PARAMETER}
    )


def described(stub: Stubber, *, group: str = GROUP, status: str = "Approved", data: str | None = DATA) -> None:
    container: dict[str, Any] = {"Image": IMAGE, "Environment": {"SAGEMAKER_PROGRAM": "serve.py"}}
    if data is not None:
        container["ModelDataUrl"] = data
    stub.add_response(
        "describe_model_package",
        {
            "ModelPackageName": group,
            "ModelPackageGroupName": group,
            "ModelPackageArn": ARN,
            "CreationTime": "2026-03-01T00:00:00Z",
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "ModelApprovalStatus": status,
            "InferenceSpecification": {"Containers": [container], "SupportedContentTypes": ["application/json"]},
        },
        {"ModelPackageName": ARN},
    )


def run(clients: Clients, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    ssm, _, sagemaker, _ = clients
    code = model_version.main(ARGV, ssm=ssm, sagemaker=sagemaker)
    out, err = capsys.readouterr()
    return code, out, err


def test_an_approved_version_of_the_group_is_printed_as_make_arguments(
    clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ssm_stub, _, sm_stub = clients
    holds(ssm_stub, ARN)
    described(sm_stub)
    assert run(clients, capsys) == (0, f"PIPELINE_MODEL_PACKAGE_ARN={ARN} PIPELINE_MODEL_DATA_URL={DATA}\n", "")


def test_no_recorded_version_prints_nothing_and_describes_nothing(
    clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ssm_stub, _, _ = clients
    holds(ssm_stub, NONE)
    assert run(clients, capsys) == (0, "", "")  # the stages deploy without an endpoint


def test_a_missing_parameter_prints_nothing(clients: Clients, capsys: pytest.CaptureFixture[str]) -> None:
    _, ssm_stub, _, _ = clients
    ssm_stub.add_client_error("get_parameter", service_error_code="ParameterNotFound")
    assert run(clients, capsys) == (0, "", "")


@pytest.mark.parametrize(
    ("package", "why"),
    [
        ({"status": "Rejected"}, "is Rejected, not Approved"),
        ({"status": "PendingManualApproval"}, "is PendingManualApproval, not Approved"),
        ({"group": "mlops-other-models"}, f"is in group mlops-other-models, not {GROUP}"),
        ({"data": None}, "has no model artifact in S3 (ModelDataUrl missing)"),
        ({"data": "https://example.com/model.tar.gz"}, "has no model artifact in S3"),
        ({"data": "s3://bucket/a model.tar.gz"}, "a make argument cannot carry it"),
    ],
    ids=["rejected since the event", "pending", "another group", "no model data", "not in s3", "a space"],
)
def test_a_version_it_must_not_deploy_is_one_error_line(
    clients: Clients, capsys: pytest.CaptureFixture[str], package: dict[str, Any], why: str
) -> None:
    _, ssm_stub, _, sm_stub = clients
    holds(ssm_stub, ARN)
    described(sm_stub, **package)
    code, out, err = run(clients, capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: model package {ARN} ") and why in err
    assert err.endswith(f"(from parameter {PARAMETER})\n") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("ssm", "get_parameter", "AccessDeniedException"),
        ("sagemaker", "describe_model_package", "ValidationException"),  # a deleted version, a hand-edited value
    ],
)
def test_an_aws_error_is_one_error_line(
    clients: Clients, capsys: pytest.CaptureFixture[str], service: str, operation: str, code: str
) -> None:
    _, ssm_stub, _, sm_stub = clients
    if service == "ssm":
        ssm_stub.add_client_error(operation, service_error_code=code, service_message="denied")
    else:
        holds(ssm_stub, ARN)
        sm_stub.add_client_error(operation, service_error_code=code, service_message=f"{ARN} does not exist")
    exit_code, out, err = run(clients, capsys)
    assert (exit_code, out) == (1, "")
    assert err.startswith(f"error: cannot read the model version from parameter {PARAMETER}: ") and code in err
    assert err.count("\n") == 1


def no_aws(monkeypatch: pytest.MonkeyPatch, home: Path) -> dict[str, str]:
    """An environment with no credentials and no Region anywhere boto3 looks (the instance metadata off)."""
    values = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session made by another test may hold credentials
    return values


def test_no_credentials_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_aws(monkeypatch, tmp_path)
    assert model_version.main(ARGV) == 1  # the clients made by the tool itself
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("error: cannot read the model version") and "Unable to locate credentials" in err


def test_as_a_module_without_a_region_it_fails_with_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = no_aws(monkeypatch, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tools.model_version", "--parameter", PARAMETER, "--group", GROUP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: ") and "region" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(("status", "code"), [("Approved", 0), ("Rejected", 1)])
def test_the_check_after_the_production_approval_refuses_a_version_rejected_meanwhile(
    clients: Clients, capsys: pytest.CaptureFixture[str], status: str, code: int
) -> None:
    """A run can wait days at its production approval; approving it must not deploy a version rejected since."""
    _, _, sagemaker, sm_stub = clients
    described(sm_stub, status=status)
    argv = ["--still-approved", ARN, "--group", GROUP, "--region", "eu-west-1"]
    assert model_version.main(argv, sagemaker=sagemaker) == code  # no parameter read
    out, err = capsys.readouterr()
    if code == 0:
        assert (out, err) == (f"ok: {ARN} is still an Approved version of {GROUP}\n", "")
    else:
        assert out == ""
        assert err == (
            f"error: model package {ARN} is Rejected, not Approved (it may have been rejected since) "
            "(from the production approval)\n"
        )


def test_the_parameter_and_the_check_are_one_or_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--group", GROUP], ["--parameter", PARAMETER, "--still-approved", ARN, "--group", GROUP]):
        with pytest.raises(SystemExit) as exit_:
            model_version.main(argv)
        assert exit_.value.code == 2
    assert "--still-approved" in capsys.readouterr().err


# The production re-check runs in a CodeBuild step where only boto3 is installed (pipeline.py `StillApproved`).
NOT_INSTALLED = ("pydantic", "yaml", "numpy", "pandas", "sklearn", "aws_cdk", "config")
STILL_APPROVED = textwrap.dedent(
    f"""
    import importlib.abc, sys
    import boto3
    from botocore.stub import Stubber

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {NOT_INSTALLED!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}")
            return None

    sys.meta_path.insert(0, NotInstalled())
    from tools import model_version

    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
    with Stubber(sagemaker) as stub:
        stub.add_response(
            "describe_model_package",
            {{
                "ModelPackageName": "{GROUP}",
                "ModelPackageGroupName": "{GROUP}",
                "ModelPackageArn": "{ARN}",
                "CreationTime": "2026-03-01T00:00:00Z",
                "ModelPackageStatus": "Completed",
                "ModelPackageStatusDetails": {{"ValidationStatuses": []}},
                "ModelApprovalStatus": "Approved",
                "InferenceSpecification": {{
                    "Containers": [{{"Image": "{IMAGE}", "ModelDataUrl": "{DATA}"}}],
                    "SupportedContentTypes": ["application/json"],
                }},
            }},
            {{"ModelPackageName": "{ARN}"}},
        )
        sys.exit(model_version.main(sys.argv[1:], sagemaker=sagemaker))
    """
)


def test_the_re_check_needs_only_boto3_and_the_standard_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", STILL_APPROVED, "--still-approved", ARN, "--group", GROUP, "--region", "eu-west-1"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"ok: {ARN} is still an Approved version of {GROUP}\n",
        "",
    )
