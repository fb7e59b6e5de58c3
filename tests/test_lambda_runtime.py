"""Lambda code on the Lambda runtime's Python: the handler tests run again in ``.venv-lambda`` (make image-envs,
requirements-lambda.txt), on the minor version of the runtime the functions are deployed with."""

from __future__ import annotations

import subprocess
from pathlib import Path

from components.foundation.functions import RUNTIME
from config.facts import fact

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-lambda" / "bin" / "python"
HANDLER_TESTS = ("tests/test_invoke_function.py", "tests/test_drift_starter.py", "tests/test_record_approved.py")


def test_the_lambda_venv_runs_the_deployed_runtime_python() -> None:
    assert VENV.exists(), ".venv-lambda is missing: run `make image-envs`"
    version = subprocess.run(
        [str(VENV), "-c", "import sys; print(f'python{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == RUNTIME.name == fact("lambda-python-runtime").value
    pinned = (ROOT / "requirements-lambda.txt").read_text()
    assert f"# python: {RUNTIME.name.removeprefix('python')}\n" in pinned


def test_the_handlers_pass_their_tests_on_the_runtime_python() -> None:
    """The handler test files need only what requirements-lambda.txt installs (the function's pinned
    dependencies, boto3 and pytest): run without the suite's conftest (the CDK)."""
    result = subprocess.run(
        [str(VENV), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest", "-o", "addopts=", *HANDLER_TESTS],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
