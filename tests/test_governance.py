"""SECURITY.md controls 35, 36 and 42, cost-allocation tags and anomaly detection."""

from __future__ import annotations

import json

import pytest

from tests.helpers import every_resource, props, resources, statements, this_account
from tools.platform import Synthesized


def governance(platform: Synthesized) -> dict[str, object]:
    return platform.template("Governance")


@pytest.mark.exam("4.2", "4.3")
def test_control_35_cloudtrail(platform: Synthesized) -> None:
    template = governance(platform)
    (trail,) = resources(template, "AWS::CloudTrail::Trail").values()
    p = props(trail)
    assert p["IsLogging"] and p["IsMultiRegionTrail"] and p["IncludeGlobalServiceEvents"]
    assert p["EnableLogFileValidation"] is True
    assert p["KMSKeyId"] == {"Fn::GetAtt": [next(iter(resources(template, "AWS::KMS::Key"))), "Arn"]}
    assert "CloudWatchLogsLogGroupArn" in p and "CloudWatchLogsRoleArn" in p
    (selector,) = p["EventSelectors"]
    assert selector["IncludeManagementEvents"] is True and selector["ReadWriteType"] == "All"
    (data,) = selector["DataResources"]
    assert data["Type"] == "AWS::S3::Object"
    lake = json.dumps(data["Values"])
    for zone in ("LakeRawBucket", "LakeCuratedBucket", "LakeArtifactsBucket"):
        assert zone in lake


@pytest.mark.exam("4.2")
def test_control_36_every_log_group_encrypted_with_retention(platform: Synthesized) -> None:
    groups = list(every_resource(platform, "AWS::Logs::LogGroup"))
    assert len(groups) >= 3  # flow logs, Firehose delivery, CloudTrail
    for _, logical, group in groups:
        assert "KmsKeyId" in props(group), logical
        assert props(group)["RetentionInDays"] >= 1, logical


def test_control_36_production_keeps_logs_a_year(production: Synthesized) -> None:
    for _, logical, group in every_resource(production, "AWS::Logs::LogGroup"):
        assert props(group)["RetentionInDays"] >= 365, logical


@pytest.mark.exam("4.2")
def test_control_42_budgets_alert_actual_and_forecast_to_topic_and_email(platform: Synthesized) -> None:
    template = governance(platform)
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    budgets = resources(template, "AWS::Budgets::Budget")
    assert len(budgets) == 2
    limits = set()
    for budget in budgets.values():
        data = props(budget)["Budget"]
        assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
        assert "BudgetName" not in data  # generated: budget names are unique per account
        limits.add(data["BudgetLimit"]["Amount"])
        kinds = {n["Notification"]["NotificationType"] for n in props(budget)["NotificationsWithSubscribers"]}
        assert kinds == {"ACTUAL", "FORECASTED"}
        for notification in props(budget)["NotificationsWithSubscribers"]:
            subscribers = {(s["SubscriptionType"], json.dumps(s["Address"])) for s in notification["Subscribers"]}
            assert subscribers == {
                ("SNS", json.dumps({"Ref": topic_id})),
                ("EMAIL", json.dumps(platform.config.alert_email)),
            }
    configured = platform.config.governance.costs.budget
    assert limits == {configured.monthly_limit_usd, configured.sagemaker_monthly_limit_usd}
    sagemaker = [b for b in budgets.values() if "CostFilters" in props(b)["Budget"]]
    assert [props(b)["Budget"]["CostFilters"] for b in sagemaker] == [{"Service": ["Amazon SageMaker"]}]


@pytest.mark.exam("4.2")
def test_control_42_topic_is_encrypted_and_budgets_may_publish(platform: Synthesized) -> None:
    template = governance(platform)
    (topic,) = resources(template, "AWS::SNS::Topic").values()
    key_id = props(topic)["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = props(template["Resources"][key_id])["KeyPolicy"]  # type: ignore[index]
    budgets_key = [s for s in statements(key_policy) if s["Principal"] == {"Service": "budgets.amazonaws.com"}]
    assert budgets_key and "kms:GenerateDataKey*" in budgets_key[0]["Action"]
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    publish = [
        s for s in statements(props(policy)["PolicyDocument"]) if s["Principal"] == {"Service": "budgets.amazonaws.com"}
    ]
    assert publish and publish[0]["Action"] == "sns:Publish"
    assert this_account(publish[0]["Condition"]["StringEquals"]["aws:SourceAccount"])
    tls = [s for s in statements(props(policy)["PolicyDocument"]) if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in tls)
    (subscription,) = resources(template, "AWS::SNS::Subscription").values()
    assert props(subscription)["Protocol"] == "email"
    assert props(subscription)["Endpoint"] == platform.config.alert_email


@pytest.mark.exam("4.2")
def test_cost_anomaly_monitor_is_custom_and_scoped_to_the_project_tag(platform: Synthesized) -> None:
    template = governance(platform)
    monitors = resources(template, "AWS::CE::AnomalyMonitor")
    # Opt-in: a tag monitor needs a management or standalone account (facts: cost-anomaly-tag-monitor-...).
    assert bool(monitors) is platform.config.governance.costs.anomaly_detection
    if not monitors:
        return
    (monitor,) = monitors.values()
    assert props(monitor)["MonitorType"] == "CUSTOM"  # never a second DIMENSIONAL monitor
    spec = json.loads(props(monitor)["MonitorSpecification"])
    assert spec["Tags"] == {"Key": "project", "Values": [platform.config.project_name], "MatchOptions": ["EQUALS"]}
    (subscription,) = resources(template, "AWS::CE::AnomalySubscription").values()
    assert props(subscription)["Subscribers"][0]["Type"] == "SNS"
    assert props(subscription)["Frequency"] == "IMMEDIATE"


@pytest.mark.exam("4.2")
def test_cost_allocation_tags_on_every_taggable_resource(platform: Synthesized) -> None:
    expected = platform.config.cost_allocation_tags
    tagged = 0
    for stack_id, logical, resource in every_resource(platform):
        tags = props(resource).get("Tags", props(resource).get("ResourceTags"))
        if tags is None:
            continue
        values = {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else tags
        for key, value in expected.items():
            assert values.get(key) == value, f"{stack_id}/{logical} lacks tag {key}={value}"
        tagged += 1
    assert tagged >= 30
    for kind in (
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::EC2::VPC",
        "AWS::Kinesis::Stream",
        "AWS::CloudTrail::Trail",
        "AWS::SNS::Topic",
        "AWS::Budgets::Budget",
    ):
        for _, logical, resource in every_resource(platform, kind):
            assert "Tags" in props(resource) or "ResourceTags" in props(resource), logical
