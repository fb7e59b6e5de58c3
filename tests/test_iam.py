"""SECURITY.md controls 30-34: least privilege across every stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.foundation.compliance import CDK_PROVIDERS
from config.facts import all_trust_keys, trust_keys
from tests.helpers import as_list, every_resource, props, statements, this_account
from tools.platform import Synthesized

pytestmark = pytest.mark.exam("4.3")

# Logical-id prefixes of the roles of CDK's own providers (see components.foundation.compliance.CDK_PROVIDERS).
CDK_PROVIDER_ROLES = tuple(name.replace("::", "") + "Role" for name in CDK_PROVIDERS)


def identity_statements(platform: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity-based policy (inline, managed, role-embedded)."""
    for _, logical, resource in every_resource(platform):
        kind = resource["Type"]
        if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in statements(props(resource)["PolicyDocument"]):
                yield logical, statement
        elif kind == "AWS::IAM::Role":
            for policy in props(resource).get("Policies", []):
                for statement in statements(policy["PolicyDocument"]):
                    yield logical, statement


def test_control_30_no_admin_or_full_access(platform: Synthesized) -> None:
    found = list(identity_statements(platform))
    assert found
    for logical, statement in found:
        actions = as_list(statement.get("Action", []))
        assert "*" not in actions, logical
        assert not any(a.endswith(":*") for a in actions), (logical, actions)
        assert not (
            "*" in as_list(statement.get("Resource"))
            and statement["Effect"] == "Allow"
            and any("*" in a for a in actions)
        ), logical


def test_control_31_no_aws_managed_policies_outside_cdk_providers(platform: Synthesized) -> None:
    roles = list(every_resource(platform, "AWS::IAM::Role"))
    assert roles
    for _, logical, role in roles:
        managed = [str(arn) for arn in props(role).get("ManagedPolicyArns", [])]
        if logical.startswith(CDK_PROVIDER_ROLES):
            continue  # aws-cdk-lib's own provider functions: a named, reasoned exception
        assert not any(":iam::aws:policy/" in arn for arn in managed), logical
        assert "Policies" not in props(role), f"{logical}: inline policy; use ServiceRole's managed policy"
    assert not list(every_resource(platform, "AWS::IAM::Policy")), "inline AWS::IAM::Policy found"


def test_control_32_pass_role_only_on_named_roles_to_a_service(platform: Synthesized) -> None:
    for logical, statement in identity_statements(platform):
        if "iam:PassRole" in as_list(statement.get("Action", [])):
            assert "*" not in as_list(statement["Resource"]), logical
            assert "iam:PassedToService" in statement["Condition"]["StringEquals"], logical


def test_control_33_service_trust_uses_only_the_keys_each_service_documents(platform: Synthesized) -> None:
    """Every service role's trust carries exactly the confused-deputy keys its service documents sending
    (config/data/aws_facts.yaml, each with its URL): scoped to this account wherever the service allows it,
    and never with a key the service does not send, which would make the role unassumable (the CloudTrail
    CloudWatch Logs role with aws:SourceAccount failed the first sandbox deploy this way)."""
    checked = 0
    for _, logical, role in every_resource(platform, "AWS::IAM::Role"):
        if logical.startswith(CDK_PROVIDER_ROLES):
            continue
        entry = trust_keys(role["Metadata"]["platform:trust-facts"]["entry"])
        for statement in statements(props(role)["AssumeRolePolicyDocument"]):
            assert statement["Principal"] == {"Service": entry.principal}, logical
            used = {key for block in statement.get("Condition", {}).values() for key in block}
            assert used <= set(entry.keys), (logical, used - set(entry.keys), entry.url)
            for key in ("aws:SourceAccount", "sts:ExternalId"):
                if entry.allows(key):  # where documented, the scope is always there and always this account
                    assert this_account(statement["Condition"]["StringEquals"][key]), (logical, key)
            checked += 1
    assert checked >= 8


def test_trust_facts_name_their_sources() -> None:
    for principal, entry in all_trust_keys().items():
        assert entry.url.startswith("https://docs.aws.amazon.com/"), principal
        assert set(entry.keys) <= {"aws:SourceAccount", "aws:SourceArn", "sts:ExternalId"}, principal
    # The one role that the first sandbox deploy failed on: CloudTrail's CloudWatch Logs role takes no keys.
    assert trust_keys("cloudtrail.amazonaws.com").keys == ()


def test_control_34_no_iam_users_or_groups(platform: Synthesized) -> None:
    for kind in ("AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::AccessKey", "AWS::IAM::UserToGroupAddition"):
        assert not list(every_resource(platform, kind)), kind
