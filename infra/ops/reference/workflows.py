"""The CI/CD reference: each GitHub workflow's triggers, jobs, environments and the secrets it reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from infra.ops.reference.markdown import code, table
from infra.ops.reference.sources import Sources

WORKFLOWS = Path(".github/workflows")
SECRET = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
# A value an expression chooses: `${{ inputs.stack == 'prod' && 'production' || 'staging' }}`.
CHOSEN = re.compile(r"(?:&&|\|\|)\s*'([^']+)'")
# An expression in a job's name stands for the value it takes: `Synth ${{ matrix.stack }}`.
EXPRESSION = re.compile(r"\$\{\{\s*[\w.]*?(\w+)\s*\}\}")


def _workflows(sources: Sources) -> list[tuple[str, dict[Any, Any], str]]:
    found = []
    for path in sorted((sources.project_dir / WORKFLOWS).glob("*.yml")):
        text = path.read_text()
        found.append((path.name, yaml.safe_load(text), text))
    return found


def _environments(node: Any) -> Iterator[str]:
    """Every environment a document names: `environment:` values, literal or chosen by an expression.

    A reusable workflow's input (`${{ inputs.environment }}`) yields "": its caller's.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "environment" and isinstance(value, str):
                if "${{" not in value:
                    yield value
                else:
                    # A matrix's values are `environment:` keys of its own, found apart.
                    yield from CHOSEN.findall(value) or ([""] if "inputs." in value else [])
            else:
                yield from _environments(value)
    elif isinstance(node, list):
        for item in node:
            yield from _environments(item)


def _triggers(document: dict[Any, Any]) -> str:
    # YAML 1.1 reads the key `on` as the boolean true.
    on = document.get("on", document.get(True, {}))
    events: dict[Any, Any] = (
        on if isinstance(on, dict) else dict.fromkeys([on] if isinstance(on, str) else on)
    )
    parts = []
    for event, spec in events.items():
        if event == "schedule" and isinstance(spec, list):
            parts.append("schedule " + ", ".join(code(s["cron"]) for s in spec))
        elif isinstance(spec, dict) and spec.get("branches"):
            parts.append(f"{event} ({', '.join(spec['branches'])})")
        else:
            parts.append(str(event))
    return ", ".join(parts)


def workflows_table(sources: Sources) -> str:
    rows = []
    for name, document, _ in _workflows(sources):
        jobs = ", ".join(
            EXPRESSION.sub(lambda m: m.group(1).upper(), str(job.get("name", key)))
            for key, job in document.get("jobs", {}).items()
        )
        named = dict.fromkeys(_environments(document))
        environments = ", ".join(code(e) if e else "its caller's" for e in named) or "none"
        rows.append((code(name), document.get("name", ""), _triggers(document), jobs, environments))
    return table(("workflow", "name", "when", "jobs", "environments"), rows)


def secrets_table(sources: Sources) -> str:
    readers: dict[str, list[str]] = {}
    for name, _, text in _workflows(sources):
        for secret in SECRET.findall(text):
            readers.setdefault(secret, [])
            if name not in readers[secret]:
                readers[secret].append(name)
    rows = [(code(secret), ", ".join(code(w) for w in where)) for secret, where in sorted(readers.items())]
    return table(("secret", "read by"), rows)
