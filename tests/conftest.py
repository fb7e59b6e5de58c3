"""Synthesize each profile once per test session; every test reads those two assemblies.

CDK's built-in CloudFormation validation is off here for speed (``make synth`` keeps it on), and no
rule pack is registered: the compliance tests call each pack's ``validate_scope`` themselves.
"""

from __future__ import annotations

import os

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest

from tools.platform import BUILDS, Synthesized, synthesize_build

PROFILES = ("sandbox", "production")
SERVING = ("sandbox-serving", "production-serving")


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    """Every build of tools.platform.BUILDS, synthesized once for the whole session."""
    return {name: synthesize_build(name, tmp_path_factory.mktemp(name)) for name in BUILDS}


@pytest.fixture(scope="session")
def synthesized(builds: dict[str, Synthesized]) -> dict[str, Synthesized]:
    """The two profiles as a user first deploys them (no approved model yet)."""
    return {name: builds[name] for name in PROFILES}


@pytest.fixture(scope="session", params=list(BUILDS))
def platform(request: pytest.FixtureRequest, builds: dict[str, Synthesized]) -> Synthesized:
    """Each test that takes ``platform`` runs once per build: a control holds in every configuration."""
    return builds[request.param]


@pytest.fixture(scope="session", params=SERVING)
def serving(request: pytest.FixtureRequest, builds: dict[str, Synthesized]) -> Synthesized:
    """Each profile serving an approved model package."""
    return builds[request.param]


@pytest.fixture(scope="session")
def sandbox(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["sandbox"]


@pytest.fixture(scope="session")
def production(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["production"]
