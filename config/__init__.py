"""stacktop configuration: find, load, validate and describe the config file.

Kept to the standard library and PyYAML so that ``stacktop check`` starts fast.
"""

from config.durations import format_duration, parse_duration
from config.errors import ConfigError
from config.loader import find_config_path, load_settings, redact
from config.model import (
    AuditSettings,
    HostSettings,
    LogSettings,
    ProviderSettings,
    Role,
    RuntimeSettings,
    Settings,
    UiSettings,
)

__all__ = [
    "AuditSettings",
    "ConfigError",
    "HostSettings",
    "LogSettings",
    "ProviderSettings",
    "Role",
    "RuntimeSettings",
    "Settings",
    "UiSettings",
    "find_config_path",
    "format_duration",
    "load_settings",
    "parse_duration",
    "redact",
]
