"""SECURITY.md controls 7, 9-14 and 39 in every serving build, the no-model first deploy, and each option."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.data.lake import CAPTURE_PREFIX
from config.facts import fact
from tests.helpers import as_list, props, resources, statements
from tools.platform import Synthesized

pytestmark = pytest.mark.exam("3.1", "3.2")
SERVING_BUILDS = ("sandbox-serving", "production-serving", "async", "model-monitor-ab", "shadow", "serverless")
IN_VPC = ("sandbox-serving", "production-serving", "async", "model-monitor-ab", "shadow")


def inference(build: Synthesized) -> dict[str, Any]:
    return build.template("Inference")


def variants(build: Synthesized) -> list[dict[str, Any]]:
    (config,) = resources(inference(build), "AWS::SageMaker::EndpointConfig").values()
    return list(props(config)["ProductionVariants"]) + list(props(config).get("ShadowProductionVariants", []))


def test_first_deploy_has_no_endpoint_only_the_deploy_path(platform: Synthesized) -> None:
    template = inference(platform)
    serving = platform.config.inference.serving
    for kind in ("AWS::SageMaker::Model", "AWS::SageMaker::Endpoint"):
        assert bool(resources(template, kind)) is serving, kind
    api = serving and platform.config.inference.mode != "async"
    assert bool(resources(template, "AWS::Lambda::Function")) is api
    (rule,) = resources(template, "AWS::Events::Rule").values()
    pattern = props(rule)["EventPattern"]
    assert pattern["detail-type"] == ["SageMaker Model Package State Change"]
    assert pattern["detail"]["ModelApprovalStatus"] == ["Approved"]
    assert pattern["detail"]["ModelPackageGroupName"] == [f"{platform.config.name_prefix}-models"]
    (target,) = props(rule)["Targets"]
    assert "AlertsTopic" in json.dumps(target["Arn"])
    message = target["InputTransformer"]["InputTemplate"]
    cicd = platform.config.cicd
    if platform.config.pipeline_enabled and cicd is not None and cicd.model_deploy is not None:
        assert platform.config.pipeline_name in message  # the pipeline deploys it (tests/test_model_deploy.py)
    else:
        assert "MODEL_PACKAGE_ARN=" in message


@pytest.mark.exam("4.3")
@pytest.mark.parametrize("name", SERVING_BUILDS)
def test_control_7_models_are_isolated_in_the_vpc(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    models = resources(inference(build), "AWS::SageMaker::Model")
    assert models
    packages = {props(m)["PrimaryContainer"]["ModelPackageName"] for m in models.values()}
    assert build.config.inference.model_package_arn in packages
    for logical, model in models.items():
        if name == "serverless":  # the documented trade-off: no VPC, no isolation, a reasoned checkov skip
            assert "VpcConfig" not in props(model) and "EnableNetworkIsolation" not in props(model)
            assert model["Metadata"]["checkov"]["skip"][0]["id"] == "CKV_AWS_370"
            continue
        assert props(model)["EnableNetworkIsolation"] is True, logical
        vpc = props(model)["VpcConfig"]
        assert len(vpc["Subnets"]) == build.config.network_az_count >= 2  # hosting in a VPC: two AZs at least
        assert "WorkloadSecurityGroup" in json.dumps(vpc["SecurityGroupIds"])


@pytest.mark.parametrize("name", SERVING_BUILDS)
def test_control_9_endpoint_config_is_encrypted(builds: dict[str, Synthesized], name: str) -> None:
    (config,) = resources(inference(builds[name]), "AWS::SageMaker::EndpointConfig").values()
    assert "LakeKey" in json.dumps(props(config)["KmsKeyId"])


@pytest.mark.exam("4.1")
@pytest.mark.parametrize("name", IN_VPC)
def test_control_10_data_capture_into_the_lake(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    (config,) = resources(inference(build), "AWS::SageMaker::EndpointConfig").values()
    capture = props(config)["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == build.config.inference.data_capture_percent
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    assert "LakeKey" in json.dumps(capture["KmsKeyId"])
    assert "LakeArtifactsBucket" in json.dumps(capture["DestinationS3Uri"])
    assert f"/{CAPTURE_PREFIX}" in json.dumps(capture["DestinationS3Uri"])


def test_control_10_serverless_has_no_capture_as_documented(builds: dict[str, Synthesized]) -> None:
    (config,) = resources(inference(builds["serverless"]), "AWS::SageMaker::EndpointConfig").values()
    assert "DataCaptureConfig" not in props(config)
    (variant,) = props(config)["ProductionVariants"]
    assert (
        variant["ServerlessConfig"]["MaxConcurrency"]
        == builds["serverless"].config.inference.serverless_max_concurrency
    )


@pytest.mark.parametrize("name", ["production-serving", "model-monitor-ab", "shadow"])
def test_control_11_production_variants_have_two_instances(builds: dict[str, Synthesized], name: str) -> None:
    for variant in variants(builds[name]):
        assert variant["InitialInstanceCount"] >= 2, variant["VariantName"]


@pytest.mark.exam("3.3")
@pytest.mark.parametrize("name", ["production-serving", "model-monitor-ab", "shadow"])
def test_control_12_production_deploys_blue_green_with_rollback_alarms(
    builds: dict[str, Synthesized], name: str
) -> None:
    template = inference(builds[name])
    (endpoint,) = resources(template, "AWS::SageMaker::Endpoint").values()
    deployment = props(endpoint)["DeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] in ("CANARY", "LINEAR")
    step = routing.get("CanarySize") or routing["LinearStepSize"]
    assert step == {"Type": "CAPACITY_PERCENT", "Value": builds[name].config.inference.deployment.step_percent}
    assert routing["WaitIntervalInSeconds"] > 0
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    rollback = [a["AlarmName"]["Ref"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]]
    assert rollback and set(rollback) <= set(alarms)  # the rollback alarms exist in this stack
    assert len(rollback) == 2 * len(variants(builds[name]))


@pytest.mark.parametrize("name", [n for n in SERVING_BUILDS if n not in ("serverless", "async")])
def test_every_blue_green_routing_names_its_wait_interval(builds: dict[str, Synthesized], name: str) -> None:
    """SageMaker requires WaitIntervalInSeconds for ALL_AT_ONCE too (facts: blue-green-wait-interval-required)."""
    (endpoint,) = resources(inference(builds[name]), "AWS::SageMaker::Endpoint").values()
    routing = props(endpoint)["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert 0 <= routing["WaitIntervalInSeconds"] <= 3600, fact("blue-green-wait-interval-required").url


@pytest.mark.exam("4.2")
@pytest.mark.parametrize("name", ["sandbox-serving", "production-serving", "model-monitor-ab", "shadow"])
def test_control_13_target_tracking_per_variant(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    template = inference(build)
    targets = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    names = {v["VariantName"] for v in variants(build)}
    assert {props(t)["ResourceId"].rsplit("/", 1)[1] for t in targets.values()} == names
    scaling = build.config.inference
    for target in targets.values():
        assert props(target)["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert (props(target)["MinCapacity"], props(target)["MaxCapacity"]) == (
            scaling.min_capacity,
            scaling.max_capacity,
        )
        assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in json.dumps(props(target)["RoleARN"])
        if build.config.environment == "production":
            assert props(target)["MinCapacity"] >= 2 and props(target)["MaxCapacity"] > props(target)["MinCapacity"]
            assert len(props(target)["ScheduledActions"]) == 2  # business hours up, evenings back
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(policies) == len(names)
    for policy in policies.values():
        tracking = props(policy)["TargetTrackingScalingPolicyConfiguration"]
        assert (
            tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
            == "SageMakerVariantInvocationsPerInstance"
        )
        assert tracking["TargetValue"] == scaling.autoscaling.target_invocations_per_instance
        assert tracking["ScaleInCooldown"] == scaling.autoscaling.scale_in_cooldown_seconds


@pytest.mark.exam("4.1", "4.2")
@pytest.mark.parametrize("name", SERVING_BUILDS)
def test_control_14_errors_and_latency_alarms_per_variant_notify_the_topic(
    builds: dict[str, Synthesized], name: str
) -> None:
    build = builds[name]
    alarms = list(resources(inference(build), "AWS::CloudWatch::Alarm").values())
    for variant in variants(build):
        mine = [
            a
            for a in alarms
            if {"Name": "VariantName", "Value": variant["VariantName"]} in props(a).get("Dimensions", [])
        ]
        assert {props(a)["MetricName"] for a in mine} == {"Invocation5XXErrors", "ModelLatency"}, variant
        for alarm in mine:
            assert "AlertsTopic" in json.dumps(props(alarm)["AlarmActions"])
            assert props(alarm)["Namespace"] == "AWS/SageMaker"
    latency = [a for a in alarms if props(a).get("MetricName") == "ModelLatency"]
    assert all(props(a)["Threshold"] == build.config.inference.latency_alarm_ms * 1000 for a in latency)


def test_ab_test_with_a_challenger(builds: dict[str, Synthesized]) -> None:
    build = builds["model-monitor-ab"]
    (config,) = resources(inference(build), "AWS::SageMaker::EndpointConfig").values()
    weights = {v["VariantName"]: v["InitialVariantWeight"] for v in props(config)["ProductionVariants"]}
    challenger = build.config.inference.challenger_weight_percent
    assert weights == {"Primary": 100 - challenger, "Challenger": challenger}
    assert "ShadowProductionVariants" not in props(config)
    assert len(resources(inference(build), "AWS::SageMaker::Model")) == 2


def test_shadow_variant_beside_exactly_one_production_variant(builds: dict[str, Synthesized]) -> None:
    build = builds["shadow"]
    (config,) = resources(inference(build), "AWS::SageMaker::EndpointConfig").values()
    most = fact("shadow-variants-one-production-variant").value
    assert [v["VariantName"] for v in props(config)["ProductionVariants"]] == ["Primary"]
    assert len(props(config)["ProductionVariants"]) == most
    assert [v["VariantName"] for v in props(config)["ShadowProductionVariants"]] == ["Shadow"]
    assert len(resources(inference(build), "AWS::SageMaker::Model")) == 2


def test_async_results_land_in_the_lake_and_scale_to_zero(builds: dict[str, Synthesized]) -> None:
    template = inference(builds["async"])
    (config,) = resources(template, "AWS::SageMaker::EndpointConfig").values()
    output = props(config)["AsyncInferenceConfig"]["OutputConfig"]
    assert "LakeArtifactsBucket" in json.dumps(output["S3OutputPath"]) and "/async/output" in json.dumps(
        output["S3OutputPath"]
    )
    assert "/async/failures" in json.dumps(output["S3FailurePath"])
    assert "LakeKey" in json.dumps(output["KmsKeyId"])
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 2 and all("KmsMasterKeyId" in props(t) for t in topics.values())
    assert {json.dumps(output["NotificationConfig"][k]) for k in ("SuccessTopic", "ErrorTopic")} == {
        json.dumps({"Ref": logical}) for logical in topics
    }
    (target,) = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert props(target)["MinCapacity"] == 0
    kinds = {props(p)["PolicyType"] for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()}
    assert kinds == {"TargetTrackingScaling", "StepScaling"}  # backlog per instance, and 0 -> 1 on backlog
    assert not resources(template, "AWS::ApiGateway::RestApi")  # async clients use S3 + InvokeEndpointAsync


@pytest.mark.exam("4.3")
@pytest.mark.parametrize("name", ["sandbox-serving", "production-serving", "serverless"])
def test_control_39_the_invocation_function(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    template = inference(build)
    (function,) = resources(template, "AWS::Lambda::Function").values()
    p = props(function)
    assert p["Runtime"] == fact("lambda-python-runtime").value == "python3.12"
    assert len(p["VpcConfig"]["SubnetIds"]) == build.config.network_az_count
    assert "DeadLetterConfig" in p and "KmsKeyArn" in p
    # Reserved only where the profile reserves (new accounts: quota 10, 100 must stay unreserved).
    assert p.get("ReservedConcurrentExecutions") == build.config.functions.reserved_for("invoke_endpoint")
    assert p["MemorySize"] == 256 and p["Timeout"] == 15
    assert p["TracingConfig"] == {"Mode": "Active"}
    for permission in resources(template, "AWS::Lambda::Permission").values():
        assert props(permission)["Principal"] == "apigateway.amazonaws.com"
        assert "SourceArn" in props(permission)
    (queue,) = resources(template, "AWS::SQS::Queue").values()
    assert "KmsMasterKeyId" in props(queue)


@pytest.mark.exam("4.3")
@pytest.mark.parametrize("name", ["sandbox-serving", "production-serving"])
def test_api_requires_iam_and_is_throttled_and_logged(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    template = inference(build)
    methods = [
        m for m in resources(template, "AWS::ApiGateway::Method").values() if props(m)["HttpMethod"] != "OPTIONS"
    ]
    assert methods and all(props(m)["AuthorizationType"] == "AWS_IAM" for m in methods)
    (stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    (settings,) = props(stage)["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == build.config.inference.api.throttle_rate_per_second
    assert settings["ThrottlingBurstLimit"] == build.config.inference.api.throttle_burst
    assert props(stage)["TracingEnabled"] is True
    log_group = props(stage)["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1][-1]["Ref"]
    assert "KmsKeyId" in props(template["Resources"][log_group])


@pytest.mark.exam("4.3")
@pytest.mark.parametrize("name", ["sandbox-serving", "production-serving"])
def test_control_19_endpoint_and_function_roles_are_their_own(builds: dict[str, Synthesized], name: str) -> None:
    template = inference(builds[name])
    policies: dict[str, list[dict[str, Any]]] = {}
    for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
        for role in props(policy)["Roles"]:
            policies.setdefault(role["Ref"], []).extend(statements(props(policy)["PolicyDocument"]))
    model_roles = {
        props(m)["ExecutionRoleArn"]["Fn::GetAtt"][0] for m in resources(template, "AWS::SageMaker::Model").values()
    }
    (function,) = resources(template, "AWS::Lambda::Function").values()
    function_role = props(function)["Role"]["Fn::GetAtt"][0]
    assert len(model_roles) == 1 and function_role not in model_roles
    for role in (*model_roles, function_role):
        actions = {a for s in policies[role] for a in as_list(s["Action"])}
        assert "iam:PassRole" not in actions and not any(a.startswith("sagemaker:Create") for a in actions)
    (invoke,) = [s for s in policies[function_role] if s.get("Sid") == "InvokeTheEndpoint"]
    assert invoke["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sagemaker:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":endpoint/{builds[name].config.name_prefix}-credit",
            ],
        ]
    }


@pytest.mark.exam("3.1")
def test_batch_transform_option(platform: Synthesized) -> None:
    template = inference(platform)
    pipelines = resources(template, "AWS::SageMaker::Pipeline")
    assert bool(pipelines) is platform.config.inference.batch_transform
    if not pipelines:
        return
    (pipeline,) = pipelines.values()
    separator, parts = props(pipeline)["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Join"]
    text = separator.join(part if isinstance(part, str) else "<ref>" for part in parts)
    assert "placeholder" not in text and "111122223333" not in text
    definition = json.loads(text)
    steps = {step["Type"]: step["Arguments"] for step in definition["Steps"]}
    model = steps["Model"]
    assert model["PrimaryContainer"] == {"ModelPackageName": {"Get": "Parameters.ModelPackageArn"}}
    assert model["EnableNetworkIsolation"] is True
    assert len(model["VpcConfig"]["Subnets"]) == platform.config.network.az_count
    transform = steps["Transform"]
    assert transform["TransformOutput"]["KmsKeyId"] == "<ref>" == transform["TransformResources"]["VolumeKmsKeyId"]
    role = props(pipeline)["RoleArn"]["Fn::GetAtt"][0]
    trust = statements(props(template["Resources"][role])["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
