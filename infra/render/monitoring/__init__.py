"""Generators of monitoring artifacts: pure functions of a stack's settings.

Alert and recording rules, the Alertmanager configuration and the Grafana
dashboards are plain data built here; the ``Monitoring`` component deploys
them and the tests hand the very same data to promtool, amtool, Alertmanager
and Prometheus.
"""
