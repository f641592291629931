"""Typed stack settings: the model, the loader, and the config sources."""

from infra.settings.loader import ConfigError, load_settings
from infra.settings.stack import StackSettings

__all__ = ["ConfigError", "StackSettings", "load_settings"]
