"""The commands behind the Makefile: synth summary, teardown arguments, and the README's figures."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from botocore.stub import Stubber

from tools.cost import fixed_costs, prices, total
from tools.platform import Synthesized
from tools.summary import cost_summary, endpoint_monthly_cost, validation_failures
from tools.teardown import _context, delete_model_packages

ROOT = Path(__file__).resolve().parent.parent


def test_endpoint_cost_is_read_from_the_templates(platform: Synthesized) -> None:
    templates = [platform.template(stack_id) for stack_id in platform.stacks]
    endpoint_azs = sum(
        len(r["Properties"]["SubnetIds"])
        for t in templates
        for r in t["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"
    )
    per_az_month = prices().monthly("interface_endpoint_az_hour")
    assert endpoint_monthly_cost(templates) == round(endpoint_azs * per_az_month, 2)


def test_synth_summary_prints_each_fixed_cost_and_the_total(platform: Synthesized) -> None:
    templates = [platform.template(stack_id) for stack_id in platform.stacks]
    lines = fixed_costs(templates)
    summary = cost_summary(templates)
    assert len(summary) == len(lines) + 2
    for line, printed in zip(lines, summary[1:], strict=False):
        assert line.kind in printed and f"{line.monthly_usd:,.2f}" in printed
    assert summary[-1].split()[0] == "total" and summary[-1].endswith(f"{total(lines):,.2f}")


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
        # Listed first, then deleted: a version another teardown already removed is skipped, not fatal.
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
        stubber.add_client_error(
            "delete_model_package",
            service_error_code="ValidationException",
            service_message="Model package does not exist",
        )
        stubber.add_response("delete_model_package", {}, {"ModelPackageName": arns[1]})
        assert delete_model_packages(client, "mlops-sandbox-models") == arns[1:]
        stubber.assert_no_pending_responses()
