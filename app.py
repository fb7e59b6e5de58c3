#!/usr/bin/env python3
"""Composition root: load the profile, build the stage, register the rule packs, synthesize.

    npx cdk synth -c profile=production     # or -c config=path/to/profile.yaml

A profile with ``cicd.enabled`` (the tooling profile) also gets the ``Cicd`` stack, whose pipeline deploys the
stages the profile lists, each from its own profile (stacks/cicd_stack.py says how the assembly is laid out).

A bad profile stops here with one line naming the field and the rule, before any construct exists (and, when
the CLI passes the context in the environment, before the CDK even loads: the error comes in a fraction of a
second).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config import ConfigError, PlatformConfig, load_settings
from config.loader import CONTEXT_OVERRIDES
from config.schema import PipelineStage

if TYPE_CHECKING:
    import aws_cdk as cdk

ROOT = Path(__file__).resolve().parent


def cdk_json_context() -> dict[str, object]:
    """Feature flags and settings from cdk.json, so `python app.py` and tests match the CLI."""
    return dict(json.loads((ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def _settings(get: Callable[[str], Any]) -> PlatformConfig:
    """The profile the context names (``get`` reads one context key), or ConfigError."""
    overrides = {field: get(key) for key, field in CONTEXT_OVERRIDES.items() if get(key)}
    return load_settings(get("profile"), get("config"), overrides)


# The version the model-deploy pipeline deploys, as its synth step passes it (tools/model_version.py prints the
# make variables; the Makefile turns them into these context keys), and where each lands in a stage's profile.
PIPELINE_MODEL_CONTEXT = {
    "pipeline_model_package_arn": "inference.model_package_arn",
    "pipeline_model_data_url": "inference.model_data_url",
}


def pipeline_model(config: PlatformConfig, get: Callable[[str], Any]) -> dict[str, str]:
    """The recorded version (stage-profile overrides; empty: none recorded), or ConfigError in one line."""
    given = {key: str(get(key)) for key in PIPELINE_MODEL_CONTEXT if get(key)}
    if not given:
        return {}
    first = next(iter(given))
    if config.cicd is None or config.cicd.model_deploy is None or not config.cicd.enabled:
        raise ConfigError(f"{first}: the profile has no cicd.model_deploy section to deploy it with")
    missing = [key for key in PIPELINE_MODEL_CONTEXT if key not in given]
    if missing:
        raise ConfigError(f"{missing[0]}: is required with {first} (tools/model_version.py prints both)")
    arn = given["pipeline_model_package_arn"]
    registry = f"arn:aws:sagemaker:{config.region}:{config.account}:model-package/{config.model_registry_name}/"
    if not arn.startswith(registry):
        raise ConfigError(
            f"pipeline_model_package_arn: {arn!r} is not a version of this profile's registry ({registry}N)"
        )
    return {PIPELINE_MODEL_CONTEXT[key]: value for key, value in given.items()}


# What the pipeline sets in the profile of every stage it deploys with model deploy on: their versions come from
# the tooling registry, so a stage's own training triggers would only spend money on versions nothing deploys.
MODEL_DEPLOY_STAGE = {
    "ml.retraining_schedule": None,
    "ml.retrain_on_new_data": False,
    "monitoring.retrain_on_drift": False,
}


def pipeline_stages(
    config: PlatformConfig, model: dict[str, str] | None = None
) -> list[tuple[PipelineStage, PlatformConfig]]:
    """Each stage of the profile's pipeline with its own profile, pinned to the stage's account and region, and
    serving ``model`` (:func:`pipeline_model`) when the model-deploy pipeline recorded one."""
    if not config.pipeline_enabled:
        return []
    cicd = config.cicd
    assert cicd is not None
    found = []
    for stage in cicd.stages:
        overrides: dict[str, Any] = {"account": stage.account, "region": stage.region, **(model or {})}
        if (stage.account, stage.region) == (config.account, config.region):
            # One API Gateway CloudWatch role setting per account and region: the tooling profile's stage sets it.
            overrides["governance.api_gateway_logging_role"] = False
        if cicd.model_deploy is not None:
            overrides |= MODEL_DEPLOY_STAGE
        stage_config = load_settings(stage.profile, overrides=overrides)
        if (
            cicd.tested_stage is not None
            and cicd.tested_stage.name == stage.name
            and stage_config.inference.mode == "async"
        ):
            raise ConfigError(
                f"cicd.model_deploy.test_stage: stage {stage.name!r} (profile {stage.profile!r}) serves async "
                "requests, which have no API to test through; test a realtime or serverless stage"
            )
        found.append((stage, stage_config))
    return found


def synth_target(get: Callable[[str], Any]) -> str:
    """The ``make synth`` arguments that rebuild this assembly (the pipeline's synth step runs them)."""
    return f"CONFIG={get('config')}" if get("config") else f"PROFILE={get('profile') or 'sandbox'}"


def compose(
    app: cdk.App,
    config: PlatformConfig,
    *,
    env: cdk.Environment | None = None,
    synth_target: str = "PROFILE=sandbox",
) -> tuple[cdk.Stage, cdk.Stack | None]:
    """The profile's stage and, with CI/CD on, the ``Cicd`` stack in the profile's (tooling) account and region."""
    import aws_cdk as cdk  # noqa: PLC0415

    from stacks.cicd_stack import CicdStack  # noqa: PLC0415
    from stacks.stage import PlatformStage  # noqa: PLC0415

    model = pipeline_model(config, app.node.try_get_context)  # before any construct: a bad value stops here
    stage = PlatformStage(app, config.stage_name, config=config, env=env)
    if not config.pipeline_enabled:
        return stage, None
    pipeline = CicdStack(
        app,
        "Cicd",
        stack_name=config.stack_name("Cicd"),
        config=config,
        stages=pipeline_stages(config, model),
        synth_target=synth_target,
        env=cdk.Environment(account=config.account, region=config.region),
        description="ML platform CI/CD: the self-mutating pipeline that deploys the platform's stages (MLA-C01 3.3)",
    )
    return stage, pipeline


def refused_early() -> str | None:
    """The profile's error, read from the context the CDK CLI passes in ``CDK_CONTEXT_JSON``, without loading
    the CDK; None when the profile is valid or the context is not all there (the CLI moves a large context to a
    file, ``CONTEXT_OVERFLOW_LOCATION_ENV``), in which case ``main`` reads it through ``cdk.App`` as usual."""
    raw = os.environ.get("CDK_CONTEXT_JSON")
    if raw is None or os.environ.get("CONTEXT_OVERFLOW_LOCATION_ENV"):
        return None
    get = {**cdk_json_context(), **json.loads(raw)}.get
    try:
        pipeline_model(_settings(get), get)  # the profile, then the version a pipeline's synth step passes
    except ConfigError as error:
        return str(error)
    return None


def main() -> int:
    early = refused_early()
    if early is not None:
        print(f"error: {early}", file=sys.stderr)
        return 1
    import aws_cdk as cdk  # noqa: PLC0415 - loaded once the profile is known to be valid

    app = cdk.App(context=cdk_json_context())
    try:
        config = _settings(app.node.try_get_context)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # Environment-agnostic unless the profile pins a target or the CLI has credentials. Without an
    # account the CLI still passes a default region; ignoring it keeps `make synth` identical to the tests.
    account = config.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = config.region or (os.environ.get("CDK_DEFAULT_REGION") if account else None)
    env = cdk.Environment(account=account, region=region)
    try:
        compose(app, config, env=env, synth_target=synth_target(app.node.try_get_context))
    except ConfigError as error:  # a pipeline stage's own profile, or the version the pipeline deploys
        print(f"error: {error}", file=sys.stderr)
        return 1
    register_rule_packs(app)
    return synthesize(app)


def register_rule_packs(app: cdk.App) -> None:
    """SECURITY.md's packs and Control Tower's controls, once on the App: they check every template of the
    assembly, a pipeline's nested stages included (facts: validation-plugins-cover-nested-stages)."""
    import aws_cdk as cdk  # noqa: PLC0415
    from cdk_nag import (  # noqa: PLC0415
        AwsSolutionsChecks,
        HIPAASecurityChecks,
        NIST80053R5Checks,
        PCIDSS321Checks,
        ServerlessChecks,
    )

    from tools.control_tower import ControlTowerGuard  # noqa: PLC0415

    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        HIPAASecurityChecks(app),
        NIST80053R5Checks(app),
        PCIDSS321Checks(app),
        ServerlessChecks(app),
        ControlTowerGuard(),  # AWS Control Tower's proactive controls, with per-resource exceptions
    )


def synthesize(app: cdk.App) -> int:
    """Synthesize; 1 when a rule pack refuses (the packs printed each finding), else 0."""
    try:
        app.synth()
    except RuntimeError as error:  # jsii surfaces the policy-validation failure as a RuntimeError
        if "ValidationFailed" not in str(error):
            raise
        # The packs already printed each finding with its construct path and rule id above.
        print("error: synthesis refused: unacknowledged rule-pack findings (listed above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
