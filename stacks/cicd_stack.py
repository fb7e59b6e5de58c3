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
from constructs import Construct

from components.cicd.pipeline import PlatformPipeline
from components.foundation.compliance import CdkProviderExceptions
from config.schema import PipelineStage, PlatformConfig
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
        self.pipeline = PlatformPipeline(
            self,
            "Pipeline",
            cicd=cicd,
            synth_target=synth_target,
            alert_email=config.alert_email,
            log_retention_days=config.log_retention_days,
            removal_policy=removal,
        )
        self.stages: dict[str, PlatformStage] = {}
        for stage, stage_config in stages:
            # facts: pipelines-explicit-env (each stage names its account and region).
            env = cdk.Environment(account=stage.account, region=stage.region)
            deployed = PlatformStage(self, stage.name, config=stage_config, env=env)
            self.pipeline.add_stage(deployed, approval=stage.name in cicd.approved_stages)
            self.stages[stage.name] = deployed
        self.pipeline.build()
        cdk.Aspects.of(self).add(CdkProviderExceptions())  # the sandbox's auto-delete provider, as in every stage
        for key, value in config.cost_allocation_tags.items():
            cdk.Tags.of(self.pipeline).add(key, value)
