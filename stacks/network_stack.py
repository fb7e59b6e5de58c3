"""Network: the isolated VPC every ML workload of the platform runs in."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from components.foundation.encryption import allow_logs, platform_key
from components.network import IsolatedNetwork
from config.schema import PlatformConfig


class NetworkStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        # read by availability_zones during super().__init__
        self._az_count = config.network_az_count
        self._zones = config.network.availability_zones
        super().__init__(scope, construct_id, **kwargs)
        log_key = platform_key(
            self,
            "LogsKey",
            description="Encrypts the VPC flow logs. Network telemetry is kept apart from data: the Network stack "
            "deploys first and depends on no data key",
            removal_policy=removal_policy,
        )
        allow_logs(log_key)
        self.network = IsolatedNetwork(
            self,
            "Network",
            config=config.network,
            az_count=config.network_az_count,
            interface_endpoints=config.interface_endpoints,
            log_key=log_key,
            removal_policy=removal_policy,
        )

    @property
    def availability_zones(self) -> list[str]:
        """The profile's pinned AZs, or else the first ``az_count`` AZs of the region, resolved at deploy time.

        An environment-agnostic stack otherwise offers only two AZs, and an environment-specific one
        would need an AZ lookup (an AWS call) at synth time; ``Fn::GetAZs`` needs neither. Pin the AZs
        (``network.availability_zones``) where an interface endpoint service is not offered in one of the
        first AZs: ``make preflight`` tells.
        """
        if self._zones is not None:
            return list(self._zones[: self._az_count])
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(self._az_count)]
