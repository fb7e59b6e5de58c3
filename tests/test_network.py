"""SECURITY.md controls 1-6: the isolated network."""

from __future__ import annotations

import pytest

from config.catalogs import interface_endpoint_catalog
from tests.helpers import as_list, props, resources, service_suffix, statements, this_account
from tools.platform import Synthesized

pytestmark = pytest.mark.exam("3.2", "4.3")


def network(platform: Synthesized) -> dict[str, object]:
    return platform.template("Network")


def test_control_1_no_internet_path(platform: Synthesized) -> None:
    template = network(platform)
    for forbidden in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::TransitGatewayAttachment",
    ):
        assert not resources(template, forbidden), forbidden
    for route in resources(template, "AWS::EC2::Route").values():
        assert props(route).get("DestinationCidrBlock") != "0.0.0.0/0"
        assert props(route).get("DestinationIpv6CidrBlock") != "::/0"
    subnets = resources(template, "AWS::EC2::Subnet")
    assert len(subnets) == platform.config.network_az_count
    for subnet in subnets.values():
        assert props(subnet)["MapPublicIpOnLaunch"] is False
    (vpc,) = resources(template, "AWS::EC2::VPC").values()
    assert props(vpc)["CidrBlock"] == platform.config.network.vpc_cidr


def test_control_2_flow_logs_encrypted_with_retention(platform: Synthesized) -> None:
    template = network(platform)
    (flow_log,) = resources(template, "AWS::EC2::FlowLog").values()
    assert props(flow_log)["ResourceType"] == "VPC"
    assert props(flow_log)["TrafficType"] == "ALL"
    assert props(flow_log)["LogDestinationType"] == "cloud-watch-logs"
    log_group = template["Resources"][props(flow_log)["LogGroupName"]["Ref"]]  # type: ignore[index]
    assert "KmsKeyId" in props(log_group)
    assert props(log_group)["RetentionInDays"] == platform.config.network.flow_log_retention_days


def test_control_3_default_security_group_restricted(platform: Synthesized) -> None:
    template = network(platform)
    (restrict,) = resources(template, "Custom::VpcRestrictDefaultSG").values()
    (vpc_id,) = resources(template, "AWS::EC2::VPC")
    assert props(restrict)["DefaultSecurityGroupId"] == {"Fn::GetAtt": [vpc_id, "DefaultSecurityGroup"]}


def test_control_4_interface_endpoints_are_the_ones_this_deploy_needs(platform: Synthesized) -> None:
    """Control 4: the endpoints for what runs in the VPC (tests/test_endpoint_needs.py derives them from the
    code); here, that the template builds the config's set, with private DNS, in every AZ."""
    endpoints = resources(network(platform), "AWS::EC2::VPCEndpoint")
    interface = {
        service_suffix(props(e)["ServiceName"]): e
        for e in endpoints.values()
        if props(e)["VpcEndpointType"] == "Interface"
    }
    gateway = {
        service_suffix(props(e)["ServiceName"]) for e in endpoints.values() if props(e)["VpcEndpointType"] == "Gateway"
    }
    assert set(interface) == set(platform.config.interface_endpoints)
    assert gateway == {"s3", "dynamodb"}
    for endpoint in interface.values():
        assert props(endpoint)["PrivateDnsEnabled"] is True
        assert len(props(endpoint)["SubnetIds"]) == platform.config.network_az_count


def test_control_5_security_groups_allow_only_https_from_the_vpc(platform: Synthesized) -> None:
    template = network(platform)
    cidr = platform.config.network.vpc_cidr
    groups = resources(template, "AWS::EC2::SecurityGroup")
    assert groups
    for group in groups.values():
        assert props(group)["GroupDescription"]
        for rule in props(group).get("SecurityGroupIngress", []):
            assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIp"]) == ("tcp", 443, 443, cidr)
            assert rule["Description"]
        for rule in props(group).get("SecurityGroupEgress", []):
            assert rule["Description"]
    for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        assert (props(rule)["FromPort"], props(rule)["ToPort"]) == (443, 443)
        assert props(rule)["Description"]


def test_control_6_endpoint_policies_fence_this_account(platform: Synthesized) -> None:
    catalog = interface_endpoint_catalog()["endpoints"]
    for endpoint in resources(network(platform), "AWS::EC2::VPCEndpoint").values():
        document = props(endpoint)["PolicyDocument"]
        service = service_suffix(props(endpoint)["ServiceName"])
        for statement in statements(document):
            assert statement["Effect"] == "Allow"
            assert "*" not in as_list(statement["Action"])
            if statement.get("Sid") == "EcrImageLayers":  # AWS-owned bucket, URLs presigned by ECR: no account
                assert "Condition" not in statement
                continue
            assert this_account(statement["Condition"]["StringEquals"]["aws:PrincipalAccount"])
        if props(endpoint)["VpcEndpointType"] == "Interface":
            (statement,) = statements(document)
            assert sorted(as_list(statement["Action"])) == sorted(catalog[service]["actions"])


def test_control_6_gateway_endpoints_limit_resources_to_this_account(platform: Synthesized) -> None:
    for endpoint in resources(network(platform), "AWS::EC2::VPCEndpoint").values():
        if props(endpoint)["VpcEndpointType"] != "Gateway":
            continue
        for statement in statements(props(endpoint)["PolicyDocument"]):
            if statement.get("Sid") == "EcrImageLayers":
                # ECR's documented minimal statement: no condition, or image-layer pulls get 403 (facts:
                # ecr-layers-through-s3-gateway).
                assert statement["Action"] == "s3:GetObject"
                assert "starport-layer-bucket" in str(statement["Resource"])
                assert "Condition" not in statement
            else:
                assert this_account(statement["Condition"]["StringEquals"]["aws:ResourceAccount"])
