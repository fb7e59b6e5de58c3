"""Controls 8, 16, 18, 19 and the retraining triggers, in the synthesized FeatureStore and MlPipeline stacks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.data.feature_store import OFFLINE_PREFIX, load_schema
from components.data.lake import READY_MARKER
from tests.helpers import as_list, every_resource, props, resources, statements
from tools.platform import Synthesized

_MARKERS = {
    "Ref": lambda v: f"<Ref:{v}>",
    "Fn::GetAtt": lambda v: f"<GetAtt:{v[0]}.{v[1]}>",
    "Fn::GetStackOutput": lambda v: f"<Output:{v['OutputName']}>",
    "Fn::FindInMap": lambda v: f"<FindInMap:{v[0]}.{v[2]}>",
    "Fn::Sub": lambda v: f"<Sub:{v}>",
}


def _marker(part: Any) -> str:
    """A CloudFormation intrinsic inside the definition string, as a readable marker."""
    if isinstance(part, str):
        return part
    ((kind, value),) = part.items()
    return str(_MARKERS.get(kind, lambda _: f"<{kind}>")(value))


def pipeline_definition(platform: Synthesized) -> tuple[str, dict[str, Any]]:
    """The embedded definition: its raw text (with intrinsic markers) and the parsed JSON."""
    (pipeline,) = resources(platform.template("MlPipeline"), "AWS::SageMaker::Pipeline").values()
    body = props(pipeline)["PipelineDefinition"]["PipelineDefinitionBody"]
    separator, parts = body["Fn::Join"]
    text = separator.join(_marker(part) for part in parts)
    return text, json.loads(text)


def steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Steps by name, the condition's branches included; the registration step also as ``Register``."""
    found = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        for nested in step.get("Arguments", {}).get("IfSteps", []) + step.get("Arguments", {}).get("ElseSteps", []):
            found[nested["Name"]] = nested
            if nested["Type"] == "RegisterModel":
                found["Register"] = nested
    return found


@pytest.mark.exam("3.3")
def test_definition_has_no_placeholders_and_real_references(platform: Synthesized) -> None:
    text, definition = pipeline_definition(platform)
    for leftover in ("placeholder", "111122223333", "us-east-1", "683313688378"):
        assert leftover not in text, leftover
    assert "SageMakerImageAccounts" in text and ".xgboost>" in text and ".sklearn>" in text  # per-region images
    variant = platform.config.ml.pipeline_variant
    assert ("Tune" in steps(definition)) is variant.startswith("tune")
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert defaults["AucThreshold"] == platform.config.ml.auc_threshold
    assert defaults["TrainingInstanceType"] == platform.config.ml.training_instance_type


@pytest.mark.exam("3.2", "4.3")
def test_control_8_jobs_use_the_platform_subnets_group_and_key(platform: Synthesized) -> None:
    _, definition = pipeline_definition(platform)
    subnets = platform.config.network_az_count
    for step in steps(definition).values():
        if step["Type"] not in ("Processing", "Training", "Tuning"):
            continue
        args = step["Arguments"]
        job = args.get("TrainingJobDefinition", args)
        vpc = job.get("VpcConfig") or args["NetworkConfig"]["VpcConfig"]
        assert len(vpc["Subnets"]) == subnets, step["Name"]
        assert all("Subnet" in s for s in vpc["Subnets"]), vpc
        assert all("WorkloadSecurityGroup" in g for g in vpc["SecurityGroupIds"]), vpc
        assert "LakeKey" in json.dumps(args), step["Name"]


@pytest.mark.exam("1.2")
def test_control_16_feature_group_encrypted_and_offline_in_the_lake(platform: Synthesized) -> None:
    (group,) = resources(platform.template("FeatureStore"), "AWS::SageMaker::FeatureGroup").values()
    p = props(group)
    assert p["OnlineStoreConfig"]["EnableOnlineStore"] is True
    assert "LakeKey" in json.dumps(p["OnlineStoreConfig"]["SecurityConfig"]["KmsKeyId"])
    storage = p["OfflineStoreConfig"]["S3StorageConfig"]
    assert "LakeCuratedBucket" in json.dumps(storage["S3Uri"]) and f"/{OFFLINE_PREFIX}" in json.dumps(storage["S3Uri"])
    assert "LakeKey" in json.dumps(storage["KmsKeyId"])
    assert p["OfflineStoreConfig"]["DataCatalogConfig"]["Database"] == f"{platform.config.name_prefix}_lake".replace(
        "-", "_"
    )
    schema = load_schema()
    assert [(f["FeatureName"], f["FeatureType"]) for f in p["FeatureDefinitions"]] == [
        (f["name"], f["type"]) for f in schema["features"]
    ]
    assert p["RecordIdentifierFeatureName"] == "applicant_id" and p["EventTimeFeatureName"] == "event_time"


@pytest.mark.exam("3.3")
def test_control_18_registry_and_manual_approval(platform: Synthesized) -> None:
    template = platform.template("MlPipeline")
    (group,) = resources(template, "AWS::SageMaker::ModelPackageGroup").values()
    _, definition = pipeline_definition(platform)
    register = steps(definition)["Register"]["Arguments"]
    assert register["ModelPackageGroupName"] == props(group)["ModelPackageGroupName"]
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert defaults["ModelApprovalStatus"] == "PendingManualApproval"


def role_policies(platform: Synthesized, stack_id: str) -> dict[str, list[dict[str, Any]]]:
    """Role logical id -> statements of the managed policies attached to it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for policy in resources(platform.template(stack_id), "AWS::IAM::ManagedPolicy").values():
        for role in props(policy)["Roles"]:
            found.setdefault(role["Ref"], []).extend(statements(props(policy)["PolicyDocument"]))
    return found


@pytest.mark.exam("4.3")
def test_control_19_pipeline_role_is_its_own_and_passes_only_itself(platform: Synthesized) -> None:
    template = platform.template("MlPipeline")
    (pipeline,) = resources(template, "AWS::SageMaker::Pipeline").values()
    role_id = props(pipeline)["RoleArn"]["Fn::GetAtt"][0]
    trust = statements(props(template["Resources"][role_id])["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    policy = role_policies(platform, "MlPipeline")[role_id]
    (pass_role,) = [s for s in policy if "iam:PassRole" in as_list(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    users = [
        logical
        for _, logical, r in every_resource(platform)
        if json.dumps(r).count(f'"{role_id}"') and r["Type"] not in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
    ]
    assert users == [next(iter(resources(template, "AWS::SageMaker::Pipeline")))]  # nothing else uses it
    roles = [logical for _, logical, _ in every_resource(platform, "AWS::IAM::Role")]
    assert len(roles) == len(set(roles))
    actions = {a for s in policy for a in as_list(s["Action"])}
    assert not any(a.startswith("sagemaker:CreateEndpoint") or a == "sagemaker:*" for a in actions)


@pytest.mark.exam("3.3")
def test_retraining_schedule_follows_config(platform: Synthesized) -> None:
    template = platform.template("MlPipeline")
    schedules = resources(template, "AWS::Scheduler::Schedule")
    expression = platform.config.ml.retraining_schedule
    if expression is None:
        assert not schedules
        return
    (schedule,) = schedules.values()
    assert props(schedule)["ScheduleExpression"] == expression
    target = props(schedule)["Target"]
    assert ":pipeline/" in json.dumps(target["Arn"])
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    (statement,) = [s for s in role_policies(platform, "MlPipeline")[role_id] if "Sid" not in s]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert statement["Resource"] == target["Arn"]


@pytest.mark.exam("3.3")
def test_new_data_rule_starts_the_pipeline_once_per_ready_marker(platform: Synthesized) -> None:
    template = platform.template("MlPipeline")
    rules = resources(template, "AWS::Events::Rule")
    assert bool(rules) is platform.config.ml.retrain_on_new_data
    (rule,) = rules.values()
    pattern = props(rule)["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [READY_MARKER]
    assert "LakeRawBucket" in json.dumps(pattern["detail"]["bucket"]["name"])
    (target,) = props(rule)["Targets"]
    assert ":pipeline/" in json.dumps(target["Arn"])
    parameters = target["SageMakerPipelineParameters"]["PipelineParameterList"]
    assert [p["Name"] for p in parameters] == ["InputDataUri"]
    (statement,) = role_policies(platform, "MlPipeline")[target["RoleArn"]["Fn::GetAtt"][0]]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    raw = [
        b
        for logical, b in resources(platform.template("DataLake"), "AWS::S3::Bucket").items()
        if logical.startswith("LakeRaw")
    ]
    assert props(raw[0])["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_step_code_ships_as_assets_the_role_can_read(platform: Synthesized) -> None:
    text, _ = pipeline_definition(platform)
    for script in ("preprocess", "bias", "ingest_features", "evaluate"):
        assert f"/opt/ml/processing/input/code/{script}.py" not in text  # entrypoints renamed to the asset key
    assert text.count("cdk-hnb659fds-assets-") >= 5  # four scripts and the training source
    _, definition = pipeline_definition(platform)
    fit = steps(definition).get("Train") or steps(definition)["Tune"]
    job = fit["Arguments"].get("TrainingJobDefinition", fit["Arguments"])
    hyper = job.get("HyperParameters") or job["StaticHyperParameters"]
    source = json.loads(hyper["sagemaker_submit_directory"])
    assert source.startswith("<Sub:s3://cdk-hnb659fds-assets-") and source.endswith(".gz>")  # the bundled train.py
    role_id = next(iter(resources(platform.template("MlPipeline"), "AWS::SageMaker::Pipeline").values()))["Properties"][
        "RoleArn"
    ]["Fn::GetAtt"][0]
    (read_code,) = [s for s in role_policies(platform, "MlPipeline")[role_id] if s.get("Sid") == "ReadStepCode"]
    assert len(as_list(read_code["Resource"])) == 5


def test_trust_policies_of_trigger_roles_are_source_scoped(platform: Synthesized) -> None:
    """Scheduler roles by the schedule *group* ARN, rule roles by rule ARNs of this account: the forms the
    services document (a schedule ARN in a Scheduler trust makes the role unassumable)."""
    for stack_id in ("MlPipeline", "Monitoring"):
        for logical, role in resources(platform.template(stack_id), "AWS::IAM::Role").items():
            for statement in statements(props(role)["AssumeRolePolicyDocument"]):
                service = statement["Principal"]["Service"]
                if service not in ("scheduler.amazonaws.com", "events.amazonaws.com"):
                    continue
                source = json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
                expected = ":schedule-group/default" if service.startswith("scheduler") else ":rule/*"
                assert source.endswith(f'{expected}"]]}}'), (logical, source)
                assert "AWS::AccountId" in source, logical


def test_every_schedule_has_a_dead_letter_queue_its_role_can_use(platform: Synthesized) -> None:
    for stack_id in ("MlPipeline", "Monitoring"):
        template = platform.template(stack_id)
        for logical, schedule in resources(template, "AWS::Scheduler::Schedule").items():
            target = props(schedule)["Target"]
            queue = target["DeadLetterConfig"]["Arn"]
            allowed = role_policies(platform, stack_id)[target["RoleArn"]["Fn::GetAtt"][0]]
            (send,) = [s for s in allowed if s.get("Sid") == "DeadLetters"]
            assert send["Action"] == "sqs:SendMessage" and send["Resource"] == queue, logical
            assert any(s.get("Sid") == "DeadLetterKey" for s in allowed), logical
