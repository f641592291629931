"""The migration rehearsal's verdict: the steps the release's Alembic ran on a copy, the DDL the
server logged for each, and what squawk says of the DDL the running release would meet.

The server's records come as CloudNativePG writes them to the instance's log, one JSON line each
with the csvlog fields under "record" (pkg/management/postgres/logpipe/writer.go:27-43 and
loggingCollector.go:53-80 at v1.30.0), or as PostgreSQL's own csvlog file, the same fields by
position (the tests' local copy). The copy runs with ``log_statement = ddl``, so every DDL
statement is a "statement: ..." record; a failed one is an ERROR record with its query.

Only the first upgrade's DDL meets the running release (the old pods keep serving while it runs);
downgrade exists to prove the way back. squawk's rules that name such a break are the verdict;
its other rules (timeouts, IF EXISTS) are shown as notes.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = ["BREAKING_RULES", "Finding", "Step", "Verdict", "judge", "read_server_log", "read_steps"]

# PostgreSQL 15's csvlog columns, in order (the names CloudNativePG gives them).
CSV_FIELDS = (
    "log_time",
    "user_name",
    "database_name",
    "process_id",
    "connection_from",
    "session_id",
    "session_line_num",
    "command_tag",
    "session_start_time",
    "virtual_transaction_id",
    "transaction_id",
    "error_severity",
    "sql_state_code",
    "message",
    "detail",
    "hint",
    "internal_query",
    "internal_query_pos",
    "context",
    "query",
    "query_pos",
    "location",
    "application_name",
    "backend_type",
    "leader_pid",
    "query_id",
)

# squawk's rules (https://squawkhq.com/docs/rules, all in squawk 2.70.0's rule table) for DDL that
# breaks a release still running, or holds a lock that stops it: what the issue names (drops,
# renames, type changes, a new NOT NULL without a default, unique constraints, long locks). A
# statement squawk cannot parse is not judged at all: that is a failure too.
BREAKING_RULES = frozenset(
    {
        "ban-drop-column",
        "ban-drop-table",
        "ban-drop-database",
        "ban-drop-constraint",
        "ban-drop-view",
        "ban-drop-type",
        "ban-drop-sequence",
        "ban-drop-function",
        "ban-drop-schema",
        "ban-drop-not-null",
        "ban-set-schema",
        "ban-truncate-cascade",
        "renaming-column",
        "renaming-table",
        "renaming-object",
        "changing-column-type",
        "adding-required-field",
        "adding-not-nullable-field",
        "adding-serial-primary-key-field",
        "adding-field-with-default",
        "disallowed-unique-constraint",
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "ban-concurrent-index-creation-in-transaction",
        "constraint-missing-not-valid",
        "adding-foreign-key-constraint",
        "syntax-error",
    }
)
# How the server logs a statement: "statement: ..." (simple protocol, psycopg2) or "execute <name>:
# ..." (extended protocol: asyncpg, which the app's Alembic uses; postgres.c exec_execute_message).
STATEMENT = re.compile(r"^(?:statement|execute(?: fetch from)? [^:]*): (.*)$", re.DOTALL)


@dataclass(frozen=True)
class Record:
    at: float
    severity: str
    message: str
    query: str


@dataclass
class Step:
    name: str
    args: tuple[str, ...]
    start: float
    end: float
    rc: int
    output: str
    ddl: list[str] = field(default_factory=list)
    errors: list[Record] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    statement: str

    @property
    def breaking(self) -> bool:
        return self.rule in BREAKING_RULES


@dataclass(frozen=True)
class Verdict:
    running: tuple[str, ...]
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...]

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in self.steps if step.rc != 0), None)

    @property
    def breaking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.breaking)

    @property
    def passed(self) -> bool:
        return self.failed_step is None and not self.breaking and len(self.steps) >= 3

    def report(self) -> str:
        lines = [f"running revisions: {', '.join(self.running) or 'none'}"]
        for step in self.steps:
            state = "ok" if step.rc == 0 else f"FAILED (exit {step.rc})"
            lines.append(f"{step.name} {' '.join(step.args)}: {state} in {step.seconds:.1f}s")
            lines += [f"    {sql}" for sql in step.ddl]
            for error in step.errors:
                lines.append(f"    server: {error.severity}: {error.message}")
                lines.append(f"    in: {error.query}")
            if step.rc != 0 and not step.errors:
                lines.append(f"    output: {step.output.strip()[-600:]}")
        for finding in self.findings:
            kind = "BREAKS the running release" if finding.breaking else "note"
            lines.append(f"{kind}: {finding.rule}: {finding.message}\n    in: {finding.statement}")
        verdict = "passed" if self.passed else "FAILED"
        lines.append(f"rehearsal {verdict}")
        return "\n".join(lines)


def _epoch(log_time: str) -> float:
    # csvlog's "%Y-%m-%d %H:%M:%S.%f %Z", the zone a name (UTC in CloudNativePG's images).
    stamp, _, zone = log_time.rpartition(" ")
    if zone != "UTC":
        raise ValueError(f"a server log time not in UTC: {log_time!r} (set log_timezone = UTC)")
    return datetime.strptime(f"{stamp} +0000", "%Y-%m-%d %H:%M:%S.%f %z").timestamp()


def _record(fields: dict[str, str]) -> Record:
    return Record(
        _epoch(fields["log_time"]),
        fields.get("error_severity", ""),
        fields.get("message", ""),
        fields.get("query", ""),
    )


def read_server_log(text: str) -> list[Record]:
    """The server's records from CloudNativePG's JSON log lines or a csvlog file."""
    records: list[Record] = []
    if text.lstrip().startswith("{"):
        for line in text.splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("logger") == "postgres" and isinstance(entry.get("record"), dict):
                records.append(_record(entry["record"]))
        return records
    for row in csv.reader(io.StringIO(text)):
        records.append(_record(dict(zip(CSV_FIELDS, row, strict=False))))
    return records


def read_steps(output: str) -> tuple[tuple[str, ...], list[Step]]:
    """The running revisions and the steps from the steps script's JSON lines (other lines skipped)."""
    running: tuple[str, ...] = ()
    steps: list[Step] = []
    for line in output.splitlines():
        entry = json.loads(line) if line.startswith('{"rehearsal"') else None
        if entry is None:
            continue
        if entry["rehearsal"] == "running":
            running = tuple(entry["revisions"])
        elif "start" in entry:
            steps.append(
                Step(
                    entry["rehearsal"],
                    tuple(entry["args"]),
                    float(entry["start"]),
                    float(entry["end"]),
                    int(entry["rc"]),
                    entry["output"],
                )
            )
    return running, steps


def attach(steps: Sequence[Step], records: Iterable[Record]) -> None:
    """Each DDL statement and error to the step that ran when the server logged it."""
    for record in records:
        step = next((s for s in steps if s.start <= record.at <= s.end), None)
        if step is None:
            continue
        logged = STATEMENT.match(record.message)
        if record.severity == "LOG" and logged:
            step.ddl.append(logged.group(1).strip())
        elif record.severity in {"ERROR", "FATAL"}:
            step.errors.append(record)


def lint(statements: Sequence[str], squawk: str, pg_version: str) -> list[Finding]:
    """squawk's findings on the statements, each with the statement it is about."""
    if not statements:
        return []
    texts = [f"{statement.rstrip().rstrip(';')};" for statement in statements]
    # The 0-based line each statement starts on, to name the statement a finding's line is in.
    starts = [sum(text.count("\n") + 1 for text in texts[:i]) for i in range(len(texts))]
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "upgrade.sql"
        path.write_text("\n".join(texts) + "\n")
        # In a scratch directory: squawk reads a .squawk.toml from where it runs, which could exclude rules.
        run = subprocess.run(
            [squawk, "--reporter", "json", f"--pg-version={pg_version}", str(path)],
            capture_output=True,
            text=True,
            check=False,
            cwd=scratch,
        )
    try:
        violations = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"squawk did not report (exit {run.returncode}): {run.stderr.strip()}") from None
    return [
        Finding(v["rule_name"], v["message"], texts[bisect.bisect_right(starts, int(v["line"])) - 1])
        for v in violations
    ]


def judge(steps_output: str, server_log: str, *, squawk: str = "squawk", pg_version: str = "15.0") -> Verdict:
    running, steps = read_steps(steps_output)
    attach(steps, read_server_log(server_log))
    upgrade = next((s for s in steps if s.name == "upgrade"), None)
    findings = lint(upgrade.ddl, squawk, pg_version) if upgrade else []
    return Verdict(running, tuple(steps), tuple(findings))
