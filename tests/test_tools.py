"""The commands behind the Makefile: synth summary, teardown arguments, and the README's figures."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from config import load_settings
from tools.platform import Synthesized
from tools.summary import endpoint_monthly_cost, validation_failures
from tools.teardown import _context, delete_model_packages

ROOT = Path(__file__).resolve().parent.parent


def test_endpoint_cost_is_read_from_the_templates(platform: Synthesized) -> None:
    templates = [platform.template(stack_id) for stack_id in platform.stacks]
    serving = platform.config.network_az_count != platform.config.network.az_count
    assert endpoint_monthly_cost(templates) == platform.config.network.monthly_endpoint_cost_usd(serving=serving)
    assert endpoint_monthly_cost(templates) > 0


def test_validation_report_failures_are_found(tmp_path: Path) -> None:
    assert validation_failures(tmp_path)  # no report at all is a failure, not a pass
    (tmp_path / "validation-report.json").write_text(json.dumps({"pluginReports": []}))
    assert validation_failures(tmp_path) == []
    (tmp_path / "validation-report.json").write_text(
        json.dumps(
            {
                "pluginReports": [
                    {
                        "pluginName": "AwsSolutions",
                        "conclusion": "failure",
                        "violations": [
                            {"ruleName": "AwsSolutions-S1", "violatingConstructs": [{"constructPath": "Sandbox/X/B"}]}
                        ],
                    }
                ]
            }
        )
    )
    assert validation_failures(tmp_path) == [("AwsSolutions", "AwsSolutions-S1", "Sandbox/X/B")]


def test_teardown_reads_the_makefile_context() -> None:
    assert _context(["-c", "profile=production", "-c", "config="]) == {"profile": "production", "config": ""}


@pytest.mark.parametrize("profile", ["sandbox", "production"])
def test_readme_states_each_profiles_endpoint_cost(profile: str) -> None:
    network = load_settings(profile).network
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for serving in (False, True):
        assert f"USD {network.monthly_endpoint_cost_usd(serving=serving):.2f}" in readme, (profile, serving)


def test_sandbox_teardown_empties_the_model_registry_first() -> None:
    client = boto3.client(
        "sagemaker", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    arns = [f"arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-sandbox-models/{n}" for n in (1, 2)]
    with Stubber(client) as stubber:
        stubber.add_response(
            "list_model_packages",
            {
                "ModelPackageSummaryList": [
                    {
                        "ModelPackageName": "mlops-sandbox-models",
                        "ModelPackageArn": arn,
                        "CreationTime": "2026-12-01T00:00:00Z",
                        "ModelPackageStatus": "Completed",
                    }
                    for arn in arns
                ]
            },
            {"ModelPackageGroupName": "mlops-sandbox-models"},
        )
        for arn in arns:
            stubber.add_response("delete_model_package", {}, {"ModelPackageName": arn})
        assert delete_model_packages(client, "mlops-sandbox-models") == arns
        stubber.add_client_error(
            "list_model_packages", service_error_code="ValidationException", service_message="Group does not exist"
        )
        assert delete_model_packages(client, "mlops-sandbox-models") == []
        stubber.assert_no_pending_responses()
