"""Print what `make synth` produced: stacks, resources per stack, protection, fixed monthly cost, compliance."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from tools.cost import fixed_costs, prices, total


def _stacks(outdir: Path) -> list[tuple[str, dict[str, object], Path]]:
    """(display name, manifest artifact, template path) of every stack, nested stage assemblies included."""
    found = []
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        if artifact["type"] == "cdk:cloud-assembly":
            found += _stacks(outdir / artifact["properties"]["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            props = artifact["properties"]
            found.append((artifact.get("displayName", props.get("stackName")), props, outdir / props["templateFile"]))
    return found


def endpoint_monthly_cost(templates: list[dict[str, object]]) -> float:
    """Interface endpoints x their subnets (one per AZ) x the price table's monthly price (tools.cost)."""
    lines = [line for line in fixed_costs(templates) if line.kind == "Interface VPC endpoints"]
    return total(lines)


def cost_summary(templates: list[dict[str, object]]) -> list[str]:
    """The fixed monthly cost of what was synthesized, one line per kind (``make cost`` has both states)."""
    table = prices()
    lines = fixed_costs(templates)
    out = [f"fixed monthly cost ({table.region} list prices of {table.read_on}; usage is extra):"]
    out += [f"  {line.kind:<50} {line.quantity:>7.4g}  USD {line.monthly_usd:>9,.2f}" for line in lines]
    out.append(f"  {'total':<50} {'':>7}  USD {total(lines):>9,.2f}")
    return out


def main(argv: list[str]) -> int:
    outdir = Path(argv[0] if argv else "cdk.out")
    stacks = _stacks(outdir)
    if not stacks:
        print(f"no stacks in {outdir}", file=sys.stderr)
        return 1
    templates = []
    print(f"{'stack':<28} {'resources':>9}  termination protection")
    for name, props, path in stacks:
        template = json.loads(path.read_text())
        templates.append(template)
        counts = Counter(r["Type"] for r in template.get("Resources", {}).values())
        protected = "on" if props.get("terminationProtection") else "off"
        print(f"{name:<28} {sum(counts.values()):>9}  {protected}")
    print("\n".join(cost_summary(templates)))
    # The CDK CLI exits 0 even when a validation plugin fails, so the report decides.
    failures = validation_failures(outdir)
    for plugin, rule, where in failures:
        print(f"  {plugin}: {rule} at {where}")
    status = f"{len(failures)} unacknowledged finding(s)" if failures else "0 unacknowledged findings"
    print(
        "cdk-nag (AwsSolutions, HIPAA Security, NIST 800-53 R5, PCI DSS 3.2.1, Serverless) and AWS Control Tower "
        f"proactive controls: {status}"
    )
    return 1 if failures else 0


def validation_failures(outdir: Path) -> list[tuple[str, str, str]]:
    """(plugin, rule, construct path) of every violation in the assembly's validation report."""
    path = outdir / "validation-report.json"
    if not path.exists():
        return [("validation", "no validation-report.json: were the rule packs registered?", str(outdir))]
    failures = []
    for report in json.loads(path.read_text()).get("pluginReports", []):
        for violation in report.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                failures.append((report["pluginName"], violation["ruleName"], construct["constructPath"]))
        if report.get("conclusion") == "failure" and not report.get("violations"):
            failures.append((report["pluginName"], "failure without violations", str(path)))
    return failures


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
