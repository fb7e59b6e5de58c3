"""Budgets and cost anomaly detection (control 42; exam 4.2)."""

from __future__ import annotations

import json

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from aws_cdk import aws_sns as sns
from constructs import Construct

from components.foundation.exam import demonstrates
from config.schema import CostsConfig


class CostControls(Construct):
    """A monthly total budget and a SageMaker-only budget, each alerting on ACTUAL and FORECASTED spend,
    and (optionally) an anomaly monitor scoped to the platform's ``project`` cost-allocation tag.

    Budgets get no name: CloudFormation generates one, so a second deployment never collides
    (budget names are unique per account). The anomaly monitor is CUSTOM, not DIMENSIONAL: an
    account may hold only one DIMENSIONAL SERVICE monitor and many already have AWS's default one.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: CostsConfig,
        topic: sns.ITopic,
        email: str,
        project: str,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        budget = config.budget
        # Budgets checks it may publish when a notification is created ("Invalid SNS topic" otherwise; facts:
        # budgets-sns-topic-policy): create budgets and the anomaly subscription after the topic policy.
        topic_policy = topic.node.try_find_child("Policy")
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn),
            budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email),
        ]

        def notifications() -> list[budgets.CfnBudget.NotificationWithSubscribersProperty]:
            return [
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=threshold,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=subscribers,
                )
                for kind, threshold in (
                    ("ACTUAL", budget.actual_threshold_percent),
                    ("FORECASTED", budget.forecast_threshold_percent),
                )
            ]

        self.total = budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=budget.monthly_limit_usd, unit="USD"),
            ),
            notifications_with_subscribers=notifications(),
        )
        demonstrates(self.total, ["4.2"], "AWS Budgets alerts on actual and forecasted monthly spend.")
        self.sagemaker = budgets.CfnBudget(
            self,
            "SageMakerBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=budget.sagemaker_monthly_limit_usd, unit="USD"),
                cost_filters={"Service": ["Amazon SageMaker"]},
            ),
            notifications_with_subscribers=notifications(),
        )
        demonstrates(
            self.sagemaker, ["4.2"], "A SageMaker-only budget: training and endpoints are the big variable cost."
        )
        if topic_policy is not None:
            for each in (self.total, self.sagemaker):
                each.node.add_dependency(topic_policy)
        self.anomaly_monitor: ce.CfnAnomalyMonitor | None = None
        if config.anomaly_detection:
            self.anomaly_monitor = ce.CfnAnomalyMonitor(
                self,
                "AnomalyMonitor",
                monitor_name=f"{name_prefix}-cost",
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {"Tags": {"Key": "project", "Values": [project], "MatchOptions": ["EQUALS"]}}
                ),
            )
            subscription = ce.CfnAnomalySubscription(
                self,
                "AnomalySubscription",
                subscription_name=f"{name_prefix}-cost",
                frequency="IMMEDIATE",
                monitor_arn_list=[self.anomaly_monitor.attr_monitor_arn],
                subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(type="SNS", address=topic.topic_arn)],
                threshold_expression=json.dumps(
                    {
                        "Dimensions": {
                            "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                            "Values": [str(config.anomaly_threshold_usd)],
                        }
                    }
                ),
            )
            demonstrates(subscription, ["4.2"], "Cost Anomaly Detection on the platform's cost-allocation tag.")
            if topic_policy is not None:
                subscription.node.add_dependency(topic_policy)
