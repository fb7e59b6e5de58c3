"""Platform settings: the profile schema, its loader, its reusable field types and the data catalogs."""

from config.loader import (
    CONTEXT_OVERRIDES,
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
    FunctionName,
    FunctionsConfig,
    GovernanceConfig,
    InferenceConfig,
    MlConfig,
    MonitoringConfig,
    NetworkConfig,
    PlatformConfig,
    StreamingConfig,
    TagsConfig,
)

__all__ = [
    "CONTEXT_OVERRIDES",
    "AutoscalingConfig",
    "BudgetConfig",
    "ConfigError",
    "DataLakeConfig",
    "DeploymentConfig",
    "FunctionName",
    "FunctionsConfig",
    "GovernanceConfig",
    "InferenceConfig",
    "MlConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "PlatformConfig",
    "StreamingConfig",
    "TagsConfig",
    "apply_overrides",
    "load_settings",
    "parse_settings",
    "resolve_profile_path",
]
