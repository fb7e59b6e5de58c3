"""An isolated VPC for ML workloads (controls 1-6; exam tasks 3.1, 3.2, 4.3)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from components.foundation.exam import demonstrates
from components.foundation.log_groups import encrypted_log_group
from components.foundation.roles import ServiceRole
from config.catalogs import interface_endpoint_catalog
from config.schema import NetworkConfig

# Layer archives of every ECR image pulled from inside the VPC are served from this AWS-owned bucket; pulls
# through the gateway endpoint fail if its policy leaves it out or fences it to this account.
_ECR_LAYER_BUCKET = "prod-{region}-starport-layer-bucket"


def _endpoint_id(service: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[.\-]", service))


class IsolatedNetwork(Construct):
    """Isolated subnets only (no internet gateway, no NAT), reaching AWS through VPC endpoints.

    Exposes ``vpc``, ``subnets`` (the isolated subnets), ``workload_subnet_ids``, ``endpoint_security_group``
    and ``workload_security_group``, the group every SageMaker job, model and function of the platform joins.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        az_count: int,
        interface_endpoints: Sequence[str],
        log_key: kms.IKey,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            max_azs=az_count,
            nat_gateways=0,
            create_internet_gateway=False,
            restrict_default_security_group=True,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=config.subnet_mask
                )
            ],
        )
        demonstrates(
            self.vpc,
            ["3.2", "4.3"],
            "Isolated subnets with no internet route: ML jobs and endpoints reach AWS only through endpoints.",
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        self._add_flow_logs(config, log_key, removal_policy, stack)
        self._add_gateway_endpoints(stack)
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(config.vpc_cidr), ec2.Port.tcp(443), "HTTPS from workloads inside the VPC"
        )
        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            description="ML jobs, models and functions: no inbound; HTTPS out to VPC endpoints and S3",
            allow_all_outbound=False,
        )
        # The S3 gateway endpoint is reached through S3's public ranges (a prefix list CloudFormation
        # cannot name without a lookup). Isolated subnets route nowhere else, so 443 to anywhere reaches
        # exactly the interface endpoints and S3.
        self.workload_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints and the S3 gateway (no internet route)"
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        catalog = interface_endpoint_catalog()["endpoints"]
        for service in interface_endpoints:
            endpoint = self.vpc.add_interface_endpoint(
                _endpoint_id(service),
                service=ec2.InterfaceVpcEndpointAwsService(service),
                private_dns_enabled=True,
                open=False,  # ingress comes only from the rule above, not the whole VPC by default
                security_groups=[self.endpoint_security_group],
                subnets=self.subnets,
            )
            endpoint.add_to_policy(
                iam.PolicyStatement(
                    sid="ThisAccountOnly",
                    principals=[iam.AnyPrincipal()],
                    actions=list(catalog[service]["actions"]),
                    resources=["*"],
                    conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
                )
            )
            self.interface_endpoints[service] = endpoint

    @property
    def workload_subnet_ids(self) -> list[str]:
        """The isolated subnets' ids, for the ``VpcConfig`` of SageMaker jobs, models and pipeline definitions."""
        return [subnet.subnet_id for subnet in self.vpc.select_subnets(subnet_type=self.subnets.subnet_type).subnets]

    def _add_flow_logs(
        self, config: NetworkConfig, key: kms.IKey, removal_policy: cdk.RemovalPolicy, stack: cdk.Stack
    ) -> None:
        self.flow_log_group = encrypted_log_group(
            self,
            "FlowLogGroup",
            key=key,
            retention_days=config.flow_log_retention_days,
            removal_policy=removal_policy,
        )
        role = ServiceRole(
            self,
            "FlowLogRole",
            service="vpc-flow-logs.amazonaws.com",
            description="VPC Flow Logs delivery into the flow log group",
            source_arn=stack.format_arn(service="ec2", resource="vpc-flow-log", resource_name="*"),
            statements=[
                iam.PolicyStatement(
                    # The set the VPC guide lists for a flow-log role (facts: flow-logs-role-permissions).
                    actions=[
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                    ],
                    resources=[self.flow_log_group.log_group_arn],
                )
            ],
        )
        flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, role.locked),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        flow_log.node.add_dependency(role.policy)
        demonstrates(flow_log, ["4.2", "4.3"], "Every accepted and rejected flow is logged, encrypted, with retention.")

    def _add_gateway_endpoints(self, stack: cdk.Stack) -> None:
        this_account = {"aws:PrincipalAccount": stack.account, "aws:ResourceAccount": stack.account}
        s3 = self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.subnets]
        )
        s3.add_to_policy(
            iam.PolicyStatement(
                sid="ThisAccountsBucketsOnly",
                principals=[iam.AnyPrincipal()],
                actions=["s3:*"],
                resources=["*"],
                conditions={"StringEquals": this_account},
            )
        )
        s3.add_to_policy(
            iam.PolicyStatement(
                sid="EcrImageLayers",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[
                    stack.format_arn(
                        service="s3",
                        region="",
                        account="",
                        resource=_ECR_LAYER_BUCKET.format(region=stack.region),
                        resource_name="*",
                    )
                ],
                # No account condition: ECR presigns layer URLs with its own account and the bucket is AWS-owned,
                # so aws:PrincipalAccount / aws:ResourceAccount never match (facts: ecr-layers-through-s3-gateway).
            )
        )
        dynamodb = self.vpc.add_gateway_endpoint(
            "DynamoDbEndpoint", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[self.subnets]
        )
        dynamodb.add_to_policy(
            iam.PolicyStatement(
                sid="ThisAccountsTablesOnly",
                principals=[iam.AnyPrincipal()],
                actions=["dynamodb:*"],
                resources=["*"],
                conditions={"StringEquals": this_account},
            )
        )
        self.s3_endpoint = s3
        self.dynamodb_endpoint = dynamodb
