"""Every build (tools.platform.BUILDS) is synthesized at most once per test session and read from disk.

A whole-suite run synthesizes all builds in two background workers from its start, runs the tests that need no
build meanwhile, starts checkov, cfn-lint and the Control Tower rules as soon as the last build exists, and
reads their results last. A run of a few files synthesizes only the builds its tests touch, in-process.

CDK's built-in CloudFormation validation is off here for speed (``make synth`` keeps it on), and no rule
pack is registered as a plugin: each build records every pack's findings (``validate_scope``) next to its
assembly, and the compliance tests read them.
"""

from __future__ import annotations

import os

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.gates import CHECKOV, copy_distinct, gate_commands
from tools.platform import AUDIT, BUILDS, DONE, WORKER_JOBS, Synthesized, load_build, synthesize_build

ROOT = Path(__file__).resolve().parent.parent

PROFILES = ("sandbox", "production")
SERVING = ("sandbox-serving", "production-serving")


BUILD_FIXTURES = frozenset({"builds", "synthesized", "platform", "serving", "sandbox", "production"})


class LazyBuilds(Mapping[str, Synthesized]):
    """Every build of tools.platform.BUILDS, each synthesized once, on first use: a test file that needs one
    build does not pay for nine. ``prefetch()`` (a whole-suite run) synthesizes them all in background
    workers instead, while the tests that need no build run; each build is then read from disk on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._built: dict[str, Synthesized] = {}
        self._workers: list[tuple[subprocess.Popen[bytes], Path, tuple[str, ...]]] = []

    def prefetch(self) -> None:
        if self._workers:
            return
        env = {**os.environ, "CDK_VALIDATION": "false"}
        for index, jobs in enumerate(WORKER_JOBS):
            log = self._root / f"worker-{index}.log"
            with log.open("wb") as stderr:
                command = [sys.executable, "-m", "tools.platform", "--assemble", str(self._root), *jobs]
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            self._workers.append((process, log, jobs))

    def _wait(self, name: str) -> Synthesized | None:
        """The build a worker makes, once it is on disk; None if no worker makes it."""
        for process, log, jobs in self._workers:
            if name not in jobs:
                continue
            while True:
                try:
                    return load_build(name, self._root / name)
                except FileNotFoundError:
                    if process.poll() is not None and not list((self._root / name).glob(f"*/{DONE}")):
                        tail = log.read_text(errors="replace")[-3000:]
                        raise RuntimeError(f"the worker synthesizing {name} failed:\n{tail}") from None
                    time.sleep(0.05)
        return None

    def __getitem__(self, name: str) -> Synthesized:
        if name.removesuffix(AUDIT) not in BUILDS:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = self._wait(name) or synthesize_build(name, self._root / name)
        return self._built[name]

    def audited(self, name: str) -> Synthesized:
        """Build ``name`` with acknowledgments recorded instead of applied."""
        return self[name + AUDIT]

    def close(self) -> None:
        """Stop the workers (idempotent): a build still awaited then fails with the worker's log."""
        for process, _, _ in self._workers:
            if process.poll() is None:
                process.kill()
                process.wait()

    def __iter__(self) -> Iterator[str]:
        return iter(BUILDS)

    def __len__(self) -> int:
        return len(BUILDS)


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LazyBuilds]:
    """Every build of tools.platform.BUILDS, synthesized once for the whole session, lazily."""
    lazy = LazyBuilds(tmp_path_factory.mktemp("builds"))
    yield lazy
    lazy.close()


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
    """One external checker running in the background over the distinct templates; ``result()`` waits (once)."""

    command: list[str] | None
    output: Path
    process: subprocess.Popen[bytes] | None = None
    _result: tuple[int, str, str] | None = None

    def start(self) -> None:
        if self.command is not None:
            with self.output.open("wb") as stdout, self.output.with_suffix(".err").open("wb") as stderr:
                self.process = subprocess.Popen(self.command, stdout=stdout, stderr=stderr)

    def result(self) -> tuple[int, str, str]:
        if self.process is None:
            return 0, "", ""
        if self._result is None:
            self.process.wait()
            errors = self.output.with_suffix(".err").read_text(errors="replace")
            self._result = (self.process.returncode, self.output.read_text(), errors)
        return self._result


class Gates:
    """checkov, cfn-lint and the Control Tower rules over every distinct template of every build, started
    together in the background as soon as the last build is on disk (a thread waits for it)."""

    def __init__(self, builds: Mapping[str, Synthesized], folder: Path, outputs: Path) -> None:
        self.templates = folder
        self._builds, self._outputs = builds, outputs
        self._gates: dict[str, Gate] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="gates", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            pairs = (
                (f"{name}-{stack_id}", build.template_path(stack_id))
                for name, build in self._builds.items()
                for stack_id in build.stacks
            )
            templates = copy_distinct(pairs, self.templates)
            for name, command in gate_commands(self.templates, templates).items():
                gate = Gate(command, self._outputs / f"{name}.out")
                gate.start()
                self._gates[name] = gate
        except BaseException as error:  # reported by the tests that read the gates
            self._error = error

    def _gate(self, name: str) -> Gate:
        self._thread.join()
        if self._error is not None:
            raise RuntimeError("the gates could not start") from self._error
        return self._gates[name]

    @property
    def checkov(self) -> Gate:
        return self._gate("checkov")

    @property
    def cfn_lint(self) -> Gate:
        return self._gate("cfn-lint")

    @property
    def control_tower(self) -> Gate:
        return self._gate("control-tower")

    def close(self) -> None:
        """Wait for the thread (the builds must be stopped first: it may be waiting for one), stop the gates."""
        self._thread.join()
        for gate in self._gates.values():
            if gate.process is not None and gate.process.poll() is None:
                gate.process.kill()
                gate.process.wait()


def _uses(item: pytest.Item, fixtures: frozenset[str]) -> bool:
    return bool(fixtures & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order: modules that need no build first (background workers synthesize meanwhile), then modules that
    read builds, then the tests that read the background gates' results, so the gates overlap the suite."""
    needs_builds = {item.path for item in items if _uses(item, BUILD_FIXTURES)}

    def group(item: pytest.Item) -> int:
        if _uses(item, frozenset({"gates"})):
            return 2
        return 1 if item.path in needs_builds else 0

    items.sort(key=group)


@pytest.fixture(scope="session", autouse=True)
def _start_early(request: pytest.FixtureRequest) -> None:
    """A session that runs the gates needs every build: synthesize them all in the background from the start,
    and start the gates as soon as the builds exist."""
    if any(_uses(item, frozenset({"gates"})) for item in request.session.items):
        request.getfixturevalue("builds").prefetch()
        request.getfixturevalue("gates")


@pytest.fixture(scope="session")
def gates(builds: Mapping[str, Synthesized], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gates]:
    """The external checkers, running in the background over every distinct template of every build (many
    stacks are identical across builds); the compliance tests collect their results last."""
    assert CHECKOV.exists(), "checkov lives in .venv-checkov: run `make setup`"
    running = Gates(builds, tmp_path_factory.mktemp("templates"), tmp_path_factory.mktemp("gate-output"))
    yield running
    if isinstance(builds, LazyBuilds):
        builds.close()  # an interrupted session: the gates' thread may still wait for a build
    running.close()
