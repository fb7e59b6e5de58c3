"""The platform pipeline (issue 13 part 1, control 37, exam 3.3) over the synthesized ``cicd`` build, the rule packs
inside the stages it deploys, and the refusals of the ``cicd`` profile section."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_s3 as s3
from constructs import Construct

from app import cdk_json_context, compose, register_rule_packs, synthesize
from components.cicd.pipeline import BUILD_IMAGE
from components.foundation.exam import METADATA_KEY
from config.catalogs import CONFIG_DIR
from config.facts import fact
from config.loader import ConfigError, parse_settings
from stacks import cicd_stack
from stacks.stage import PlatformStage
from tests.helpers import as_list, pipeline_of, props, resources, statements
from tools.control_tower import parse_guard_output, unexplained
from tools.gates import CHECKOV, copy_distinct, gate_commands
from tools.platform import BUILDS, EXAMPLE_ACCOUNTS, EXAMPLE_CONNECTION, Synthesized

ROOT = Path(__file__).resolve().parent.parent
CICD = "cicd"
# The builds with a pipeline: the platform pipeline across accounts, and the model-deploy pipeline
# (tests/test_model_deploy.py); the gates below run over both.
PIPELINE_BUILDS = (CICD, "model-deploy")

pytestmark = pytest.mark.exam("3.3")


@pytest.fixture(scope="module")
def cicd(builds: dict[str, Synthesized]) -> Synthesized:
    return builds[CICD]


@pytest.fixture(scope="module")
def template(cicd: Synthesized) -> dict[str, Any]:
    return cicd.template("Cicd")


@pytest.fixture(scope="module", params=PIPELINE_BUILDS)
def every_pipeline(request: pytest.FixtureRequest, builds: dict[str, Synthesized]) -> dict[str, Any]:
    """The pipeline stack of each build with CI/CD: what control 37 demands holds in every one."""
    return builds[request.param].template("Cicd")


def logical(ref: Any) -> str:
    """The logical id a Ref or Fn::GetAtt points at."""
    return str(ref["Ref"] if "Ref" in ref else ref["Fn::GetAtt"][0])


def test_only_a_profile_with_cicd_on_has_the_cicd_stack(platform: Synthesized) -> None:
    assert ("Cicd" in platform.root_stacks) is platform.config.pipeline_enabled
    assert set(platform.root_stacks) <= {"Cicd"}
    assert bool(platform.pipeline_stage_folders) is platform.config.pipeline_enabled
    assert "Cicd" not in platform.stacks  # the stage's stacks are the platform's, with or without a pipeline


def test_pipeline_is_v2_and_updates_itself(template: dict[str, Any]) -> None:
    pipeline = pipeline_of(template)
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["RestartExecutionOnUpdate"] is True
    stages = {stage["Name"]: stage for stage in pipeline["Stages"]}
    (mutate,) = stages["UpdatePipeline"]["Actions"]
    assert mutate["ActionTypeId"]["Provider"] == "CodeBuild"


def test_stages_run_source_build_update_assets_staging_then_production(template: dict[str, Any]) -> None:
    names = [stage["Name"] for stage in pipeline_of(template)["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "Staging", "Production"]
    (source,) = pipeline_of(template)["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == EXAMPLE_CONNECTION
    assert source["Configuration"]["BranchName"] == "main"


def deploy_actions(stage: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in stage["Actions"] if a["ActionTypeId"]["Provider"] == "CloudFormation"]


def test_a_manual_approval_precedes_every_production_deploy(template: dict[str, Any]) -> None:
    production = EXAMPLE_ACCOUNTS["production"]
    seen_approval = False
    found = 0
    for stage in pipeline_of(template)["Stages"]:
        approvals = [a for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
        for action in deploy_actions(stage):
            if f":iam::{production}:" not in json.dumps(action["RoleArn"]):
                continue
            found += 1
            assert seen_approval or any(a["RunOrder"] < action["RunOrder"] for a in approvals), action["Name"]
        seen_approval = seen_approval or bool(approvals)
    assert found >= 14  # every stack of the production stage: prepare (change set) and deploy


def test_staging_deploys_to_its_own_account_without_approval(template: dict[str, Any]) -> None:
    stages = {stage["Name"]: stage for stage in pipeline_of(template)["Stages"]}
    staging = stages["Staging"]
    assert not [a for a in staging["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
    assert all(f":iam::{EXAMPLE_ACCOUNTS['staging']}:" in json.dumps(a["RoleArn"]) for a in deploy_actions(staging))
    (approval,) = [a for a in stages["Production"]["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
    assert approval["RunOrder"] == 1


def test_deploys_go_through_the_cdk_bootstrap_roles(template: dict[str, Any]) -> None:
    """No role of ours deploys: each CloudFormation action runs as the target account's bootstrap roles."""
    for stage in pipeline_of(template)["Stages"]:
        for action in deploy_actions(stage):
            assert "cdk-hnb659fds-deploy-role" in json.dumps(action["RoleArn"]), action["Name"]
            if action["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE":  # CloudFormation's own role
                assert "cdk-hnb659fds-cfn-exec-role" in json.dumps(action["Configuration"]["RoleArn"]), action["Name"]
    assert fact("cdk-bootstrap-trust").url


def codebuild_projects(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::CodeBuild::Project")


def test_the_synth_step_runs_the_quality_gate_then_synthesizes(template: dict[str, Any]) -> None:
    (synth,) = [p for k, p in codebuild_projects(template).items() if "Synth" in k]
    spec = yaml.safe_load(props(synth)["Source"]["BuildSpec"])
    commands = spec["phases"]["build"]["commands"]
    assert commands == ["make test", f"make synth PROFILE={BUILDS[CICD][0]}"]
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    assert spec["artifacts"]["base-directory"] == "cdk.out"


SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|CREDENTIAL|API_?KEY|ACCESS_KEY)", re.IGNORECASE)


def test_control_37_every_codebuild_project(every_pipeline: dict[str, Any]) -> None:
    template = every_pipeline
    """KMS, a pinned current image, no privileged mode, logs on to an encrypted log group, no plaintext secrets."""
    projects = codebuild_projects(template)
    assert len(projects) >= 3  # synth, self-mutation, assets
    keys = resources(template, "AWS::KMS::Key")
    groups = resources(template, "AWS::Logs::LogGroup")
    for name, project in projects.items():
        environment = props(project)["Environment"]
        assert logical(props(project)["EncryptionKey"]) in keys, name
        assert environment["PrivilegedMode"] is False, name
        assert environment["Image"] == BUILD_IMAGE.image_id == "aws/codebuild/standard:7.0", name
        logs = props(project)["LogsConfig"]["CloudWatchLogs"]
        assert logs["Status"] == "ENABLED", name
        assert "KmsKeyId" in props(groups[logical(logs["GroupName"])]), name
        for variable in environment.get("EnvironmentVariables", []):
            if variable.get("Type", "PLAINTEXT") == "PLAINTEXT":
                assert not SECRET_NAME.search(variable["Name"]), (name, variable["Name"])


def test_artifacts_are_on_a_secure_bucket_with_a_rotating_cmk(every_pipeline: dict[str, Any]) -> None:
    template = every_pipeline
    store = pipeline_of(template)["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"
    key = resources(template, "AWS::KMS::Key")[logical(store["EncryptionKey"]["Id"])]
    assert props(key)["EnableKeyRotation"] is True
    buckets = resources(template, "AWS::S3::Bucket")
    bucket_id = logical(store["Location"])
    bucket = props(buckets[bucket_id])
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert logical(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == logical(store["EncryptionKey"]["Id"])
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert "LoggingConfiguration" in bucket
    (policy,) = [
        p for p in resources(template, "AWS::S3::BucketPolicy").values() if logical(props(p)["Bucket"]) == bucket_id
    ]
    deny_plain = [
        s
        for s in statements(props(policy)["PolicyDocument"])
        if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert deny_plain


def test_every_key_of_the_pipeline_rotates(every_pipeline: dict[str, Any]) -> None:
    template = every_pipeline
    keys = resources(template, "AWS::KMS::Key")
    assert keys
    assert all(props(key)["EnableKeyRotation"] is True for key in keys.values())


def all_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in resources(template, kind).values():
            found += statements(props(policy)["PolicyDocument"])
    for role in resources(template, "AWS::IAM::Role").values():
        for inline in props(role).get("Policies", []):
            found += statements(inline["PolicyDocument"])
    return found


def test_the_source_role_may_use_the_connection_under_both_prefixes(template: dict[str, Any]) -> None:
    granted: set[str] = set()
    for statement in all_statements(template):
        actions = [a for a in as_list(statement["Action"]) if a.endswith(":UseConnection")]
        if not actions:
            continue
        granted |= set(actions)
        for resource in as_list(statement["Resource"]):
            assert resource.endswith(EXAMPLE_CONNECTION.split(":", 5)[5]), resource  # the one connection, no '*'
    assert granted == {"codestar-connections:UseConnection", "codeconnections:UseConnection"}
    assert fact("connections-rename-both-prefixes").url


def test_no_role_of_the_pipeline_holds_an_admin_or_cloudformation_wildcard(every_pipeline: dict[str, Any]) -> None:
    template = every_pipeline
    for statement in all_statements(template):
        for action in as_list(statement["Action"]):
            assert action not in ("*", "*:*", "cloudformation:*", "iam:*"), statement
    for role in resources(template, "AWS::IAM::Role").values():
        assert "AdministratorAccess" not in json.dumps(props(role).get("ManagedPolicyArns", []))


def test_notifications_go_to_the_encrypted_topic(every_pipeline: dict[str, Any]) -> None:
    template = every_pipeline
    (rule,) = resources(template, "AWS::CodeStarNotifications::NotificationRule").values()
    topics = resources(template, "AWS::SNS::Topic")
    (target,) = props(rule)["Targets"]
    topic = topics[logical(target["TargetAddress"])]
    assert "KmsMasterKeyId" in props(topic)
    assert set(props(rule)["EventTypeIds"]) == {
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-manual-approval-needed",
        "codepipeline-pipeline-manual-approval-failed",
    }
    publish = [
        s
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        for s in statements(props(p)["PolicyDocument"])
        if s.get("Principal") == {"Service": "codestar-notifications.amazonaws.com"}
    ]
    assert publish and "sns:Publish" in as_list(publish[0]["Action"]), fact("notification-topic-policy").url
    key_statements = [
        s
        for k in resources(template, "AWS::KMS::Key").values()
        for s in statements(props(k)["KeyPolicy"])
        if s.get("Principal") == {"Service": "codestar-notifications.amazonaws.com"}
    ]
    assert key_statements and "kms:GenerateDataKey*" in as_list(key_statements[0]["Action"])


def test_exam_3_3_is_recorded_on_the_pipeline_resources(template: dict[str, Any]) -> None:
    recorded = {
        r["Type"]
        for r in template["Resources"].values()
        if "3.3" in r.get("Metadata", {}).get(METADATA_KEY, {}).get("tasks", [])
    }
    assert recorded >= {
        "AWS::CodePipeline::Pipeline",
        "AWS::CodeBuild::Project",
        "AWS::CodeStarNotifications::NotificationRule",
    }
    # The generated report lists this module's tests under 3.3 (its resource list reads the stages' stacks).
    report = (ROOT / "docs" / "EXAM_COVERAGE.md").read_text(encoding="utf-8")
    assert "tests/test_cicd.py::test_a_manual_approval_precedes_every_production_deploy" in report


def test_each_pipeline_stage_is_its_profile_pinned_to_its_account(cicd: Synthesized) -> None:
    assert list(cicd.pipeline_stage_folders) == ["Staging", "Production"]
    for stage, profile, account in (("Staging", "sandbox", "staging"), ("Production", "production", "production")):
        templates = cicd.pipeline_stage_templates(stage)
        assert set(templates) == {
            "Network",
            "DataLake",
            "Governance",
            "FeatureStore",
            "MlPipeline",
            "Inference",
            "Monitoring",
        }
        manifest = json.loads((cicd.pipeline_stage_folders[stage] / "manifest.json").read_text())
        environments = {
            a["environment"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"
        }
        assert environments == {f"aws://{EXAMPLE_ACCOUNTS[account]}/eu-west-1"}, stage
        assert json.dumps(templates["Governance"]).count(EXAMPLE_ACCOUNTS[account]) > 0
        names = {
            a["properties"]["stackName"]
            for a in manifest["artifacts"].values()
            if a["type"] == "aws:cloudformation:stack"
        }
        assert all(name.startswith(f"mlops-{profile}-") for name in names), names


# --- The rule packs inside a pipeline stage: a planted finding fails the synth.


def tooling_raw(**cicd: Any) -> dict[str, Any]:
    raw = dict(yaml.safe_load((CONFIG_DIR / "sandbox.yaml").read_text()))
    base: dict[str, Any] = copy.deepcopy(BUILDS[CICD][1])
    base["cicd"].update(cicd)
    raw.update(base)
    return raw


class PlantedStage(PlatformStage):
    """The platform's stage with one unencrypted, unlogged bucket more in its DataLake stack (CDK Pipelines
    synthesizes a stage as it is added, so the finding is planted as the stage is built)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        s3.CfnBucket(self.data_lake, "PlantedBucket")


def test_a_finding_planted_in_a_pipeline_stage_fails_the_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """app.py's rule packs, registered once on the App, reach a stage nested in the pipeline stack (cdk-nag#1726
    is the reason to check): an unencrypted bucket planted in it makes the synth refuse, naming its path. The
    pipeline here reads the S3 fallback source, so that variant synthesizes too."""
    config = parse_settings(
        tooling_raw(
            source={"kind": "s3", "bucket": "example-source-bucket", "object_key": "mlops/source.zip"},
            stages=[{"name": "Staging", "profile": "sandbox", "account": "222222222222", "region": "eu-west-1"}],
            approval_before=None,
        )
    )
    monkeypatch.setattr(cicd_stack, "PlatformStage", PlantedStage)  # the pipeline's stages only, not the app's own
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    _, pipeline = compose(app, config)
    assert pipeline is not None
    register_rule_packs(app)
    assert synthesize(app) == 1
    report = json.loads((tmp_path / "validation-report.json").read_text())
    planted = "Cicd/Staging/DataLake/PlantedBucket"
    found = {
        (violation["ruleName"], resource.get("constructPath", ""))
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for resource in violation["violatingConstructs"]
    }
    assert any(rule.startswith("AwsSolutions-S") and path == planted for rule, path in found), sorted(found)[:10]
    assert {path for _, path in found} == {planted}  # nothing else anywhere in the app is unacknowledged
    # The S3 variant synthesized: its source action reads the zip.
    cicd_template = json.loads((tmp_path / "Cicd.template.json").read_text())
    (action,) = pipeline_of(cicd_template)["Stages"][0]["Actions"]
    assert action["ActionTypeId"]["Provider"] == "S3"
    assert action["Configuration"]["S3ObjectKey"] == "mlops/source.zip"


# --- The profile's `cicd` section: refusals, each one line naming the field.

REFUSALS = [
    (
        {"stages": [{"name": "Staging", "profile": "sandbox", "account": "222222222222", "region": "eu-west-1"}] * 2},
        "cicd.stages: stage 'Staging' is named twice",
    ),
    ({"approval_before": ["Production", "Qa"]}, "cicd.approval_before: 'Qa' is not a stage of the pipeline"),
    ({"approval_before": []}, "cicd.approval_before: production stage 'Production' needs a manual approval before it"),
    (
        {"stages": [{"name": "Staging", "profile": "nightly", "account": "222222222222", "region": "eu-west-1"}]},
        "cicd.stages: stage 'Staging' names profile 'nightly', not a file under config/",
    ),
    (
        {"stages": [{"name": "Staging", "profile": "sandbox", "account": "2222", "region": "eu-west-1"}]},
        "cicd.stages.0.account: String should match pattern",
    ),
    (
        {"stages": [{"name": "Staging", "profile": "sandbox", "account": "222222222222", "region": "mars-1"}]},
        "cicd.stages.0.region: 'mars-1' is not a region name",
    ),
    ({"stages": []}, "cicd.stages: Tuple should have at least 1 item"),
    (
        {"source": {"kind": "connection", "connection_arn": "arn:aws:s3:::bucket", "repository": "a/b"}},
        "cicd.source.connection.connection_arn: 'arn:aws:s3:::bucket' is not a connection ARN",
    ),
    (
        {"source": {"kind": "git"}},
        "cicd.source: Input tag 'git' found using 'kind' does not match any of the expected tags",
    ),
    (
        {"source": {"kind": "s3", "bucket": "example-source-bucket", "object_key": "source.tar"}},
        "cicd.source.s3.object_key: String should match pattern",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), REFUSALS, ids=[e.split(":")[0] + "-" + str(i) for i, (_, e) in enumerate(REFUSALS)]
)
def test_a_cicd_section_that_cannot_work_is_refused_in_one_line(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(tooling_raw(**change), source="tooling.yaml")
    message = str(error.value)
    assert message.startswith(f"tooling.yaml: {expected}"), message
    assert "\n" not in message


@pytest.mark.parametrize("field", ["account", "region"])
def test_cicd_needs_the_tooling_account_and_region_pinned(field: str) -> None:
    raw = tooling_raw()
    del raw[field]
    with pytest.raises(
        ConfigError, match=rf"^tooling.yaml: {field}: cicd.enabled needs the tooling account and region"
    ):
        parse_settings(raw, source="tooling.yaml")
    assert fact("pipelines-explicit-env").url


def test_a_disabled_cicd_section_needs_nothing_pinned_and_builds_no_pipeline() -> None:
    raw = tooling_raw(enabled=False)
    del raw["account"], raw["region"]
    assert parse_settings(raw).pipeline_enabled is False


def test_approval_defaults_to_every_production_stage_and_takes_the_older_connection_prefix() -> None:
    older = EXAMPLE_CONNECTION.replace(":codeconnections:", ":codestar-connections:")
    config = parse_settings(
        tooling_raw(approval_before=None, source={"kind": "connection", "connection_arn": older, "repository": "a/b"})
    )
    assert config.cicd is not None
    assert config.cicd.approved_stages == {"Production"}
    assert config.cicd.source.kind == "connection"


# --- The external gates over the pipeline stack and the stages it deploys (the session's gates read the stages'
# stacks of every build; the pipeline stack and its nested stages are read here).


@pytest.fixture(scope="module", params=PIPELINE_BUILDS)
def pipeline_gates(
    request: pytest.FixtureRequest, builds: dict[str, Synthesized], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, str, str]]:
    """checkov, cfn-lint and Control Tower over the distinct templates of the Cicd stack and its stages."""
    assert CHECKOV.exists(), "checkov lives in .venv-checkov: run `make setup`"
    cicd = builds[request.param]
    folder = tmp_path_factory.mktemp("pipeline-templates")
    pairs = [("Cicd", cicd.template_path("Cicd"))]
    for stage, assembly in cicd.pipeline_stage_folders.items():
        manifest = json.loads((assembly / "manifest.json").read_text())
        pairs += [
            (f"{stage}-{artifact_id}", assembly / entry["properties"]["templateFile"])
            for artifact_id, entry in manifest["artifacts"].items()
            if entry["type"] == "aws:cloudformation:stack"
        ]
    templates = copy_distinct(pairs, folder)
    running = {
        name: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, command in gate_commands(folder, templates).items()
        if command is not None
    }
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate()  # reads the pipes while waiting: checkov's JSON is large
        results[name] = (process.returncode, stdout, stderr)
    return results


def test_cfn_lint_is_clean_on_the_pipeline_and_its_stages(pipeline_gates: dict[str, tuple[int, str, str]]) -> None:
    returncode, stdout, stderr = pipeline_gates["cfn-lint"]
    matches = json.loads(stdout or "[]")
    assert not matches, [(m["Rule"]["Id"], m["Filename"], m["Message"]) for m in matches]
    assert returncode == 0, stderr


def test_checkov_is_clean_on_the_pipeline_and_its_stages(pipeline_gates: dict[str, tuple[int, str, str]]) -> None:
    _, text, stderr = pipeline_gates["checkov"]
    reports: list[dict[str, Any]] = []
    decoder, position = json.JSONDecoder(), 0
    while position < len(text.rstrip()):
        document, position = decoder.raw_decode(text, position)
        reports += document if isinstance(document, list) else [document]
        while position < len(text) and text[position].isspace():
            position += 1
    assert reports, stderr[-2000:]
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    assert not failed
    assert sum(r["summary"]["passed"] for r in reports) > 100


def test_control_tower_is_clean_on_the_pipeline_and_its_stages(pipeline_gates: dict[str, tuple[int, str, str]]) -> None:
    findings = parse_guard_output(*pipeline_gates["control-tower"])
    assert findings  # the rules ran
    left = unexplained(findings)
    assert not left, [(f.rule, Path(f.template).name, f.logical_id, f.message) for f in left]


@pytest.mark.parametrize("name", PIPELINE_BUILDS)
def test_every_pipeline_acknowledgment_names_one_finding_on_one_construct(
    name: str, builds: dict[str, Synthesized]
) -> None:
    cicd = builds[name]
    metadata = json.loads((cicd.template_path("Cicd").parent / "Cicd.metadata.json").read_text())
    found = [
        (path, key.removeprefix("Annotation::"), reason)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for key, reason in dict(entry["data"]).items()
        if not key.startswith("CloudFormation-Validate::")
    ]
    assert found
    for path, rule, reason in found:
        assert path.startswith("/Cicd/") and path.count("/") >= 3, (path, rule)  # a construct, never the stack
        assert rule.startswith(("AwsSolutions-", "HIPAA.Security-", "NIST.800.53.R5-", "PCI.DSS.321-", "Serverless-"))
        assert len(reason) >= 25, (path, rule)


@pytest.mark.parametrize("name", PIPELINE_BUILDS)
def test_the_rule_packs_find_nothing_unacknowledged_in_the_pipeline_or_its_stages(
    name: str, builds: dict[str, Synthesized]
) -> None:
    assert not builds[name].nag_findings()
    assert fact("validation-plugins-cover-nested-stages").url
