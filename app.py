#!/usr/bin/env python3
"""Composition root: load the profile, build the stage, register the rule packs, synthesize.

    npx cdk synth -c profile=production     # or -c config=path/to/profile.yaml

A bad profile stops here with one line naming the field and the rule, before any construct exists.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks

from config import ConfigError, load_settings
from config.loader import CONTEXT_OVERRIDES
from stacks.stage import PlatformStage
from tools.control_tower import ControlTowerGuard

ROOT = Path(__file__).resolve().parent


def cdk_json_context() -> dict[str, object]:
    """Feature flags and settings from cdk.json, so `python app.py` and tests match the CLI."""
    return dict(json.loads((ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {}))


def main() -> int:
    app = cdk.App(context=cdk_json_context())
    try:
        overrides = {
            field: app.node.try_get_context(key)
            for key, field in CONTEXT_OVERRIDES.items()
            if app.node.try_get_context(key)
        }
        config = load_settings(app.node.try_get_context("profile"), app.node.try_get_context("config"), overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # Environment-agnostic unless the profile pins a target or the CLI has credentials. Without an
    # account the CLI still passes a default region; ignoring it keeps `make synth` identical to the tests.
    account = config.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = config.region or (os.environ.get("CDK_DEFAULT_REGION") if account else None)
    env = cdk.Environment(account=account, region=region)
    PlatformStage(app, config.stage_name, config=config, env=env)
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        HIPAASecurityChecks(app),
        NIST80053R5Checks(app),
        PCIDSS321Checks(app),
        ServerlessChecks(app),
        ControlTowerGuard(),  # AWS Control Tower's proactive controls, with per-resource exceptions
    )
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
