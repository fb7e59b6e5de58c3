"""Platform settings: typed profiles validated before any construct is built."""

from config.settings import ConfigError, PlatformConfig, load_settings

__all__ = ["ConfigError", "PlatformConfig", "load_settings"]
