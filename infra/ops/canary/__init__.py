"""A release's canary beside stable: its steps, and how it is judged.

The judge compares canary and stable over a window from ingress-nginx's raw
request metrics: ``queries`` builds the PromQL (pure), ``prometheus`` asks a
Prometheus for it, ``judge`` turns the numbers into checks and a verdict
(pure); ``samokoder-infra verify`` (infra/ops/cli/verify.py) puts them together.
"""
