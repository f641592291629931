"""How the Lockbox provider reaches the API: the shared connection of the Yandex providers.

Kept under this name for the program and its tests; see
``infra/providers/yandex/connection.py``.
"""

from __future__ import annotations

from infra.providers.yandex.connection import (
    AUTH_METHODS,
    DEFAULT_ENDPOINT,
    IAM_TOKEN_ENV,
    Auth,
    Connection,
    ConnectionError_,
)

__all__ = ["AUTH_METHODS", "DEFAULT_ENDPOINT", "IAM_TOKEN_ENV", "Auth", "Connection", "ConnectionError_"]
