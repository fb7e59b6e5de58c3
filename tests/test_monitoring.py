"""Monitoring: the drift job (control 15), its alarm (control 14), the retraining loop and its storm guard,
notifications and the dashboard, in every build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.data.lake import CAPTURE_PREFIX
from config.facts import fact
from pipelines.placeholders import BASELINE_PREFIX
from pipelines.steps.features import INPUTS
from tests.helpers import props, resources, statements
from tools.platform import Synthesized

pytestmark = pytest.mark.exam("4.1")


def monitoring(build: Synthesized) -> dict[str, Any]:
    return build.template("Monitoring")


def drift_definition(build: Synthesized) -> dict[str, Any]:
    (pipeline,) = resources(monitoring(build), "AWS::SageMaker::Pipeline").values()
    separator, parts = props(pipeline)["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Join"]
    return dict(json.loads(separator.join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1] for p in parts)))


def has_drift(build: Synthesized) -> bool:
    inference = build.config.inference
    return inference.serving and inference.mode != "serverless" and inference.data_capture_percent > 0


def test_drift_monitoring_exists_wherever_traffic_is_captured(platform: Synthesized) -> None:
    template = monitoring(platform)
    assert bool(resources(template, "AWS::SageMaker::Pipeline")) is has_drift(platform)
    assert bool(resources(template, "AWS::Scheduler::Schedule")) is has_drift(platform)


@pytest.mark.exam("4.3")
def test_control_15_the_drift_job_is_isolated_in_the_vpc_and_encrypted(serving: Synthesized) -> None:
    (step,) = drift_definition(serving)["Steps"]
    args = step["Arguments"]
    network = args["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert len(network["VpcConfig"]["Subnets"]) == serving.config.network_az_count
    assert "LakeKey" in json.dumps(args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"])
    assert "LakeKey" in json.dumps(args["ProcessingOutputConfig"]["KmsKeyId"])
    text = json.dumps(step)
    assert "placeholder" not in text and f"{serving.config.name_prefix}-credit" in text


def test_drift_runs_on_the_configured_schedule_through_its_starter(serving: Synthesized) -> None:
    """The schedule calls the starter function, which starts the drift pipeline only when captured traffic
    and a baseline exist (an empty S3 input fails a processing job before its script runs)."""
    template = monitoring(serving)
    (schedule,) = resources(template, "AWS::Scheduler::Schedule").values()
    assert props(schedule)["ScheduleExpression"] == serving.config.monitoring.drift_schedule
    target = props(schedule)["Target"]
    (starter,) = [k for k in resources(template, "AWS::Lambda::Function") if k.startswith("DriftStarter")]
    assert target["Arn"] == {"Fn::GetAtt": [starter, "Arn"]}
    assert "SageMakerPipelineParameters" not in target
    environment = props(resources(template, "AWS::Lambda::Function")[starter])["Environment"]["Variables"]
    assert environment["CAPTURE_PREFIX"] == f"{CAPTURE_PREFIX}/{serving.config.name_prefix}-credit/"
    assert environment["BASELINE_PREFIX"] == f"{BASELINE_PREFIX}/"
    assert environment["PIPELINE_NAME"] == f"{serving.config.name_prefix}-drift"
    # ... and the pipeline reads exactly those prefixes by default, so "something there" means "the job has input"
    parameters = {p["Name"]: p["DefaultValue"] for p in drift_definition(serving)["Parameters"]}
    assert json.dumps(parameters["CaptureUri"]).endswith(f'/{environment["CAPTURE_PREFIX"]}"')
    assert json.dumps(parameters["BaselineUri"]).endswith(f'/{environment["BASELINE_PREFIX"]}"')


@pytest.mark.exam("4.1", "4.2")
def test_control_14_drift_alarm_notifies_the_topic(serving: Synthesized) -> None:
    ((alarm_id, alarm),) = resources(monitoring(serving), "AWS::CloudWatch::Alarm").items()
    p = props(alarm)
    assert (p["Namespace"], p["MetricName"]) == ("MLPlatform/Drift", "MaxFeaturePSI")
    assert p["Threshold"] == serving.config.monitoring.psi_threshold
    assert p["Dimensions"] == [{"Name": "EndpointName", "Value": f"{serving.config.name_prefix}-credit"}]
    assert "AlertsTopic" in json.dumps(p["AlarmActions"]) and "AlertsTopic" in json.dumps(p["OKActions"])
    assert alarm_id


@pytest.mark.exam("3.3")
def test_the_loop_drift_alarm_starts_the_training_pipeline_once_per_transition(serving: Synthesized) -> None:
    template = monitoring(serving)
    (alarm_id,) = resources(template, "AWS::CloudWatch::Alarm")
    rules = [
        r
        for r in resources(template, "AWS::Events::Rule").values()
        if props(r)["EventPattern"]["source"] == ["aws.cloudwatch"]
    ]
    (rule,) = rules
    pattern = props(rule)["EventPattern"]
    assert pattern["resources"] == [{"Fn::GetAtt": [alarm_id, "Arn"]}]
    # The storm guard: only an OK -> ALARM transition starts a run; a persisting drift starts nothing more.
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}, "previousState": {"value": ["OK"]}}
    (target,) = props(rule)["Targets"]
    assert f":pipeline/{serving.config.name_prefix}-training" in json.dumps(target["Arn"])
    role = template["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]
    (trust,) = statements(props(role)["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    (policy,) = [
        p
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if props(p)["Roles"] == [{"Ref": target["RoleArn"]["Fn::GetAtt"][0]}]
    ]
    (statement,) = statements(props(policy)["PolicyDocument"])
    assert statement["Action"] == "sagemaker:StartPipelineExecution" and statement["Resource"] == target["Arn"]


@pytest.mark.exam("4.2")
def test_pipeline_failures_and_registry_changes_notify_the_topic(platform: Synthesized) -> None:
    template = monitoring(platform)
    patterns = {
        props(r)["EventPattern"]["detail-type"][0]: r for r in resources(template, "AWS::Events::Rule").values()
    }
    failures = props(patterns["SageMaker Model Building Pipeline Execution Status Change"])
    assert failures["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    watched = json.dumps(failures["EventPattern"]["detail"]["pipelineArn"])
    assert f"{platform.config.name_prefix}-training" in watched
    assert (f"{platform.config.name_prefix}-drift" in watched) is has_drift(platform)
    registry = props(patterns["SageMaker Model Package State Change"])
    assert registry["EventPattern"]["detail"]["ModelPackageGroupName"] == [f"{platform.config.name_prefix}-models"]
    # One message per approval: the Inference stack's approval rule announces it (with how to serve the version).
    assert registry["EventPattern"]["detail"]["ModelApprovalStatus"] == [{"anything-but": "Approved"}]
    assert fact("eventbridge-anything-but").url
    for rule in (failures, registry):
        assert "AlertsTopic" in json.dumps(rule["Targets"][0]["Arn"])


@pytest.mark.exam("4.2")
def test_dashboard_covers_endpoint_drift_api_function_and_pipelines(platform: Synthesized) -> None:
    (dashboard,) = resources(monitoring(platform), "AWS::CloudWatch::Dashboard").values()
    assert props(dashboard)["DashboardName"] == f"{platform.config.name_prefix}-operations"
    body = json.dumps(props(dashboard)["DashboardBody"])
    assert "ModelBuildingPipeline" in body
    serving = platform.config.inference.serving
    for metric in ("Invocations", "ModelLatency", "Invocation5XXErrors", "CPUUtilization", "MaxFeaturePSI"):
        assert (metric in body) is (serving and (metric != "MaxFeaturePSI" or has_drift(platform))), metric
    api = serving and platform.config.inference.mode != "async"
    assert ("AWS/Lambda" in body) is api and ("AWS/ApiGateway" in body) is api


@pytest.mark.exam("4.3")
def test_control_19_the_drift_job_has_its_own_role(serving: Synthesized) -> None:
    template = monitoring(serving)
    (pipeline,) = resources(template, "AWS::SageMaker::Pipeline").values()
    role_id = props(pipeline)["RoleArn"]["Fn::GetAtt"][0]
    (trust,) = statements(props(template["Resources"][role_id])["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    statements_of_role = [
        s
        for p in resources(template, "AWS::IAM::ManagedPolicy").values()
        if props(p)["Roles"] == [{"Ref": role_id}]
        for s in statements(props(p)["PolicyDocument"])
    ]
    (pass_role,) = [s for s in statements_of_role if s.get("Sid") == "PassOwnRoleToJobs"]
    assert pass_role["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    actions = {a for s in statements_of_role for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.startswith(("sagemaker:CreateTraining", "sagemaker:CreateEndpoint", "s3:Delete")) for a in actions)


MONITOR_TYPES = ("DataQuality", "ModelQuality", "ModelBias")


def test_no_explainability_monitor_while_jobs_are_network_isolated(builds: dict[str, Synthesized]) -> None:
    """Clarify's SHAP needs a shadow endpoint, which network isolation forbids (facts:
    clarify-shap-needs-network-access): an isolated explainability job could never succeed."""
    assert fact("clarify-shap-needs-network-access").url.startswith("https://docs.aws.amazon.com/")
    for build in builds.values():
        assert not resources(monitoring(build), "AWS::SageMaker::ModelExplainabilityJobDefinition")


def test_model_monitor_is_opt_in(platform: Synthesized) -> None:
    template = monitoring(platform)
    expected = platform.config.monitoring.model_monitor and has_drift(platform)
    for kind in MONITOR_TYPES:
        assert bool(resources(template, f"AWS::SageMaker::{kind}JobDefinition")) is expected, kind
    assert bool(resources(template, "AWS::SageMaker::MonitoringSchedule")) is expected


@pytest.mark.exam("4.3")
@pytest.mark.parametrize("kind", MONITOR_TYPES)
def test_control_15_model_monitor_jobs(builds: dict[str, Synthesized], kind: str) -> None:
    build = builds["model-monitor-ab"]
    template = monitoring(build)
    ((definition_id, definition),) = resources(template, f"AWS::SageMaker::{kind}JobDefinition").items()
    p = props(definition)
    assert p["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert p["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert len(p["NetworkConfig"]["VpcConfig"]["Subnets"]) == build.config.network_az_count
    assert "LakeKey" in json.dumps(p["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"])
    assert "LakeKey" in json.dumps(p[f"{kind}JobOutputConfig"]["KmsKeyId"])
    image = json.dumps(p[f"{kind}AppSpecification"]["ImageUri"])
    assert ("clarify" if kind == "ModelBias" else "analyzer") in image  # region mapping
    endpoint = p[f"{kind}JobInput"]["EndpointInput"]["EndpointName"]
    assert endpoint == f"{build.config.name_prefix}-credit"
    schedules = [
        s
        for s in resources(template, "AWS::SageMaker::MonitoringSchedule").values()
        if props(s)["MonitoringScheduleConfig"]["MonitoringType"] == kind
    ]
    (schedule,) = schedules
    config = props(schedule)["MonitoringScheduleConfig"]
    assert config["MonitoringJobDefinitionName"] == {"Fn::GetAtt": [definition_id, "JobDefinitionName"]}
    assert config["ScheduleConfig"]["ScheduleExpression"] == build.config.monitoring.model_monitor_schedule
    role = p["RoleArn"]["Fn::GetAtt"][0]
    (drift_pipeline,) = resources(template, "AWS::SageMaker::Pipeline").values()
    assert role != props(drift_pipeline)["RoleArn"]["Fn::GetAtt"][0]  # Model Monitor's own role


def test_clarify_configs_name_the_model_features_in_order() -> None:
    """The bias monitor reads the endpoint's capture: the raw model inputs callers send (features.INPUTS, the
    feature group's features between id, time and label), not the encoded training columns."""
    root = Path(__file__).resolve().parent.parent
    schema = json.loads((root / "pipelines" / "feature_schema.json").read_text())
    features = [f["name"] for f in schema["features"]][2:-1]
    assert features == INPUTS
    for name in ("bias_analysis_config.json",):
        config = json.loads((root / "clarify" / name).read_text())
        assert config["headers"] == features, name
    bias = json.loads((root / "clarify" / "bias_analysis_config.json").read_text())
    assert bias["facet"][0]["name_or_index"] in features
