"""Build the platform for tools and tests: the same stage ``app.py`` builds, without plugins.

Tests and tools read each rule pack's findings (``Pack().validate_scope(stage)``, written next to the
assembly) instead of failing synth on the first finding, and skip CDK's built-in template validation
(``CDK_VALIDATION=false``) for speed; the real ``make synth`` keeps both.

    python -m tools.platform [PROFILE] [--serving]    # every unacknowledged rule-pack finding of a profile
    python -m tools.platform --assemble ROOT BUILD... # synthesize builds into ROOT/BUILD (the test session's workers)

A build with CI/CD on (``cicd``) holds, next to the profile's stage, the ``Cicd`` stack at the root of the cloud
assembly and the stages its pipeline deploys as nested assemblies (``assembly-Cicd-<Stage>``). ``stacks`` stays
the stage's stacks (every platform test holds for them, as in any build); ``root_stacks`` is the pipeline stack
(none without CI/CD), whose template ``template("Cicd")`` reads; the rule packs run over the pipeline stack and,
through it, over every pipeline stage (``nag.json``); ``pipeline_stage_folders`` names the nested assemblies, and
tests/test_cicd.py runs the external gates over the pipeline stack and those stages.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NagPack,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

from app import cdk_json_context, compose
from config.loader import load_settings
from config.schema import PlatformConfig

# SECURITY.md's packs; Serverless because the platform has Lambda functions and event-driven targets.
NAG_PACKS: tuple[type[NagPack], ...] = (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)


NAG_REPORT = "nag.json"  # each pack's unacknowledged findings, written next to the stage's assembly
DONE = ".done"  # written last: the build is complete on disk


@dataclass(frozen=True)
class StackInfo:
    """One stack of a synthesized stage, as its cloud assembly manifest records it."""

    id: str
    artifact_id: str
    stack_name: str
    template_path: Path
    dependencies: frozenset[str]  # ids of the stacks it deploys after
    termination_protection: bool


@dataclass(frozen=True)
class Synthesized:
    """One build on disk: its profile, its stage's cloud assembly and the rule packs' findings. Read from files
    only (no construct tree), so a build synthesized by another process is as good as one made here."""

    config: PlatformConfig
    outdir: Path  # the stage's cloud assembly
    _templates: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def stacks(self) -> dict[str, StackInfo]:
        """The stacks of the profile's stage."""
        return _stacks_of(self.outdir)

    @cached_property
    def root_stacks(self) -> dict[str, StackInfo]:
        """The stacks at the root of the app's assembly: the ``Cicd`` pipeline stack with CI/CD on, else none."""
        return _stacks_of(self.outdir.parent)

    @cached_property
    def pipeline_stage_folders(self) -> dict[str, Path]:
        """Stage name -> nested assembly of each stage the pipeline deploys (empty without CI/CD)."""
        manifest = json.loads((self.outdir.parent / "manifest.json").read_text())
        return {
            entry["properties"]["displayName"].split("/")[-1]: self.outdir.parent / entry["properties"]["directoryName"]
            for entry in manifest["artifacts"].values()
            if entry["type"] == "cdk:cloud-assembly"
            and entry["properties"]["displayName"].startswith(f"{PIPELINE_STACK}/")
        }

    def pipeline_stage_templates(self, stage: str) -> dict[str, dict[str, Any]]:
        """Stack id -> template of one stage the pipeline deploys."""
        return {
            stack_id: json.loads(info.template_path.read_text())
            for stack_id, info in _stacks_of(self.pipeline_stage_folders[stage]).items()
        }

    def template(self, stack_id: str) -> dict[str, Any]:
        """The synthesized template, read from the assembly once (tests call this thousands of times)."""
        if stack_id not in self._templates:
            self._templates[stack_id] = json.loads(self.template_path(stack_id).read_text())
        return self._templates[stack_id]

    def template_path(self, stack_id: str) -> Path:
        return (self.stacks.get(stack_id) or self.root_stacks[stack_id]).template_path

    def metadata(self, entry_type: str) -> list[tuple[str, Any]]:
        """(construct path without the leading slash, data) of every construct metadata entry of ``entry_type``,
        read from the assembly's ``*.metadata.json`` files: the same entries as ``node.metadata`` across the
        tree, without a jsii call per construct (which costs seconds per build)."""
        found = []
        for path in sorted(self.outdir.glob("*.metadata.json")):
            for construct_path, entries in json.loads(path.read_text()).items():
                found += [(construct_path.lstrip("/"), e.get("data")) for e in entries if e["type"] == entry_type]
        return found

    def nag_report(self, pack: str) -> tuple[bool, list[tuple[str, str, str]]]:
        """(success, findings as (rule, construct path, description)) of one rule pack, by class name."""
        report = json.loads((self.outdir / NAG_REPORT).read_text())[pack]
        return bool(report["success"]), [tuple(finding) for finding in report["findings"]]

    def nag_findings(self) -> list[tuple[str, str, str]]:
        """Every unacknowledged finding of every pack as (rule, construct path, description)."""
        return sorted({finding for pack in NAG_PACKS for finding in self.nag_report(pack.__name__)[1]})


PIPELINE_STACK = "Cicd"  # the construct id app.compose gives the pipeline stack


def _stacks_of(folder: Path) -> dict[str, StackInfo]:
    """The stacks of one cloud assembly folder (not of its nested assemblies), by construct id."""
    manifest = json.loads((folder / "manifest.json").read_text())
    artifacts = {k: v for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}
    ids = {artifact_id: entry["displayName"].split("/")[-1] for artifact_id, entry in artifacts.items()}
    return {
        ids[artifact_id]: StackInfo(
            id=ids[artifact_id],
            artifact_id=artifact_id,
            stack_name=entry["properties"]["stackName"],
            template_path=folder / entry["properties"]["templateFile"],
            dependencies=frozenset(ids[d] for d in entry.get("dependencies", []) if d in ids),
            termination_protection=bool(entry["properties"].get("terminationProtection", False)),
        )
        for artifact_id, entry in artifacts.items()
    }


def synthesize(
    config: PlatformConfig,
    outdir: Path,
    *,
    extra_context: dict[str, object] | None = None,
    synth_target: str = "PROFILE=sandbox",
) -> Synthesized:
    """Synthesize ``config`` into ``outdir`` and run every rule pack over the stage (and, with CI/CD on, over the
    pipeline stack and the stages nested in it), in this process."""
    app = cdk.App(context={**cdk_json_context(), **(extra_context or {})}, outdir=str(outdir))
    stage, pipeline = compose(app, config, synth_target=synth_target)
    app.synth()
    assembly = stage.synth()
    folder = Path(assembly.directory)
    reports = {}
    scopes = [stage] if pipeline is None else [stage, pipeline]
    for pack in NAG_PACKS:
        success, found = True, set()
        for scope in scopes:
            report = pack().validate_scope(scope)
            success = success and report.success
            found |= {
                (violation.rule_name, resource.construct_path or "", violation.description)
                for violation in report.violations
                for resource in violation.violating_resources
            }
        reports[pack.__name__] = {"success": success, "findings": sorted(found)}
    (folder / NAG_REPORT).write_text(json.dumps(reports, indent=1))
    (folder / DONE).write_text("")
    return Synthesized(config=config, outdir=folder)


def stage_folder(outdir: Path) -> Path:
    """Where ``synthesize(config, outdir)`` wrote the stage's assembly (``assembly-<Stage>``), once complete."""
    done = sorted(outdir.glob(f"assembly-*/{DONE}"))
    if len(done) != 1:
        raise FileNotFoundError(f"no complete build under {outdir}")
    return done[0].parent


# A model package version to synthesize the serving state with (tests and `python -m tools.platform P --serving`).
EXAMPLE_MODEL_PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/mlops-models/1"
_SERVING: dict[str, object] = {"inference.model_package_arn": EXAMPLE_MODEL_PACKAGE}

# Example accounts of the CI/CD build: tooling (the pipeline), staging, production.
EXAMPLE_ACCOUNTS = {"tooling": "111111111111", "staging": "222222222222", "production": "333333333333"}
EXAMPLE_CONNECTION = "arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
_CICD: dict[str, object] = {
    "account": EXAMPLE_ACCOUNTS["tooling"],
    "region": "eu-west-1",
    "cicd": {
        "enabled": True,
        "source": {
            "kind": "connection",
            "connection_arn": EXAMPLE_CONNECTION,
            "repository": "example-org/mlops-platform",
            "branch": "main",
        },
        "stages": [
            {"name": "Staging", "profile": "sandbox", "account": EXAMPLE_ACCOUNTS["staging"], "region": "eu-west-1"},
            {
                "name": "Production",
                "profile": "production",
                "account": EXAMPLE_ACCOUNTS["production"],
                "region": "eu-west-1",
            },
        ],
        "approval_before": ["Production"],
    },
}

# The model-deploy pipeline (issue 13 part 2): the same tooling profile, its registry's approved versions deployed to
# a staging copy (the staging profile), tested there through the API, then to production after a manual approval;
# model deploy keeps every stage in the tooling account and region (config: cicd.model_deploy). Synthesized as the
# pipeline's synth step does once a version is recorded (EXAMPLE_RECORDED: the make variables it passes).
_MODEL_DEPLOY: dict[str, object] = {
    **_CICD,
    "removal_policy": "retain",  # its lake holds the artifacts every stage serves
    "cicd": {
        **dict(_CICD["cicd"]),  # type: ignore[call-overload]
        "stages": [
            {"name": "Staging", "profile": "staging", "account": EXAMPLE_ACCOUNTS["tooling"], "region": "eu-west-1"},
            {
                "name": "Production",
                "profile": "production",
                "account": EXAMPLE_ACCOUNTS["tooling"],
                "region": "eu-west-1",
            },
        ],
        "model_deploy": {"test_stage": "Staging"},
    },
}
EXAMPLE_RECORDED: dict[str, str] = {
    "pipeline_model_package_arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/mlops-sandbox-models/3",
    "pipeline_model_data_url": "s3://mlops-sandbox-datalake-artifacts-0123/pipelines/models/credit-3/output/model.tar.gz",
}

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
    # The platform pipeline (issue 13): the sandbox profile as the tooling account, deploying a staging copy (the
    # sandbox profile) and, after a manual approval, production, each in its own account.
    "cicd": ("sandbox", _CICD),
    "model-deploy": ("sandbox", _MODEL_DEPLOY),
}
# Context a build synthesizes with besides its profile (what a pipeline's synth step passes).
BUILD_CONTEXT: dict[str, dict[str, object]] = {"model-deploy": dict(EXAMPLE_RECORDED)}


# A build job "<build>@audit" synthesizes the build with acknowledgments recorded instead of applied (the stale-
# acknowledgment audit of tests/test_compliance.py).
AUDIT = "@audit"


# A whole test session synthesizes in two background workers (the machine has two cores), each building its
# jobs in order, the heaviest spread evenly; the acknowledgment audits ride along (tests/conftest.py, make bench).
# The builds whose acknowledgments the stale-acknowledgment audit checks: between them, every acknowledgment.
AUDITED_BUILDS = ("sandbox-serving", "serverless")
WORKER_JOBS = (
    ("sandbox", "sandbox-serving", "serverless", "batch", "async", "model-deploy", AUDITED_BUILDS[0] + AUDIT),
    ("production", "production-serving", "model-monitor-ab", "shadow", "cicd", AUDITED_BUILDS[1] + AUDIT),
)


def build_config(name: str) -> PlatformConfig:
    """The profile of build ``name`` (``BUILDS``; a trailing ``@audit`` is ignored), loaded and validated."""
    profile, overrides = BUILDS[name.removesuffix(AUDIT)]
    return load_settings(profile, overrides=dict(overrides))


def synthesize_build(name: str, outdir: Path, *, extra_context: dict[str, object] | None = None) -> Synthesized:
    """Build ``name`` (``@audit`` for the acknowledgment audit), synthesized into ``outdir`` in this process."""
    context = {**BUILD_CONTEXT.get(name.removesuffix(AUDIT), {}), **(extra_context or {})}
    if name.endswith(AUDIT):
        from components.foundation.compliance import AUDIT_CONTEXT  # noqa: PLC0415 - only audits need it

        context[AUDIT_CONTEXT] = True
    profile = BUILDS[name.removesuffix(AUDIT)][0]
    return synthesize(build_config(name), outdir, extra_context=context, synth_target=f"PROFILE={profile}")


def load_build(name: str, outdir: Path) -> Synthesized:
    """Build ``name`` as another process synthesized it into ``outdir`` (``synthesize_build(name, outdir)``)."""
    folder = stage_folder(outdir)  # first: raises at once while the build is not there yet
    return Synthesized(config=build_config(name), outdir=folder)


def assemble(root: Path, names: list[str]) -> int:
    """Synthesize each build of ``names`` into ``root/<name>``, in order (a test session's background worker)."""
    for name in names:
        synthesize_build(name, root / name)
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--assemble"]:
        return assemble(Path(sys.argv[2]), sys.argv[3:])
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    overrides = {"inference.model_package_arn": EXAMPLE_MODEL_PACKAGE} if "--serving" in sys.argv else {}
    with tempfile.TemporaryDirectory() as tmp:
        findings = synthesize(load_settings(args[0] if args else None, overrides=overrides), Path(tmp)).nag_findings()
    for rule, path, description in findings:
        print(f"{rule}  {path}\n    {description.splitlines()[0][:160]}")
    print(f"{len(findings)} unacknowledged finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
