"""What makes a deploy or a first run fail in a real account, each rule backed by a documented fact.

Every test here failed on the templates before issue 8 was fixed; each names the fact it rests on
(config/data/aws_facts.yaml, with its documentation URL). docs/DEPLOY_READINESS.md lists them all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.data.feature_store import OFFLINE_PREFIX
from config import ConfigError
from config.facts import FACTS_FILE, all_facts, fact
from config.loader import parse_settings
from config.schema import FunctionName
from pipelines.placeholders import SERVING_INSTANCE_TYPES
from tests.helpers import as_list, every_resource, props, resources, statements
from tools.platform import EXAMPLE_MODEL_PACKAGE, Synthesized

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("components", "stacks", "config", "lambdas", "pipelines", "tools")


def test_every_fact_names_its_source() -> None:
    for fact_id, entry in all_facts().items():
        assert entry.url.startswith("https://"), fact_id
        assert len(entry.claim) > 40, fact_id


def test_every_fact_the_code_cites_exists() -> None:
    """``facts: <id>`` in a comment or ``fact("<id>")`` in code must name an entry of the facts file."""
    known = set(all_facts())
    cited: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            cited |= set(re.findall(r'fact\("([a-z0-9-]+)"\)', text))
            cited |= {c.rstrip(".,;") for c in re.findall(r"\bfacts: ([a-z0-9-]+)", text)}
    cited -= {"trust"}  # "facts: trust keys of ..." points at the trust section
    assert cited, "no citations found: the scan is broken"
    assert cited <= known, sorted(cited - known)
    assert FACTS_FILE.is_file()


def policy_statements(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    found = []
    for resource in resources(template, resource_type).values():
        found += statements(props(resource).get("KeyPolicy") or props(resource).get("PolicyDocument") or {})
    return found


@pytest.mark.exam("4.3")
def test_trail_key_lets_cloudtrail_decrypt_for_the_bucket_key(platform: Synthesized) -> None:
    template = platform.template("Governance")
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    rules = props(bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert any(rule.get("BucketKeyEnabled") for rule in rules)  # what makes kms:Decrypt necessary
    trail_statements = [
        s
        for s in policy_statements(template, "AWS::KMS::Key")
        if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
    ]
    decrypt = [s for s in trail_statements if "kms:Decrypt" in as_list(s["Action"])]
    assert decrypt, fact("cloudtrail-bucket-key-needs-decrypt").url
    for statement in trail_statements:  # aws:SourceArn, the condition the page recommends, on every statement
        assert "aws:SourceArn" in statement["Condition"]["ArnLike"], statement["Sid"]
        assert ":trail/*" in json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])


@pytest.mark.exam("4.2")
def test_api_gateway_account_logging_role_exists_before_any_stage(platform: Synthesized) -> None:
    governance = platform.template("Governance")
    (account,) = resources(governance, "AWS::ApiGateway::Account").values()
    role_id = props(account)["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = resources(governance, "AWS::IAM::Role")[role_id]
    (trust,) = statements(props(role)["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"} and "Condition" not in trust
    assert role["DeletionPolicy"] == "Retain"  # the setting outlives the stack
    allowed = {
        a
        for policy in resources(governance, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in props(policy).get("Roles", [])
        for s in statements(props(policy)["PolicyDocument"])
        for a in as_list(s["Action"])
    }
    assert allowed == set(fact("apigateway-account-cloudwatch-role").value)
    # The stack that holds the API deploys after Governance (the assembly's dependency order).
    inference = platform.stacks["Inference"]
    assert "Governance" in inference.dependencies


@pytest.mark.exam("4.2")
@pytest.mark.parametrize("name", ["sandbox-serving", "production-serving"])
def test_api_stage_logs_errors_into_a_log_group_it_owns(builds: dict[str, Synthesized], name: str) -> None:
    template = builds[name].template("Inference")
    (stage,) = resources(template, "AWS::ApiGateway::Stage").values()
    (setting,) = props(stage)["MethodSettings"]
    assert setting["LoggingLevel"] in ("ERROR", "INFO") and setting["DataTraceEnabled"] is False
    assert (setting["HttpMethod"], setting["ResourcePath"]) == ("*", "/*")
    groups = resources(template, "AWS::Logs::LogGroup")
    (execution_id,) = [k for k, g in groups.items() if "API-Gateway-Execution-Logs_" in json.dumps(props(g))]
    group = props(groups[execution_id])
    assert group["LogGroupName"]["Fn::Join"][1][-1] == f"/{props(stage)['StageName']}"
    assert "KmsKeyId" in group and group["RetentionInDays"] == builds[name].config.log_retention_days
    assert execution_id in as_list(stage["DependsOn"])  # exists before API Gateway would create it unencrypted


@pytest.mark.parametrize("name", ["sandbox-serving", "async", "production-serving", "shadow"])
def test_serving_in_a_vpc_spans_two_azs(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    needed = fact("hosting-vpc-two-azs").value
    subnets = [k for _, k, _ in every_resource(build, "AWS::EC2::Subnet")]
    assert len(subnets) >= needed
    for _, logical, model in every_resource(build, "AWS::SageMaker::Model"):
        assert len(props(model)["VpcConfig"]["Subnets"]) >= needed, logical


def test_an_idle_sandbox_keeps_one_az(builds: dict[str, Synthesized]) -> None:
    subnets = list(every_resource(builds["sandbox"], "AWS::EC2::Subnet"))
    assert len(subnets) == builds["sandbox"].config.network.az_count == 1


@pytest.mark.parametrize("name", ["sandbox", "sandbox-serving", "production-serving", "async"])
def test_reserved_concurrency_only_where_the_profile_reserves(builds: dict[str, Synthesized], name: str) -> None:
    build = builds[name]
    for _, logical, function in every_resource(build, "AWS::Lambda::Function"):
        if "Starter" not in logical and "Invocation" not in logical:
            continue  # CDK's own provider functions
        reserved = props(function).get("ReservedConcurrentExecutions")
        folder: FunctionName = "drift_starter" if "Starter" in logical else "invoke_endpoint"
        assert reserved == build.config.functions.reserved_for(folder), logical
    if build.config.environment == "sandbox":
        assert not [f for _, _, f in every_resource(build, "AWS::Lambda::Function") if "Reserved" in json.dumps(f)]


def test_model_monitor_has_no_network_isolated_explainability_job(builds: dict[str, Synthesized]) -> None:
    template = builds["model-monitor-ab"].template("Monitoring")
    assert resources(template, "AWS::SageMaker::DataQualityJobDefinition")
    assert not resources(template, "AWS::SageMaker::ModelExplainabilityJobDefinition")


@pytest.mark.exam("4.2")
def test_budgets_and_the_anomaly_subscription_wait_for_the_topic_policy(platform: Synthesized) -> None:
    template = platform.template("Governance")
    (policy_id,) = resources(template, "AWS::SNS::TopicPolicy")
    for kind in ("AWS::Budgets::Budget", "AWS::CE::AnomalySubscription"):
        for logical, resource in resources(template, kind).items():
            assert policy_id in as_list(resource.get("DependsOn", [])), (logical, fact("budgets-sns-topic-policy").url)


def test_teardown_stops_firehose_before_emptying_raw_and_keeps_the_log_bucket(sandbox: Synthesized) -> None:
    lake = sandbox.template("DataLake")
    (stream_id,) = resources(lake, "AWS::KinesisFirehose::DeliveryStream")
    buckets = resources(lake, "AWS::S3::Bucket")
    (raw_id,) = [k for k in buckets if "Raw" in k]
    (emptier,) = [
        r
        for r in resources(lake, "Custom::S3AutoDeleteObjects").values()
        if r["Properties"]["BucketName"]["Ref"] == raw_id
    ]
    assert stream_id in as_list(emptier["DependsOn"]), fact("firehose-buffering").url
    (logs_id,) = [k for k in buckets if "AccessLogs" in k]
    assert buckets[logs_id]["DeletionPolicy"] == "Retain", fact("s3-access-logs-best-effort").url
    emptied = {r["Properties"]["BucketName"]["Ref"] for r in resources(lake, "Custom::S3AutoDeleteObjects").values()}
    assert logs_id not in emptied


@pytest.mark.exam("1.2")
def test_feature_group_name_is_new_for_every_stack_creation(platform: Synthesized) -> None:
    (group,) = resources(platform.template("FeatureStore"), "AWS::SageMaker::FeatureGroup").values()
    name = json.dumps(props(group)["FeatureGroupName"])
    assert "AWS::StackId" in name, fact("feature-group-name-unique").url
    table = json.dumps(props(group)["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"])
    assert "AWS::StackId" in table and "-" not in json.loads(table)["Fn::Join"][1][0]


def _raw(profile: str = "sandbox") -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "config" / f"{profile}.yaml").read_text()))


def _refused(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, source="p.yaml")
    message = str(error.value)
    assert "\n" not in message
    return message


def test_serving_with_one_az_is_refused() -> None:
    raw = _raw()
    raw["inference"]["model_package_arn"] = EXAMPLE_MODEL_PACKAGE
    raw["network"]["serving_az_count"] = 1
    message = _refused(raw)
    assert message.startswith(
        "p.yaml: network.serving_az_count: SageMaker hosting in a VPC needs subnets in at least 2"
    )
    assert fact("hosting-vpc-two-azs").url in message
    raw["inference"]["mode"] = "serverless"  # no VPC: one AZ is fine
    assert parse_settings(raw).network_az_count == 1


def test_challenger_and_shadow_together_are_refused() -> None:
    raw = _raw("production")
    raw["inference"]["model_package_arn"] = EXAMPLE_MODEL_PACKAGE
    raw["inference"]["challenger_model_package_arn"] = EXAMPLE_MODEL_PACKAGE.replace("/1", "/2")
    raw["inference"]["shadow_model_package_arn"] = EXAMPLE_MODEL_PACKAGE.replace("/1", "/3")
    message = _refused(raw)
    assert message.startswith("p.yaml: inference.shadow_model_package_arn: an endpoint with a shadow variant")
    assert fact("shadow-variants-one-production-variant").url in message


@pytest.mark.parametrize(
    ("zones", "region", "expected"),
    [
        (["eu-west-1a", "eu-west-1b"], None, "network.availability_zones: pinned AZs need `region`"),
        (["eu-west-1a", "eu-west-2b"], "eu-west-1", "network.availability_zones: 'eu-west-2b' is not an AZ of"),
        (["eu-west-1a"], "eu-west-1", "network.availability_zones: names 1 AZ(s), the profile uses up to 2"),
        (["eu-west-1a", "eu-west-1a"], "eu-west-1", "network.availability_zones: lists an AZ twice"),
    ],
)
def test_pinned_azs_are_checked(zones: list[str], region: str | None, expected: str) -> None:
    raw = _raw()
    raw["network"]["availability_zones"] = zones
    if region:
        raw["region"] = region
    assert expected in _refused(raw)


def test_pinned_azs_are_the_ones_the_vpc_uses() -> None:
    """The Network stack alone, as the stage builds it, for a serving profile that pins its AZs."""
    import aws_cdk as cdk  # noqa: PLC0415 - the one test here that builds a stack
    from aws_cdk.assertions import Template  # noqa: PLC0415

    from stacks.network_stack import NetworkStack  # noqa: PLC0415

    raw = _raw()
    raw.update(region="eu-west-1", account="123456789012")
    raw["network"]["availability_zones"] = ["eu-west-1b", "eu-west-1c"]
    raw["inference"]["model_package_arn"] = EXAMPLE_MODEL_PACKAGE
    config = parse_settings(raw)
    stack = NetworkStack(
        cdk.App(),
        "Network",
        config=config,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        env=cdk.Environment(account=config.account, region=config.region),
    )
    subnets = Template.from_stack(stack).find_resources("AWS::EC2::Subnet")
    zones = sorted(subnet["Properties"]["AvailabilityZone"] for subnet in subnets.values())
    assert zones == ["eu-west-1b", "eu-west-1c"]


def test_vpc_statements_are_the_documented_lists(platform: Synthesized) -> None:
    """Each role in the VPC holds exactly the EC2 actions its service documents for VPC attachment."""
    documented = {
        "sagemaker.amazonaws.com": set(fact("sagemaker-vpc-permissions").value),
        "lambda.amazonaws.com": set(fact("lambda-vpc-permissions").value),
    }
    found = 0
    for stack_id in platform.stacks:
        template = platform.template(stack_id)
        roles = resources(template, "AWS::IAM::Role")
        for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
            for statement in statements(props(policy)["PolicyDocument"]):
                if statement.get("Sid") != "VpcNetworkInterfaces":
                    continue
                (role,) = [roles[r["Ref"]] for r in props(policy)["Roles"]]
                service = props(role)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
                assert set(as_list(statement["Action"])) == documented[service], service
                found += 1
    assert found >= 1


def test_every_fact_is_listed_in_the_readiness_document() -> None:
    text = (ROOT / "docs" / "DEPLOY_READINESS.md").read_text(encoding="utf-8")
    missing = [fact_id for fact_id in all_facts() if f"`{fact_id}`" not in text]
    assert not missing, missing


def test_the_crawler_leaves_the_feature_store_table_alone(platform: Synthesized) -> None:
    (crawler,) = resources(platform.template("DataLake"), "AWS::Glue::Crawler").values()
    (target,) = props(crawler)["Targets"]["S3Targets"]
    assert f"{OFFLINE_PREFIX}/**" in target["Exclusions"], fact("feature-store-glue-table").url


@pytest.mark.parametrize("kind", ["ModelQuality", "ModelBias", "DataQuality"])
def test_hourly_model_monitor_jobs_stop_within_the_documented_cap(builds: dict[str, Synthesized], kind: str) -> None:
    template = builds["model-monitor-ab"].template("Monitoring")
    (definition,) = resources(template, f"AWS::SageMaker::{kind}JobDefinition").values()
    assert props(definition)["StoppingCondition"]["MaxRuntimeInSeconds"] <= 1800, fact(
        "model-monitor-hourly-max-runtime"
    ).url


def test_eventbridge_publishes_to_the_alerts_topic_under_its_documented_key(platform: Synthesized) -> None:
    policies = resources(platform.template("Governance"), "AWS::SNS::TopicPolicy").values()
    (statement,) = [
        s
        for p in policies
        for s in statements(props(p)["PolicyDocument"])
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert ":rule/*" in json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    assert "StringEquals" not in statement["Condition"], fact("sns-publisher-conditions").url


def test_registered_packages_list_every_instance_type_a_profile_serves_on() -> None:
    """Batch transform and endpoints take a package's SupportedTransform/RealtimeInferenceInstanceTypes
    (facts: model-package-instance-types); the pipeline registers SERVING_INSTANCE_TYPES, and every profile's
    serving type is among them (config validation refuses any other)."""
    for variant in ("train", "train-spot", "tune", "tune-spot"):
        definition = json.loads((ROOT / "pipelines" / "definitions" / f"{variant}.json").read_text())
        condition = next(s for s in definition["Steps"] if s["Type"] == "Condition")
        (register,) = [s for s in condition["Arguments"]["IfSteps"] if s["Type"] == "RegisterModel"]
        spec = register["Arguments"]["InferenceSpecification"]
        assert spec["SupportedTransformInstanceTypes"] == list(SERVING_INSTANCE_TYPES), variant
        assert spec["SupportedRealtimeInferenceInstanceTypes"] == list(SERVING_INSTANCE_TYPES), variant
    for profile in ("sandbox", "production"):
        assert _raw(profile)["inference"]["instance_type"] in SERVING_INSTANCE_TYPES
    raw = _raw()
    raw["inference"]["batch_transform"] = True
    raw["inference"]["instance_type"] = "ml.g4dn.xlarge"
    assert "inference.instance_type: 'ml.g4dn.xlarge' is not among" in _refused(raw)
    assert fact("model-package-instance-types").url


def test_spot_checkpoints_belong_to_one_execution() -> None:
    """A shared checkpoint location made every retraining resume the previous run's model."""
    for variant in ("train-spot", "tune-spot"):
        text = (ROOT / "pipelines" / "definitions" / f"{variant}.json").read_text()
        definition = json.loads(text)
        step = next(s for s in definition["Steps"] if s["Type"] in ("Training", "Tuning"))
        arguments = step["Arguments"].get("TrainingJobDefinition", step["Arguments"])
        uri = json.dumps(arguments["CheckpointConfig"]["S3Uri"])
        assert "Execution.PipelineExecutionId" in uri, variant
        assert "DebugHookConfig" not in arguments, variant  # Debugger is closed to new customers


# Cross-stack references are weak (Fn::GetStackOutput, resolved when the consumer deploys): the decision per
# producer (facts: fn-getstackoutput-weak). Stateful producers are protected (termination protection,
# retained resources), so their outputs do not change under a consumer; the two stateless producers are named
# here with the README's redeploy rule (`make deploy FORCE=1` after replacing one of their resources).
WEAK_REFERENCE_PRODUCERS = {
    "DataLake": "stateful",
    "Governance": "stateful",
    "FeatureStore": "stateful",
    "Network": "stateless: FORCE=1 after replacing a subnet, group or key",
    "Inference": "stateless: the dashboard reads the function and API; FORCE=1 after replacing them",
}


def test_every_weak_reference_has_a_decided_producer(platform: Synthesized) -> None:
    names = {platform.config.stack_name(stack_id): stack_id for stack_id in platform.stacks}
    found = 0
    for consumer in platform.stacks:
        text = platform.template_path(consumer).read_text()
        for producer_name in set(re.findall(r'"Fn::GetStackOutput": \{\s*"StackName": "([^"]+)"', text)):
            found += 1
            producer = names[producer_name]  # a stack of this stage, never another copy's
            assert producer in WEAK_REFERENCE_PRODUCERS, (consumer, producer)
            assert producer in platform.stacks[consumer].dependencies, (consumer, producer)
            if WEAK_REFERENCE_PRODUCERS[producer] == "stateful":
                assert platform.stacks[producer].termination_protection, producer
    assert found, "no weak reference found: the pattern no longer matches the templates"
    assert fact("fn-getstackoutput-weak").url
