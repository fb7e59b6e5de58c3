"""The model-deploy path of the pipeline (issue 13 part 2, exam 3.3) over the synthesized ``model-deploy`` build: a
registry decision is recorded and starts the pipeline, the recorded version is what every stage serves, the test
stage gates production, and what config refuses. The gates (nag, cfn-lint, checkov, Control Tower) over this
build's pipeline stack and stages run in tests/test_cicd.py (PIPELINE_BUILDS)."""

from __future__ import annotations

import copy
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import app
from app import PIPELINE_MODEL_CONTEXT, pipeline_model, pipeline_stages
from components.cicd.model_deploy import decision_pattern
from components.serving.api import STAGE
from config.catalogs import CONFIG_DIR
from config.facts import fact
from config.loader import ConfigError, load_settings, parse_settings
from tests.helpers import as_list, pipeline_of, props, resources, statements
from tools import acceptance, model_version
from tools.platform import BUILDS, EXAMPLE_ACCOUNTS, EXAMPLE_RECORDED, Synthesized

pytestmark = pytest.mark.exam("3.3")

BUILD = "model-deploy"
TOOLING = EXAMPLE_ACCOUNTS["tooling"]
RECORDED_ARN = EXAMPLE_RECORDED["pipeline_model_package_arn"]
RECORDED_URL = EXAMPLE_RECORDED["pipeline_model_data_url"]


@pytest.fixture(scope="module")
def built(builds: dict[str, Synthesized]) -> Synthesized:
    return builds[BUILD]


@pytest.fixture(scope="module")
def template(built: Synthesized) -> dict[str, Any]:
    return built.template("Cicd")


def stages_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {stage["Name"]: stage for stage in pipeline_of(template)["Stages"]}


def buildspec(template: dict[str, Any], logical_part: str) -> dict[str, Any]:
    (project,) = [p for k, p in resources(template, "AWS::CodeBuild::Project").items() if logical_part in k]
    return dict(yaml.safe_load(props(project)["Source"]["BuildSpec"]))


def policy_statements(template: dict[str, Any], role_part: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the roles whose logical id contains ``role_part``."""
    roles = {k for k in resources(template, "AWS::IAM::Role") if role_part in k}
    found = []
    for policy in [
        *resources(template, "AWS::IAM::Policy").values(),
        *resources(template, "AWS::IAM::ManagedPolicy").values(),
    ]:
        attached = {r["Ref"] for r in props(policy).get("Roles", []) if isinstance(r, dict) and "Ref" in r}
        if attached & roles:
            found += statements(props(policy)["PolicyDocument"])
    return found


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching for the patterns used here: every key's value is a list of literal values the event's
    value must be one of; nested objects match recursively (facts: model-package-state-change-event)."""
    for key, wanted in pattern.items():
        if key not in event:
            return False
        if isinstance(wanted, dict):
            if not isinstance(event[key], dict) or not matches(wanted, event[key]):
                return False
        elif event[key] not in wanted:
            return False
    return True


def state_change(group: str, status: str) -> dict[str, Any]:
    return {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageArn": f"arn:aws:sagemaker:eu-west-1:{TOOLING}:model-package/{group}/4",
            "ModelApprovalStatus": status,
        },
    }


# --- The recorder: registry decisions -> the recorded version -> the pipeline starts.


def test_each_rule_matches_only_its_decision_on_versions_of_the_tooling_registry(
    built: Synthesized, template: dict[str, Any]
) -> None:
    group = built.config.model_registry_name
    (registry,) = resources(built.template("MlPipeline"), "AWS::SageMaker::ModelPackageGroup").values()
    assert props(registry)["ModelPackageGroupName"] == group  # the tooling stage's own registry
    rules = {k: props(r) for k, r in resources(template, "AWS::Events::Rule").items() if "ModelDeploy" in k}
    patterns = {
        status: rule["EventPattern"] for status in ("Approved", "Rejected") for k, rule in rules.items() if status in k
    }
    assert len(rules) == 2 and set(patterns) == {"Approved", "Rejected"}
    for status, pattern in patterns.items():
        assert pattern == decision_pattern(group, status)
        assert matches(pattern, state_change(group, status))
        other = "Rejected" if status == "Approved" else "Approved"
        for event in (
            state_change(group, other),
            state_change(group, "PendingManualApproval"),
            state_change("someone-elses-models", status),
            {**state_change(group, status), "source": "aws.codepipeline"},
        ):
            assert not matches(pattern, event), (status, event["detail"])
    assert fact("model-package-state-change-event").url


def test_both_rules_invoke_the_recorder_which_only_they_may_invoke(template: dict[str, Any]) -> None:
    (function_id,) = [k for k, f in resources(template, "AWS::Lambda::Function").items() if "ModelDeployRecorder" in k]
    rules = {k: r for k, r in resources(template, "AWS::Events::Rule").items() if "ModelDeploy" in k}
    for rule in rules.values():
        (target,) = props(rule)["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 3
    permissions = [props(p) for p in resources(template, "AWS::Lambda::Permission").values()]
    mine = [p for p in permissions if p["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}]
    assert {json.dumps(p["SourceArn"]) for p in mine} == {json.dumps({"Fn::GetAtt": [k, "Arn"]}) for k in rules}
    assert all(p["Principal"] == "events.amazonaws.com" for p in mine)


def test_the_recorder_owns_the_profile_s_parameter_and_knows_this_pipeline_and_registry(
    built: Synthesized, template: dict[str, Any]
) -> None:
    # No template owns the parameter's value: a stack update would reset it (and the next run would remove the
    # endpoints); the recorder creates it on the first decision, and a missing one reads as `none`.
    assert not resources(template, "AWS::SSM::Parameter")
    (function,) = [f for k, f in resources(template, "AWS::Lambda::Function").items() if "ModelDeployRecorder" in k]
    environment = props(function)["Environment"]["Variables"]
    assert environment == {
        "PARAMETER_NAME": built.config.model_deploy_parameter,
        "PIPELINE_NAME": pipeline_of(template)["Name"],
        "MODEL_PACKAGE_GROUP": built.config.model_registry_name,
    }


def test_the_recorder_may_keep_the_parameter_and_start_this_pipeline_and_nothing_else(template: dict[str, Any]) -> None:
    found = {s["Sid"]: s for s in policy_statements(template, "ModelDeployRecorderRole") if "Sid" in s}
    assert set(as_list(found["KeepTheDeployedVersion"]["Action"])) == {"ssm:GetParameter", "ssm:PutParameter"}
    granted = json.dumps(found["KeepTheDeployedVersion"]["Resource"])
    # facts: ssm-parameter-arn-format (the name's leading slash is not in the ARN)
    assert ":parameter/mlops/sandbox/model-deploy/approved-package" in granted and "parameter//" not in granted
    start = found["StartThePipeline"]
    assert as_list(start["Action"]) == ["codepipeline:StartPipelineExecution"]
    assert pipeline_of(template)["Name"] in json.dumps(start["Resource"])
    assert as_list(found["FindTheNewestApproved"]["Action"]) == ["sagemaker:ListModelPackages"]
    assert fact("list-model-packages-no-resource").url
    writes = {a for s in found.values() for a in as_list(s["Action"])}
    assert not {a for a in writes if a.startswith(("sagemaker:Update", "sagemaker:Create", "cloudformation:"))}


# --- The synth step: the recorded version, read and checked, is what the stages are synthesized with.


def test_the_synth_step_reads_and_checks_the_recorded_version_before_synthesizing(
    built: Synthesized, template: dict[str, Any]
) -> None:
    commands = buildspec(template, "Synth")["phases"]["build"]["commands"]
    config = built.config
    assert commands == [
        "make test",
        f"model=$(.venv/bin/python -m tools.model_version --parameter {config.model_deploy_parameter} "
        f"--group {config.model_registry_name} --region {config.region}) "
        f"&& make synth PROFILE={BUILDS[BUILD][0]} $model",
    ]
    found = {s.get("Sid"): s for s in policy_statements(template, "Synth")}
    assert as_list(found["ReadTheDeployedVersion"]["Action"]) == ["ssm:GetParameter"]
    read = json.dumps(found["ReadTheDeployedVersion"]["Resource"])
    assert f":parameter{config.model_deploy_parameter}" in read and "parameter//" not in read
    assert as_list(found["CheckItIsApproved"]["Action"]) == ["sagemaker:DescribeModelPackage"]
    assert f"model-package/{config.model_registry_name}/*" in json.dumps(found["CheckItIsApproved"]["Resource"])


def test_every_stage_serves_exactly_the_recorded_version(built: Synthesized) -> None:
    for stage in ("Staging", "Production"):
        inference = built.pipeline_stage_templates(stage)["Inference"]
        models = [props(m) for m in resources(inference, "AWS::SageMaker::Model").values()]
        assert models and all(
            [c["ModelPackageName"] for c in as_list(m.get("Containers") or m.get("PrimaryContainer"))] == [RECORDED_ARN]
            for m in models
        ), stage


def test_a_stage_reads_only_the_promoted_artifact_and_decrypts_it_only_through_s3(built: Synthesized) -> None:
    bucket, _, key = RECORDED_URL.removeprefix("s3://").partition("/")
    for stage in ("Staging", "Production"):
        inference = built.pipeline_stage_templates(stage)["Inference"]
        found = {
            s.get("Sid"): s
            for p in resources(inference, "AWS::IAM::ManagedPolicy").values()
            for s in statements(props(p)["PolicyDocument"])
        }
        read = found["ReadPromotedModel"]
        assert as_list(read["Action"]) == ["s3:GetObject"]
        assert f"{bucket}/{key}" in json.dumps(read["Resource"])
        assert "*" not in json.dumps(read["Resource"])
        decrypt = found["DecryptPromotedModel"]
        assert as_list(decrypt["Action"]) == ["kms:Decrypt"]
        conditions = decrypt["Condition"]["StringEquals"]
        assert json.dumps(conditions["kms:ViaService"]).count("s3.") == 1
        assert bucket in json.dumps(conditions["kms:EncryptionContext:aws:s3:arn"])
        assert key not in json.dumps(conditions["kms:EncryptionContext:aws:s3:arn"])  # the bucket, not the object
    assert fact("s3-bucket-key-encryption-context").url


def test_production_keeps_its_blue_green_canary_with_alarm_rollback(built: Synthesized) -> None:
    inference = built.pipeline_stage_templates("Production")["Inference"]
    (endpoint,) = resources(inference, "AWS::SageMaker::Endpoint").values()
    policy = props(endpoint)["DeploymentConfig"]
    routing = policy["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] in ("CANARY", "LINEAR")
    assert policy["AutoRollbackConfiguration"]["Alarms"]


# --- The test stage gates production.


def test_the_test_stage_runs_after_every_staging_deploy_and_before_the_production_approval(
    template: dict[str, Any],
) -> None:
    names = [stage["Name"] for stage in pipeline_of(template)["Stages"]]
    assert names.index("Staging") < names.index("Production")
    stages = stages_of(template)
    staging = stages["Staging"]["Actions"]
    (test,) = [a for a in staging if a["Name"] == "AcceptanceTest"]
    assert test["ActionTypeId"]["Provider"] == "CodeBuild"
    deploys = [a for a in staging if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    assert deploys and all(a["RunOrder"] < test["RunOrder"] for a in deploys)
    production = stages["Production"]["Actions"]
    (approval,) = [a for a in production if a["ActionTypeId"]["Category"] == "Approval"]
    assert approval["RunOrder"] == 1
    assert all(a["RunOrder"] > 1 for a in production if a["ActionTypeId"]["Provider"] == "CloudFormation")
    # A failed action fails its stage and the run; a rejected approval fails the run too: production is untouched.
    assert fact("manual-approval-rejected-fails").url


def test_the_test_stage_checks_the_recorded_version_against_the_profile_s_limits(
    built: Synthesized, template: dict[str, Any]
) -> None:
    stages = stages_of(template)
    (test,) = [a for a in stages["Staging"]["Actions"] if a["Name"] == "AcceptanceTest"]
    variables = json.loads(test["Configuration"]["EnvironmentVariables"])
    (url,) = [v for v in variables if v["name"] == "PREDICT_URL"]
    assert url["value"].startswith("#{") and url["value"].endswith(".PredictUrl}")  # the staging Inference output
    assert fact("pipelines-env-from-cfn-outputs").url
    spec = buildspec(template, "AcceptanceTest")
    assert built.config.cicd is not None and built.config.cicd.model_deploy is not None
    limits = built.config.cicd.model_deploy.acceptance
    (stage_config,) = [c for s, c in pipeline_stages(built.config, {}) if s.name == "Staging"]
    assert spec["phases"]["build"]["commands"] == [
        f'python -m tools.acceptance --url "$PREDICT_URL" --package-arn {RECORDED_ARN} '
        f"--threshold {stage_config.inference.api.decision_threshold} --records {limits.records} "
        f"--max-error-rate-percent {limits.max_error_rate_percent} --max-p95-latency-ms {limits.max_p95_latency_ms} "
        f"--min-auc {limits.min_auc} --records-per-request {limits.records_per_request} "
        f"--warm-up {limits.warm_up_requests}"
    ]
    pinned = next(
        line for line in (CONFIG_DIR.parent / "requirements.txt").read_text().splitlines() if line.startswith("boto3==")
    )
    assert spec["phases"]["install"]["commands"] == [f"python -m pip install --quiet {pinned}"]


def test_the_test_stage_may_only_invoke_the_tested_api(template: dict[str, Any]) -> None:
    found = policy_statements(template, "AcceptanceTest")
    invoke = [s for s in found if "execute-api:Invoke" in as_list(s["Action"])]
    (statement,) = invoke
    assert as_list(statement["Resource"]) == [f"arn:aws:execute-api:eu-west-1:{TOOLING}:*/{STAGE}/POST/predict"]
    assert fact("execute-api-arn-format").url
    actions = {a for s in found for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith(("sagemaker:", "cloudformation:", "iam:"))}
    assert fact("apigateway-iam-same-account").url


# --- What the profile and the context refuse, in one line each.


def tooling_raw(**model_deploy_and_stages: Any) -> dict[str, Any]:
    raw = dict(yaml.safe_load((CONFIG_DIR / "sandbox.yaml").read_text()))
    base: dict[str, Any] = copy.deepcopy(BUILDS[BUILD][1])
    top = {k.removeprefix("__"): v for k, v in model_deploy_and_stages.items() if k.startswith("__")}
    base["cicd"].update({k: v for k, v in model_deploy_and_stages.items() if not k.startswith("__")})
    raw.update(base)
    raw.update(top)
    return raw


def _stage(name: str, profile: str, account: str = TOOLING) -> dict[str, str]:
    return {"name": name, "profile": profile, "account": account, "region": "eu-west-1"}


REFUSALS = [
    (
        {"model_deploy": {"test_stage": "Qa"}},
        "cicd.model_deploy.test_stage: 'Qa' is not a stage of the pipeline",
    ),
    (
        {"model_deploy": {"test_stage": "Production"}},
        "cicd.model_deploy.test_stage: 'Production' deploys a production profile; test before it",
    ),
    (
        {"stages": [_stage("Production", "production"), _stage("Staging", "staging")]},
        "cicd.model_deploy.test_stage: production stage 'Production' comes before 'Staging'",
    ),
    (
        {"stages": [_stage("Staging", "staging"), _stage("Production", "production", EXAMPLE_ACCOUNTS["production"])]},
        "cicd.model_deploy: stage 'Production' is in 333333333333/eu-west-1, the registry in 111111111111/eu-west-1",
    ),
    (
        {"__removal_policy": "destroy"},
        "removal_policy: cicd.model_deploy serves every stage from this profile's lake",
    ),
    (
        {"model_deploy": {"test_stage": "Staging", "acceptance": {"records": 5}}},
        "cicd.model_deploy.acceptance.records: Input should be greater than or equal to 10",
    ),
    (
        {
            "model_deploy": None,
            "stages": [_stage("Staging", "sandbox"), _stage("Production", "production", "333333333333")],
        },
        "cicd.stages: stage 'Staging' deploys a sandbox profile into the tooling account and region",
    ),
]


@pytest.mark.parametrize(("change", "expected"), REFUSALS, ids=[str(i) for i in range(len(REFUSALS))])
def test_a_model_deploy_section_that_cannot_work_is_refused_in_one_line(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(tooling_raw(**change), source="tooling.yaml")
    message = str(error.value)
    assert message.startswith(f"tooling.yaml: {expected}"), message
    assert "\n" not in message


def test_the_tooling_profile_s_own_stage_serves_nothing_the_pipeline_recorded(built: Synthesized) -> None:
    assert not resources(built.template("Inference"), "AWS::SageMaker::Model")
    assert RECORDED_ARN not in json.dumps([built.template(stack) for stack in built.stacks])


def test_the_recorded_version_lands_in_every_stage() -> None:
    config = parse_settings(tooling_raw())
    model = pipeline_model(config, EXAMPLE_RECORDED.get)
    assert model == {PIPELINE_MODEL_CONTEXT[k]: v for k, v in EXAMPLE_RECORDED.items()}
    for _, stage_config in pipeline_stages(config, model):
        assert stage_config.inference.model_package_arn == RECORDED_ARN
        assert stage_config.inference.model_data_url == RECORDED_URL
    nothing: dict[str, str] = {}
    assert pipeline_model(config, nothing.get) == {}  # none recorded: the stages deploy without an endpoint


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"pipeline_model_package_arn": RECORDED_ARN}, "pipeline_model_data_url: is required with"),
        (
            {**EXAMPLE_RECORDED, "pipeline_model_package_arn": RECORDED_ARN.replace("mlops-sandbox-models", "other")},
            "pipeline_model_package_arn: 'arn:aws:sagemaker:eu-west-1:111111111111:model-package/other/3' is not a "
            "version of this profile's registry",
        ),
        (
            {**EXAMPLE_RECORDED, "pipeline_model_package_arn": RECORDED_ARN.replace(TOOLING, "999999999999")},
            "pipeline_model_package_arn:",
        ),
    ],
)
def test_a_recorded_version_that_is_not_the_registry_s_is_refused(context: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match="^" + expected.replace("(", r"\(")):
        pipeline_model(parse_settings(tooling_raw()), context.get)


def test_a_recorded_version_needs_a_profile_with_model_deploy() -> None:
    raw = tooling_raw(model_deploy=None)
    raw["cicd"]["stages"] = copy.deepcopy(BUILDS["cicd"][1]["cicd"]["stages"])  # type: ignore[index]
    with pytest.raises(ConfigError, match=r"^pipeline_model_package_arn: the profile has no cicd\.model_deploy"):
        pipeline_model(parse_settings(raw), EXAMPLE_RECORDED.get)


def test_a_bad_artifact_url_is_refused_in_one_line() -> None:
    raw = dict(yaml.safe_load((CONFIG_DIR / "staging.yaml").read_text()))
    raw["inference"] = {**raw["inference"], "model_package_arn": RECORDED_ARN, "model_data_url": "https://x/y"}
    with pytest.raises(
        ConfigError, match=r"^staging.yaml: inference.model_data_url: 'https://x/y' is not an S3 object URL"
    ):
        parse_settings(raw, source="staging.yaml")


def test_the_rendered_acceptance_command_is_one_the_tool_accepts(template: dict[str, Any]) -> None:
    """The command synth renders and the tool's own argument rules agree (a renamed option would fail here, not in
    the pipeline's first run)."""
    (command,) = buildspec(template, "AcceptanceTest")["phases"]["build"]["commands"]
    argv = shlex.split(command.replace("$PREDICT_URL", "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/predict"))
    assert argv[:3] == ["python", "-m", "tools.acceptance"]
    args = acceptance._parser().parse_args([*argv[3:], "--region", "eu-west-1"])
    assert acceptance._refusals(args, len(acceptance.labelled_rows())) == []
    assert args.package_arn == RECORDED_ARN
    assert args.records // args.records_per_request >= 20  # enough timed requests for a p95 (the defaults)


def test_an_approval_tells_the_team_the_pipeline_takes_it_from_here(built: Synthesized) -> None:
    """The tooling stage's approval notification names the pipeline and the test stage, not `make deploy`."""
    rules = resources(built.template("Inference"), "AWS::Events::Rule")
    (message,) = [
        target["InputTransformer"]["InputTemplate"]
        for rule in rules.values()
        for target in props(rule)["Targets"]
        if "InputTransformer" in target
    ]
    assert built.config.pipeline_name in message and "Staging" in message
    assert "make deploy" not in message


def test_production_re_checks_the_version_after_its_approval_and_before_its_deploy(template: dict[str, Any]) -> None:
    """A run can wait days at its approval: a version rejected in the registry meanwhile fails the check, so
    approving that old run cannot deploy it (tools/model_version.py --still-approved)."""
    production = stages_of(template)["Production"]["Actions"]
    (approval,) = [a for a in production if a["ActionTypeId"]["Category"] == "Approval"]
    assert RECORDED_ARN in approval["Configuration"]["CustomData"]  # the approver sees which version
    (check,) = [a for a in production if a["Name"].startswith("StillApproved")]
    deploys = [a for a in production if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    assert approval["RunOrder"] < check["RunOrder"] < min(a["RunOrder"] for a in deploys)
    (command,) = buildspec(template, "StillApproved")["phases"]["build"]["commands"]
    assert command.startswith(f"python -m tools.model_version --still-approved {RECORDED_ARN} ")
    statements_ = policy_statements(template, "StillApproved")
    (describe,) = [s for s in statements_ if "sagemaker:DescribeModelPackage" in as_list(s["Action"])]
    assert as_list(describe["Resource"]) == [RECORDED_ARN]
    staging = stages_of(template)["Staging"]["Actions"]
    assert not [a for a in staging if a["Name"].startswith("StillApproved")]  # no approval, nothing waited


def test_the_stages_train_nothing_and_leave_the_account_s_api_gateway_setting_to_the_tooling_stage(
    built: Synthesized,
) -> None:
    for stage, stage_config in pipeline_stages(built.config, {}):
        assert stage_config.ml.retraining_schedule is None, stage.name
        assert not stage_config.ml.retrain_on_new_data and not stage_config.monitoring.retrain_on_drift
        templates = built.pipeline_stage_templates(stage.name)
        assert not resources(templates["Governance"], "AWS::ApiGateway::Account"), stage.name
    assert resources(built.template("Governance"), "AWS::ApiGateway::Account")  # the tooling stage sets it


def test_an_async_test_stage_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Async endpoints have no API: the acceptance test could not run, so production would go untested."""
    real = load_settings

    def staging_async(profile: str | None = None, config_path: str | None = None, overrides: Any = None) -> Any:
        extra = {"inference.mode": "async", "inference.min_capacity": 0} if profile == "staging" else {}
        return real(profile, config_path, {**(overrides or {}), **extra})

    monkeypatch.setattr(app, "load_settings", staging_async)
    with pytest.raises(
        ConfigError, match=r"^cicd\.model_deploy\.test_stage: stage 'Staging' \(profile 'staging'\) serves async"
    ):
        pipeline_stages(parse_settings(tooling_raw()))


def test_before_any_approval_the_stages_deploy_without_endpoints_and_nothing_to_test(tmp_path: Path) -> None:
    """The first run: no version recorded (the synth step printed nothing), so no endpoint, no test stage and no
    re-check; production still waits for its approval."""
    import aws_cdk as cdk  # noqa: PLC0415 - this test synthesizes

    cdk_app = cdk.App(context=app.cdk_json_context(), outdir=str(tmp_path))
    _, pipeline = app.compose(cdk_app, parse_settings(tooling_raw()), synth_target="PROFILE=sandbox")
    assert pipeline is not None
    assembly = cdk_app.synth()
    cicd = assembly.get_stack_by_name(pipeline.stack_name).template
    names = [a["Name"] for stage in pipeline_of(cicd)["Stages"] for a in stage["Actions"]]
    assert "AcceptanceTest" not in names and not [n for n in names if n.startswith("StillApproved")]
    assert "ApproveProduction" in names
    for stage in ("Staging", "Production"):
        inference = (
            assembly.get_nested_assembly(f"assembly-Cicd-{stage}")
            .get_stack_by_name(f"mlops-{stage.lower()}-Inference")
            .template
        )
        assert not resources(inference, "AWS::SageMaker::Endpoint"), stage


def test_make_turns_what_the_synth_step_prints_into_the_context_keys_the_app_reads() -> None:
    """tools/model_version.py's line, given to `make synth` as the synth step does, reaches the CDK as exactly the
    context keys app.pipeline_model reads (make -n: printed, not run)."""
    line = model_version.make_args(RECORDED_ARN, RECORDED_URL)
    result = subprocess.run(
        ["make", "-n", "synth", "PROFILE=sandbox", *line.split()],
        cwd=CONFIG_DIR.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    (synth,) = [command for command in result.stdout.splitlines() if " cdk synth " in command]
    assert set(PIPELINE_MODEL_CONTEXT) == set(EXAMPLE_RECORDED)
    for key, value in EXAMPLE_RECORDED.items():
        assert f"-c {key}={value}" in synth
