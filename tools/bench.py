"""`make bench`: wall time of a cold synth of every stack (per profile) and of the test run.

Timings belong here, printed for a person to read and quote, never in assertions: shared CI
machines are noisy. Targets on a 2-core machine: full synth under 20 s, test run under 90 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def main() -> int:
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    rows = []
    for profile in ("sandbox", "production"):
        shutil.rmtree(ROOT / "cdk.out", ignore_errors=True)
        seconds = timed(["npx", "--no-install", "cdk", "synth", "--quiet", "-c", f"profile={profile}"], env=env)
        rows.append(
            (f"cold `cdk synth` of all stacks, {profile} (nag, Control Tower, CFN validation on)", seconds, 40.0)
        )
    commands = [
        (
            "step scripts in-process on the sample (tests/test_pipeline_scripts.py)",
            [sys.executable, "-m", "pytest", "-q", "tests/test_pipeline_scripts.py"],
            30.0,
        ),
        (
            "step scripts in their images' Python and libraries (tests/test_container_parity.py)",
            [sys.executable, "-m", "pytest", "-q", "tests/test_container_parity.py"],
            30.0,
        ),
        ("fixed monthly cost of 4 builds from their templates (make cost)", [sys.executable, "-m", "tools.cost"], 30.0),
        (
            "6 pipeline definitions regenerated (python -m pipelines.builders --check)",
            [sys.executable, "-m", "pipelines.builders", "--check"],
            30.0,
        ),
        ("test run (pytest: 9 builds, every gate)", [sys.executable, "-m", "pytest", "-q"], 60.0),
    ]
    rows += [(label, timed(command, env=env), target) for label, command, target in commands]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for label, seconds, target in rows:
        print(f"{seconds:7.1f} s  {label}  (target < {target:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
