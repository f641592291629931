"""What a change does to the alerts, recording rules and dashboards: a Markdown summary of two synth builds.

The pull-request workflow synthesizes the base branch and the head and posts
this, so a reviewer sees "warning ApiLatencyHigh: threshold 2 -> 1.5" rather
than a YAML diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

Rules = dict[str, dict[str, Any]]


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
    """Dashboard title -> its panel titles."""
    found = {}
    for path in sorted((build / "monitoring" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        found[str(dashboard.get("title", path.stem))] = [
            str(p.get("title", "")) for p in dashboard.get("panels", [])
        ]
    return found


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> str:
    return ", ".join(field for field in before if before[field] != after.get(field))


def summarize(base: Path, head: Path) -> list[str]:
    """Markdown lines; empty when rules and dashboards are the same."""
    lines: list[str] = []
    old, new = _rules(base), _rules(head)
    lines += [f"- added {key}" for key in sorted(set(new) - set(old))]
    lines += [f"- removed {key}" for key in sorted(set(old) - set(new))]
    lines += [
        f"- changed {key}: {_changed_fields(old[key], new[key])}"
        for key in sorted(set(old) & set(new))
        if old[key] != new[key]
    ]
    old_boards, new_boards = _dashboards(base), _dashboards(head)
    lines += [f"- added dashboard **{title}**" for title in sorted(set(new_boards) - set(old_boards))]
    lines += [f"- removed dashboard **{title}**" for title in sorted(set(old_boards) - set(new_boards))]
    for title in sorted(set(old_boards) & set(new_boards)):
        added = [p for p in new_boards[title] if p not in old_boards[title]]
        removed = [p for p in old_boards[title] if p not in new_boards[title]]
        if added or removed or new_boards[title] != old_boards[title]:
            detail = "; ".join(
                part
                for part in (
                    f"panels added: {', '.join(added)}" if added else "",
                    f"panels removed: {', '.join(removed)}" if removed else "",
                )
                if part
            )
            lines.append(
                f"- changed dashboard **{title}**" + (f": {detail}" if detail else ": panels edited")
            )
    return lines


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
