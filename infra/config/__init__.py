"""Typed stack settings: the model, the loader, and the config sources."""

from infra.config.loader import ConfigError, load_settings
from infra.config.model import StackSettings

__all__ = ["ConfigError", "StackSettings", "load_settings"]
