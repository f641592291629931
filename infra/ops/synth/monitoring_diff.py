"""What a change does to the alerts, recording rules and dashboards: a Markdown summary of two synth builds.

The pull-request workflow synthesizes the base branch and the head and posts
this, so a reviewer sees "warning ApiLatencyHigh: threshold 2 -> 1.5" rather
than a YAML diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

Rules = dict[str, dict[str, Any]]
T = TypeVar("T")


def _rules(build: Path) -> Rules:
    """'alert Name (severity)' or 'record name' -> the rule, over every rule file of a build."""
    found: Rules = {}
    for path in sorted((build / "monitoring" / "rules").glob("*.yaml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    key = f"alert `{rule['alert']}` ({rule.get('labels', {}).get('severity', '?')})"
                else:
                    key = f"recording `{rule['record']}`"
                found[key] = {k: rule.get(k) for k in ("expr", "for", "labels", "annotations")}
    return found


def _dashboards(build: Path) -> dict[str, list[str]]:
    found = {}
    for path in sorted((build / "monitoring" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        found[str(dashboard.get("title", path.stem))] = [
            str(p.get("title", "")) for p in dashboard.get("panels", [])
        ]
    return found


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> str:
    return ", ".join(field for field in before if before[field] != after.get(field))


def _panels(before: list[str], after: list[str]) -> str:
    added = ", ".join(p for p in after if p not in before)
    removed = ", ".join(p for p in before if p not in after)
    parts = [f"panels added: {added}" if added else "", f"panels removed: {removed}" if removed else ""]
    return "; ".join(filter(None, parts)) or "panels edited"


def _compared(
    old: Mapping[str, T], new: Mapping[str, T], what: str, detail: Callable[[T, T], str]
) -> list[str]:
    """Markdown lines: each key added, removed, or changed (with `detail` of how), as `what` names it."""
    lines = [f"- added {what.format(key)}" for key in sorted(set(new) - set(old))]
    lines += [f"- removed {what.format(key)}" for key in sorted(set(old) - set(new))]
    common = sorted(set(old) & set(new))
    return lines + [
        f"- changed {what.format(k)}: {detail(old[k], new[k])}" for k in common if old[k] != new[k]
    ]


def summarize(base: Path, head: Path) -> list[str]:
    """Markdown lines; empty when rules and dashboards are the same."""
    rules = _compared(_rules(base), _rules(head), "{}", _changed_fields)
    return rules + _compared(_dashboards(base), _dashboards(head), "dashboard **{}**", _panels)


def report(base_root: Path, head_root: Path) -> str:
    """The PR comment's body for every stack built on both sides."""
    stacks = sorted(p.name for p in head_root.iterdir() if (base_root / p.name / "monitoring").is_dir())
    sections = []
    for stack in stacks:
        lines = summarize(base_root / stack, head_root / stack)
        sections.append(
            f"#### {stack}\n" + ("\n".join(lines) if lines else "No change to alerts, rules or dashboards.")
        )
    return "### Monitoring changes\n\n" + "\n\n".join(sections) + "\n"
