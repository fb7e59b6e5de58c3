"""A small IAM policy evaluator over synthesized CloudFormation templates.

Two halves:

* ``Templates`` renders CloudFormation values into symbolic strings that compare equal when they name
  the same thing: ``{"Ref": "LakeRawBucket"}`` in DataLake, the bucket ARN a policy in another stack
  reads through ``Fn::GetStackOutput``, and ``s3://<that name>/training/`` in a pipeline definition all
  render to ``{DataLake.LakeRawBucket...}`` (with ``arn:aws:s3:::`` in front for the ARN). Pseudo
  parameters become ``{AccountId}`` and ``{Region}``, the partition is always ``aws``. It also resolves a
  role reference to the statements of the policies attached to that role, wherever they live.
* ``evaluate`` decides one request (action, resource, known request context) against statements the
  way IAM does: explicit Deny wins, then Allow, else implicit deny. Actions match case-insensitively,
  resources with ``*`` and ``?``. A condition whose key the request context does not know, or whose
  operator this evaluator does not implement, makes the answer ``unknown`` (reported, never a pass).
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Template = dict[str, Any]

PSEUDO = {
    "AWS::AccountId": "{AccountId}",
    "AWS::Region": "{Region}",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": "",
}
# The ARN a resource's ``Fn::GetAtt .Arn`` (or its ``Ref``, where Ref is the ARN) stands for; {name} is its Ref.
ARN_FORMS = {
    "AWS::S3::Bucket": "arn:aws:s3:::<name>",
    "AWS::IAM::Role": "arn:aws:iam::{AccountId}:role/<name>",
    "AWS::KMS::Key": "arn:aws:kms:{Region}:{AccountId}:key/<name>",
    "AWS::Kinesis::Stream": "arn:aws:kinesis:{Region}:{AccountId}:stream/<name>",
    "AWS::SNS::Topic": "arn:aws:sns:{Region}:{AccountId}:<name>",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{AccountId}:policy/<name>",
}
REF_IS_ARN = ("AWS::SNS::Topic", "AWS::IAM::ManagedPolicy")
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}
ARN_ATTRIBUTES = ("Arn", "TopicArn", "PolicyArn", "StreamArn")
# Request context worth printing in a finding (the rest is the same for every request).
SHOWN_CONTEXT = ("s3:prefix", "iam:PassedToService", "kms:GrantIsForAWSResource")
_SUB = re.compile(r"\$\{([^}]+)\}")


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (name,) = value
    return name == "Ref" or str(name).startswith("Fn::")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _att(argument: Any) -> tuple[str, str]:
    """``Fn::GetAtt`` names its resource and attribute as a list or as one dotted string."""
    logical, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
    return str(logical), str(attribute)


def kms_arn(key: str) -> str:
    """A KMS key named by id or by ARN, as the ARN a policy Resource names."""
    return key if key.startswith("arn:") else f"arn:aws:kms:{{Region}}:{{AccountId}}:key/{key}"


def s3_location(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket name, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


@dataclass(frozen=True)
class RoleId:
    stack: str
    logical_id: str


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str = "") -> Statement:
        """A statement whose values are already plain strings (see ``Templates.resolve``)."""

        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in as_list(raw.get(key, [])))

        condition = {op: {k: as_list(v) for k, v in keys.items()} for op, keys in raw.get("Condition", {}).items()}
        sid = f"#{raw['Sid']}" if "Sid" in raw else ""
        return cls(
            effect=str(raw["Effect"]),
            actions=strings("Action"),
            not_actions=strings("NotAction"),
            resources=strings("Resource"),
            not_resources=strings("NotResource"),
            condition=condition,
            source=source + sid,
        )


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        known = "".join(f" [{k}={v}]" for k, v in self.context.items() if k in SHOWN_CONTEXT)
        return f"{self.action} on {self.resource}{known}"


Verdict = Literal["allow", "deny", "implicit-deny", "unknown"]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.verdict == "allow"


@functools.cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's matching: ``*`` any run of characters (``/`` included), ``?`` one character."""
    return _pattern(glob, ignore_case).fullmatch(value) is not None


def _string_test(base: str, values: list[str], actual: str) -> bool | None:
    tests: dict[str, Callable[[str], bool]] = {
        "StringEquals": lambda v: actual == v,
        "StringEqualsIgnoreCase": lambda v: actual.lower() == v.lower(),
        "StringLike": lambda v: wildcard(v, actual),
        "ArnEquals": lambda v: wildcard(v, actual),
        "ArnLike": lambda v: wildcard(v, actual),
        "Bool": lambda v: actual.lower() == v.lower(),
    }
    negated = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals"}
    negated |= {"ArnNotLike": "ArnLike", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase"}
    numeric: dict[str, Callable[[float, float], bool]] = {
        "NumericEquals": operator.eq,
        "NumericLessThan": operator.lt,
        "NumericLessThanEquals": operator.le,
    }
    numeric |= {"NumericGreaterThan": operator.gt, "NumericGreaterThanEquals": operator.ge}
    if base in tests:
        return any(tests[base](v) for v in values)
    if base in negated:
        return not any(tests[negated[base]](v) for v in values)
    if base in numeric:
        return any(bool(numeric[base](float(actual), float(v))) for v in values)
    return None


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> tuple[bool | None, str]:
    """(True/False, "") when every block can be decided from ``context``; (None, why) when one cannot."""
    known = {k.lower(): v for k, v in context.items()}
    undecided = ""
    for name, keys in condition.items():
        base = name.removesuffix("IfExists")
        for key, raw_values in keys.items():
            values = [str(v) for v in as_list(raw_values)]
            actual = known.get(key.lower())
            if ":" in base:  # ForAnyValue:/ForAllValues: over multivalued keys: not implemented
                result: bool | None = None
            elif base == "Null":
                result = (actual is None) == (values[0].lower() == "true")
            elif actual is None:
                result = True if name.endswith("IfExists") else None
            else:
                result = _string_test(base, values, actual)
            if result is False:
                return False, ""
            if result is None:
                undecided = f"cannot evaluate condition {name} {key} {values} (request context: {dict(context)})"
    return (None, undecided) if undecided else (True, "")


def _matches(statement: Statement, request: Request) -> bool:
    def action_in(patterns: tuple[str, ...]) -> bool:
        return any(wildcard(p, request.action, ignore_case=True) for p in patterns)

    def resource_in(patterns: tuple[str, ...]) -> bool:
        return any(wildcard(p, request.resource) for p in patterns)

    action = action_in(statement.actions) if statement.actions else not action_in(statement.not_actions)
    resource = resource_in(statement.resources) if statement.resources else not resource_in(statement.not_resources)
    return action and resource


def evaluate(statements: list[Statement], request: Request) -> Decision:
    """IAM's decision for one request: explicit Deny, else Allow, else implicit deny; unknown when unsure."""
    allows: list[str] = []
    unsure: dict[str, list[str]] = {"Allow": [], "Deny": []}
    for statement in statements:
        if not _matches(statement, request):
            continue
        holds, why = condition_holds(statement.condition, request.context)
        if statement.effect == "Deny" and holds:
            return Decision("deny", (f"denied by {statement.source}",))
        if holds is None:
            unsure[statement.effect].append(f"{statement.effect} {statement.source}: {why}")
        elif holds:
            allows.append(statement.source)
    if unsure["Deny"] or (unsure["Allow"] and not allows):  # a Deny that may apply, or only an unsure Allow
        return Decision("unknown", tuple(unsure["Deny"] + unsure["Allow"]))
    if allows:
        return Decision("allow", tuple(allows))
    return Decision("implicit-deny", ("no statement allows it",))


class Templates:
    """Every stack of one build: renders values into symbolic strings and finds a role's policies."""

    def __init__(self, templates: Mapping[str, Template], stack_names: Mapping[str, str]) -> None:
        self.templates = dict(templates)
        self.stack_by_name = {name: stack for stack, name in stack_names.items()}
        self._roles: dict[str, RoleId] = {}
        for stack, logical, _ in self.resources("AWS::IAM::Role"):
            for form in ({"Ref": logical}, {"Fn::GetAtt": [logical, "Arn"]}):
                self._roles[self.text(form, stack)] = RoleId(stack, logical)
        self._statements: dict[RoleId, list[Statement]] = {}
        self._denies: dict[str, list[Statement]] = {}

    # --- templates -------------------------------------------------------------------------------
    def resources(self, resource_type: str | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for stack, template in self.templates.items():
            for logical, resource in template.get("Resources", {}).items():
                if resource_type is None or resource["Type"] == resource_type:
                    yield stack, logical, resource

    def properties(self, stack: str, logical: str) -> dict[str, Any]:
        return dict(self.templates[stack]["Resources"][logical].get("Properties", {}))

    # --- rendering -------------------------------------------------------------------------------
    def text(self, value: Any, stack: str) -> str:
        rendered = self.resolve(value, stack)
        return rendered if isinstance(rendered, str) else json.dumps(rendered, sort_keys=True)

    def resolve(self, value: Any, stack: str) -> Any:
        """``value`` with every intrinsic replaced by its symbolic string (structure kept otherwise)."""
        if isinstance(value, list):
            return [self.resolve(v, stack) for v in value]
        if not isinstance(value, dict):
            return value if isinstance(value, str) else json.dumps(value)
        if not is_intrinsic(value):
            return {k: self.resolve(v, stack) for k, v in value.items()}
        ((function, argument),) = value.items()
        return self._intrinsic(function, argument, stack)

    def _intrinsic(self, function: str, argument: Any, stack: str) -> Any:
        handlers: dict[str, Any] = {
            "Ref": lambda: self._ref(str(argument), stack),
            "Fn::GetAtt": lambda: self._get_att(*_att(argument), stack),
            "Fn::Join": lambda: str(argument[0]).join(
                self.text(p, stack) for p in as_list(self.resolve(argument[1], stack))
            ),
            "Fn::Sub": lambda: self._sub(argument, stack),
            "Fn::GetAZs": lambda: [f"{{AZ{i}}}" for i in range(6)],
            "Fn::Select": lambda: self._select(int(self.text(argument[0], stack)), self.resolve(argument[1], stack)),
            "Fn::Split": lambda: self.text(argument[1], stack).split(str(argument[0])),
            "Fn::ImportValue": lambda: self._import(self.text(argument, stack)),
            "Fn::GetStackOutput": lambda: self._output(
                self.stack_by_name.get(self.text(argument["StackName"], stack)), argument["OutputName"]
            ),
            "Fn::FindInMap": lambda: self._find_in_map([self.text(a, stack) for a in argument], stack),
        }
        # Fn::If, Fn::Base64, ...: not needed to compare names, kept as a token
        return handlers[function]() if function in handlers else f"{{{function}}}"

    @staticmethod
    def _select(index: int, items: Any) -> Any:
        """Item ``index``; out of range (a split of a value only known at deploy time) is a token."""
        items = as_list(items)
        return items[index] if index < len(items) else f"{{Select:{index}:{json.dumps(items)}}}"

    def _find_in_map(self, keys: list[str], stack: str) -> Any:
        found: Any = self.templates[stack].get("Mappings", {})
        for key in keys:
            found = found.get(key) if isinstance(found, dict) else None
        return self.resolve(found, stack) if found is not None else "{" + ".".join(keys) + "}"

    def _ref(self, name: str, stack: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        resource = self.templates[stack].get("Resources", {}).get(name)
        if resource is None:  # a template parameter
            return f"{{{stack}.{name}}}"
        kind = resource["Type"]
        named = resource.get("Properties", {}).get(NAME_PROPERTY.get(kind, ""))
        plain = self.text(named, stack) if named is not None else f"{{{stack}.{name}}}"
        return ARN_FORMS[kind].replace("<name>", plain) if kind in REF_IS_ARN else plain

    def _get_att(self, logical: str, attribute: str, stack: str) -> str:
        kind = self.templates[stack].get("Resources", {}).get(logical, {}).get("Type", "")
        if attribute in ARN_ATTRIBUTES and kind in ARN_FORMS:
            name = self._ref(logical, stack)
            return name if kind in REF_IS_ARN else ARN_FORMS[kind].replace("<name>", name)
        return f"{{{stack}.{logical}.{attribute}}}"

    def _sub(self, argument: Any, stack: str) -> str:
        source, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self.text(variables[name], stack)
            if name in PSEUDO or "." not in name:
                return self._ref(name, stack)
            return self._get_att(*_att(name), stack)

        return _SUB.sub(replace, source)

    def _output(self, stack: str | None, output_name: str) -> Any:
        outputs = self.templates.get(stack or "", {}).get("Outputs", {})
        if stack is None or output_name not in outputs:
            return f"{{Output:{output_name}}}"
        return self.resolve(outputs[output_name]["Value"], stack)

    def _import(self, export_name: str) -> Any:
        for stack, template in self.templates.items():
            for output_name, output in template.get("Outputs", {}).items():
                if "Export" in output and self.text(output["Export"]["Name"], stack) == export_name:
                    return self._output(stack, output_name)
        return f"{{Import:{export_name}}}"

    # --- roles and their policies ----------------------------------------------------------------
    def role(self, value: Any, stack: str) -> RoleId | None:
        """The role a RoleArn (or role name) names, in whichever stack it lives."""
        return self.role_named(self.text(value, stack))

    def role_named(self, rendered: str) -> RoleId | None:
        return self._roles.get(rendered)

    def statements(self, role: RoleId) -> list[Statement]:
        """Every statement of the managed and inline policies attached to ``role``."""
        if role not in self._statements:
            self._statements[role] = list(self._attached(role))
        return self._statements[role]

    def _attached(self, role: RoleId) -> Iterator[Statement]:
        role_props = self.properties(role.stack, role.logical_id)
        managed = {self.text(arn, role.stack) for arn in role_props.get("ManagedPolicyArns", [])}
        for index, inline in enumerate(role_props.get("Policies", [])):
            yield from self._document(inline["PolicyDocument"], role.stack, f"{role.logical_id}.Policies[{index}]")
        for stack, logical, resource in self.resources():
            if resource["Type"] not in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
                continue
            props = resource.get("Properties", {})
            attached = {self.role(r, stack) for r in props.get("Roles", [])}
            if role in attached or self.text({"Ref": logical}, stack) in managed:
                yield from self._document(props["PolicyDocument"], stack, f"{stack}/{logical}")

    def _document(self, document: Any, stack: str, source: str) -> Iterator[Statement]:
        for raw in as_list(self.resolve(document, stack).get("Statement", [])):
            yield Statement.parse(raw, source)

    def bucket_denies(self, bucket: str) -> list[Statement]:
        """The Deny statements for everyone (``Principal: *``) of the bucket policy of bucket ``bucket``."""
        if bucket in self._denies:
            return self._denies[bucket]
        found: list[Statement] = []
        for stack, logical, resource in self.resources("AWS::S3::BucketPolicy"):
            props = resource["Properties"]
            if self.text(props["Bucket"], stack) != bucket:
                continue
            for raw in as_list(self.resolve(props["PolicyDocument"], stack)["Statement"]):
                if raw["Effect"] == "Deny" and raw.get("Principal") in ("*", {"AWS": "*"}):
                    found.append(Statement.parse(raw, f"{stack}/{logical}"))
        self._denies[bucket] = found
        return found

    def bucket_key(self, bucket: str) -> str | None:
        """The KMS key ARN a bucket of this build encrypts with by default (None: SSE-S3 or not ours)."""
        for stack, logical, resource in self.resources("AWS::S3::Bucket"):
            if self._ref(logical, stack) != bucket:
                continue
            for rule in (
                resource.get("Properties", {}).get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
            ):
                default = rule.get("ServerSideEncryptionByDefault", {})
                if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse") and "KMSMasterKeyID" in default:
                    return kms_arn(self.text(default["KMSMasterKeyID"], stack))
        return None
