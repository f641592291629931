"""A real Prometheus on loopback holding synthetic history, with the rules loaded."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.infra.render.monitoring.workload import Phase, openmetrics
from tests.processes import free_port, serving
from tests.tools import tool


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            return json.load(error)

    def query(self, expr: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/api/v1/query", query=expr)
        return result


def _every_group_evaluated(prometheus: Prometheus, groups: int) -> bool:
    try:
        found = prometheus.get("/api/v1/rules")["data"]["groups"]
    # Until its storage is open, Prometheus answers 503 in plain text, not JSON.
    except (OSError, ValueError):
        return False
    evaluated = [g for g in found if not g["lastEvaluation"].startswith("0001")]
    return len(found) == groups and len(evaluated) == groups


@contextmanager
def running_prometheus(
    rule_paths: Sequence[Path], history: Sequence[Phase], workdir: Path
) -> Iterator[Prometheus]:
    """Backfill ``history`` (ending now), load the rules evaluated every second, serve on loopback."""
    data = workdir / "data"
    data.mkdir()
    metrics = workdir / "history.om"
    metrics.write_text(openmetrics(history, end=time.time() - 15))
    subprocess.run(
        [str(tool("promtool")), "tsdb", "create-blocks-from", "openmetrics", str(metrics), str(data)],
        check=True,
        capture_output=True,
    )
    # The rules exactly as generated, but every group evaluated each second:
    # the month-long group would otherwise wait up to 5 minutes for its first run.
    rules_dir = workdir / "rules"
    rules_dir.mkdir()
    groups = 0
    for path in rule_paths:
        document = yaml.safe_load(path.read_text())
        for group in document["groups"]:
            group.pop("interval", None)
            groups += 1
        (rules_dir / path.name).write_text(yaml.safe_dump(document))
    config = workdir / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": [str(rules_dir / "*.yaml")]})
    )
    port = free_port()
    prometheus = Prometheus(f"http://127.0.0.1:{port}")
    command = [
        str(tool("prometheus")),
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with serving(command, workdir / "prometheus.log", lambda: _every_group_evaluated(prometheus, groups)):
        # One more round, so that rules reading other groups' records see them.
        time.sleep(1.5)
        yield prometheus
