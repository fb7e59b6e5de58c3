"""Synthesize each profile once per test session; every test reads those two assemblies.

CDK's built-in CloudFormation validation is off here for speed (``make synth`` keeps it on), and no
rule pack is registered: the compliance tests call each pack's ``validate_scope`` themselves.
"""

from __future__ import annotations

import os

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.control_tower import guard_command
from tools.platform import BUILDS, Synthesized, synthesize_build

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"

PROFILES = ("sandbox", "production")
SERVING = ("sandbox-serving", "production-serving")


class LazyBuilds(Mapping[str, Synthesized]):
    """Every build of tools.platform.BUILDS, each synthesized once, on first use: a test file that needs one
    build does not pay for nine."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._factory = tmp_path_factory
        self._built: dict[str, Synthesized] = {}

    def __getitem__(self, name: str) -> Synthesized:
        if name not in BUILDS:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = synthesize_build(name, self._factory.mktemp(name))
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(BUILDS)

    def __len__(self) -> int:
        return len(BUILDS)


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Synthesized]:
    """Every build of tools.platform.BUILDS, synthesized once for the whole session, lazily."""
    return LazyBuilds(tmp_path_factory)


@pytest.fixture(scope="session")
def synthesized(builds: Mapping[str, Synthesized]) -> dict[str, Synthesized]:
    """The two profiles as a user first deploys them (no approved model yet)."""
    return {name: builds[name] for name in PROFILES}


@pytest.fixture(scope="session", params=list(BUILDS))
def platform(request: pytest.FixtureRequest, builds: Mapping[str, Synthesized]) -> Synthesized:
    """Each test that takes ``platform`` runs once per build: a control holds in every configuration."""
    return builds[request.param]


@pytest.fixture(scope="session", params=SERVING)
def serving(request: pytest.FixtureRequest, builds: Mapping[str, Synthesized]) -> Synthesized:
    """Each profile serving an approved model package."""
    return builds[request.param]


@pytest.fixture(scope="session")
def sandbox(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["sandbox"]


@pytest.fixture(scope="session")
def production(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["production"]


@dataclass
class Gate:
    """One external checker running in the background over the distinct templates; ``result()`` waits."""

    process: subprocess.Popen[str] | None
    output: Path

    def result(self) -> tuple[int, str, str]:
        if self.process is None:
            return 0, "", ""
        _, stderr = self.process.communicate()
        return self.process.returncode, self.output.read_text(), stderr


@dataclass
class Gates:
    templates: Path
    checkov: Gate
    cfn_lint: Gate
    control_tower: Gate


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that read the background gates' results run last, so the gates overlap the rest of the suite."""
    items.sort(key=lambda item: "gates" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def _start_gates_early(request: pytest.FixtureRequest) -> None:
    """When any collected test needs the gates, start them before the first test, so they overlap the suite."""
    if any("gates" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("gates")


@pytest.fixture(scope="session")
def gates(builds: Mapping[str, Synthesized], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gates]:
    """checkov, cfn-lint and the Control Tower rules start together, once, in the background, over every
    distinct template of every build (many stacks are identical across builds); the compliance tests
    collect their results while the rest of the suite runs on the other core."""
    folder = tmp_path_factory.mktemp("templates")
    seen: set[str] = set()
    for name, build in builds.items():
        for stack_id in build.stacks:
            text = build.template_path(stack_id).read_text()
            if text not in seen:
                seen.add(text)
                (folder / f"{name}-{stack_id}.template.json").write_text(text)
    outputs = tmp_path_factory.mktemp("gate-output")
    templates = sorted(folder.glob("*.template.json"))

    def start(name: str, command: list[str] | None) -> Gate:
        output = outputs / f"{name}.out"
        if command is None:
            return Gate(None, output)
        with output.open("w") as stdout:
            process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, text=True)
        return Gate(process, output)

    assert CHECKOV.exists(), "checkov lives in .venv-checkov: run `make setup`"
    running = Gates(
        templates=folder,
        checkov=start(
            "checkov",
            [str(CHECKOV), "-d", str(folder), "--framework", "cloudformation", "--skip-download", "-o", "json"],
        ),
        cfn_lint=start("cfn-lint", [str(CFN_LINT), "--format", "json", *map(str, templates)]),
        control_tower=start("control-tower", guard_command(templates)),
    )
    yield running
    for gate in (running.checkov, running.cfn_lint, running.control_tower):
        if gate.process is not None and gate.process.poll() is None:
            gate.process.kill()
