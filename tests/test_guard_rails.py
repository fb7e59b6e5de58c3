"""The guard rails refuse what they exist to refuse (they are code too, and could silently stop working)."""

from __future__ import annotations

import ast
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from components.foundation.compliance import acknowledge, guard_exception, skip_checkov
from components.foundation.roles import ServiceRole
from components.foundation.storage import SecureBucket
from components.ml.pipeline import render_definition
from config import load_settings
from stacks.network_stack import NetworkStack


def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Probe")


def test_an_acknowledgment_at_stack_scope_is_refused() -> None:
    probe = stack()
    with pytest.raises(ValueError, match="not on Probe"):
        acknowledge(probe, "AwsSolutions-S1", "a long enough reason that still does not belong on a stack")


@pytest.mark.parametrize("exception", [acknowledge, guard_exception, skip_checkov])
def test_an_exception_without_a_specific_reason_is_refused(exception: object) -> None:
    topic = sns.Topic(stack(), "Topic")
    with pytest.raises(ValueError, match="specific reason"):
        exception(topic, "AwsSolutions-SNS2", "not needed")  # type: ignore[operator]


def test_a_data_bucket_without_kms_is_refused() -> None:
    with pytest.raises(ValueError, match="only the access-log bucket"):
        SecureBucket(
            stack(),
            "Data",
            encryption_key=None,
            access_logs_bucket=SecureBucket(
                stack(),
                "Logs",
                encryption_key=None,
                access_logs_bucket=None,
                removal_policy=cdk.RemovalPolicy.DESTROY,
                noncurrent_version_expiration_days=1,
            ).bucket,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            noncurrent_version_expiration_days=1,
        )


def test_a_trust_key_the_service_does_not_document_is_refused() -> None:
    with pytest.raises(ValueError, match="does not document aws:SourceArn"):
        ServiceRole(
            stack(),
            "Role",
            service="cloudtrail.amazonaws.com",
            description="CloudTrail delivery",
            statements=[],
            source_arn="arn:aws:cloudtrail:*:123456789012:trail/*",
        )


def test_a_principal_without_documented_trust_keys_is_refused() -> None:
    with pytest.raises(KeyError, match=r"no entry in aws_facts\.yaml"):
        ServiceRole(stack(), "Role", service="example.amazonaws.com", description="x", statements=[])


def test_an_unreplaced_placeholder_fails_synth() -> None:
    network = NetworkStack(
        cdk.App(), "Network", config=load_settings("sandbox"), removal_policy=cdk.RemovalPolicy.DESTROY
    ).network
    with pytest.raises(ValueError, match="unreplaced value"):
        render_definition(network, name="drift", network=network, replacements={}, defaults={})


# Which domains each domain of components/ may import: foundation below everything, the stacks' order above.
DOMAIN_IMPORTS = {
    "foundation": set(),
    "network": {"foundation"},
    "data": {"foundation"},
    "governance": {"foundation"},
    "ml": {"foundation", "network", "data"},
    "serving": {"foundation", "network", "data", "ml"},
    "monitoring": {"foundation", "network", "data", "ml", "serving"},
    "cicd": {"foundation", "network", "data", "governance", "ml", "serving", "monitoring"},  # the top: none imports it
}


def test_domains_import_only_the_domains_below_them() -> None:
    """A component never reaches up: foundation imports no domain, serving no monitoring, and so on."""
    root = Path(__file__).resolve().parent.parent / "components"
    found: set[str] = set()
    for path in root.rglob("*.py"):
        domain = path.relative_to(root).parts[0].removesuffix(".py")
        if domain == "__init__":
            continue
        assert domain in DOMAIN_IMPORTS, f"{path}: a domain the layering does not know"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: a relative import"
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module.startswith("components."):
                    imported = module.split(".")[1]
                    found.add(domain)
                    assert imported == domain or imported in DOMAIN_IMPORTS[domain], f"{path}: imports {module}"
    assert found >= {"ml", "serving", "monitoring"}
