"""AWS behaviours the platform relies on, each with the documentation page that states it.

``config/data/aws_facts.yaml`` is the one place where a fact about AWS (a condition key a service sends
when it assumes a role, a limit, a rule CreateEndpointConfig enforces, an account setting a resource
needs) is written down, with its source URL. Components read it to build what AWS accepts, config
validation reads it to refuse what AWS rejects, and tests read it to check the synthesized templates.
A behaviour without a documented source does not belong in the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FACTS_FILE = Path(__file__).resolve().parent / "data" / "aws_facts.yaml"


@dataclass(frozen=True)
class Fact:
    id: str
    claim: str
    url: str
    value: Any = None


@dataclass(frozen=True)
class TrustKeys:
    """The global condition keys a service principal documents sending when it assumes a role."""

    principal: str
    keys: tuple[str, ...]
    url: str
    source_arn: str | None = None  # the documented form of aws:SourceArn, with {partition} {region} {account}

    def allows(self, key: str) -> bool:
        return key in self.keys


@cache
def _document() -> dict[str, Any]:
    return dict(yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8")))


def fact(fact_id: str) -> Fact:
    """One fact by id; an unknown id is a programming error, said plainly."""
    facts = _document()["facts"]
    if fact_id not in facts:
        raise KeyError(f"no fact {fact_id!r} in {FACTS_FILE.name}")
    entry = facts[fact_id]
    return Fact(id=fact_id, claim=entry["claim"], url=entry["url"], value=entry.get("value"))


def all_facts() -> dict[str, Fact]:
    return {fact_id: fact(fact_id) for fact_id in _document()["facts"]}


def trust_keys(principal: str) -> TrustKeys:
    """What ``principal`` documents for trust-policy conditions; ``principal/use`` names a use of the same
    principal documented apart (``sagemaker.amazonaws.com/feature-store-offline-store``). A principal that
    is not in the file is an error: look its keys up before making a role for it."""
    entry = _document()["trust_condition_keys"].get(principal)
    if entry is None:
        raise KeyError(
            f"{principal}: no entry in {FACTS_FILE.name} trust_condition_keys; look up which condition keys the "
            "service documents for role trust (confused-deputy page) and add it with its URL"
        )
    return TrustKeys(
        principal=entry.get("principal", principal),
        keys=tuple(entry["keys"]),
        url=entry["url"],
        source_arn=entry.get("source_arn"),
    )


def all_trust_keys() -> dict[str, TrustKeys]:
    return {principal: trust_keys(principal) for principal in _document()["trust_condition_keys"]}
