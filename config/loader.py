"""Loading a profile: find its file, apply ``-c`` overrides, validate it into a :class:`PlatformConfig`.

A profile is a YAML file under ``config/`` (``sandbox.yaml``, ``production.yaml``) or any path given
with ``-c config=PATH``. ``load_settings`` turns it into a :class:`PlatformConfig` or raises
:class:`ConfigError` whose message is one line naming the field and the rule, so a bad value never
reaches CloudFormation. ``app.py`` and the tools (platform, preflight, verify, teardown) call it; stacks and
components receive the object (or the part of it they use).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.catalogs import CONFIG_DIR
from config.schema import PlatformConfig

DEFAULT_PROFILE = "sandbox"


class ConfigError(ValueError):
    """A profile that AWS would reject, said in one line that names the field and the rule."""


_FIELD_PREFIX = re.compile(r"^[a-z_][a-z0-9_.]*: ")


def _format(error: ValidationError, source: str) -> str:
    """The first problem as ``source: section.field: rule``, counting any others, on one line.

    Rules checked across fields (model validators) start their message with the field they
    blame, so the result always names one field.
    """
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        message = f"{loc}: unknown key (check the spelling against config/sandbox.yaml)"
    elif first["type"] == "missing":
        message = f"{loc}: is required"
    else:
        rule = first["msg"].removeprefix("Value error, ")
        names_field = _FIELD_PREFIX.match(rule) is not None
        message = (f"{loc}.{rule}" if loc else rule) if names_field else f"{loc}: {rule}"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {message}{suffix}"


def resolve_profile_path(profile: str | None, config_path: str | None) -> Path:
    """``-c config=PATH`` wins over ``-c profile=NAME``; the default profile is ``sandbox``."""
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(f"config: file {config_path!r} does not exist")
        return path
    name = profile or DEFAULT_PROFILE
    available = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    if name not in available:
        raise ConfigError(f"profile: unknown profile {name!r} (available: {', '.join(available)})")
    return CONFIG_DIR / f"{name}.yaml"


# Keys an earlier layout of the profile had, and where they live now: a profile written for it is told exactly
# what to move instead of "unknown key" and "is required" for each half of the move.
MOVED = {
    "inference.api_throttle_rate_per_second": "inference.api.throttle_rate_per_second",
    "inference.api_throttle_burst": "inference.api.throttle_burst",
    "governance.trail_log_retention_days": "governance.audit.trail_log_retention_days",
    "governance.audit_object_lock_days": "governance.audit.object_lock_days",
    "governance.budget": "governance.costs.budget",
    "governance.cost_anomaly_detection": "governance.costs.anomaly_detection",
    "governance.anomaly_threshold_usd": "governance.costs.anomaly_threshold_usd",
}


def _moved(raw: dict[str, Any]) -> list[str]:
    found = []
    for old, new in MOVED.items():
        section, key = old.split(".")
        if isinstance(raw.get(section), dict) and key in raw[section]:
            found.append(f"{old}: moved to {new}")
    return found


def parse_settings(raw: Any, source: str = "config") -> PlatformConfig:
    """Validate an already-parsed mapping (the YAML document) into a frozen config."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the file must hold a mapping of settings, not {type(raw).__name__}")
    moved = _moved(raw)
    if moved:
        more = len(moved) - 1
        suffix = f" (and {more} more moved key{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{source}: {moved[0]}{suffix}")
    try:
        return PlatformConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None


# Settings a deployment may override from the command line (`-c key=value`), with their place in the profile.
CONTEXT_OVERRIDES = {"model_package_arn": "inference.model_package_arn"}


def apply_overrides(raw: Any, overrides: dict[str, Any]) -> Any:
    """Put ``{"section.field": value}`` into the parsed profile before validation, so overrides obey the
    same rules as the file."""
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node
        if isinstance(node, dict):
            node[leaf] = value
    return raw


def load_settings(
    profile: str | None = None, config_path: str | None = None, overrides: dict[str, Any] | None = None
) -> PlatformConfig:
    """The profile named by ``profile`` or ``config_path`` (see :func:`resolve_profile_path`), with ``overrides``
    applied, validated; any problem is a :class:`ConfigError` of one line."""
    path = resolve_profile_path(profile, config_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path.name}: not valid YAML{at}") from None
    return parse_settings(apply_overrides(raw, overrides or {}), source=path.name)
