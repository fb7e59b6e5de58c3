"""The compliance gates of SECURITY.md, over the same assemblies: cdk-nag packs, cfn-lint, checkov,
and the shape of every exception (one finding, one construct, a specific reason, still needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import NagPack

from components.compliance import AUDIT_CONTEXT, AUDIT_METADATA
from config import load_settings
from tools.platform import NAG_PACKS, Synthesized, nag_findings, synthesize

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
ACK_METADATA = "aws:cdk:acknowledged-rules"
PACK_PREFIXES = ("AwsSolutions-", "HIPAA.Security-", "NIST.800.53.R5-", "PCI.DSS.321-")

pytestmark = pytest.mark.exam("4.3")


def templates(platform: Synthesized) -> list[Path]:
    return [platform.template_path(stack_id) for stack_id in platform.stacks]


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda pack: pack.__name__)
def test_nag_pack_has_zero_unacknowledged_findings(platform: Synthesized, pack: type[NagPack]) -> None:
    report = pack().validate_scope(platform.stage)
    findings = [(v.rule_name, r.construct_path) for v in report.violations for r in v.violating_resources]
    assert report.success, findings
    assert not findings


def acknowledgments(scope: cdk.Stage) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every rule-pack acknowledgment in the tree.

    aws-cdk-lib acknowledges a few of its own CloudFormation-validation findings (``CloudFormation-Validate::``);
    those are the library's, not ours.
    """
    found = []
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACK_METADATA:
                for key, reason in dict(entry.data).items():
                    if key.startswith("CloudFormation-Validate::"):
                        continue
                    found.append((construct.node.path, key.removeprefix("Annotation::"), reason))
    return found


def test_every_acknowledgment_names_one_finding_on_one_construct(platform: Synthesized) -> None:
    found = acknowledgments(platform.stage)
    assert found
    for path, rule, reason in found:
        construct = platform.stage.node.find_child(path.split("/", 1)[1].split("/")[0])
        assert path.count("/") >= 2, f"{rule} acknowledged on a whole stack ({path})"
        assert isinstance(construct, cdk.Stack)
        assert rule.startswith(PACK_PREFIXES), rule
        assert len(reason) >= 25, (path, rule)


@pytest.fixture(scope="module")
def raw_sandbox_findings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Synthesized, list[tuple[str, str, str]]]:
    """The sandbox with acknowledgments recorded but not applied, and every finding the packs raise."""
    built = synthesize(load_settings("sandbox"), tmp_path_factory.mktemp("audit"), extra_context={AUDIT_CONTEXT: True})
    return built, nag_findings(built.stage)


def test_no_acknowledgment_is_stale(raw_sandbox_findings: tuple[Synthesized, list[tuple[str, str, str]]]) -> None:
    built, findings = raw_sandbox_findings
    recorded = [
        (c.node.path, m.data["rule"])
        for c in built.stage.node.find_all()
        for m in c.node.metadata
        if m.type == AUDIT_METADATA
    ]
    assert recorded
    stale = [
        (path, rule)
        for path, rule in recorded
        if not any(
            f_rule == rule and (f_path == path or f_path.startswith(path + "/")) for f_rule, f_path, _ in findings
        )
    ]
    assert not stale, f"acknowledged but no longer raised: {stale}"


def test_cfn_lint_has_zero_errors_and_warnings(platform: Synthesized) -> None:
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", *map(str, templates(platform))], capture_output=True, text=True, check=False
    )
    matches = json.loads(result.stdout or "[]")
    assert not matches, [(m["Rule"]["Id"], m["Message"]) for m in matches]
    assert result.returncode == 0, result.stderr


def run_checkov(directory: Path) -> dict[str, Any]:
    assert CHECKOV.exists(), "checkov lives in .venv-checkov: run `make setup`"
    result = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--framework", "cloudformation", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    return dict(report[0] if isinstance(report, list) else report)


def test_checkov_has_zero_failed_checks_and_every_skip_has_a_reason(platform: Synthesized) -> None:
    directory = templates(platform)[0].parent
    report = run_checkov(directory)
    failed = report["results"]["failed_checks"]
    assert not failed, [(c["check_id"], c["resource"]) for c in failed]
    assert report["summary"]["passed"] > 100
    for skipped in report["results"]["skipped_checks"]:
        comment = skipped["check_result"].get("suppress_comment") or ""
        assert len(comment) >= 25, (skipped["check_id"], skipped["resource"])
