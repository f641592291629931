"""cert-manager's Helm values."""

from __future__ import annotations

from typing import Any


def values() -> dict[str, Any]:
    return {
        # Kept on uninstall: deleting the CRDs would delete every certificate with them.
        "crds": {"enabled": True, "keep": True},
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": False}},
    }
