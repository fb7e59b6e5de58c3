"""The opt-in ``Cicd`` stack (issue 13 part 1): the platform pipeline in the tooling account, deploying the stages.

How the app is wired, and why. A profile with ``cicd.enabled`` is the *tooling* profile: ``cdk synth`` of it
builds, in one cloud assembly, the profile's own stage (as without CI/CD) and this stack, whose pipeline stages
(``PlatformStage`` per configured stage, each from its own profile with the stage's account and region) are
constructed inside this stack, as the CDK Pipelines README does (``new MyStage(this, 'Prod')``). So the synth step
of the pipeline runs ``make synth PROFILE=<tooling profile>`` (or ``CONFIG=...``) and that one command writes
``cdk.out`` with the pipeline stack *and* every stage it deploys: there is no second profile to synthesize, and
``make synth`` for one profile stays what it is for everyone without CI/CD.

The rule packs reach every stage: they are registered once on the App (app.py); aws-cdk-lib hands an App-level
plugin every template of the assembly recursively, and cdk-nag walks the whole construct tree from the App, so
the nested stages are checked too (facts: validation-plugins-cover-nested-stages). Plugins registered on a
Stage would *not* run here: CDK only visits stages that are direct children of the App or of another Stage,
and these are children of this stack. tests/test_cicd.py plants a finding in a pipeline stage and shows the
synth fails.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from components.cicd.model_deploy import ModelDeployTrigger
from components.cicd.pipeline import ApprovedVersion, PlatformPipeline, SynthModel
from components.foundation.compliance import CdkProviderExceptions
from components.serving.api import STAGE
from config.schema import CicdConfig, PipelineStage, PlatformConfig
from stacks.stage import PlatformStage


class CicdStack(cdk.Stack):
    """The pipeline (``self.pipeline``) and, inside it, one ``PlatformStage`` per configured stage, in order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        stages: Sequence[tuple[PipelineStage, PlatformConfig]],
        synth_target: str,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cicd = config.cicd
        if cicd is None or not cicd.enabled:
            raise ValueError("CicdStack needs a profile with cicd.enabled")
        removal = cdk.RemovalPolicy.DESTROY if config.destroy_on_delete else cdk.RemovalPolicy.RETAIN
        pipeline_name = config.pipeline_name
        self.pipeline = PlatformPipeline(
            self,
            "Pipeline",
            cicd=cicd,
            pipeline_name=pipeline_name,
            synth_target=synth_target,
            synth_model=self._synth_model(config) if cicd.model_deploy is not None else None,
            alert_email=config.alert_email,
            log_retention_days=config.log_retention_days,
            removal_policy=removal,
        )
        self.model_deploy: ModelDeployTrigger | None = None
        if cicd.model_deploy is not None:
            self.model_deploy = ModelDeployTrigger(
                self,
                "ModelDeploy",
                registry_name=config.model_registry_name,
                parameter_name=config.model_deploy_parameter,
                pipeline_name=pipeline_name,
                dead_letters=self.pipeline.dead_letters,
                dead_letter_key=self.pipeline.key,
                log_retention_days=config.log_retention_days,
                removal_policy=removal,
            )
        self.stages: dict[str, PlatformStage] = {}
        for stage, stage_config in stages:
            # facts: pipelines-explicit-env (each stage names its account and region).
            env = cdk.Environment(account=stage.account, region=stage.region)
            deployed = PlatformStage(self, stage.name, config=stage_config, env=env)
            post = self._acceptance(deployed, stage, stage_config, cicd)
            served = stage_config.inference.model_package_arn
            version = (
                ApprovedVersion(arn=served, group=config.model_registry_name, region=stage.region)
                if cicd.model_deploy is not None and served is not None
                else None
            )
            self.pipeline.add_stage(deployed, approval=stage.name in cicd.approved_stages, post=post, version=version)
            self.stages[stage.name] = deployed
        self.pipeline.build()
        cdk.Aspects.of(self).add(CdkProviderExceptions())  # the sandbox's auto-delete provider, as in every stage
        for key, value in config.cost_allocation_tags.items():
            cdk.Tags.of(self.pipeline).add(key, value)

    def _synth_model(self, config: PlatformConfig) -> SynthModel:
        """The synth step reads the recorded version (tools/model_version.py) and checks it in the registry."""
        command = (
            f".venv/bin/python -m tools.model_version --parameter {config.model_deploy_parameter} "
            f"--group {config.model_registry_name} --region {config.region}"
        )
        versions = self.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{config.model_registry_name}/*"
        )
        return SynthModel(
            command=command,
            wildcards={
                versions: "The synth step checks that the recorded version is still approved: any version "
                "of this one registry."
            },
            statements=[
                iam.PolicyStatement(
                    sid="ReadTheDeployedVersion",
                    actions=["ssm:GetParameter"],
                    resources=[
                        self.format_arn(
                            service="ssm", resource="parameter", resource_name=config.model_deploy_parameter[1:]
                        )
                    ],
                ),
                iam.PolicyStatement(
                    sid="CheckItIsApproved", actions=["sagemaker:DescribeModelPackage"], resources=[versions]
                ),
            ],
        )

    def _acceptance(
        self, deployed: PlatformStage, stage: PipelineStage, stage_config: PlatformConfig, cicd: CicdConfig
    ) -> list[pipelines.Step]:
        """The test stage's acceptance test, when this is the tested stage and it serves a recorded version."""
        tested = cicd.tested_stage
        if tested is None or tested.name != stage.name:
            return []
        predict_url = deployed.inference.predict_url
        if predict_url is None:  # no version recorded yet (or a profile without the API): nothing to test
            return []
        assert cicd.model_deploy is not None and stage_config.inference.model_package_arn is not None
        # facts: execute-api-arn-format (API id / stage / method / path; the id is the stage's, unknown here).
        api_arn = cdk.Arn.format(
            cdk.ArnComponents(
                service="execute-api",
                resource="*",
                resource_name=f"{STAGE}/POST/predict",
                account=stage.account,
                region=stage.region,
                partition="aws",
            )
        )
        return [
            self.pipeline.acceptance_step(
                predict_url=predict_url,
                package_arn=stage_config.inference.model_package_arn,
                decision_threshold=stage_config.inference.api.decision_threshold,
                acceptance=cicd.model_deploy.acceptance,
                api_arn=api_arn,
            )
        ]
