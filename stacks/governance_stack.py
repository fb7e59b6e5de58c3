"""Governance (stateful): the audit trail, the alerts topic, budgets and cost anomaly detection."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from components.data.lake import DataLake
from components.governance.alerts import AlertsTopic
from components.governance.api_gateway_account import ApiGatewayLoggingRole
from components.governance.audit import AuditTrail
from components.governance.costs import CostControls
from config.schema import PlatformConfig


class GovernanceStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        lake: DataLake,
        removal_policy: cdk.RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        governance = config.governance
        self.audit = AuditTrail(
            self,
            "Audit",
            data_buckets=list(lake.zones.values()),
            access_logs_bucket=lake.access_logs,
            object_lock_days=governance.audit.object_lock_days,
            noncurrent_version_expiration_days=config.data_lake.noncurrent_version_expiration_days,
            log_retention_days=governance.audit.trail_log_retention_days,
            removal_policy=removal_policy,
        )
        self.alerts = AlertsTopic(self, "Alerts", email=config.alert_email, removal_policy=removal_policy)
        self.costs = CostControls(
            self,
            "Costs",
            config=governance.costs,
            topic=self.alerts.topic,
            email=config.alert_email,
            project=config.project_name,
            name_prefix=config.name_prefix,
        )
        self.api_gateway_logging: ApiGatewayLoggingRole | None = None
        if governance.api_gateway_logging_role:
            self.api_gateway_logging = ApiGatewayLoggingRole(self, "ApiGatewayLogging")
