"""The fixed-cost report: computed from templates alone, on a price table that says where each price comes from."""

from __future__ import annotations

from typing import Any

import pytest

from tools.cost import (
    BEGIN,
    END,
    PROFILES,
    README,
    CostLine,
    fixed_costs,
    load_prices,
    prices,
    profile_costs,
    readme_cost_block,
    render_text,
    replace_block,
    templates_of,
    total,
    unclassified,
)
from tools.platform import Synthesized

TABLE = prices()
MONTH = TABLE.hours_per_month


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": {logical: resource for logical, resource in resources.items()}}


def res(kind: str, **props: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": props}


def by_kind(templates: list[dict[str, Any]]) -> dict[str, CostLine]:
    return {line.kind: line for line in fixed_costs(templates)}


def test_interface_endpoints_cost_per_az_and_gateways_nothing() -> None:
    lines = by_kind(
        [
            template(
                Api=res("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds=[{"Ref": "A"}, {"Ref": "B"}]),
                S3=res("AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway"),
            ),
            template(Runtime=res("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds=["subnet-1"])),
        ]
    )
    line = lines["Interface VPC endpoints"]
    assert (line.quantity, line.detail) == (3, "2 endpoints")
    assert line.monthly_usd == round(3 * 0.01 * MONTH, 2) == 21.90
    assert fixed_costs([template(S3=res("AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway"))]) == []


def test_interface_endpoint_with_uncountable_subnets_is_an_error_not_a_guess() -> None:
    split = {"Fn::Split": [",", {"Fn::ImportValue": "Subnets"}]}
    with pytest.raises(ValueError, match="cannot count its AZs"):
        fixed_costs([template(E=res("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds=split))])


def test_kinesis_provisioned_shards_extended_retention_and_on_demand() -> None:
    lines = by_kind(
        [
            template(
                Small=res("AWS::Kinesis::Stream", ShardCount=1, StreamModeDetails={"StreamMode": "PROVISIONED"}),
                Replay=res("AWS::Kinesis::Stream", ShardCount=2, RetentionPeriodHours=168),
                Elastic=res("AWS::Kinesis::Stream", StreamModeDetails={"StreamMode": "ON_DEMAND"}),
            )
        ]
    )
    assert lines["Kinesis shards (provisioned)"].quantity == 3
    assert lines["Kinesis shards (provisioned)"].monthly_usd == 32.85
    assert lines["Kinesis retention beyond 24 h (provisioned)"].quantity == 2  # only the 7-day stream's shards
    assert lines["Kinesis retention beyond 24 h (provisioned)"].monthly_usd == 29.20
    assert lines["Kinesis streams (on-demand)"].monthly_usd == round(0.04 * MONTH, 2)


def test_firehose_direct_put_has_no_fixed_charge() -> None:
    direct = res("AWS::KinesisFirehose::DeliveryStream", DeliveryStreamType="DirectPut")
    assert fixed_costs([template(Delivery=direct)]) == []
    assert "AWS::KinesisFirehose::DeliveryStream" in TABLE.usage_based


def test_kms_keys_cost_a_dollar_each() -> None:
    lines = by_kind(
        [template(A=res("AWS::KMS::Key", EnableKeyRotation=True), B=res("AWS::KMS::Key"), C=res("AWS::KMS::Key"))]
    )
    assert (lines["KMS customer managed keys"].quantity, lines["KMS customer managed keys"].monthly_usd) == (3, 3.0)
    assert "1 rotated" in lines["KMS customer managed keys"].detail


def test_dashboards_and_alarms_with_and_without_the_account_free_tier() -> None:
    alarm = res("AWS::CloudWatch::Alarm", MetricName="Errors", Period=60)
    math = res(
        "AWS::CloudWatch::Alarm",
        Metrics=[
            {"Id": "a", "MetricStat": {"Period": 300}},
            {"Id": "b", "MetricStat": {"Period": 300}},
            {"Id": "e", "Expression": "a/b"},
        ],
    )
    fast = res("AWS::CloudWatch::Alarm", MetricName="Latency", Period=10)
    dashboards = {f"D{i}": res("AWS::CloudWatch::Dashboard") for i in range(4)}
    lines = by_kind([template(**dashboards, One=alarm, Math=math, Fast=fast)])
    board = lines["CloudWatch dashboards"]
    assert (board.quantity, board.monthly_usd, board.monthly_after_free_usd) == (4, 12.0, 3.0)
    standard = lines["CloudWatch alarms (standard resolution)"]
    assert (standard.quantity, standard.monthly_usd, standard.monthly_after_free_usd) == (3, 0.30, 0.0)
    assert lines["CloudWatch alarms (high resolution)"].monthly_usd == 0.30
    all_lines = list(lines.values())
    assert total(all_lines) == 12.60
    assert total(all_lines, free_tier=True) == 3.30


def endpoint(config: str = "Config", name: str = "credit") -> dict[str, Any]:
    return res(
        "AWS::SageMaker::Endpoint",
        EndpointName=name,
        EndpointConfigName={"Fn::GetAtt": [config, "EndpointConfigName"]},
    )


def variant(name: str, count: int, kind: str = "ml.m5.large") -> dict[str, Any]:
    return {"VariantName": name, "InitialInstanceCount": count, "InstanceType": kind}


def scaling(variant_name: str, minimum: int, **extra: Any) -> dict[str, Any]:
    return res(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        ServiceNamespace="sagemaker",
        MinCapacity=minimum,
        MaxCapacity=6,
        ResourceId=f"endpoint/credit/variant/{variant_name}",
        **extra,
    )


def test_endpoint_instances_production_and_shadow_variants() -> None:
    config = res(
        "AWS::SageMaker::EndpointConfig",
        ProductionVariants=[variant("Primary", 2, "ml.m5.xlarge")],
        ShadowProductionVariants=[variant("Shadow", 1, "ml.m5.xlarge")],
    )
    line = by_kind([template(Config=config, Endpoint=endpoint())])["SageMaker endpoint instances (ml.m5.xlarge)"]
    assert line.quantity == 3
    assert line.monthly_usd == round(3 * 0.23 * MONTH, 2)


def test_endpoint_instances_follow_the_autoscaling_floor_and_its_schedule() -> None:
    config = res("AWS::SageMaker::EndpointConfig", ProductionVariants=[variant("Primary", 2)])
    schedule = [
        {"Schedule": "cron(0 8 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 3}},
        {"Schedule": "cron(0 18 ? * MON-FRI *)", "ScalableTargetAction": {"MinCapacity": 2}},
    ]
    target = scaling("Primary", 2, ScheduledActions=schedule)
    line = by_kind([template(Config=config, Endpoint=endpoint(), Scaling=target)])[
        "SageMaker endpoint instances (ml.m5.large)"
    ]
    assert line.quantity == pytest.approx((3 * 50 + 2 * 118) / 168)  # 3 for 10 h on 5 weekdays, 2 otherwise
    unscheduled = by_kind([template(Config=config, Endpoint=endpoint(), Scaling=scaling("Primary", 1))])
    assert unscheduled["SageMaker endpoint instances (ml.m5.large)"].quantity == 1


def test_serverless_async_at_zero_and_unused_configurations_cost_nothing() -> None:
    serverless = res(
        "AWS::SageMaker::EndpointConfig",
        ProductionVariants=[{"VariantName": "Primary", "ServerlessConfig": {"MaxConcurrency": 5}}],
    )
    assert fixed_costs([template(Config=serverless, Endpoint=endpoint())]) == []
    asynchronous = res(
        "AWS::SageMaker::EndpointConfig",
        ProductionVariants=[variant("Primary", 1)],
        AsyncInferenceConfig={"OutputConfig": {}},
    )
    assert fixed_costs([template(Config=asynchronous, Endpoint=endpoint(), Scaling=scaling("Primary", 0))]) == []
    realtime = res("AWS::SageMaker::EndpointConfig", ProductionVariants=[variant("Primary", 1)])
    assert fixed_costs([template(Config=realtime)]) == []  # no endpoint runs it


def test_unknown_instance_type_fails_instead_of_pricing_it_at_zero() -> None:
    config = res("AWS::SageMaker::EndpointConfig", ProductionVariants=[variant("Primary", 1, "ml.p5.48xlarge")])
    with pytest.raises(KeyError, match=r"ml\.p5\.48xlarge"):
        fixed_costs([template(Config=config, Endpoint=endpoint())])


def test_free_resources_have_no_line_and_new_types_are_unclassified() -> None:
    templates = [template(Role=res("AWS::IAM::Role"), Bucket=res("AWS::S3::Bucket"), Nat=res("AWS::EC2::NatGateway"))]
    assert fixed_costs(templates) == []
    assert unclassified(templates) == ["AWS::EC2::NatGateway"]


def test_every_price_says_where_it_comes_from() -> None:
    table = load_prices()
    assert table.region == "us-east-1"
    assert len(table.read_on) == 10 and table.read_on[4] == "-"
    assert table.hours_per_month == 730
    for key, price in table.prices.items():
        assert price.url.startswith("https://aws.amazon.com/"), key
        assert price.usd > 0 and price.note.strip() and price.per in ("hour", "month"), key
    assert table.instance_url.startswith("https://aws.amazon.com/")
    assert table.instance_hour and all(rate > 0 for rate in table.instance_hour.values())
    assert not set(table.usage_based) & table.no_charge


def test_readme_block_replaces_only_the_text_between_the_markers() -> None:
    text = f"# Title\nbefore\n{BEGIN}\nold table\n{END}\nafter\n"
    assert replace_block(text, "new table\n") == f"# Title\nbefore\n{BEGIN}\nnew table\n{END}\nafter\n"
    assert replace_block(replace_block(text, "x"), "x") == replace_block(text, "x")
    with pytest.raises(ValueError, match="markers"):
        replace_block("# no markers\n", "x")


def test_session_builds_cost_consistently(builds: dict[str, Synthesized]) -> None:
    costs = profile_costs(builds)
    for cost in costs:
        idle, serving = (builds[name] for name in PROFILES[cost.profile])
        assert total(cost.serving) >= total(cost.idle) > 0, cost.profile
        assert total(cost.idle, free_tier=True) <= total(cost.idle)
        for built, lines in ((idle, cost.idle), (serving, cost.serving)):
            templates = templates_of(built)
            assert unclassified(templates) == [], built.config.stage_name
            interface = [
                r
                for t in templates
                for r in t["Resources"].values()
                if r["Type"] == "AWS::EC2::VPCEndpoint" and r["Properties"].get("VpcEndpointType") == "Interface"
            ]
            azs = sum(len(r["Properties"]["SubnetIds"]) for r in interface)
            counted = sum(line.quantity for line in lines if line.kind == "Interface VPC endpoints")
            assert counted == azs, (cost.profile, built.config.stage_name)
            keys = sum(1 for t in templates for r in t["Resources"].values() if r["Type"] == "AWS::KMS::Key")
            assert sum(line.quantity for line in lines if line.kind.startswith("KMS")) == keys
        assert not any(line.kind.startswith("SageMaker endpoint") for line in cost.idle), cost.profile
        assert any(line.kind.startswith("SageMaker endpoint") for line in cost.serving), cost.profile
    text, markdown = render_text(costs), readme_cost_block(builds)
    committed = README.read_text()  # the README shows exactly these figures
    assert markdown in committed
    for cost in costs:
        for lines in (cost.idle, cost.serving):
            assert f"{total(lines):,.2f}" in text and f"USD {total(lines):,.2f}" in markdown


def test_serverless_and_async_builds_run_no_instance_while_idle(builds: dict[str, Synthesized]) -> None:
    for name in ("serverless", "async"):
        lines = fixed_costs(templates_of(builds[name]))
        assert not any(line.kind.startswith("SageMaker endpoint") for line in lines), name
