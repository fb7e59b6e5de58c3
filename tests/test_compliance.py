"""The compliance gates of SECURITY.md over every build: cdk-nag packs, cfn-lint, checkov, and the shape of
every exception (one finding, one construct, a specific reason, still needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cdk_nag import NagPack

from components.foundation.compliance import AUDIT_METADATA
from tests.conftest import Gates, LazyBuilds
from tools.control_tower import Finding, parse_guard_output, unexplained
from tools.control_tower import exceptions as guard_exceptions
from tools.platform import AUDITED_BUILDS, BUILDS, NAG_PACKS, Synthesized

ROOT = Path(__file__).resolve().parent.parent
ACK_METADATA = "aws:cdk:acknowledged-rules"
PACK_PREFIXES = ("AwsSolutions-", "HIPAA.Security-", "NIST.800.53.R5-", "PCI.DSS.321-", "Serverless-")

pytestmark = pytest.mark.exam("4.3")


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda pack: pack.__name__)
@pytest.mark.parametrize("build", list(BUILDS))
def test_nag_pack_has_zero_unacknowledged_findings(
    builds: dict[str, Synthesized], build: str, pack: type[NagPack]
) -> None:
    success, findings = builds[build].nag_report(pack.__name__)
    assert success, findings
    assert not findings


def acknowledgments(platform: Synthesized) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every rule-pack acknowledgment in the tree.

    aws-cdk-lib acknowledges a few of its own CloudFormation-validation findings (``CloudFormation-Validate::``);
    those are the library's, not ours.
    """
    return [
        (path, key.removeprefix("Annotation::"), reason)
        for path, data in platform.metadata(ACK_METADATA)
        for key, reason in dict(data).items()
        if not key.startswith("CloudFormation-Validate::")
    ]


def test_every_acknowledgment_names_one_finding_on_one_construct(platform: Synthesized) -> None:
    found = acknowledgments(platform)
    assert found
    for path, rule, reason in found:
        assert path.split("/")[1] in platform.stacks, path
        assert path.count("/") >= 2, f"{rule} acknowledged on a whole stack ({path})"
        assert rule.startswith(PACK_PREFIXES), rule
        assert len(reason) >= 25, (path, rule)


@pytest.mark.parametrize("build", AUDITED_BUILDS)
def test_no_acknowledgment_is_stale(builds: LazyBuilds, build: str) -> None:
    """With acknowledgments recorded but not applied, every one of them matches a finding the packs raise."""
    audited = builds.audited(build)
    findings = audited.nag_findings()
    recorded = [(path, data["rule"]) for path, data in audited.metadata(AUDIT_METADATA)]
    assert recorded
    stale = [
        (path, rule)
        for path, rule in recorded
        if not any(
            f_rule == rule and (f_path == path or f_path.startswith(path + "/")) for f_rule, f_path, _ in findings
        )
    ]
    assert not stale, f"acknowledged but no longer raised: {stale}"


@pytest.fixture(scope="module")
def distinct_templates(gates: Gates) -> Path:
    """Every distinct template of every build in one folder (tests/conftest.py writes it once)."""
    return gates.templates


def test_cfn_lint_has_zero_errors_and_warnings(gates: Gates) -> None:
    returncode, stdout, stderr = gates.cfn_lint.result()
    matches = json.loads(stdout or "[]")
    assert not matches, [(m["Rule"]["Id"], m["Filename"], m["Message"]) for m in matches]
    assert returncode == 0, stderr


@pytest.fixture(scope="module")
def checkov_report(gates: Gates) -> list[dict[str, Any]]:
    """One checkov run over every distinct template (one process: checkov starts slowly)."""
    _, text, stderr = gates.checkov.result()
    reports: list[dict[str, Any]] = []
    decoder, position = json.JSONDecoder(), 0
    while position < len(text.rstrip()):  # one JSON document per directory, back to back
        document, position = decoder.raw_decode(text, position)
        reports += document if isinstance(document, list) else [document]
        while position < len(text) and text[position].isspace():
            position += 1
    assert reports, stderr[-2000:]
    return reports


def test_checkov_has_zero_failed_checks(checkov_report: list[dict[str, Any]]) -> None:
    failed = [
        (c["check_id"], c["file_abs_path"], c["resource"])
        for r in checkov_report
        for c in r["results"]["failed_checks"]
    ]
    assert not failed
    assert sum(r["summary"]["passed"] for r in checkov_report) > 500


def test_every_checkov_skip_has_a_reason(checkov_report: list[dict[str, Any]]) -> None:
    skipped = [c for r in checkov_report for c in r["results"]["skipped_checks"]]
    assert skipped
    for check in skipped:
        comment = check["check_result"].get("suppress_comment") or ""
        assert len(comment) >= 25, (check["check_id"], check["resource"])


@pytest.fixture(scope="module")
def control_tower_findings(gates: Gates) -> list[Finding]:
    """One cfn-guard run of AWS Control Tower's proactive controls over every distinct template."""
    return parse_guard_output(*gates.control_tower.result())


def test_control_tower_proactive_controls_have_no_unexplained_failure(control_tower_findings: list[Finding]) -> None:
    assert control_tower_findings  # the rules ran: the excused findings are still reported by cfn-guard
    left = unexplained(control_tower_findings)
    assert not left, [(f.rule, Path(f.template).name, f.logical_id, f.message) for f in left]


def test_every_control_tower_exception_is_still_needed_and_reasoned(
    distinct_templates: Path, control_tower_findings: list[Finding]
) -> None:
    raised = {(Path(f.template).name, f.logical_id, f.rule) for f in control_tower_findings}
    recorded = {
        (path.name, logical_id, rule): reason
        for path in distinct_templates.glob("*.template.json")
        for (logical_id, rule), reason in guard_exceptions(json.loads(path.read_text())).items()
    }
    assert recorded
    stale = sorted(set(recorded) - raised)
    assert not stale, f"excused but no longer raised: {stale}"
    assert all(len(reason) >= 25 for reason in recorded.values())
