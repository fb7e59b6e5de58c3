"""Compatibility shim: the names ``config.settings`` held before it was split; import from the new modules.

``config.catalogs`` (data tables and their readers), ``config.types`` (reusable field types),
``config.schema`` (the pydantic models) and ``config.loader`` (``load_settings`` and friends); the common
names are also in ``config`` itself (``from config import PlatformConfig``). Delete this module once
nothing imports it.
"""

from config.catalogs import CONFIG_DIR, DATA_DIR, exam_tasks, interface_endpoint_catalog, known_regions
from config.loader import (
    CONTEXT_OVERRIDES,
    DEFAULT_PROFILE,
    ConfigError,
    apply_overrides,
    load_settings,
    parse_settings,
    resolve_profile_path,
)
from config.schema import (
    AutoscalingConfig,
    BudgetConfig,
    DataLakeConfig,
    DeploymentConfig,
    Environment,
    FunctionName,
    FunctionsConfig,
    GovernanceConfig,
    InferenceConfig,
    MlConfig,
    MonitoringConfig,
    NetworkConfig,
    PlatformConfig,
    RemovalChoice,
    StreamingConfig,
    TagsConfig,
)
from config.types import LOG_RETENTION_DAYS

__all__ = [
    "CONFIG_DIR",
    "CONTEXT_OVERRIDES",
    "DATA_DIR",
    "DEFAULT_PROFILE",
    "LOG_RETENTION_DAYS",
    "AutoscalingConfig",
    "BudgetConfig",
    "ConfigError",
    "DataLakeConfig",
    "DeploymentConfig",
    "Environment",
    "FunctionName",
    "FunctionsConfig",
    "GovernanceConfig",
    "InferenceConfig",
    "MlConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "PlatformConfig",
    "RemovalChoice",
    "StreamingConfig",
    "TagsConfig",
    "apply_overrides",
    "exam_tasks",
    "interface_endpoint_catalog",
    "known_regions",
    "load_settings",
    "parse_settings",
    "resolve_profile_path",
]
