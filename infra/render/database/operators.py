"""The Helm values of CloudNativePG and its Barman Cloud plugin."""

from __future__ import annotations

from typing import Any


def operator_values() -> dict[str, Any]:
    # One operator watches every namespace: the app's cluster and any recovery cluster beside it.
    return {"crds": {"create": True}, "config": {"clusterWide": True}}


def plugin_values() -> dict[str, Any]:
    return {"crds": {"create": True}}
