"""The reference pages' generated parts: what can be read from the code is written from it.

Each page under ``docs/`` keeps its prose by hand and marks the blocks the
generator fills (``<!-- generated: NAME ... -->`` up to ``<!-- end generated:
NAME -->``). ``python -m infra.ops.reference`` rewrites them;
``--check`` says which pages are stale. The tests hold every committed page to
what the generator writes now, so a change to a setting, an alert, a dashboard,
a policy or a stack's resources fails until its page is regenerated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.ops.reference import configuration, monitoring, policies, resources, workflows
from infra.ops.reference.markdown import fill
from infra.ops.reference.sources import Sources


@dataclass(frozen=True)
class Block:
    page: str
    name: str
    render: Callable[[Sources], str]


BLOCKS: tuple[Block, ...] = (
    Block("docs/configuration.md", "stack-file-keys", lambda _: configuration.stack_file_table()),
    Block("docs/configuration.md", "profile-keys", lambda _: configuration.profile_table()),
    Block("docs/monitoring.md", "objectives", monitoring.objectives_table),
    Block("docs/monitoring.md", "burn-rates", monitoring.burn_rates_table),
    Block("docs/monitoring.md", "alerts", monitoring.alerts_table),
    Block("docs/monitoring.md", "rule-files", monitoring.rule_files_table),
    Block("docs/monitoring.md", "dashboards", monitoring.dashboards_table),
    Block("docs/monitoring.md", "alertmanager-routes", monitoring.routes_table),
    Block("docs/monitoring.md", "quiet-hours", monitoring.time_intervals_table),
    Block("docs/monitoring.md", "inhibitions", monitoring.inhibitions_table),
    Block("docs/ci.md", "workflows", workflows.workflows_table),
    Block("docs/ci.md", "workflow-secrets", workflows.secrets_table),
    Block("docs/operations.md", "stack-outputs", resources.outputs_table),
    Block("docs/policies.md", "policy-count", lambda _: policies.counts()),
    Block("docs/policies.md", "policies", lambda _: policies.policies_table()),
    Block("docs/platform.md", "components", resources.components_table),
    Block("docs/platform.md", "charts", resources.charts_table),
    Block("docs/platform.md", "resources", resources.resources_table),
)


def pages() -> tuple[str, ...]:
    return tuple(dict.fromkeys(block.page for block in BLOCKS))


def regenerate(page: str, text: str, sources: Sources) -> str:
    for block in BLOCKS:
        if block.page == page:
            text = fill(text, block.name, block.render(sources))
    return text


def stale_pages(sources: Sources) -> dict[Path, str]:
    """The pages whose committed text differs from what the generator writes, with that text."""
    found: dict[Path, str] = {}
    for page in pages():
        path = sources.project_dir / page
        current = path.read_text()
        wanted = regenerate(page, current, sources)
        if wanted != current:
            found[path] = wanted
    return found
