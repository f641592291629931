"""CloudNativePG and its Barman Cloud plugin: CRDs come with their charts, one operator for all namespaces."""

from __future__ import annotations

from infra.render.database import operators


def test_the_operator_watches_every_namespace_so_a_recovery_cluster_anywhere_is_managed() -> None:
    assert operators.operator_values()["config"]["clusterWide"] is True


def test_both_charts_install_the_crds_the_database_objects_need() -> None:
    # Cluster, Pooler, ScheduledBackup and Backup come with the operator; ObjectStore with the plugin.
    assert operators.operator_values()["crds"] == {"create": True}
    assert operators.plugin_values()["crds"] == {"create": True}


def test_each_call_returns_values_of_its_own() -> None:
    first = operators.operator_values()
    first["config"]["clusterWide"] = False
    plugin = operators.plugin_values()
    plugin["crds"]["create"] = False
    assert operators.operator_values()["config"]["clusterWide"] is True
    assert operators.plugin_values()["crds"]["create"] is True
