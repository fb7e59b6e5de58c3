"""Synthesize each profile once per test session; every test reads those two assemblies.

CDK's built-in CloudFormation validation is off here for speed (``make synth`` keeps it on), and no
rule pack is registered: the compliance tests call each pack's ``validate_scope`` themselves.
"""

from __future__ import annotations

import os

os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest

from config import load_settings
from tools.platform import Synthesized, synthesize

PROFILES = ("sandbox", "production")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    return {name: synthesize(load_settings(name), tmp_path_factory.mktemp(name)) for name in PROFILES}


@pytest.fixture(scope="session", params=PROFILES)
def platform(request: pytest.FixtureRequest, synthesized: dict[str, Synthesized]) -> Synthesized:
    """Each test that takes ``platform`` runs once per profile."""
    return synthesized[request.param]


@pytest.fixture(scope="session")
def sandbox(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["sandbox"]


@pytest.fixture(scope="session")
def production(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["production"]
