"""The fixed monthly cost of each profile, computed from its synthesized templates and a committed price table.

    python -m tools.cost                      # sandbox and production, each idle and serving (make cost)
    python -m tools.cost --profile production

Fixed means what a resource costs by existing, used or not: interface endpoints per AZ, provisioned Kinesis
shards, KMS keys, dashboards, alarms, endpoint instances. Everything else the templates create bills only by
use and is listed as usage-based (config/data/prices.yaml says which). Idle is a profile before its first
approved model, serving the same profile with one (tools.platform.BUILDS).

The computation reads only the templates, never the profile's configuration: ``fixed_costs(templates)`` is
pure, and ``render_text``/``render_markdown`` turn its lines into the report and README.md's cost table.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from tools.platform import Synthesized

ROOT = Path(__file__).resolve().parent.parent
PRICES = ROOT / "config" / "data" / "prices.yaml"
README = ROOT / "README.md"
BEGIN, END = "<!-- cost:begin -->", "<!-- cost:end -->"

# (profile, idle build, serving build) in tools.platform.BUILDS.
PROFILES: dict[str, tuple[str, str]] = {
    "sandbox": ("sandbox", "sandbox-serving"),
    "production": ("production", "production-serving"),
}

# Resource types whose fixed charge fixed_costs computes itself.
PRICED_TYPES = frozenset(
    {
        "AWS::EC2::VPCEndpoint",
        "AWS::Kinesis::Stream",
        "AWS::KMS::Key",
        "AWS::KMS::ReplicaKey",
        "AWS::CloudWatch::Dashboard",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::CompositeAlarm",
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::EndpointConfig",
    }
)

Template = Mapping[str, Any]


@dataclass(frozen=True)
class Price:
    unit: str
    per: str  # "hour" or "month"
    usd: float
    url: str
    note: str
    free_per_account: int = 0


@dataclass(frozen=True)
class PriceTable:
    region: str
    read_on: str
    hours_per_month: float
    prices: dict[str, Price]
    instance_hour: dict[str, float]
    instance_url: str
    usage_based: dict[str, str]
    no_charge: frozenset[str]

    def monthly(self, key: str) -> float:
        """USD a month for one unit of ``key`` (hourly prices times the hours of a month)."""
        price = self.prices[key]
        return price.usd * self.hours_per_month if price.per == "hour" else price.usd

    def instance_monthly(self, instance_type: str) -> float:
        if instance_type not in self.instance_hour:
            raise KeyError(f"{instance_type}: no hourly rate in {PRICES.name} (sagemaker_inference_instance_hour)")
        return self.instance_hour[instance_type] * self.hours_per_month


def load_prices(path: Path = PRICES) -> PriceTable:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    sagemaker = raw["sagemaker_inference_instance_hour"]
    return PriceTable(
        region=raw["region"],
        read_on=str(raw["read_on"]),
        hours_per_month=float(raw["hours_per_month"]),
        prices={
            key: Price(
                unit=p["unit"],
                per=p["per"],
                usd=float(p["usd"]),
                url=p["url"],
                note=p["note"],
                free_per_account=int(p.get("free_per_account", 0)),
            )
            for key, p in raw["prices"].items()
        },
        instance_hour={k: float(v) for k, v in sagemaker["instances"].items()},
        instance_url=sagemaker["url"],
        usage_based=dict(raw["usage_based"]),
        no_charge=frozenset(raw["no_charge"]),
    )


@cache
def prices() -> PriceTable:
    return load_prices()


@dataclass(frozen=True)
class CostLine:
    """One kind of fixed charge: ``quantity`` units at ``unit_monthly_usd`` each, a month."""

    kind: str
    quantity: float
    unit: str
    unit_monthly_usd: float
    detail: str = ""
    # How many units an account gets free (CloudWatch's always-free tier); shared with all else in it.
    free_per_account: int = 0

    @property
    def monthly_usd(self) -> float:
        return round(self.quantity * self.unit_monthly_usd, 2)

    @property
    def monthly_after_free_usd(self) -> float:
        return round(max(self.quantity - self.free_per_account, 0) * self.unit_monthly_usd, 2)


def total(lines: Iterable[CostLine], *, free_tier: bool = False) -> float:
    return round(sum(line.monthly_after_free_usd if free_tier else line.monthly_usd for line in lines), 2)


def _resources(templates: Iterable[Template], *types: str) -> list[tuple[Template, str, Mapping[str, Any]]]:
    return [
        (template, logical, resource)
        for template in templates
        for logical, resource in template.get("Resources", {}).items()
        if resource.get("Type") in types
    ]


def _props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    props: Mapping[str, Any] = resource.get("Properties", {})
    return props


def _interface_endpoints(templates: Sequence[Template], table: PriceTable) -> list[CostLine]:
    endpoints = 0
    azs = 0
    for _, logical, resource in _resources(templates, "AWS::EC2::VPCEndpoint"):
        props = _props(resource)
        if props.get("VpcEndpointType", "Gateway") != "Interface":
            continue
        subnets = props.get("SubnetIds", [])
        if not isinstance(subnets, list):
            raise ValueError(f"{logical}: SubnetIds is {subnets!r}, not a list: cannot count its AZs")
        endpoints += 1
        azs += len(subnets)
    if not endpoints:
        return []
    return [
        CostLine(
            "Interface VPC endpoints",
            azs,
            "endpoint-AZ",
            table.monthly("interface_endpoint_az_hour"),
            f"{endpoints} endpoint{'s' if endpoints > 1 else ''}",
        )
    ]


def _kinesis(templates: Sequence[Template], table: PriceTable) -> list[CostLine]:
    shards = extended = on_demand = 0
    for _, _, resource in _resources(templates, "AWS::Kinesis::Stream"):
        props = _props(resource)
        mode = props.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        if mode == "ON_DEMAND":
            on_demand += 1
            continue
        count = int(props.get("ShardCount", 1))
        shards += count
        if int(props.get("RetentionPeriodHours", 24)) > 24:
            extended += count
    lines = []
    if shards:
        lines.append(CostLine("Kinesis shards (provisioned)", shards, "shard", table.monthly("kinesis_shard_hour")))
    if extended:
        lines.append(
            CostLine(
                "Kinesis retention beyond 24 h (provisioned)",
                extended,
                "shard",
                table.monthly("kinesis_extended_retention_shard_hour"),
            )
        )
    if on_demand:
        lines.append(
            CostLine("Kinesis streams (on-demand)", on_demand, "stream", table.monthly("kinesis_on_demand_stream_hour"))
        )
    return lines


def _kms(templates: Sequence[Template], table: PriceTable) -> list[CostLine]:
    keys = _resources(templates, "AWS::KMS::Key", "AWS::KMS::ReplicaKey")
    if not keys:
        return []
    rotated = sum(1 for _, _, r in keys if _props(r).get("EnableKeyRotation"))
    detail = f"{rotated} rotated yearly: +USD 1 each in year 2, +2 from year 3" if rotated else ""
    return [CostLine("KMS customer managed keys", len(keys), "key", table.monthly("kms_key_month"), detail)]


def _cloudwatch(templates: Sequence[Template], table: PriceTable) -> list[CostLine]:
    lines = []
    dashboards = len(_resources(templates, "AWS::CloudWatch::Dashboard"))
    if dashboards:
        price = table.prices["cloudwatch_dashboard_month"]
        lines.append(
            CostLine(
                "CloudWatch dashboards",
                dashboards,
                "dashboard",
                table.monthly("cloudwatch_dashboard_month"),
                f"first {price.free_per_account} per account free",
                price.free_per_account,
            )
        )
    standard = high_resolution = 0
    for _, _, resource in _resources(templates, "AWS::CloudWatch::Alarm"):
        props = _props(resource)
        queries = props.get("Metrics", [])
        if queries:
            bands = sum(1 for q in queries if "ANOMALY_DETECTION_BAND" in str(q.get("Expression", "")))
            metrics = sum(1 for q in queries if "MetricStat" in q) + 2 * bands
            period = min((int(q["MetricStat"].get("Period", 60)) for q in queries if "MetricStat" in q), default=60)
        else:
            metrics, period = 1, int(props.get("Period", 60))
        if period < 60:
            high_resolution += metrics
        else:
            standard += metrics
    if standard:
        price = table.prices["cloudwatch_alarm_metric_month"]
        lines.append(
            CostLine(
                "CloudWatch alarms (standard resolution)",
                standard,
                "alarm metric",
                table.monthly("cloudwatch_alarm_metric_month"),
                f"first {price.free_per_account} per account free",
                price.free_per_account,
            )
        )
    if high_resolution:
        lines.append(
            CostLine(
                "CloudWatch alarms (high resolution)",
                high_resolution,
                "alarm metric",
                table.monthly("cloudwatch_high_resolution_alarm_metric_month"),
            )
        )
    composite = len(_resources(templates, "AWS::CloudWatch::CompositeAlarm"))
    if composite:
        lines.append(
            CostLine(
                "CloudWatch composite alarms", composite, "alarm", table.monthly("cloudwatch_composite_alarm_month")
            )
        )
    return lines


_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_CRON = re.compile(r"^cron\((\d+) (\d+) [?*] \* ([A-Z0-9,\-*?]+) \*\)$")


def _weekdays(field_: str) -> list[int] | None:
    """Days of the week (0 = Sunday) of an AWS cron day-of-week field, or None if it is not one we read."""
    if field_ in ("*", "?"):
        return list(range(7))
    days: list[int] = []
    for part in field_.split(","):
        ends = [_DAYS.get(p, int(p) - 1 if p.isdigit() else -1) for p in part.split("-")]
        if any(d < 0 or d > 6 for d in ends) or len(ends) > 2:
            return None
        days += list(range(ends[0], ends[-1] + 1))
    return days


def _scheduled_floor(min_capacity: float, actions: list[Mapping[str, Any]]) -> tuple[float, str]:
    """The time-weighted minimum instance count over a week of scheduled actions (UTC), and how it was read."""
    events: list[tuple[int, float]] = []
    for action in actions:
        match = _CRON.match(str(action.get("Schedule", "")))
        days = _weekdays(match.group(3)) if match else None
        floor = action.get("ScalableTargetAction", {}).get("MinCapacity")
        if match is None or days is None or floor is None or action.get("Timezone", "UTC") != "UTC":
            return min_capacity, f"{min_capacity:g} (scheduled actions not modelled)"
        minute = int(match.group(2)) * 60 + int(match.group(1))
        events += [(day * 1440 + minute, float(floor)) for day in days]
    if not events:
        return min_capacity, f"{min_capacity:g}"
    events.sort()
    week = 7 * 1440
    weighted = sum(
        floor * ((events[(i + 1) % len(events)][0] - start) % week or week) for i, (start, floor) in enumerate(events)
    )
    floors = sorted({f for _, f in events})
    return weighted / week, f"{' to '.join(f'{f:g}' for f in (floors[0], floors[-1]))} by schedule"


def _resolve_name(value: Any, names: Mapping[str, str]) -> str:
    """A string property with Ref/GetAtt to an endpoint replaced by that endpoint's name, joins joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return names.get(value["Ref"], "?")
        if "Fn::GetAtt" in value:
            return names.get(value["Fn::GetAtt"][0], "?")
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return str(sep).join(_resolve_name(p, names) for p in parts)
    return "?"


def _refers_to(value: Any, logical: str) -> bool:
    if isinstance(value, dict):
        return value.get("Ref") == logical or value.get("Fn::GetAtt", [None])[0] == logical
    return False


def _endpoint_instances(templates: Sequence[Template], table: PriceTable) -> list[CostLine]:
    """Instances an endpoint keeps running: each variant's floor (autoscaling minimum, by schedule where set)."""
    quantity: dict[str, float] = {}
    details: dict[str, list[str]] = {}
    for template in templates:
        resources = template.get("Resources", {})
        endpoints = {logical: r for logical, r in resources.items() if r.get("Type") == "AWS::SageMaker::Endpoint"}
        names = {logical: str(_props(r).get("EndpointName", logical)) for logical, r in endpoints.items()}
        targets: dict[str, Mapping[str, Any]] = {}
        for resource in resources.values():
            props = _props(resource)
            if resource.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget" and (
                props.get("ServiceNamespace") == "sagemaker"
            ):
                targets[_resolve_name(props.get("ResourceId"), names)] = props
        for logical, config in resources.items():
            if config.get("Type") != "AWS::SageMaker::EndpointConfig":
                continue
            props = _props(config)
            users = [
                e
                for e, r in endpoints.items()
                if _refers_to(_props(r).get("EndpointConfigName"), logical)
                or _props(r).get("EndpointConfigName") == props.get("EndpointConfigName", logical)
            ]
            for endpoint in users:  # a configuration no endpoint uses runs nothing
                variants = [*props.get("ProductionVariants", []), *props.get("ShadowProductionVariants", [])]
                for variant in variants:
                    if "ServerlessConfig" in variant or "InstanceType" not in variant:
                        continue  # serverless: billed per request only
                    target = targets.get(f"endpoint/{names[endpoint]}/variant/{variant['VariantName']}")
                    if target is None:
                        floor, how = float(variant.get("InitialInstanceCount", 1)), ""
                    else:
                        floor, how = _scheduled_floor(
                            float(target.get("MinCapacity", 0)), list(target.get("ScheduledActions", []))
                        )
                    kind = variant["InstanceType"]
                    quantity[kind] = quantity.get(kind, 0.0) + floor
                    details.setdefault(kind, []).append(f"{variant['VariantName']} {how or f'{floor:g}'}")
    return [
        CostLine(
            f"SageMaker endpoint instances ({kind})",
            count,
            "instance",
            table.instance_monthly(kind),
            ", ".join(details[kind]),
        )
        for kind, count in sorted(quantity.items())
        if count
    ]


def fixed_costs(templates: list[dict[str, Any]], table: PriceTable | None = None) -> list[CostLine]:
    """Every kind of fixed monthly charge the templates create, one line per kind (none for a zero)."""
    table = table or prices()
    return [
        *_interface_endpoints(templates, table),
        *_kinesis(templates, table),
        *_kms(templates, table),
        *_cloudwatch(templates, table),
        *_endpoint_instances(templates, table),
    ]


def usage_based(templates: list[dict[str, Any]], table: PriceTable | None = None) -> dict[str, str]:
    """Resource type -> how it bills, for the types in the templates with no fixed charge."""
    table = table or prices()
    present = {r.get("Type") for t in templates for r in t.get("Resources", {}).values()}
    return {kind: note for kind, note in sorted(table.usage_based.items()) if kind in present}


def unclassified(templates: list[dict[str, Any]], table: PriceTable | None = None) -> list[str]:
    """Resource types nobody decided about: neither priced here, nor usage-based, nor free in the price table."""
    table = table or prices()
    known = PRICED_TYPES | set(table.usage_based) | table.no_charge
    return sorted({str(r.get("Type")) for t in templates for r in t.get("Resources", {}).values()} - known)


@dataclass(frozen=True)
class ProfileCost:
    profile: str
    idle: list[CostLine]
    serving: list[CostLine]
    usage: dict[str, str] = field(default_factory=dict)


def templates_of(built: Synthesized) -> list[dict[str, Any]]:
    return [built.template(stack_id) for stack_id in built.stacks]


def profile_costs(built: Mapping[str, Synthesized], profiles: Iterable[str] = PROFILES) -> list[ProfileCost]:
    result = []
    for profile in profiles:
        idle, serving = (templates_of(built[name]) for name in PROFILES[profile])
        result.append(ProfileCost(profile, fixed_costs(idle), fixed_costs(serving), usage_based(serving)))
    return result


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _count(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def render_lines(title: str, lines: list[CostLine]) -> list[str]:
    """A plain-text table of one build: kind, count, unit price, monthly, and the totals."""
    out = [f"{title:<52} {'count':>7} {'USD/unit/month':>15} {'USD/month':>10}"]
    for line in lines:
        unit, monthly = _money(line.unit_monthly_usd), _money(line.monthly_usd)
        out.append(
            f"  {line.kind:<50} {_count(line.quantity):>7} {unit:>15} {monthly:>10}"
            + (f"  ({line.detail})" if line.detail else "")
        )
    if not lines:
        out.append("  (no fixed charge)")
    out.append(f"  {'total':<50} {'':>7} {'':>15} {_money(total(lines)):>10}")
    if total(lines, free_tier=True) != total(lines):
        out.append(
            f"  {'total within the account CloudWatch free tier':<50} {'':>7} {'':>15} "
            f"{_money(total(lines, free_tier=True)):>10}"
        )
    return out


def render_text(costs: list[ProfileCost], table: PriceTable | None = None) -> str:
    table = table or prices()
    out = [
        f"Fixed monthly cost from the synthesized templates ({table.region} list prices read on {table.read_on}, "
        f"{table.hours_per_month:g} h a month; config/data/prices.yaml)",
        "",
    ]
    for cost in costs:
        out += render_lines(f"{cost.profile}, idle (no model served)", cost.idle)
        out.append("")
        out += render_lines(f"{cost.profile}, serving one model", cost.serving)
        out.append("")
    usage = sorted({kind for cost in costs for kind in cost.usage})
    if usage:
        out.append("Usage-based (no fixed charge): " + ", ".join(k.removeprefix("AWS::") for k in usage))
    out += [
        "The total is the list price with no free tier: CloudWatch's (3 dashboards, 10 alarm metrics) is per account",
        "and shared with everything else in it, so it is shown apart and never counted on.",
    ]
    return "\n".join(out) + "\n"


def render_markdown(costs: list[ProfileCost], table: PriceTable | None = None) -> str:
    """README.md's cost table: one column per profile and state, one row per kind of fixed charge."""
    table = table or prices()
    columns = [col for c in costs for col in ((f"`{c.profile}` idle", c.idle), (f"`{c.profile}` serving", c.serving))]
    order = ("Interface", "Kinesis", "KMS", "CloudWatch", "SageMaker")  # fixed_costs' order, across columns
    kinds = sorted(
        dict.fromkeys(line.kind for _, lines in columns for line in lines),
        key=lambda kind: next((i for i, prefix in enumerate(order) if kind.startswith(prefix)), len(order)),
    )
    out = [
        "| fixed monthly cost | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for kind in kinds:
        cells = []
        for _, lines in columns:
            line = next((x for x in lines if x.kind == kind), None)
            times = "\N{MULTIPLICATION SIGN}"
            cells.append(
                f"USD {_money(line.monthly_usd)} ({_count(line.quantity)} {times} {_money(line.unit_monthly_usd)})"
                if line
                else "-"
            )
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    out.append("| **total** | " + " | ".join(f"**USD {_money(total(lines))}**" for _, lines in columns) + " |")
    out.append(
        "| total within the account's CloudWatch free tier | "
        + " | ".join(f"USD {_money(total(lines, free_tier=True))}" for _, lines in columns)
        + " |"
    )
    usage = sorted({kind.removeprefix("AWS::") for cost in costs for kind in cost.usage})
    out += [
        "",
        "Generated by `make docs` from the synthesized templates (`make cost` prints the same with unit prices):",
        f"{table.region} list prices read on {table.read_on}, {table.hours_per_month:g} hours a month, each with its "
        "source in `config/data/prices.yaml`.",
        "Idle is a profile before its first approved model, serving the same profile with one (endpoint instances",
        "at their autoscaling floor, by schedule where one is set). The total counts no free tier: CloudWatch's",
        "(3 dashboards and 10 alarm metrics) belongs to the account and is shared with everything else in it, so",
        "the row below it is the best case, not the plan.",
        "Usage-based, no fixed charge: " + ", ".join(usage) + ".",
    ]
    return "\n".join(out) + "\n"


def readme_cost_block(built: Mapping[str, Synthesized]) -> str:
    """What goes between README.md's cost markers (markers excluded)."""
    return render_markdown(profile_costs(built))


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with what lies between the markers replaced by ``block``; the markers stay, the rest is untouched."""
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"no {begin} ... {end} markers in the text: add them where the cost table goes")
    return f"{text[: start + len(begin)]}\n{block.rstrip()}\n{text[stop:]}"


def readme_with_costs(built: Mapping[str, Synthesized], readme: Path = README) -> str:
    """README.md as it should be: its current text with only the cost block regenerated."""
    return replace_block(readme.read_text(encoding="utf-8"), readme_cost_block(built))


def synthesize_profiles(profiles: Iterable[str], outdir: Path) -> dict[str, Synthesized]:
    """The idle and serving builds of each profile, synthesized in-process without CDK's template validation."""
    os.environ.setdefault("CDK_VALIDATION", "false")  # before aws_cdk loads: like tests/conftest.py
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # as the Makefile exports
    from tools.platform import synthesize_build  # noqa: PLC0415 (loads the CDK; only a run of this tool needs it)

    names = [name for profile in profiles for name in PROFILES[profile]]
    return {name: synthesize_build(name, outdir / name) for name in names}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=[*PROFILES, "all"], default="all")
    args = parser.parse_args(argv)
    profiles = list(PROFILES) if args.profile == "all" else [args.profile]
    with tempfile.TemporaryDirectory() as tmp:
        built = synthesize_profiles(profiles, Path(tmp))
        costs = profile_costs(built, profiles)
        missing = sorted({kind for name in built for kind in unclassified(templates_of(built[name]))})
    print(render_text(costs), end="")
    if missing:
        print(f"not in config/data/prices.yaml (neither priced, usage-based nor free): {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
