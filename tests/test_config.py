"""Profiles validate before any construct is built: bad values fail with one line naming field and rule."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import config
from config import catalogs, loader, schema
from config import types as config_types
from config.catalogs import CONFIG_DIR
from config.loader import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parent.parent


def sandbox_raw() -> dict[str, Any]:
    return dict(yaml.safe_load((CONFIG_DIR / "sandbox.yaml").read_text()))


def with_change(path: str, value: Any) -> dict[str, Any]:
    """The sandbox profile with one value replaced (or added) at a dotted path."""
    raw = copy.deepcopy(sandbox_raw())
    *parents, leaf = path.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[leaf] = value
    return raw


def test_both_profiles_load() -> None:
    sandbox, production = load_settings("sandbox"), load_settings("production")
    assert sandbox.environment == "sandbox" and production.environment == "production"
    assert load_settings().environment == "sandbox"  # the default profile


def test_config_path_wins_over_profile(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(with_change("project_name", "custom")))
    assert load_settings("production", str(path)).project_name == "custom"


BAD_INPUTS = [
    # (dotted path, value, text the one-line error must contain)
    ("network.vpc_cidr", "10.40.0.0/33", "network.vpc_cidr: is not a valid IPv4 CIDR"),
    ("network.vpc_cidr", "10.40.0.0/26", "network.vpc_cidr: prefix length must be between /16 and /24"),
    ("network.vpc_cidr", "8.8.0.0/16", "network.vpc_cidr: must be a private"),
    ("network.vpc_cidr", "10.40.0.1/16", "network.vpc_cidr: is not a valid IPv4 CIDR"),
    ("network.colour", "blue", "network.colour: unknown key"),
    ("surprise", 1, "surprise: unknown key"),
    ("inference.min_capacity", 5, "inference.min_capacity: 5 must not exceed max_capacity (2)"),
    ("alert_email", "ops-at-example.com", "alert_email: 'ops-at-example.com' is not an email address"),
    (
        "governance.costs.budget.monthly_limit_usd",
        -5,
        "governance.costs.budget.monthly_limit_usd: Input should be greater than 0",
    ),
    (
        "governance.costs.budget.monthly_limit_usd",
        0,
        "governance.costs.budget.monthly_limit_usd: Input should be greater than 0",
    ),
    (
        "governance.costs.budget.sagemaker_monthly_limit_usd",
        500,
        "governance.costs.budget.sagemaker_monthly_limit_usd: must not exceed monthly_limit_usd",
    ),
    ("region", "europe-west", "region: 'europe-west' is not a region name"),
    ("region", "xx-moon-1", "region: 'xx-moon-1' is not an AWS commercial region"),
    ("inference.instance_type", "m5.large", "inference.instance_type: must be a SageMaker instance type"),
    ("inference.instance_type", "ml.m5.huge", "inference.instance_type: must be a SageMaker instance type"),
    ("project_name", "", "project_name: String should match pattern"),
    ("network.az_count", 0, "network.az_count: Input should be greater than or equal to 1"),
    ("network.az_count", 7, "network.az_count: Input should be less than or equal to 3"),
    ("network.subnet_mask", 16, "network.subnet_mask: Input should be greater than or equal to 20"),
    ("network.interface_endpoints", ["sagemaker.api", "s3-express"], "network.interface_endpoints: unknown endpoint"),
    ("log_retention_days", 42, "log_retention_days: must be one of CloudWatch Logs' retention periods"),
    ("data_lake.crawler_schedule", "rate(1 day)", "data_lake.crawler_schedule: Glue crawlers take only 'cron("),
    ("data_lake.athena_bytes_scanned_cutoff_mb", 1, "data_lake.athena_bytes_scanned_cutoff_mb"),
    ("account", "12345", "account: String should match pattern"),
    ("removal_policy", "keep", "removal_policy: Input should be 'retain' or 'destroy'"),
    (
        "inference.model_package_arn",
        "arn:aws:sagemaker:eu-west-1:123:model-package/g/1",
        "inference.model_package_arn: 'arn:aws:sagemaker:eu-west-1:123:model-package/g/1' is not a model package",
    ),
    ("inference.min_capacity", 0, "inference.min_capacity: only async endpoints scale to zero"),
    ("inference.mode", "batch", "inference.mode: Input should be 'realtime', 'serverless' or 'async'"),
    ("inference.deployment.step_percent", 80, "inference.deployment.step_percent: Input should be less than or equal"),
    ("inference.serverless_memory_mb", 1500, "inference.serverless_memory_mb: Input should be a multiple of 1024"),
    ("ml.retraining_schedule", "every sunday", "ml.retraining_schedule: must be 'rate(N unit)' or 'cron("),
    ("ml.auc_threshold", 0.3, "ml.auc_threshold: Input should be greater than or equal to 0.5"),
    ("ml.training_instance_type", "gpu-large", "ml.training_instance_type: must be a SageMaker instance type"),
    (
        "monitoring.model_monitor_schedule",
        "rate(1 hour)",
        "monitoring.model_monitor_schedule: Model Monitor takes an hourly",
    ),
    ("monitoring.psi_threshold", 0, "monitoring.psi_threshold: Input should be greater than 0"),
    ("monitoring.drift_schedule", "daily", "monitoring.drift_schedule: must be 'rate(N unit)'"),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_INPUTS, ids=[f"{p}={v!r}" for p, v, _ in BAD_INPUTS])
def test_bad_value_fails_with_one_line_naming_the_field(path: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(with_change(path, value), source="sandbox.yaml")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("sandbox.yaml: ")
    assert expected in message


def test_subnets_must_fit_the_vpc() -> None:
    raw = with_change("network.vpc_cidr", "10.40.0.0/24")
    raw["network"]["subnet_mask"] = 24
    with pytest.raises(ConfigError, match=r"network\.subnet_mask: /24 leaves no room for 2 subnet"):
        parse_settings(raw)


def test_missing_section_is_named() -> None:
    raw = sandbox_raw()
    del raw["governance"]
    with pytest.raises(ConfigError, match=r"^config: governance: is required$"):
        parse_settings(raw)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("removal_policy", "destroy", "removal_policy: production must be 'retain'"),
        ("network.az_count", 1, "network.az_count: production needs at least 2 AZs"),
        ("inference.min_capacity", 1, "inference.min_capacity: production needs at least 2 instances"),
        ("inference.max_capacity", 2, "inference.max_capacity: production needs max_capacity > min_capacity"),
        ("log_retention_days", 30, "log_retention_days: production keeps logs at least 365 days"),
        ("inference.mode", "serverless", "inference.mode: production serves realtime endpoints in the VPC"),
        (
            "inference.deployment.traffic_routing",
            "ALL_AT_ONCE",
            "inference.deployment.traffic_routing: production shifts traffic by CANARY or LINEAR",
        ),
    ],
)
def test_production_guarantees_are_enforced(path: str, value: Any, expected: str) -> None:
    raw = yaml.safe_load((CONFIG_DIR / "production.yaml").read_text())
    section = raw
    *parents, leaf = path.split(".")
    for part in parents:
        section = section[part]
    section[leaf] = value
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, source="production.yaml")
    assert expected in str(error.value)


def test_unknown_profile_lists_the_available_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"profile: unknown profile 'prod' \(available: production, sandbox, staging\)"
    ):
        load_settings("prod")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("project_name: mlops\nnetwork: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: not valid YAML at line"):
        load_settings(config_path=str(path))


BAD_VALUE = "bad.yaml"
CLI_RUNS: dict[str, dict[str, str]] = {
    "unknown-profile": {"profile": "nope"},
    "missing-file": {"config": "does/not/exist.yaml"},
    "bad-package": {"model_package_arn": "not-an-arn"},
    "bad-value": {"config": BAD_VALUE},  # made in the fixture's folder
}
CliRuns = dict[str, tuple[subprocess.CompletedProcess[str], Path]]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> CliRuns:
    """``python app.py`` as the CDK CLI runs it, once per bad input, all at once (each start loads the CDK)."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / BAD_VALUE).write_text(yaml.safe_dump(with_change("network.vpc_cidr", "10.0.0.0/8")))
    running = {}
    for name, context in CLI_RUNS.items():
        given = {"config": str(folder / BAD_VALUE)} if context.get("config") == BAD_VALUE else context
        # CDK_OUTDIR as the CLI sets it: a refused profile must leave no template behind.
        env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(given), "CDK_OUTDIR": str(folder / name / "cdk.out")}
        running[name] = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        results[name] = (subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), folder)
    return results


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("unknown-profile", "error: profile: unknown profile 'nope'"),
        ("missing-file", "error: config: file 'does/not/exist.yaml' does not exist"),
    ],
)
def test_cli_bad_profile_is_one_line_and_nonzero(cli: CliRuns, run: str, expected: str) -> None:
    result, _ = cli[run]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_model_package_override_is_validated_like_the_file(cli: CliRuns) -> None:
    result, _ = cli["bad-package"]
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: sandbox.yaml: inference.model_package_arn: 'not-an-arn' is not a model package version ARN "
        "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)"
    ]


def test_cli_bad_value_is_one_line_and_nonzero(cli: CliRuns) -> None:
    result, folder = cli["bad-value"]
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: bad.yaml: network.vpc_cidr: prefix length must be between /16 and /24 (VPC limits, room for subnets)"
    ]
    outdir = folder / "bad-value" / "cdk.out"  # cdk.App makes the folder; a refused profile writes nothing in it
    assert not outdir.exists() or not any(outdir.iterdir())


def test_the_package_exports_only_names_of_its_modules() -> None:
    """``from config import X`` gives the same object as the module that defines it."""
    homes = (catalogs, config_types, schema, loader)
    for name in config.__all__:
        assert any(getattr(config, name) is vars(home).get(name) for home in homes), name


def test_a_refused_profile_is_read_from_the_cli_context_before_the_cdk_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import app  # noqa: PLC0415 - the composition root, imported only here

    monkeypatch.delenv("CONTEXT_OVERFLOW_LOCATION_ENV", raising=False)
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"profile": "nope"}))
    assert app.refused_early() == "profile: unknown profile 'nope' (available: production, sandbox, staging)"
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"profile": "sandbox", "model_package_arn": "arn:bad"}))
    assert (app.refused_early() or "").startswith("sandbox.yaml: inference.model_package_arn:")
    # A recorded version for a profile without model deploy (what a pipeline's synth step would pass).
    recorded = {"pipeline_model_package_arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/m/1"}
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"profile": "sandbox", **recorded}))
    assert (
        app.refused_early()
        == "pipeline_model_package_arn: the profile has no cicd.model_deploy section to deploy it with"
    )
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"profile": "sandbox"}))
    assert app.refused_early() is None  # valid: main() goes on through cdk.App
    # The CLI moved part of the context to a file: not all there, so main() reads it through cdk.App.
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"profile": "nope"}))
    monkeypatch.setenv("CONTEXT_OVERFLOW_LOCATION_ENV", "/tmp/context-overflow.json")
    assert app.refused_early() is None
    monkeypatch.delenv("CDK_CONTEXT_JSON")
    monkeypatch.delenv("CONTEXT_OVERFLOW_LOCATION_ENV")
    assert app.refused_early() is None


def test_a_key_of_the_earlier_profile_layout_says_where_it_moved() -> None:
    raw = yaml.safe_load((ROOT / "config" / "sandbox.yaml").read_text())
    raw["governance"]["audit_object_lock_days"] = raw["governance"]["audit"].pop("object_lock_days")
    with pytest.raises(ConfigError) as refused:
        parse_settings(raw, source="old.yaml")
    assert (
        str(refused.value) == "old.yaml: governance.audit_object_lock_days: moved to governance.audit.object_lock_days"
    )
    raw["inference"]["api_throttle_burst"] = 20
    with pytest.raises(
        ConfigError,
        match=r"^old\.yaml: inference\.api_throttle_burst: moved to inference\.api\.throttle_burst"
        r" \(and 1 more moved key\)$",
    ):
        parse_settings(raw, source="old.yaml")


def test_a_project_name_the_feature_group_name_cannot_hold_is_refused() -> None:
    """<project>-<environment>-credit-features-<6 hex>-<12 hex> must fit 64 characters (facts:
    feature-group-name-length): a 20-character project name fits the sandbox, not production."""
    raw = with_change("project_name", "a" * 20)
    parse_settings(raw)  # 20 + "-sandbox" = 28: fits exactly
    raw["environment"] = "production"
    with pytest.raises(ConfigError, match=r"project_name: 'a{20}-production' is 31 characters; .* at most 28"):
        parse_settings(raw)
