"""`make bench`: wall and CPU time of cold synths, the ML script tests, the definition check and the test run,
and of the pieces of work the test run is made of (every build, every gate).

Timings belong here, printed for a person to read and quote, never in assertions: shared CI machines are
noisy. CPU seconds (user + system of the command and its children) say what the work costs whatever the
machine's load; on 2 cores a run cannot take less wall time than half its CPU seconds.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.gates import copy_distinct, gate_commands  # noqa: E402 - run as a script from the Makefile
from tools.platform import AUDIT, AUDITED_BUILDS, BUILDS, WORKER_JOBS, stage_folder  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str], *, check: bool = True) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``command``; ``check=False`` for a gate, whose findings are not the point."""
    start, cpu = time.perf_counter(), children_cpu()
    subprocess.run(command, cwd=ROOT, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start, children_cpu() - cpu


def main() -> int:
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_VALIDATION": "false",
    }
    rows: list[tuple[str, tuple[float, float], float | None]] = []
    for profile in ("sandbox", "production"):
        shutil.rmtree(ROOT / "cdk.out", ignore_errors=True)
        cli = ["npx", "--no-install", "cdk", "synth", "--quiet", "-c", f"profile={profile}"]
        synth_env = {k: v for k, v in env.items() if k != "CDK_VALIDATION"}
        label = f"cold `cdk synth` of all stacks, {profile} (nag, Control Tower, CFN validation on)"
        rows.append((label, timed(cli, synth_env), 40.0))
    python = sys.executable
    commands = [
        ("step scripts in-process on the sample (tests/test_pipeline_scripts.py)", "tests/test_pipeline_scripts.py"),
        (
            "step scripts in their images' Python and libraries (tests/test_container_parity.py)",
            "tests/test_container_parity.py",
        ),
    ]
    for label, path in commands:
        rows.append((label, timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", path], env), 30.0))
    rows.append(
        (
            "fixed monthly cost of 4 builds from their templates (make cost)",
            timed([python, "-m", "tools.cost"], env),
            30.0,
        )
    )
    rows.append(
        (
            "6 pipeline definitions checked (make pipeline CHECK=1)",
            timed([python, "-m", "pipelines.builders", "--check"], env),
            30.0,
        )
    )
    # The pieces of the test run, one after the other: what the run's two cores have to get through.
    with tempfile.TemporaryDirectory() as tmp:
        root, folder = Path(tmp) / "builds", Path(tmp) / "templates"
        root.mkdir()
        folder.mkdir()
        jobs = [job for worker in WORKER_JOBS for job in worker]
        rows.append(
            (
                f"  part: {len(jobs)} synths with the rule packs ({len(BUILDS)} builds, {len(AUDITED_BUILDS)} audits; "
                "the test workers' jobs)",
                timed([python, "-m", "tools.platform", "--assemble", str(root), *jobs], env),
                None,
            )
        )
        builds = sorted(p for p in root.iterdir() if p.is_dir() and AUDIT not in p.name)
        pairs = ((f"{b.name}-{t.stem}", t) for b in builds for t in sorted(stage_folder(b).glob("*.template.json")))
        templates = copy_distinct(pairs, folder)
        for name, command in gate_commands(folder, templates).items():
            if command is not None:
                seconds = timed(command, env, check=False)
                rows.append((f"  part: {name} over the {len(templates)} distinct templates", seconds, None))
    rows.append(
        (
            f"test run (pytest: {len(BUILDS)} builds, every gate)",
            timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env),
            60.0,
        )
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'wall':>9} {'CPU':>9}")
    for label, (wall, cpu), target in rows:
        goal = f"  (target < {target:.0f} s)" if target else ""
        print(f"{wall:7.1f} s {cpu:7.1f} s  {label}{goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
