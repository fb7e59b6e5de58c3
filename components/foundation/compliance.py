"""Narrow, reasoned exceptions to the rule packs: one finding, one construct, one specific reason.

cdk-nag findings are acknowledged through CDK's own ``Validations`` API (cdk-nag 3.x); checkov
skips and Control Tower (cfn-guard) exceptions ride in the resource's ``Metadata``. ``tools.reports`` lists
all of them from the synthesized app in docs/COMPLIANCE_REGISTER.md, so every exception is reviewable in
one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import aws_cdk as cdk
import jsii
from constructs import IConstruct, IValidation

_MIN_REASON = 25  # "not needed" is not a reason; a reason says why this resource is different

GUARD_METADATA = "platform:guard"  # read by tools.control_tower

# With this context set, acknowledgments are recorded (as metadata) instead of applied, so a test
# can run the packs on the raw findings and prove every acknowledgment still matches one.
AUDIT_CONTEXT = "platform:audit-acknowledgments"
AUDIT_METADATA = "platform:acknowledgment"


def _check_reason(reason: str) -> None:
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(f"an exception needs a specific reason, got {reason!r}")


def acknowledge(construct: IConstruct, rule_ids: str | Iterable[str], reason: str) -> None:
    """Acknowledge the same finding as reported by one or more packs, on this construct only.

    Several ids are allowed only for the *same* finding seen by different packs (for example
    ``HIPAA.Security-S3BucketReplicationEnabled`` and ``NIST.800.53.R5-S3BucketReplicationEnabled``).
    """
    _check_reason(reason)
    ids = [rule_ids] if isinstance(rule_ids, str) else list(rule_ids)
    if isinstance(construct, cdk.Stack | cdk.Stage):
        raise ValueError(f"acknowledge on the resource that needs it, not on {construct.node.path}")
    audit = bool(construct.node.try_get_context(AUDIT_CONTEXT))
    for rule_id in ids:
        if audit:
            construct.node.add_metadata(AUDIT_METADATA, {"rule": rule_id, "reason": reason})
        else:
            cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def skip_checkov(construct: IConstruct, check_id: str, comment: str) -> None:
    """Skip one checkov check on one resource, with the reason stored next to it in the template."""
    _check_reason(comment)
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry a checkov skip")
    existing = resource.get_metadata("checkov") or {"skip": []}
    skips = [s for s in existing["skip"] if s["id"] != check_id] + [{"id": check_id, "comment": comment}]
    resource.add_metadata("checkov", {"skip": skips})


def guard_exception(construct: IConstruct, rule: str, reason: str) -> None:
    """Excuse one AWS Control Tower proactive control (a cfn-guard rule name) on one resource, with the reason
    stored next to it in the template (``platform:guard`` metadata, read by ``tools.control_tower``)."""
    _check_reason(reason)
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry a guard exception")
    existing = resource.get_metadata(GUARD_METADATA) or {"exceptions": []}
    entries = [e for e in existing["exceptions"] if e["rule"] != rule] + [{"rule": rule, "reason": reason}]
    resource.add_metadata(GUARD_METADATA, {"exceptions": entries})


def _render(value: object) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in finding ids (``<Logical.Arn>``, ``<AWS::Region>``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    if isinstance(value, dict):  # a cross-stack reference (Fn::GetStackOutput, Fn::ImportValue): printed as JSON
        return json.dumps(value, separators=(",", ":"))
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding id")


@jsii.implements(IValidation)
class _WildcardAcknowledgment:
    """Computes the finding id once references are final.

    A reference to another stack's bucket resolves to ``Fn::GetStackOutput`` only when the app is
    prepared; construct validations run after that and before the rule packs, which is the one moment
    the id can be computed the way the packs will print it.
    """

    def __init__(self, policy: IConstruct, resource_arn: str, reason: str) -> None:
        self.policy, self.resource_arn, self.reason = policy, resource_arn, reason

    def validate(self) -> list[str]:
        rendered = _render(cdk.Stack.of(self.policy).resolve(self.resource_arn))
        acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{rendered}]", self.reason)
        return []


def acknowledge_wildcard(policy: IConstruct, resource_arn: str, reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for one wildcard resource of one policy.

    The finding id is computed from the same ARN the policy uses, so renaming a bucket or
    prefix cannot leave a stale acknowledgment behind.
    """
    _check_reason(reason)
    policy.node.add_validation(_WildcardAcknowledgment(policy, resource_arn, reason))


# CDK's own singleton custom-resource providers that the platform opts into, and why. Their code and
# shape belong to aws-cdk-lib; the exceptions below are the only ones they need.
CDK_PROVIDERS = {
    "Custom::VpcRestrictDefaultSGCustomResourceProvider": (
        "CDK provider that strips every rule from the VPC default security group (control 3); "
        "it calls the EC2 API once per deployment and is owned by aws-cdk-lib."
    ),
    "Custom::S3AutoDeleteObjectsCustomResourceProvider": (
        "CDK provider that empties sandbox buckets on teardown (removal_policy: destroy); "
        "it runs only during stack deletion and is owned by aws-cdk-lib."
    ),
}
CDK_PROVIDER_CHECKOV_SKIPS = {
    "CKV_AWS_115": "No reserved concurrency: invoked only by CloudFormation, once per change",
    "CKV_AWS_116": "No DLQ: CloudFormation retries and reports failures of custom resources itself",
    "CKV_AWS_117": "Outside the VPC: it must reach the EC2/S3 APIs and holds no data",
}


@jsii.implements(cdk.IAspect)
class CdkProviderExceptions:
    """Record the named, reasoned exceptions of CDK's own provider functions on those resources only."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource) or node.cfn_resource_type != "AWS::Lambda::Function":
            return
        provider = node.node.scope
        if provider is None or provider.node.id not in CDK_PROVIDERS:
            return
        reason = CDK_PROVIDERS[provider.node.id]
        for check_id, why in CDK_PROVIDER_CHECKOV_SKIPS.items():
            skip_checkov(node, check_id, f"{reason} {why}.")
        guard_exception(node, "lambda_inside_vpc_check", f"{reason} {CDK_PROVIDER_CHECKOV_SKIPS['CKV_AWS_117']}.")
        # aws-cdk-lib adds an explicit DependsOn on the role next to the GetAtt that implies it.
        node.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
