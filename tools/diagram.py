"""The architecture diagram, generated from the synthesized assembly (never drawn by hand).

    python -m tools.diagram            # print the DOT description of the sandbox builds
    python -m tools.diagram --write    # write docs/architecture.dot and render docs/architecture.svg (needs `dot`)
    python -m tools.diagram --check    # exit 1 if either is out of date (tests/test_diagram.py checks the same)

``make docs`` writes both through ``tools.reports --write``.

What the picture holds, and where each part comes from:

- Clusters: one per stack of the assembly, labelled with the stack id and the template's ``Description``.
- Nodes: the resources whose type is in ``MAIN_TYPES`` (a curated list: no IAM, no policies, no log groups),
  named from their construct path (the ``aws:cdk:logicalId`` entries of the assembly's metadata files, so no
  logical-id hashes), with the type's short name and the ``MlaC01`` exam tasks the resource records. The VPC
  endpoints of a stack are one node listing their services; a key or queue that sits next to a main resource
  in its construct (a function's own key and dead-letter queue) is folded into it. Resources only an option
  build adds (batch transform) are dashed and name the option.
- Derived edges (solid): every reference from one main resource (or a resource inside its construct, such as
  an API method inside its API) to another, in any template: ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
  ``Fn::GetStackOutput`` and ``Fn::ImportValue`` across stacks, and a resource's physical name (pipeline,
  model package group, endpoint, Glue database, ...) written in another's properties (a rule's target ARN, an
  event pattern, a pipeline definition, an alarm's dimensions, a function's environment). ``FLOW_RULES`` says,
  per (referring type, property path, referred type), which way the data flows, its label and its step, or
  that it becomes a note on a node instead of an edge (the alerts every alarm sends, access logs, the trail's
  data events, what the dashboard shows). ``NOT_FLOWS`` lists references that are not flows (encryption keys,
  subnets, dead-letter queues, policies). A reference neither knows is drawn grey, "refers to", so a new
  dependency shows up in the picture.
- Curated edges (dashed, orange): ``CURATED_FLOWS``, the steps a template cannot express (who writes to the
  delivery stream or calls the API, a person approving a version, the metric the drift job publishes). Each
  names its ends by stack and type; ``curated_gaps`` lists one whose ends are gone (a test fails on it).

The DOT text is deterministic (sorted, no hashes, no timestamps, no absolute paths). ``docs/architecture.svg``
is rendered from ``docs/architecture.dot`` by Graphviz and carries the DOT's sha256 in a comment, so the
freshness test needs no Graphviz: it regenerates the DOT, compares it with the committed one, and checks the
hash in the SVG.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the module reads assembly folders; only main() and option_label() need the CDK app
    from tools.platform import Synthesized

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DOT_FILE = DOCS / "architecture.dot"
SVG_FILE = DOCS / "architecture.svg"

# The build the picture shows (the sandbox serving an approved model) and the option builds whose additions
# it shows dashed (tools/platform.py BUILDS).
PRIMARY_BUILD = "sandbox-serving"
OPTION_BUILDS = ("batch",)
TITLE = "ML platform on AWS: stacks, main resources and data flows (sandbox profile, serving a model)"

EXAM_METADATA = "MlaC01"  # the metadata key components write with ``demonstrates`` (read from the templates)
SVG_STAMP = "<!-- rendered from docs/architecture.dot, sha256 {} -->"
_STAMP = re.compile(r"<!-- rendered from docs/architecture\.dot, sha256 ([0-9a-f]{64}) -->")
INSTALL_HINT = "error: Graphviz `dot` is not installed; install it with `apt-get install graphviz`, then `make docs`"

# CloudFormation types the rules below name
ALARM = "AWS::CloudWatch::Alarm"
API = "AWS::ApiGateway::RestApi"
BUCKET = "AWS::S3::Bucket"
CONFIG = "AWS::SageMaker::EndpointConfig"
CRAWLER = "AWS::Glue::Crawler"
DASHBOARD = "AWS::CloudWatch::Dashboard"
DATABASE = "AWS::Glue::Database"
ENDPOINT = "AWS::SageMaker::Endpoint"
FEATURES = "AWS::SageMaker::FeatureGroup"
FIREHOSE = "AWS::KinesisFirehose::DeliveryStream"
FUNCTION = "AWS::Lambda::Function"
MODEL = "AWS::SageMaker::Model"
PIPELINE = "AWS::SageMaker::Pipeline"
REGISTRY = "AWS::SageMaker::ModelPackageGroup"
RULE = "AWS::Events::Rule"
SCHEDULE = "AWS::Scheduler::Schedule"
STREAM = "AWS::Kinesis::Stream"
TOPIC = "AWS::SNS::Topic"
TRAIL = "AWS::CloudTrail::Trail"
VPC = "AWS::EC2::VPC"

# --- what counts as a main resource ------------------------------------------------------------------------

# type -> (short name shown under the resource's name, category: its colour)
MAIN_TYPES: dict[str, tuple[str, str]] = {
    VPC: ("VPC", "network"),
    "AWS::EC2::VPCEndpoint": ("VPC endpoints", "network"),
    "AWS::EC2::FlowLog": ("VPC flow log", "network"),
    "AWS::KMS::Key": ("KMS key", "security"),
    BUCKET: ("S3 bucket", "storage"),
    DATABASE: ("Glue database", "analytics"),
    CRAWLER: ("Glue crawler", "analytics"),
    "AWS::Athena::WorkGroup": ("Athena workgroup", "analytics"),
    STREAM: ("Kinesis data stream", "analytics"),
    FIREHOSE: ("Firehose delivery stream", "analytics"),
    FEATURES: ("SageMaker feature group", "ml"),
    PIPELINE: ("SageMaker pipeline", "ml"),
    REGISTRY: ("SageMaker model registry", "ml"),
    MODEL: ("SageMaker model", "ml"),
    CONFIG: ("SageMaker endpoint config", "ml"),
    ENDPOINT: ("SageMaker endpoint", "ml"),
    "AWS::SageMaker::MonitoringSchedule": ("Model Monitor schedule", "ml"),
    "AWS::ApplicationAutoScaling::ScalableTarget": ("Application Auto Scaling", "ops"),
    API: ("API Gateway REST API", "compute"),
    FUNCTION: ("Lambda function", "compute"),
    ALARM: ("CloudWatch alarm", "ops"),
    DASHBOARD: ("CloudWatch dashboard", "ops"),
    SCHEDULE: ("EventBridge Scheduler", "events"),
    RULE: ("EventBridge rule", "events"),
    TRAIL: ("CloudTrail trail", "governance"),
    "AWS::Budgets::Budget": ("AWS Budgets", "governance"),
    "AWS::CE::AnomalyMonitor": ("Cost Anomaly Detection", "governance"),
    TOPIC: ("SNS topic", "events"),
    "AWS::SQS::Queue": ("SQS queue", "events"),
}
GROUPED_TYPES = frozenset({"AWS::EC2::VPCEndpoint"})  # one node per stack, listing the services
FOLDED_TYPES = frozenset({"AWS::KMS::Key", "AWS::SQS::Queue"})  # folded into a main resource beside them
# CDK's own custom-resource providers (bucket auto-delete, default security group restriction)
PROVIDER_PATH = re.compile(r"(^|/)Custom::[^/]*CustomResourceProvider(/|$)")

# category -> (fill, border): AWS architecture-icon hues, lightened
COLOURS: dict[str, tuple[str, str]] = {
    "network": ("#efe7ff", "#8c4fff"),
    "security": ("#fde6ea", "#dd344c"),
    "storage": ("#e7f3de", "#3f8624"),
    "analytics": ("#ebe6ff", "#6b40d8"),
    "ml": ("#daf5ef", "#01a88d"),
    "compute": ("#fdecdc", "#ed7100"),
    "events": ("#fde3ef", "#e7157b"),
    "ops": ("#fde3ef", "#b0084d"),
    "governance": ("#f1f1f1", "#545b64"),
    "external": ("#ffffff", "#232f3e"),
}

# type -> the property holding its physical name: another resource writing that name (in a rule's target
# ARN, an alarm's dimensions, a function's environment) refers to it.
NAME_PROPERTIES: dict[str, str] = {
    PIPELINE: "PipelineName",
    REGISTRY: "ModelPackageGroupName",
    ENDPOINT: "EndpointName",
    CONFIG: "EndpointConfigName",
    MODEL: "ModelName",
    FEATURES: "FeatureGroupName",
    DATABASE: "DatabaseInput.Name",
    CRAWLER: "Name",
    "AWS::Glue::SecurityConfiguration": "Name",
    "AWS::Athena::WorkGroup": "Name",
    STREAM: "Name",
    FIREHOSE: "DeliveryStreamName",
    BUCKET: "BucketName",
    FUNCTION: "FunctionName",
    ALARM: "AlarmName",
    DASHBOARD: "DashboardName",
    TOPIC: "TopicName",
    "AWS::SQS::Queue": "QueueName",
    RULE: "Name",
    SCHEDULE: "Name",
    TRAIL: "TrailName",
}
MIN_NAME_LENGTH = 6  # shorter names ("Api", "Primary") would match by accident


# --- reading the assembly ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackView:
    id: str
    name: str  # the CloudFormation stack name, as Fn::GetStackOutput names it
    template: dict[str, Any]
    paths: dict[str, str]  # logical id -> construct path below the stack ("Lake/Raw/Bucket/Resource")

    @property
    def description(self) -> str:
        return str(self.template.get("Description", ""))

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template.get("Resources", {}))


@dataclass(frozen=True)
class Assembly:
    """The stacks of one synthesized stage, read from its cloud assembly folder."""

    stacks: dict[str, StackView]

    @classmethod
    def read(cls, folder: Path) -> Assembly:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        stacks: dict[str, StackView] = {}
        for artifact in manifest["artifacts"].values():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            display = str(artifact.get("displayName", ""))
            properties = artifact["properties"]
            template = json.loads((folder / properties["templateFile"]).read_text(encoding="utf-8"))
            metadata_file = artifact.get("additionalMetadataFile")
            entries = (
                json.loads((folder / metadata_file).read_text(encoding="utf-8"))
                if metadata_file
                else artifact.get("metadata", {})
            )
            prefix = f"/{display}/"
            paths = {
                str(record["data"]): construct_path.removeprefix(prefix)
                for construct_path, records in entries.items()
                for record in records
                if record.get("type") == "aws:cdk:logicalId" and construct_path.startswith(prefix)
            }
            stack_id = display.rpartition("/")[2]
            stacks[stack_id] = StackView(stack_id, str(properties.get("stackName", stack_id)), template, paths)
        return cls(stacks)

    @classmethod
    def of(cls, platform: Synthesized) -> Assembly:
        return cls.read(platform.template_path(next(iter(platform.stacks))).parent)


# --- rendering property values to text, with references as tokens ------------------------------------------

Address = tuple[str, str]  # (stack id, logical id)
_OPAQUE = "\x00"  # stands for a value no name can match across (Fn::Select, Fn::FindInMap, ...)
_TOKEN = re.compile("\x01([^\x1f]*)\x1f([^\x02]*)\x02")
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _token(address: Address) -> str:
    return f"\x01{address[0]}\x1f{address[1]}\x02"


class Renderer:
    """Turns a property value into text: literal strings as they are, pseudo parameters as ``${AWS::Region}``,
    and a reference to a resource as a token naming (stack, logical id) wherever it lives: the same stack,
    another stack's output (``Fn::GetStackOutput``), an export (``Fn::ImportValue``)."""

    def __init__(self, assembly: Assembly) -> None:
        self.assembly = assembly
        self.stack_by_name = {s.name: s.id for s in assembly.stacks.values()}
        self.exports: dict[str, tuple[str, Any]] = {}
        for stack in assembly.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    self.exports[export] = (stack.id, output.get("Value"))

    def render(self, stack_id: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float) or value is None:
            return json.dumps(value)
        if isinstance(value, list):
            return _OPAQUE.join(self.render(stack_id, v) for v in value)
        if not isinstance(value, dict):
            return _OPAQUE
        if len(value) != 1:
            return _OPAQUE.join(self.render(stack_id, v) for _, v in sorted(value.items()))
        ((function, argument),) = value.items()
        return self._intrinsic(stack_id, function, argument)

    def _intrinsic(self, stack_id: str, function: str, argument: Any) -> str:  # noqa: PLR0911 (one per function)
        if function == "Ref":
            return f"${{{argument}}}" if str(argument).startswith("AWS::") else _token((stack_id, str(argument)))
        if function == "Fn::GetAtt":
            logical = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            return _token((stack_id, str(logical)))
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            if isinstance(parts, list):
                return str(separator).join(self.render(stack_id, p) for p in parts)
        if function == "Fn::Sub":
            text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
            return self._sub(stack_id, str(text), variables)
        if function == "Fn::GetStackOutput" and isinstance(argument, dict):
            source = self.stack_by_name.get(self.render(stack_id, argument.get("StackName")))
            if source is not None:
                outputs = self.assembly.stacks[source].template.get("Outputs", {})
                output = outputs.get(self.render(stack_id, argument.get("OutputName")))
                if output is not None:
                    return self.render(source, output.get("Value"))
            return _OPAQUE
        if function == "Fn::ImportValue":
            exported = self.exports.get(self.render(stack_id, argument))
            return self.render(*exported) if exported else _OPAQUE
        # Fn::Select, Fn::Split, Fn::FindInMap, Fn::If, ...: keep the references inside, match no name across
        return _OPAQUE + self.render(stack_id, argument) + _OPAQUE

    def _sub(self, stack_id: str, text: str, variables: Any) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if isinstance(variables, dict) and name in variables:
                return self.render(stack_id, variables[name])
            if name.startswith("AWS::"):
                return match.group(0)
            return _token((stack_id, name.split(".")[0]))

        return _SUB_VARIABLE.sub(substitute, text)


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(property path without list indices, value) of every string leaf and every intrinsic function."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            yield path, value
            return
        for key, item in sorted(value.items()):
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif isinstance(value, str):
        yield path, value


def _texts(renderer: Renderer, stack_id: str, properties: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(property path, rendered text) of every leaf. A leaf holding a JSON document (a pipeline definition, a
    dashboard body) is opened, its inner path after a slash: "PipelineDefinition.PipelineDefinitionBody/
    Steps.Arguments.ProcessingOutputConfig.Outputs.S3Output.S3Uri"."""
    for where, value in _leaves(properties):
        text = renderer.render(stack_id, value)
        document = None
        if text.startswith(("{", "[")):
            try:
                document = json.loads(text, strict=False)
            except ValueError:
                document = None
        if document is None:
            yield where, text
            continue
        for inner, leaf in _leaves(document):
            yield f"{where}/{inner}", str(leaf)


def _lookup(properties: dict[str, Any], dotted: str) -> Any:
    value: Any = properties
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# --- nodes and references ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    key: str  # "Stack/construct/path", the DOT id
    stack: str
    kind: str  # the CloudFormation type
    title: str  # a human name from the construct path
    detail: str = ""  # the services of grouped VPC endpoints, what is folded into it
    tasks: tuple[str, ...] = ()
    why: str = ""
    option: str = ""  # the option that adds it, when the primary build does not have it


@dataclass(frozen=True)
class Reference:
    """One resource's property naming another resource, both folded into their main resources."""

    source: str  # node key of the referring resource
    target: str  # node key of the resource named
    where: str  # the referring property's path, e.g. "Targets.Arn"
    how: str  # "reference" (Ref, GetAtt, Sub, stack output, import) or "name" (its physical name)
    target_kind: str  # the type of the resource named before folding (a subnet, a folded key)


@dataclass
class Graph:
    assembly: Assembly
    nodes: dict[str, Node] = field(default_factory=dict)
    owner: dict[Address, str] = field(default_factory=dict)  # every resource -> the main resource holding it
    references: list[Reference] = field(default_factory=list)


def _strip(path: str) -> str:
    parts = path.split("/")
    while len(parts) > 1 and parts[-1] in {"Resource", "Default"}:
        parts.pop()
    return "/".join(parts)


_COMPOUNDS = ("SageMaker", "CloudTrail", "CloudWatch", "DynamoDb", "EventBridge", "WorkGroup")  # one word each
_ACRONYMS = {"api": "API", "vpc": "VPC", "kms": "KMS", "sns": "SNS", "sqs": "SQS", "s3": "S3", "psi": "PSI"}


def _words(segment: str) -> list[str]:
    words: list[str] = []
    for part in re.split("(" + "|".join(_COMPOUNDS) + ")", segment.replace(".", " ")):
        if part in _COMPOUNDS:
            words.append(part)
        else:
            words += re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+|[A-Z]+", part)
    return words


def _display(word: str) -> str:
    if word in _COMPOUNDS:
        return "workgroup" if word == "WorkGroup" else word
    return _ACRONYMS.get(word.lower(), word if word.isupper() and len(word) > 1 else word.lower())


def human_name(path: str) -> str:
    """A readable name from a construct path: "Lake/Raw/Bucket" -> "Raw bucket", "Serving/PrimaryModel" ->
    "Primary model", "Invocation/Function/Function" -> "Invocation function"."""
    segments: list[str] = []
    for segment in reversed(_strip(path).split("/")):
        if segments and segment.rstrip("s").lower() == segments[0].rstrip("s").lower():
            continue  # Bucket/Bucket, Dashboards/Dashboard
        segments.insert(0, segment)
        if len(_words(segments[0])) > 1 or len(segments) == 2:
            break
    words: list[str] = []
    for word in (w for s in segments for w in _words(s)):
        if not words or word.lower() != words[-1].lower():
            words.append(word)
    text = " ".join(_display(w) for w in words)
    return text[:1].upper() + text[1:]


def _main_resources(stack: StackView) -> dict[str, str]:
    """logical id -> construct path of the stack's main resources (before folding)."""
    return {
        logical: _strip(stack.paths.get(logical, logical))
        for logical, resource in stack.resources.items()
        if resource["Type"] in MAIN_TYPES and not PROVIDER_PATH.search(stack.paths.get(logical, logical))
    }


def _folds(stack: StackView, main: dict[str, str]) -> dict[str, str]:
    """Folded logical id -> the logical id of the main resource beside it in the same construct."""
    beside: dict[str, list[str]] = defaultdict(list)  # construct -> its main resources that are not folded
    for logical, path in sorted(main.items(), key=lambda item: item[1]):
        if stack.resources[logical]["Type"] not in FOLDED_TYPES:
            beside[path.rpartition("/")[0]].append(logical)
    return {
        logical: beside[path.rpartition("/")[0]][0]
        for logical, path in main.items()
        if stack.resources[logical]["Type"] in FOLDED_TYPES and beside.get(path.rpartition("/")[0])
    }


def _add_nodes(graph: Graph, renderer: Renderer, stack: StackView, option: str) -> None:
    main = _main_resources(stack)
    folds = _folds(stack, main)
    services: dict[str, list[str]] = defaultdict(list)
    for logical, path in sorted(main.items()):
        if logical in folds:
            continue
        resource = stack.resources[logical]
        kind = resource["Type"]
        key, title = f"{stack.id}/{path}", human_name(path)
        if kind in GROUPED_TYPES:
            key = title = f"{stack.id}/{MAIN_TYPES[kind][0]}"
            service = renderer.render(stack.id, resource.get("Properties", {}).get("ServiceName"))
            services[key].append(service.rpartition("${AWS::Region}.")[2] or service)
        record = resource.get("Metadata", {}).get(EXAM_METADATA, {})
        previous = graph.nodes.get(key)
        graph.nodes[key] = Node(
            key=key,
            stack=stack.id,
            kind=kind,
            title=title,
            tasks=tuple(sorted({*(previous.tasks if previous else ()), *record.get("tasks", [])})),
            why=str(record.get("why", previous.why if previous else "")),
            option=option,
        )
        graph.owner[(stack.id, logical)] = key
    for key, names in services.items():
        title = f"{len(names)} {MAIN_TYPES[graph.nodes[key].kind][0]}"
        graph.nodes[key] = replace(graph.nodes[key], title=title, detail=", ".join(sorted(names)))
    extras: dict[str, set[str]] = defaultdict(set)
    for logical, into in sorted(folds.items()):
        key = graph.owner[(stack.id, into)]
        graph.owner[(stack.id, logical)] = key
        extras[key].add(MAIN_TYPES[stack.resources[logical]["Type"]][0])
    for key, kinds in extras.items():
        graph.nodes[key] = replace(graph.nodes[key], detail="with its own " + " and ".join(sorted(kinds)))
    # every other resource belongs to the main resource whose construct holds it (an API's methods)
    prefixes = sorted(
        ((main[lg], key) for (sid, lg), key in graph.owner.items() if sid == stack.id),
        key=lambda item: (-len(item[0]), item[0]),
    )
    for logical in stack.resources:
        if (stack.id, logical) not in graph.owner:
            path = _strip(stack.paths.get(logical, logical))
            holder = next((k for prefix, k in prefixes if path.startswith(prefix + "/")), None)
            if holder is not None:
                graph.owner[(stack.id, logical)] = holder


def _name_pattern(graph: Graph, renderer: Renderer) -> tuple[dict[str, str], re.Pattern[str] | None]:
    """Physical names that identify one main resource (unique, long enough, literal up to pseudo parameters)
    -> its node, and one pattern finding any of them between word boundaries."""
    names: dict[str, set[str]] = defaultdict(set)
    for stack in graph.assembly.stacks.values():
        for logical, resource in stack.resources.items():
            dotted = NAME_PROPERTIES.get(resource["Type"])
            value = _lookup(resource.get("Properties", {}), dotted) if dotted else None
            if value is not None:
                text = renderer.render(stack.id, value)
                if len(text) >= MIN_NAME_LENGTH and _OPAQUE not in text and "\x01" not in text:
                    names[text].add(graph.owner.get((stack.id, logical), ""))
    by_name = {text: next(iter(keys)) for text, keys in names.items() if len(keys) == 1 and "" not in keys}
    if not by_name:
        return by_name, None
    alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=lambda n: (-len(n), n)))
    return by_name, re.compile(r"(?<![\w-])(" + alternatives + r")(?![\w-])")


def derive(assembly: Assembly, *, option: str = "") -> Graph:
    """The main resources of one assembly and every reference between them."""
    renderer = Renderer(assembly)
    graph = Graph(assembly)
    for stack in assembly.stacks.values():
        _add_nodes(graph, renderer, stack, option)
    by_name, pattern = _name_pattern(graph, renderer)
    found: set[Reference] = set()
    for stack in assembly.stacks.values():
        for logical, resource in stack.resources.items():
            source = graph.owner.get((stack.id, logical))
            if source is None or resource["Type"].startswith("AWS::IAM::"):
                continue  # permissions are not flows
            for where, text in _texts(renderer, stack.id, resource.get("Properties", {})):
                for match in _TOKEN.finditer(text):
                    address = (match.group(1), match.group(2))
                    target = graph.owner.get(address)
                    if target and target != source:
                        kind = assembly.stacks[address[0]].resources[address[1]]["Type"]
                        found.add(Reference(source, target, where, "reference", kind))
                for match in pattern.finditer(text) if pattern else ():
                    target = by_name[match.group(1)]
                    if target != source:
                        found.add(Reference(source, target, where, "name", graph.nodes[target].kind))
    graph.references = sorted(found, key=lambda r: (r.source, r.target, r.where, r.how))
    return graph


# --- reading the flows from the references -----------------------------------------------------------------

# The steps of the platform's main flow, in order: their numbers label its edges.
STEPS = ("ingest", "lake", "features", "training", "registry", "serving", "capture", "drift", "retraining")
SIDE = "side"  # scaling, alarms, audit, logging, operations: thin and grey


@dataclass(frozen=True)
class Rule:
    """How to draw a reference from a ``source``-typed resource to a ``target``-typed one whose property path
    matches ``where`` (a regular expression, searched). The data flows from the referring resource to the one
    it names unless ``reverse``. ``stack`` limits the rule to referring resources of that stack. ``rank=False``
    keeps the edge out of the layout's left-to-right order (a write back into the lake, the retraining loop).
    ``note`` turns it into a line on the flow's "source" or "target" node ("<label> <the other ends>") instead
    of an edge, for the cross-cutting flows that would otherwise cross the whole picture."""

    source: str
    where: str
    target: str
    label: str
    step: str = SIDE
    reverse: bool = False
    stack: str = ""
    rank: bool = True
    note: str = ""

    def matches(self, source: Node, reference: Reference, target: Node) -> bool:
        return (
            source.kind == self.source
            and self.target in {target.kind, reference.target_kind}
            and (not self.stack or source.stack == self.stack)
            and re.search(self.where, reference.where) is not None
        )


_READS = r"/(Parameters\.|Steps\.Arguments\.(ProcessingInputs|InputDataConfig|TransformInput))"  # pipeline input
_WRITES = r"/Steps\.Arguments\..*(Output|Checkpoint)"  # pipeline output
_METRICS = r"^DashboardBody/widgets\.properties\.metrics$"

# The first rule that matches a reference draws it: main flow first, then the side flows.
FLOW_RULES: tuple[Rule, ...] = (
    # 1 ingest
    Rule(FIREHOSE, r"^KinesisStreamSource", STREAM, "records", "ingest", reverse=True),
    Rule(FIREHOSE, r"S3DestinationConfiguration\.BucketARN", BUCKET, "gzip, by date", "ingest"),
    # 2 lake
    Rule(CRAWLER, r"^Targets\.S3Targets", BUCKET, "crawls", "lake", reverse=True),
    Rule(CRAWLER, r"^DatabaseName", DATABASE, "tables", "lake"),
    Rule(RULE, r"^EventPattern", BUCKET, "_READY written", "lake", reverse=True),
    Rule(PIPELINE, _READS, BUCKET, "training data", "lake", reverse=True, stack="MlPipeline"),
    # 3 features
    Rule(PIPELINE, r"PipelineDefinition", FEATURES, "ingests features", "features"),
    Rule(FEATURES, r"^OfflineStoreConfig\.S3StorageConfig", BUCKET, "offline store in", note="source"),
    Rule(FEATURES, r"^OfflineStoreConfig\.DataCatalogConfig", DATABASE, "its Glue table in", note="source"),
    # 4 training
    Rule(RULE, r"^Targets\.Arn", PIPELINE, "starts", "training", stack="MlPipeline"),
    Rule(SCHEDULE, r"^Target\.Arn", PIPELINE, "starts", "training", stack="MlPipeline"),
    Rule(PIPELINE, _WRITES, BUCKET, "writes model and reports to", stack="MlPipeline", note="source"),
    # 5 registry
    Rule(PIPELINE, r"ModelPackageGroupName", REGISTRY, "registers (pending)", "registry"),
    Rule(RULE, r"^EventPattern", REGISTRY, "approved", "registry", reverse=True, stack="Inference", rank=False),
    Rule(RULE, r"^Targets\.Arn", TOPIC, "announces the deploy command to", stack="Inference", note="source"),
    # 6 serving
    Rule(CONFIG, r"^(ProductionVariants|ShadowProductionVariants)", MODEL, "variant", "serving", reverse=True),
    Rule(ENDPOINT, r"^EndpointConfigName", CONFIG, "deploys", "serving", reverse=True),
    Rule(API, r"", FUNCTION, "invokes", "serving"),
    Rule(FUNCTION, r"^Environment\.Variables\.ENDPOINT_NAME", ENDPOINT, "InvokeEndpoint", "serving"),
    Rule(FUNCTION, r"^Environment\.Variables\.FEATURE_GROUP_NAME", FEATURES, "GetRecord (by applicant id)", "serving"),
    Rule(PIPELINE, _READS, BUCKET, "reads input from", reverse=True, stack="Inference", note="target"),
    Rule(PIPELINE, _WRITES, BUCKET, "writes predictions to", stack="Inference", note="source"),
    # 7 capture
    Rule(CONFIG, r"^DataCaptureConfig", BUCKET, "requests, responses", "capture", rank=False),
    # 8 drift
    Rule(SCHEDULE, r"^Target\.Arn", FUNCTION, "daily", "drift"),
    Rule(FUNCTION, r"^Environment\.Variables\.PIPELINE_NAME", PIPELINE, "starts if traffic", "drift"),
    Rule(PIPELINE, _READS, BUCKET, "capture, baseline", "drift", reverse=True, stack="Monitoring", rank=False),
    Rule(PIPELINE, _WRITES, BUCKET, "writes its report to", stack="Monitoring", note="source"),
    # 9 retraining
    Rule(RULE, r"^EventPattern\.resources", ALARM, "OK to ALARM", "retraining", reverse=True),
    Rule(RULE, r"^Targets\.Arn", PIPELINE, "retrains", "retraining", stack="Monitoring", rank=False),
    # side flows
    Rule("AWS::ApplicationAutoScaling::ScalableTarget", r"^ResourceId", ENDPOINT, "scales"),
    Rule(ALARM, r"^Dimensions", ENDPOINT, "metrics", reverse=True, stack="Inference"),
    Rule(ENDPOINT, r"^DeploymentConfig\.AutoRollbackConfiguration", ALARM, "rolls back on"),
    Rule(ALARM, r"Actions", TOPIC, "alarms to", note="source"),
    Rule("AWS::Budgets::Budget", r"^NotificationsWithSubscribers", TOPIC, "alerts to", note="source"),
    Rule(RULE, r"^EventPattern", REGISTRY, "on state changes of", reverse=True, note="target"),
    Rule(RULE, r"^EventPattern", PIPELINE, "on failure of", reverse=True, note="target"),
    Rule(RULE, r"^Targets\.Arn", TOPIC, "notifies", note="source"),
    Rule(TRAIL, r"^EventSelectors", BUCKET, "data events of", reverse=True, note="target"),
    Rule(TRAIL, r"^S3BucketName", BUCKET, "log files"),
    Rule(BUCKET, r"^LoggingConfiguration", BUCKET, "access logs of", note="target"),
    Rule("AWS::Athena::WorkGroup", r"ResultConfiguration\.OutputLocation", BUCKET, "query results to", note="source"),
    Rule("AWS::EC2::FlowLog", r"^ResourceId", VPC, "traffic", reverse=True),
    Rule("AWS::EC2::VPCEndpoint", r"^VpcId", VPC, "private access", reverse=True),
    Rule(DASHBOARD, _METRICS, ENDPOINT, "shows", reverse=True, note="target"),
    Rule(DASHBOARD, _METRICS, PIPELINE, "shows", reverse=True, note="target"),
    Rule(DASHBOARD, _METRICS, API, "shows", reverse=True, note="target"),
    Rule(DASHBOARD, _METRICS, FUNCTION, "shows", reverse=True, note="target"),
)


@dataclass(frozen=True)
class Ignore:
    """References that are not data flows: ``where`` searched in the property path, ``*`` for any type."""

    source: str
    where: str
    target: str

    def matches(self, source: Node, reference: Reference, target: Node) -> bool:
        return (
            self.source in {"*", source.kind}
            and self.target in {"*", target.kind, reference.target_kind}
            and re.search(self.where, reference.where) is not None
        )


NOT_FLOWS: tuple[Ignore, ...] = (
    Ignore("*", r"", "AWS::KMS::Key"),  # encryption
    Ignore("*", r"", VPC),  # where it runs: "in the VPC" on the node instead
    Ignore("*", r"DeadLetterConfig|RedrivePolicy", "*"),  # undeliverable events
    Ignore("*", r"PolicyDocument", "*"),  # resource policies name who may write
    Ignore("*", r"Description|markdown|\.label$", "*"),  # prose naming a resource
    Ignore(RULE, r"^Targets\.SageMakerPipelineParameters", "*"),  # the parameter a rule passes
    Ignore(ALARM, r"^Dimensions", ENDPOINT),  # the drift alarm: the drift job publishes its metric
    Ignore(PIPELINE, r"PipelineDefinition", ENDPOINT),  # the drift job names the endpoint whose capture it reads
    Ignore(FUNCTION, r"^Environment\.Variables\.CAPTURE_PREFIX", ENDPOINT),  # the capture prefix it checks
    Ignore(FUNCTION, r"^Environment\.Variables\.ARTIFACTS_BUCKET", BUCKET),  # where it looks for the capture
)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    step: str
    curated: bool = False
    option: str = ""
    rank: bool = True
    evidence: tuple[str, ...] = ()  # the references it comes from, or why it is curated


@dataclass
class Flows:
    edges: list[Edge]
    notes: dict[tuple[str, str], set[str]]  # (node key, label) -> the other ends' titles
    unknown: list[Reference]  # references no rule or ignore entry knows (drawn grey, "refers to")


def flows(graph: Graph) -> Flows:
    drawn: dict[tuple[str, str, str, str], tuple[Rule | None, set[str]]] = {}
    noted: dict[tuple[str, str], set[str]] = defaultdict(set)
    unknown: list[Reference] = []
    for reference in graph.references:
        source, target = graph.nodes[reference.source], graph.nodes[reference.target]
        rule = next((r for r in FLOW_RULES if r.matches(source, reference, target)), None)
        if rule is None and any(i.matches(source, reference, target) for i in NOT_FLOWS):
            continue
        ends = (reference.target, reference.source) if rule and rule.reverse else (reference.source, reference.target)
        if rule is not None and rule.note:
            at, other = ends if rule.note == "source" else ends[::-1]
            noted[(at, rule.label)].add(graph.nodes[other].title)
            continue
        if rule is None:
            unknown.append(reference)
        label, step = (rule.label, rule.step) if rule else ("refers to", SIDE)
        entry = drawn.setdefault((*ends, label, step), (rule, set()))
        entry[1].add(_evidence(reference))
    edges = [
        Edge(
            source,
            target,
            label,
            step,
            rank=rule.rank if rule else False,
            evidence=tuple(sorted(evidence)),
        )
        for (source, target, label, step), (rule, evidence) in drawn.items()
    ]
    return Flows(edges, dict(noted), unknown)


def _evidence(reference: Reference) -> str:
    return f"{reference.source} {reference.where.split('/')[0]} names {reference.target} ({reference.how})"


def in_vpc(graph: Graph) -> set[str]:
    """Nodes outside the network stack that name the VPC's subnets: they run in the VPC."""
    return {
        r.source
        for r in graph.references
        if graph.nodes[r.target].kind == VPC and graph.nodes[r.source].stack != graph.nodes[r.target].stack
    }


# --- the flows a template cannot express --------------------------------------------------------------------

EXTERNAL = "External"
ACTORS: dict[str, str] = {  # external actor -> its label
    "Producers": "Data producers\n(PutRecord, S3 uploads)",
    "Clients": "API clients\n(SigV4-signed)",
    "Approver": "ML engineer\n(approves a version)",
}


@dataclass(frozen=True)
class Selector:
    """The main resources of a stack of a type whose key matches ``path`` (searched), or an external actor."""

    stack: str
    kind: str
    path: str = ""

    def select(self, graph: Graph) -> list[str]:
        if self.stack == EXTERNAL:
            return [f"{EXTERNAL}/{self.kind}"]
        return sorted(
            n.key
            for n in graph.nodes.values()
            if n.stack == self.stack and n.kind == self.kind and re.search(self.path, n.key)
        )


@dataclass(frozen=True)
class Curated:
    source: Selector
    target: Selector
    label: str
    step: str
    why: str  # why no template says it
    optional: bool = False  # its ends exist only in some builds
    rank: bool = True


CURATED_FLOWS: tuple[Curated, ...] = (
    Curated(
        Selector(EXTERNAL, "Producers"),
        Selector("DataLake", FIREHOSE),
        "events",
        "ingest",
        "who writes to the delivery stream is outside the platform",
    ),
    Curated(
        Selector(EXTERNAL, "Producers"),
        Selector("DataLake", BUCKET, "Raw"),
        "training batches",
        "ingest",
        "uploads of training data come from outside the platform",
    ),
    Curated(
        Selector("DataLake", DATABASE),
        Selector("DataLake", "AWS::Athena::WorkGroup"),
        "SQL",
        "lake",
        "Athena queries name the database when they run",
    ),
    Curated(
        Selector(EXTERNAL, "Approver"),
        Selector("MlPipeline", REGISTRY),
        "approves",
        "registry",
        "a person approves a version in the registry",
    ),
    Curated(
        Selector("MlPipeline", REGISTRY),
        Selector("Inference", MODEL),
        "approved version",
        "serving",
        "the model names the approved version's ARN, which `make deploy` passes in, not the group",
        rank=False,
    ),
    Curated(
        Selector("MlPipeline", REGISTRY),
        Selector("Inference", PIPELINE, "Batch"),
        "approved version",
        "serving",
        "the batch pipeline takes the version as a run parameter",
        optional=True,
        rank=False,
    ),
    Curated(
        Selector(EXTERNAL, "Clients"),
        Selector("Inference", API),
        "raw records: POST /predict, GET /applicants/{id}",
        "serving",
        "callers of the API are outside the platform",
    ),
    Curated(
        Selector("Monitoring", PIPELINE),
        Selector("Monitoring", ALARM),
        "MaxFeaturePSI",
        "drift",
        "the drift script publishes the metric the alarm watches",
    ),
)


def curated_edges(graph: Graph) -> list[Edge]:
    return [
        Edge(source, target, flow.label, flow.step, curated=True, rank=flow.rank, evidence=(f"curated: {flow.why}",))
        for flow in CURATED_FLOWS
        for source in flow.source.select(graph)
        for target in flow.target.select(graph)
    ]


def curated_gaps(graph: Graph) -> list[Curated]:
    """Curated flows (except optional ones) of which the build no longer has an end: fix CURATED_FLOWS."""
    return [f for f in CURATED_FLOWS if not f.optional and not (f.source.select(graph) and f.target.select(graph))]


def subscribers(graph: Graph) -> list[tuple[str, str, str]]:
    """(topic node, subscriber key, label) of every SNS subscription: derived external endpoints."""
    found = []
    renderer = Renderer(graph.assembly)
    for stack in graph.assembly.stacks.values():
        for resource in stack.resources.values():
            if resource["Type"] != "AWS::SNS::Subscription":
                continue
            properties = resource.get("Properties", {})
            topic = _TOKEN.search(renderer.render(stack.id, properties.get("TopicArn")))
            owner = graph.owner.get((topic.group(1), topic.group(2))) if topic else None
            protocol = str(properties.get("Protocol", ""))
            endpoint = renderer.render(stack.id, properties.get("Endpoint"))
            if owner and _OPAQUE not in endpoint and "\x01" not in endpoint:
                found.append((owner, f"{EXTERNAL}/{protocol}:{endpoint}", f"{protocol} subscriber\n{endpoint}"))
    return sorted(found)


# --- the picture -------------------------------------------------------------------------------------------


@dataclass
class Picture:
    """The primary build's graph with what the option builds add."""

    stacks: list[StackView]
    nodes: dict[str, Node]
    edges: list[Edge]
    notes: dict[str, list[str]]
    actors: dict[str, str]  # external key -> label
    in_vpc: set[str]
    unknown: list[Reference]
    gaps: list[Curated]


def picture(primary: Assembly, options: Mapping[str, Assembly] | None = None) -> Picture:
    """``options``: what an option build turns on (its label) -> that build's assembly."""
    graphs = [("", derive(primary)), *((label, derive(a, option=label)) for label, a in (options or {}).items())]
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str, str], Edge] = {}
    noted: dict[tuple[str, str], set[str]] = defaultdict(set)
    actors: dict[str, str] = {}
    vpc: set[str] = set()
    found = flows(graphs[0][1])
    for option, graph in graphs:
        for key, node in graph.nodes.items():
            nodes.setdefault(key, node)
        found_here = found if not option else flows(graph)
        for edge in [*found_here.edges, *curated_edges(graph)]:
            edges.setdefault((edge.source, edge.target, edge.label), replace(edge, option=option))
        for at, titles in found_here.notes.items():
            noted[at] |= titles
        for topic, key, label in subscribers(graph):
            actors.setdefault(key, label)
            edge = Edge(topic, key, "notifies", SIDE, option=option, evidence=("AWS::SNS::Subscription",))
            edges.setdefault((topic, key, edge.label), edge)
        vpc |= in_vpc(graph)
    notes: dict[str, list[str]] = defaultdict(list)
    for (key, label), titles in sorted(noted.items()):
        notes[key].append(f"{label} {', '.join(sorted(titles))}")
    for edge in edges.values():
        for end in (edge.source, edge.target):
            if end.startswith(EXTERNAL + "/") and end not in actors:
                actors[end] = ACTORS[end.partition("/")[2]]
    merged: dict[tuple[str, str, str, bool, str], list[Edge]] = defaultdict(list)  # one edge per pair and kind
    for edge in edges.values():
        merged[(edge.source, edge.target, edge.step, edge.curated, edge.option)].append(edge)
    drawn = [
        replace(
            group[0],
            label=", ".join(sorted(e.label for e in group)),
            rank=all(e.rank for e in group),
            evidence=tuple(sorted({line for e in group for line in e.evidence})),
        )
        for group in merged.values()
    ]
    return Picture(
        stacks=list(primary.stacks.values()),
        nodes=nodes,
        edges=sorted(drawn, key=lambda e: (e.source, e.target, e.label)),
        notes=dict(notes),
        actors=actors,
        in_vpc=vpc,
        unknown=found.unknown,
        gaps=curated_gaps(graphs[0][1]),
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _html(text: str) -> str:
    return html.escape(text, quote=False)


MAIN_EDGE = "#232f3e"
SIDE_EDGE = "#8d99a8"
CURATED_EDGE = "#ec7211"
GREY_TEXT = "#545b64"
TASK_TEXT = "#007d8a"


def to_dot(pic: Picture, *, title: str = TITLE) -> str:
    lines = [
        "// Generated by `make docs` (tools/diagram.py) from the synthesized templates; do not edit.",
        "// Solid edges: derived from references in the templates; dashed orange: curated (CURATED_FLOWS).",
        "// Each edge's tooltip says where it comes from.",
        "digraph architecture {",
        '  graph [rankdir=LR, newrank=true, fontname="Helvetica", fontsize=11, nodesep=0.2, ranksep=0.4,',
        f"         pad=0.3, labelloc=t, labeljust=l, label={_title(title)}];",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.10,0.05"];',
        '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];',
        "",
    ]
    stacks = {s.id: s for s in pic.stacks}
    listed = [stack_id for row in ROWS for stack_id in row]
    rows = [[s for s in row if s in stacks] for row in ROWS] + [[s for s in stacks if s not in listed]]
    rows = [r for r in rows if r]
    for row in rows:
        for stack_id in row:
            lines += _cluster(stacks[stack_id], pic)
        lines += [f"  {link}" for link in _side_by_side(row, pic)]
        lines.append("")
    fill, border = COLOURS["external"]
    for key, label in sorted(pic.actors.items()):
        text = "<br/>".join(_html(part) for part in label.split("\n"))
        lines.append(f'  {_quote(key)} [shape=oval, fillcolor="{fill}", color="{border}", label=<{text}>];')
    lines.append("")
    lines += [f"  {_edge(edge)}" for edge in pic.edges]
    lines += ["}", ""]
    return "\n".join(lines)


# Layout only: each row's stacks are drawn side by side, read left to right (``_side_by_side``). Graphviz picks
# the rows' vertical order; with Graphviz 2.43 this input order draws the lake and training on top, serving
# below them, monitoring below that and governance and network last, so the flow reads from the top left:
# ingest -> training -> registry, down to serving, capture back into the lake, drift, back up to training.
ROWS: tuple[tuple[str, ...], ...] = (
    ("Governance", "Network"),
    ("DataLake", "MlPipeline", "FeatureStore"),
    ("Monitoring",),
    ("Inference",),
)


def _cluster(stack: StackView, pic: Picture) -> list[str]:
    members = sorted((n for n in pic.nodes.values() if n.stack == stack.id), key=lambda n: n.key)
    if not members:
        return []
    description = "<br/>".join(_html(line) for line in _wrap(stack.description, 58))
    return [
        f"  subgraph {_quote('cluster_' + stack.id)} {{",
        f'    label=<<b>{_html(stack.id)}</b><br/><font point-size="9">{description}</font>>;',
        '    style="rounded"; color="#879196"; fontname="Helvetica"; fontsize=13;',
        *(f"    {_node(n, pic)}" for n in members),
        "  }",
    ]


def _side_by_side(row: list[str], pic: Picture) -> list[str]:
    """Invisible edges that put each stack of a row right of the one before it when no ranked edge joins
    them: from the deepest node of one (the end of its longest ranked chain) to each first node of the next."""
    ranked = [e for e in pic.edges if e.rank]
    depth: dict[str, int] = {}

    def deepest(key: str, seen: frozenset[str] = frozenset()) -> int:
        if key not in depth:
            before = [e.source for e in ranked if e.target == key and e.source not in seen]
            depth[key] = 1 + max((deepest(b, seen | {key}) for b in before), default=-1)
        return depth[key]

    stack_of = {n.key: n.stack for n in pic.nodes.values()}
    entered = {e.target for e in ranked}
    links = []
    for left, right in itertools.pairwise(row):
        members = {side: sorted(n.key for n in pic.nodes.values() if n.stack == side) for side in (left, right)}
        joined = any({stack_of.get(e.source), stack_of.get(e.target)} == {left, right} for e in ranked)
        if members[left] and members[right] and not joined:
            end = max(members[left], key=lambda k: (deepest(k), k))
            links += [f'{_quote(end)} -> {_quote(k)} [style="invis"];' for k in members[right] if k not in entered]
    return links


def _title(title: str) -> str:
    steps = " &#8594; ".join(f"{i}&#160;{step}" for i, step in enumerate(STEPS, 1))
    legend = (
        f'<font point-size="9" color="{GREY_TEXT}">Solid edges are derived from the templates (references,'
        " cross-stack outputs, physical names);"
        f' <font color="{CURATED_EDGE}">dashed orange ones are curated</font> (a template cannot say them);'
        f' <font color="{SIDE_EDGE}">grey: side flows</font>; dashed boxes: only with the option named.</font>'
    )
    rows = [f'<font point-size="16"><b>{_html(title)}</b></font>', f"Main flow: {steps}", legend]
    return "<" + '<br align="left"/>'.join(rows) + '<br align="left"/>>'


def _node(node: Node, pic: Picture) -> str:
    fill, border = COLOURS[MAIN_TYPES[node.kind][1]]
    parts = [f"<b>{_html(node.title)}</b>", _small(MAIN_TYPES[node.kind][0])]
    if node.tasks:
        parts.append(_small(f"MLA-C01 {', '.join(node.tasks)}", colour=TASK_TEXT))
    extra = [node.detail] if node.detail else []
    if node.key in pic.in_vpc:
        extra.append("runs in the VPC")
    extra += pic.notes.get(node.key, [])
    parts += [_small(line, italic=True) for item in extra for line in _wrap(item, 36)]
    if node.option:
        parts.append(_small(f"option: {node.option}", colour="#b0084d"))
    style = "rounded,filled,dashed" if node.option else "rounded,filled"
    tooltip = f"{node.kind} {node.key}" + (f"; MLA-C01 {', '.join(node.tasks)}: {node.why}" if node.why else "")
    return (
        f'{_quote(node.key)} [label=<{"<br/>".join(parts)}>, fillcolor="{fill}", color="{border}",'
        f' style="{style}", tooltip={_quote(tooltip)}];'
    )


def _small(text: str, *, colour: str = GREY_TEXT, italic: bool = False) -> str:
    body = f"<i>{_html(text)}</i>" if italic else _html(text)
    return f'<font point-size="8" color="{colour}">{body}</font>'


def _edge(edge: Edge) -> str:
    attributes: dict[str, str]
    if edge.step in STEPS:
        attributes = {"label": f"{STEPS.index(edge.step) + 1} {edge.label}", "color": MAIN_EDGE, "penwidth": "1.3"}
    else:
        attributes = {"label": edge.label, "color": SIDE_EDGE, "fontcolor": SIDE_EDGE, "penwidth": "0.8"}
    if edge.curated:
        attributes |= {"color": CURATED_EDGE, "fontcolor": CURATED_EDGE, "style": "dashed"}
    elif edge.option:
        attributes["style"] = "dashed"
    if not edge.rank:
        attributes["constraint"] = "false"
    attributes["tooltip"] = "; ".join(edge.evidence)
    rendered = ", ".join(f"{k}={_quote(v)}" for k, v in attributes.items())
    return f"{_quote(edge.source)} -> {_quote(edge.target)} [{rendered}];"


# --- from the builds, to the files -------------------------------------------------------------------------


def option_label(name: str) -> str:
    """What an option build turns on, from BUILDS: its overrides that the primary build does not have."""
    from tools.platform import BUILDS  # noqa: PLC0415 (keeps this module free of the CDK app)

    primary = BUILDS[PRIMARY_BUILD][1]
    return ", ".join(sorted(k for k, v in BUILDS[name][1].items() if primary.get(k) != v)) or name


def architecture(builds: Mapping[str, Synthesized]) -> Picture:
    return picture(
        Assembly.of(builds[PRIMARY_BUILD]),
        {option_label(name): Assembly.of(builds[name]) for name in OPTION_BUILDS},
    )


def architecture_dot(builds: Mapping[str, Synthesized]) -> str:
    """The DOT text of the committed diagram, from the builds (``tests/conftest.py`` ``builds``, or
    ``tools.reports.build_all``)."""
    return to_dot(architecture(builds))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamped(svg: str, dot: str) -> str:
    """The SVG with the DOT's hash in a comment after its XML declaration."""
    head, newline, rest = svg.partition("\n")
    stamp = SVG_STAMP.format(sha256(dot))
    return f"{head}{newline}{stamp}\n{rest}" if head.startswith("<?xml") else f"{stamp}\n{svg}"


def svg_source_hash(svg: str) -> str | None:
    found = _STAMP.search(svg)
    return found.group(1) if found else None


def require_dot() -> str:
    """The Graphviz ``dot`` executable; SystemExit with one line saying how to install it when it is missing."""
    executable = shutil.which("dot")
    if executable is None:
        raise SystemExit(INSTALL_HINT)
    return executable


def render_svg(dot: str) -> str:
    """The SVG Graphviz draws from ``dot``, stamped with the DOT's hash."""
    result = subprocess.run([require_dot(), "-Tsvg"], input=dot, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"error: dot failed: {result.stderr.strip()}")
    return stamped(result.stdout, dot)


def svg_is_current(dot: str, svg_file: Path = SVG_FILE) -> bool:
    """Whether ``svg_file`` was rendered from exactly ``dot`` (its stamp): no Graphviz needed."""
    return svg_file.exists() and svg_source_hash(svg_file.read_text(encoding="utf-8")) == sha256(dot)


def write_svg(dot: str, svg_file: Path = SVG_FILE) -> Path | None:
    """Render ``svg_file`` from ``dot`` unless it already was (needs `dot`); the path when it wrote it."""
    if svg_is_current(dot, svg_file):
        return None
    svg_file.write_text(render_svg(dot), encoding="utf-8")
    return svg_file


def stale(dot: str, dot_file: Path = DOT_FILE, svg_file: Path = SVG_FILE) -> list[str]:
    """What is out of date in the committed diagram, given the DOT the templates give now."""
    problems = []
    if not dot_file.exists() or dot_file.read_text(encoding="utf-8") != dot:
        problems.append(f"{dot_file.relative_to(ROOT)} differs from what the templates give")
    if not svg_is_current(dot, svg_file):
        problems.append(f"{svg_file.relative_to(ROOT)} was not rendered from that {dot_file.name}")
    return problems


def main(argv: list[str]) -> int:
    from tools.platform import synthesize_build  # noqa: PLC0415 (keeps this module free of the CDK app)

    if "--write" in argv:
        require_dot()  # before the synthesis, not after
    with tempfile.TemporaryDirectory() as tmp:
        builds = {name: synthesize_build(name, Path(tmp) / name) for name in (PRIMARY_BUILD, *OPTION_BUILDS)}
        pic = architecture(builds)
    dot = to_dot(pic)
    for reference in pic.unknown:
        print(f"note: no rule in FLOW_RULES or NOT_FLOWS knows {reference}; drawn grey", file=sys.stderr)
    if "--write" in argv:
        DOCS.mkdir(exist_ok=True)
        DOT_FILE.write_text(dot, encoding="utf-8")
        print(f"wrote {DOT_FILE.relative_to(ROOT)}")
        if write_svg(dot):
            print(f"wrote {SVG_FILE.relative_to(ROOT)}")
        return 0
    if "--check" in argv:
        problems = stale(dot)
        for problem in problems:
            print(f"stale: {problem} (run `make docs`)", file=sys.stderr)
        return 1 if problems else 0
    print(dot, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
