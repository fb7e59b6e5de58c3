"""Print what `make synth` produced: stacks, resources per stack, protection, compliance, endpoint cost."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from config.settings import interface_endpoint_catalog


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
    """Interface endpoints x their subnets (one per AZ) x the catalog's monthly price."""
    catalog = interface_endpoint_catalog()
    per_az_month = catalog["hourly_usd_per_az"] * catalog["hours_per_month"]
    endpoint_azs = 0
    for template in templates:
        for resource in template.get("Resources", {}).values():  # type: ignore[attr-defined]
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Interface":
                endpoint_azs += len(props.get("SubnetIds", []))
    return round(float(endpoint_azs * per_az_month), 2)


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
    print(f"interface endpoints, fixed monthly cost: about USD {endpoint_monthly_cost(templates):.2f}")
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
