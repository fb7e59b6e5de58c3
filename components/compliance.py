"""Narrow, reasoned exceptions to the rule packs: one finding, one construct, one specific reason.

cdk-nag findings are acknowledged through CDK's own ``Validations`` API (cdk-nag 3.x); checkov
skips ride in the resource's ``Metadata``. ``tools.compliance_register`` lists all of both from the
synthesized app, so every exception is reviewable in one place.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from constructs import IConstruct

_MIN_REASON = 25  # "not needed" is not a reason; a reason says why this resource is different


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
    for rule_id in ids:
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
