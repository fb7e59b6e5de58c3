"""SageMaker Model Monitor, opt-in (control 15; exam 4.1): data quality, model quality and bias job
definitions with their schedules, for accounts that have Model Monitor.

No explainability monitor: Clarify computes SHAP values by calling a shadow endpoint it creates from the
model, which needs network isolation off on both the job and the model (facts:
clarify-shap-needs-network-access), and the platform's control 15 keeps every monitoring job isolated.
Feature attributions are a training-time report instead (exam 4.1 "SageMaker Clarify" is covered by the
bias report step and the bias monitor).

Model Monitor is closed to new customers (2026), so the platform's default is the drift job in
``components.monitoring.drift``; ``monitoring.model_monitor: true`` adds these. Analyzer and Clarify images come
from the committed per-region table (config/data/sagemaker_images.json); no SDK call at synth.

Baselines: data and model quality compare against ``constraints.json`` and ``statistics.json`` under
``monitoring/model-monitor/<type>/baseline/`` in the artifacts bucket (README: "Model Monitor"). Model
quality and bias need ground truth labels under ``monitoring/ground-truth/``.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as assets
from constructs import Construct

from components.data.lake import CAPTURE_PREFIX, DataLake
from components.foundation.compliance import acknowledge_wildcard
from components.foundation.exam import demonstrates
from components.foundation.roles import ServiceRole
from components.ml.images import image_accounts, image_uri
from components.network import IsolatedNetwork
from components.serving.endpoint import ModelEndpoint
from config.catalogs import sagemaker_images
from config.schema import MonitoringConfig

CONFIGS = Path(__file__).resolve().parents[2] / "clarify"
PREFIX = "monitoring/model-monitor"
GROUND_TRUTH = "monitoring/ground-truth"
TYPES = ("DataQuality", "ModelQuality", "ModelBias")


class ModelMonitor(Construct):
    """``job_definitions`` and ``schedules`` by monitoring type, and ``role`` (Model Monitor's own)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MonitoringConfig,
        name_prefix: str,
        endpoint: ModelEndpoint,
        instance_type: str,
        network: IsolatedNetwork,
        lake: DataLake,
    ) -> None:
        super().__init__(scope, construct_id)
        endpoint_name = endpoint.endpoint_name
        table = sagemaker_images()
        mapping = cdk.CfnMapping(
            self, "ImageAccounts", mapping=image_accounts({"analyzer": "model-monitor", "clarify": "clarify"})
        )
        analyzer = image_uri(self, mapping, "analyzer", table["model-monitor"]["repository"])
        clarify = image_uri(self, mapping, "clarify", f"{table['clarify']['repository']}:{table['clarify']['tag']}")
        bias_config = assets.Asset(self, "BiasConfig", path=str(CONFIGS / "bias_analysis_config.json"))
        artifacts = lake.artifacts
        capture = artifacts.arn_for_objects(f"{CAPTURE_PREFIX}/{endpoint_name}/*")
        monitor_objects = artifacts.arn_for_objects(f"{PREFIX}/*")
        ground_truth = artifacts.arn_for_objects(f"{GROUND_TRUTH}/*")
        self.role = ServiceRole(
            self,
            "Role",
            service="sagemaker.amazonaws.com",
            description="Model Monitor: read capture, ground truth and baselines, write monitoring reports",
            statements=[
                iam.PolicyStatement(
                    sid="ReadInputs",
                    actions=["s3:GetObject"],
                    resources=[
                        capture,
                        ground_truth,
                        monitor_objects,
                        bias_config.bucket.arn_for_objects(bias_config.s3_object_key),
                    ],
                ),
                iam.PolicyStatement(sid="WriteReports", actions=["s3:PutObject"], resources=[monitor_objects]),
                iam.PolicyStatement(sid="ListArtifacts", actions=["s3:ListBucket"], resources=[artifacts.bucket_arn]),
            ],
        )
        self.role.allow_sagemaker_runtime(
            key=lake.key,
            log_group_prefix="/aws/sagemaker/ProcessingJobs",
            metrics_namespace="aws/sagemaker/Endpoints/*",
        )
        policy = self.role.policy
        acknowledge_wildcard(policy, capture, "Data capture is written per variant and hour for this endpoint.")
        acknowledge_wildcard(policy, monitor_objects, "Baselines and reports live under monitoring/model-monitor/.")
        acknowledge_wildcard(policy, ground_truth, "Teams upload ground-truth labels under monitoring/ground-truth/.")
        self.role.allow_vpc_network_interfaces("the monitoring jobs", also="PutMetricData is fenced by namespace.")
        demonstrates(self.role.role, ["4.3"], "Model Monitor has its own role, apart from pipeline and endpoint roles.")

        network_config = {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
            "VpcConfig": {
                "SecurityGroupIds": [network.workload_security_group.security_group_id],
                "Subnets": network.workload_subnet_ids,
            },
        }
        resources = {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": instance_type,
                "VolumeSizeInGB": 20,
                "VolumeKmsKeyId": lake.key.key_arn,
            }
        }

        def outputs(kind: str) -> dict[str, object]:
            return {
                "KmsKeyId": lake.key.key_arn,
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "S3Uri": f"s3://{artifacts.bucket_name}/{PREFIX}/{kind}/reports",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        }
                    }
                ],
            }

        def endpoint_input(**extra: object) -> dict[str, object]:
            return {
                "EndpointInput": {
                    "EndpointName": endpoint_name,
                    "LocalPath": "/opt/ml/processing/input/endpoint",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    **extra,
                }
            }

        def baseline(kind: str, statistics: bool) -> dict[str, object]:
            base = f"s3://{artifacts.bucket_name}/{PREFIX}/{kind}/baseline"
            result: dict[str, object] = {"ConstraintsResource": {"S3Uri": f"{base}/constraints.json"}}
            if statistics:
                result["StatisticsResource"] = {"S3Uri": f"{base}/statistics.json"}
            return result

        ground_truth_input = {"S3Uri": f"s3://{artifacts.bucket_name}/{GROUND_TRUTH}/"}
        prediction = {"ProbabilityAttribute": "0", "ProbabilityThresholdAttribute": 0.5}
        common = {
            "RoleArn": self.role.role.role_arn,
            "NetworkConfig": network_config,
            "JobResources": resources,
            # Hourly schedules cap model-quality and bias jobs at 30 minutes (facts:
            # model-monitor-hourly-max-runtime); the same cap for every kind keeps one rule.
            "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        }
        # Raw CloudFormation properties: these definitions read exactly like the CloudFormation reference.
        specs: dict[str, dict[str, object]] = {
            "DataQuality": {
                "DataQualityAppSpecification": {"ImageUri": analyzer},
                "DataQualityBaselineConfig": baseline("data-quality", statistics=True),
                "DataQualityJobInput": endpoint_input(),
                "DataQualityJobOutputConfig": outputs("data-quality"),
            },
            "ModelQuality": {
                "ModelQualityAppSpecification": {"ImageUri": analyzer, "ProblemType": "BinaryClassification"},
                "ModelQualityBaselineConfig": baseline("model-quality", statistics=False),
                "ModelQualityJobInput": {**endpoint_input(**prediction), "GroundTruthS3Input": ground_truth_input},
                "ModelQualityJobOutputConfig": outputs("model-quality"),
            },
            "ModelBias": {
                "ModelBiasAppSpecification": {"ImageUri": clarify, "ConfigUri": bias_config.s3_object_url},
                "ModelBiasJobInput": {**endpoint_input(**prediction), "GroundTruthS3Input": ground_truth_input},
                "ModelBiasJobOutputConfig": outputs("model-bias"),
            },
        }
        self.job_definitions: dict[str, cdk.CfnResource] = {}
        self.schedules: dict[str, cdk.CfnResource] = {}
        for kind, spec in specs.items():
            definition = cdk.CfnResource(
                self, f"{kind}Job", type=f"AWS::SageMaker::{kind}JobDefinition", properties={**spec, **common}
            )
            definition.node.add_dependency(self.role.policy)
            demonstrates(definition, ["4.1"], f"Model Monitor {kind} job: network-isolated, encrypted, in the VPC.")
            schedule = cdk.CfnResource(
                self,
                f"{kind}Schedule",
                type="AWS::SageMaker::MonitoringSchedule",
                properties={
                    "MonitoringScheduleName": f"{name_prefix}-{kind.lower()}",
                    "MonitoringScheduleConfig": {
                        "MonitoringJobDefinitionName": definition.get_att("JobDefinitionName").to_string(),
                        "MonitoringType": kind,
                        "ScheduleConfig": {"ScheduleExpression": config.model_monitor_schedule},
                    },
                },
            )
            demonstrates(schedule, ["4.1"], f"The {kind} monitoring schedule.")
            self.job_definitions[kind] = definition
            self.schedules[kind] = schedule
