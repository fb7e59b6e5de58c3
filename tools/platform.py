"""Build the platform in-process for tools and tests: the same stage ``app.py`` builds, without plugins.

Tests and tools assert on ``Pack().validate_scope(stage)`` instead of failing synth on the first
finding, and skip CDK's built-in template validation (``CDK_VALIDATION=false``) for speed; the real
``make synth`` keeps both.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NagPack,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

from app import cdk_json_context
from config.settings import PlatformConfig, load_settings
from stacks.stage import PlatformStage

# SECURITY.md's packs; Serverless because the platform has Lambda functions and event-driven targets.
NAG_PACKS: tuple[type[NagPack], ...] = (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)


@dataclass(frozen=True)
class Synthesized:
    config: PlatformConfig
    stage: PlatformStage
    assembly: cx_api.CloudAssembly
    outdir: Path
    _templates: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def stacks(self) -> dict[str, cdk.Stack]:
        return {child.node.id: child for child in self.stage.node.children if isinstance(child, cdk.Stack)}

    def template(self, stack_id: str) -> dict[str, Any]:
        """The synthesized template, read from the assembly once (tests call this thousands of times)."""
        if stack_id not in self._templates:
            self._templates[stack_id] = json.loads(self.template_path(stack_id).read_text())
        return self._templates[stack_id]

    def template_path(self, stack_id: str) -> Path:
        artifact = self.assembly.get_stack_artifact(self.stacks[stack_id].artifact_id)
        return Path(artifact.template_full_path)

    def metadata(self, entry_type: str) -> list[tuple[str, Any]]:
        """(construct path without the leading slash, data) of every construct metadata entry of ``entry_type``,
        read from the assembly's ``*.metadata.json`` files: the same entries as ``node.metadata`` across the
        tree, without a jsii call per construct (which costs seconds per build)."""
        found = []
        folder = self.template_path(next(iter(self.stacks))).parent
        for path in sorted(folder.glob("*.metadata.json")):
            for construct_path, entries in json.loads(path.read_text()).items():
                found += [(construct_path.lstrip("/"), e.get("data")) for e in entries if e["type"] == entry_type]
        return found


def synthesize(config: PlatformConfig, outdir: Path, *, extra_context: dict[str, object] | None = None) -> Synthesized:
    app = cdk.App(context={**cdk_json_context(), **(extra_context or {})}, outdir=str(outdir))
    stage = PlatformStage(app, config.stage_name, config=config)
    app.synth()
    return Synthesized(config=config, stage=stage, assembly=stage.synth(), outdir=outdir)


def nag_findings(scope: PlatformStage) -> list[tuple[str, str, str]]:
    """Every unacknowledged finding of every pack as (rule, construct path, description)."""
    findings = []
    for pack in NAG_PACKS:
        report = pack().validate_scope(scope)
        for violation in report.violations:
            for resource in violation.violating_resources:
                findings.append((violation.rule_name, resource.construct_path or "", violation.description))
    return sorted(set(findings))


# A model package version to synthesize the serving state with (tests and `python -m tools.platform P --serving`).
EXAMPLE_MODEL_PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-models/1"
_SERVING: dict[str, object] = {"inference.model_package_arn": EXAMPLE_MODEL_PACKAGE}

# Every configuration the tests and the generated documents cover: each profile before its first approved
# model and while serving one, and each inference option the profiles do not use by default.
BUILDS: dict[str, tuple[str, dict[str, object]]] = {
    "sandbox": ("sandbox", {}),
    "production": ("production", {}),
    "sandbox-serving": ("sandbox", _SERVING),
    "production-serving": ("production", _SERVING),
    "serverless": ("sandbox", {**_SERVING, "inference.mode": "serverless"}),
    "async": ("sandbox", {**_SERVING, "inference.mode": "async", "inference.min_capacity": 0}),
    "batch": ("sandbox", {"inference.batch_transform": True}),
    # A/B testing with a challenger; the shadow build apart: an endpoint with a shadow variant takes only one
    # production variant (facts: shadow-variants-one-production-variant).
    "model-monitor-ab": (
        "production",
        {
            **_SERVING,
            "monitoring.model_monitor": True,
            "inference.challenger_model_package_arn": EXAMPLE_MODEL_PACKAGE.replace("/1", "/2"),
        },
    ),
    "shadow": (
        "production",
        {**_SERVING, "inference.shadow_model_package_arn": EXAMPLE_MODEL_PACKAGE.replace("/1", "/3")},
    ),
}


def synthesize_build(name: str, outdir: Path, *, extra_context: dict[str, object] | None = None) -> Synthesized:
    profile, overrides = BUILDS[name]
    return synthesize(load_settings(profile, overrides=dict(overrides)), outdir, extra_context=extra_context)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    overrides = {"inference.model_package_arn": EXAMPLE_MODEL_PACKAGE} if "--serving" in sys.argv else {}
    with tempfile.TemporaryDirectory() as tmp:
        built = synthesize(load_settings(args[0] if args else None, overrides=overrides), Path(tmp))
        findings = nag_findings(built.stage)
    for rule, path, description in findings:
        print(f"{rule}  {path}\n    {description.splitlines()[0][:160]}")
    print(f"{len(findings)} unacknowledged finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
