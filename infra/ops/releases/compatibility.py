"""Whether a release's migration can run under the stable release's code, read from the scripts with ast.

A release of the API first runs as a canary beside stable, and its migration
runs before the canary: the stable pods then work against the new schema for
the whole canary. That is safe only when what the release adds since stable is
expand-only, so the canary refuses a release with a finding here unless the
operator releases it all at once.

What the release adds: every revision in VERSIONS that is not an ancestor (or
itself) of the stable release's heads. The stable release is known only by its
``migration_revision`` (``migrations.py``): a single hex head is itself, more
heads are a fingerprint, found in the revision graph (``alembic_graph.py``) by
trying the sets of mutually non-ancestral revisions (``Graph.heads_named``).

What breaks code that does not know the change, read in ``upgrade()`` (and in
the script's own functions it calls), as ``op.X(...)`` or as ``batch_op.X(...)``
inside ``with op.batch_alter_table(...) as batch_op:``:

- ``drop_table``, ``drop_column``, ``rename_table``: the stable release still
  uses the old names.
- ``alter_column`` with ``new_column_name=``, ``type_=`` (any type change,
  widening included: the old type is not in the call to compare),
  ``nullable=False`` (or a ``nullable`` that is not a literal), or
  ``server_default=None`` (dropping a default the stable release's inserts may
  rely on). ``nullable=True`` and new defaults are fine.
- ``add_column`` of a NOT NULL column (``nullable=False``, or a primary key)
  without a ``server_default``, ``Identity()`` or ``Computed()``: the stable
  release's inserts leave it empty. A UNIQUE column with a server default is
  breaking too (every old insert gets the same value). A column that is not a
  literal ``sa.Column(...)`` cannot be read and is breaking.
- New constraints on tables the stable release writes, decided as breaking:
  ``create_unique_constraint``, ``create_index(..., unique=True)`` (or a
  ``unique`` that is not a literal), ``create_primary_key``,
  ``create_foreign_key``, ``create_check_constraint``,
  ``create_exclude_constraint``: the stable release's writes do not know the
  rule and may be refused (duplicates, orphans, deletes of referenced rows).
  ``drop_constraint``, ``drop_index`` and non-unique ``create_index`` are fine.
- Raw SQL (``op.execute``, and any ``.execute(...)``/``.exec_driver_sql(...)``
  such as ``op.get_bind().execute``) cannot be read: breaking unless it is a
  string literal (or ``sa.text`` of one) whose every ``;``-separated statement
  starts with CREATE INDEX, CREATE TABLE or COMMENT ON. CREATE UNIQUE INDEX is
  breaking like a unique index; a data migration (UPDATE, ...) is breaking
  because what it changes cannot be told.
- Any other ``op`` method not known to be safe (the safe ones: ``create_table``,
  ``drop_index``, ``drop_constraint``, the table comments, ``bulk_insert``,
  ``f``, ``get_bind``, ``get_context``, ``inline_literal``,
  ``batch_alter_table``) is breaking until reviewed.

Operations on a table the release itself creates (in an earlier added script
or earlier in the same ``upgrade()``, named by a literal) are not findings: the
stable release does not know the table.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from infra.ops.releases.alembic_graph import MAX_HEADS, Graph, MigrationsError, Script, parse
from infra.ops.releases.migrations import migration_revision


class CompatibilityError(ValueError):
    """What the release adds cannot be told or read; the message names the revision or the file."""


@dataclass(frozen=True)
class Finding:
    """An operation of a script's ``upgrade()`` that the stable release's code would not survive."""

    path: Path
    line: int
    operation: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.operation}: {self.reason}"


@dataclass(frozen=True)
class Assessment:
    """The scripts a release adds since stable, in the order they run, and what in them breaks stable."""

    scripts: tuple[Script, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def compatible(self) -> bool:
        return not self.findings


def _graph(versions: Path) -> Graph:
    try:
        return Graph.read(versions)
    except MigrationsError as error:
        raise CompatibilityError(str(error)) from None


def _added(graph: Graph, stable_revision: str) -> list[Script]:
    stable = graph.heads_named(stable_revision, migration_revision)
    if stable is None:
        raise CompatibilityError(
            f"the stable release's migration revision {stable_revision} is not in {graph.versions}: "
            f"neither one of its revisions nor the fingerprint of up to {MAX_HEADS} of them, "
            "so what the release adds cannot be told"
        )
    return graph.after(stable)


def added_scripts(versions: Path, stable_revision: str) -> list[Script]:
    """The scripts in VERSIONS that are not ancestors of (or) the stable release's heads, parents first."""
    return _added(_graph(versions), stable_revision)


# --- the operations ---------------------------------------------------------------------

_UNREADABLE = object()

# Alembic's positional parameters, op form; the batch form has no table (it is the block's).
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("table_name", "new_table_name"),
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_foreign_key": ("constraint_name", "table_name", "referent_table", "local_cols", "remote_cols"),
    "create_exclude_constraint": ("constraint_name", "table_name"),
    "batch_alter_table": ("table_name",),
}
_TABLE_KEYWORDS = {"old_table_name": "table_name", "source_table": "table_name"}
_SAFE = frozenset(
    {
        "drop_index",
        "drop_constraint",
        "create_table_comment",
        "drop_table_comment",
        "bulk_insert",
        "f",
        "get_bind",
        "get_context",
        "inline_literal",
        "batch_alter_table",
    }
)
_SAFE_SQL = re.compile(r"(CREATE\s+INDEX|CREATE\s+TABLE|COMMENT\s+ON)\b", re.IGNORECASE)
_RAW_SQL = frozenset({"execute", "exec_driver_sql"})


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNREADABLE


def _text(node: ast.expr | None) -> str:
    if node is None:
        return "?"
    if isinstance(node, ast.Call) and _called(node) == "f" and len(node.args) == 1:
        node = node.args[0]  # op.f("ix_name"): the name as written
    value = _literal(node)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return _short(ast.unparse(node))


def _short(text: str, most: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _called(node: ast.expr) -> str | None:
    """The name a call calls: ``Column`` for ``sa.Column(...)`` and ``Column(...)``."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _bind(call: ast.Call, parameters: tuple[str, ...]) -> dict[str, ast.expr]:
    bound = dict(zip(parameters, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg is not None:
            bound[_TABLE_KEYWORDS.get(keyword.arg, keyword.arg)] = keyword.value
    return bound


def _table(args: Mapping[str, ast.expr]) -> tuple[str, str | None]:
    """The table's name for an operator, and its key when it is a literal."""
    name, schema = _literal(args.get("table_name")), _literal(args.get("schema"))
    if not isinstance(name, str):
        return _text(args.get("table_name")), None
    full = f"{schema}.{name}" if isinstance(schema, str) else name
    return full, full


_Args: TypeAlias = Mapping[str, ast.expr]


def _drop_table(args: _Args, table: str) -> list[str]:
    return [f"drops table {table}: the stable release still reads it"]


def _rename_table(args: _Args, table: str) -> list[str]:
    new = _text(args.get("new_table_name"))
    return [f"renames table {table} to {new}: the stable release still uses the old name"]


def _drop_column(args: _Args, table: str) -> list[str]:
    return [f"drops column {table}.{_text(args.get('column_name'))}: the stable release still reads it"]


def _alter_column(args: _Args, table: str) -> list[str]:
    column = f"{table}.{_text(args.get('column_name'))}"
    reasons = []
    if _literal(new := args.get("new_column_name")) is not None:
        reasons.append(f"renames column {column} to {_text(new)}: the stable release still uses the old name")
    if _literal(type_ := args.get("type_")) is not None:
        reasons.append(
            f"changes the type of {column} to {_text(type_)}: the stable release reads and writes the old one"
        )
    nullable = _literal(args.get("nullable"))
    if nullable is False:
        reasons.append(f"makes {column} NOT NULL: the stable release's inserts may leave it empty")
    elif nullable is _UNREADABLE:
        reasons.append(
            f"may make {column} NOT NULL (nullable={_text(args.get('nullable'))}): "
            "the stable release's inserts may leave it empty"
        )
    if "server_default" in args and _literal(args["server_default"]) is None:
        reasons.append(f"drops the server default of {column}: the stable release's inserts may rely on it")
    return reasons


def _add_column(args: _Args, table: str) -> list[str]:
    column = args.get("column")
    if not isinstance(column, ast.Call) or _called(column) != "Column":
        return [
            f"adds a column to {table} that cannot be read ({_text(column)}): "
            "the stable release's inserts may not fill it"
        ]
    keywords = {keyword.arg: keyword.value for keyword in column.keywords if keyword.arg}
    name = f"{table}.{_text(column.args[0] if column.args else keywords.get('name'))}"
    defaulted = _literal(keywords.get("server_default")) is not None or any(
        _called(arg) in ("Identity", "Computed") for arg in column.args
    )
    nullable = _literal(keywords["nullable"]) if "nullable" in keywords else None
    # SQLAlchemy's default: nullable unless a primary key.
    not_null = _literal(keywords.get("primary_key")) is True if nullable is None else nullable is not True
    if not_null and not defaulted:
        return [f"adds {name} NOT NULL without a server default: the stable release's inserts leave it empty"]
    if defaulted and _literal(keywords.get("unique")) not in (None, False):
        return [f"adds {name} UNIQUE with a server default: the stable release's inserts all get that value"]
    return []


def _create_index(args: _Args, table: str) -> list[str]:
    if _literal(args.get("unique")) in (None, False):
        return []
    return [
        f"creates unique index {_text(args.get('index_name'))} on {table} ({_text(args.get('columns'))}): "
        "the stable release may insert duplicates"
    ]


def _unique_constraint(args: _Args, table: str) -> list[str]:
    columns = _text(args.get("columns"))
    return [f"adds a unique constraint on {table} ({columns}): the stable release may insert duplicates"]


def _primary_key(args: _Args, table: str) -> list[str]:
    columns = _text(args.get("columns"))
    return [f"adds a primary key on {table} ({columns}): the stable release may insert duplicates or NULLs"]


def _check_constraint(args: _Args, table: str) -> list[str]:
    condition = _text(args.get("condition"))
    return [f"adds a check constraint on {table} ({condition}): the stable release's writes do not know it"]


def _foreign_key(args: _Args, table: str) -> list[str]:
    local, referent = _text(args.get("local_cols")), _text(args.get("referent_table"))
    return [
        f"adds a foreign key from {table} ({local}) to {referent}: "
        "the stable release's writes and deletes do not know it"
    ]


def _exclude_constraint(args: _Args, table: str) -> list[str]:
    return [f"adds an exclusion constraint on {table}: the stable release's writes do not know it"]


_HANDLERS: dict[str, Callable[[_Args, str], list[str]]] = {
    "drop_table": _drop_table,
    "rename_table": _rename_table,
    "drop_column": _drop_column,
    "alter_column": _alter_column,
    "add_column": _add_column,
    "create_index": _create_index,
    "create_unique_constraint": _unique_constraint,
    "create_primary_key": _primary_key,
    "create_check_constraint": _check_constraint,
    "create_foreign_key": _foreign_key,
    "create_exclude_constraint": _exclude_constraint,
}


def _sql_reason(call: ast.Call) -> str | None:
    """Why raw SQL breaks stable, or None for literal CREATE INDEX / CREATE TABLE / COMMENT ON."""
    statement = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg), None)
    if isinstance(statement, ast.Call) and _called(statement) == "text" and statement.args:
        statement = statement.args[0]
    sql = _literal(statement)
    if not isinstance(sql, str):
        return (
            f"runs SQL that cannot be read ({_text(statement)}): "
            "whether the stable release survives it cannot be told"
        )
    refused = [part.strip() for part in sql.split(";") if part.strip() and not _SAFE_SQL.match(part.strip())]
    if not refused:
        return None
    return (
        f"runs SQL {_short(refused[0])!r}: only CREATE INDEX, CREATE TABLE and COMMENT ON "
        "are known to keep the stable release working"
    )


class _Upgrade(ast.NodeVisitor):
    """The findings of one ``upgrade()``, and the tables it creates."""

    def __init__(self, script: Script, module: ast.Module, created: Collection[str]) -> None:
        self.script = script
        self.created = set(created)
        self.findings: list[Finding] = []
        self.ops = {"op"} | {
            alias.asname or alias.name
            for node in module.body
            if isinstance(node, ast.ImportFrom) and node.module == "alembic"
            for alias in node.names
            if alias.name == "op"
        }
        self.functions = {
            node.name: node
            for node in module.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.followed = {"upgrade"}
        self.batches: dict[str, dict[str, ast.expr]] = {}

    def visit_With(self, node: ast.With) -> None:
        outer = dict(self.batches)
        for item in node.items:
            self.visit(item.context_expr)
            call = item.context_expr
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "batch_alter_table"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id in self.ops
                and isinstance(item.optional_vars, ast.Name)
            ):
                self.batches[item.optional_vars.id] = _bind(call, _SIGNATURES["batch_alter_table"])
        for statement in node.body:
            self.visit(statement)
        self.batches = outer

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        receiver = (
            func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        )
        if isinstance(func, ast.Attribute) and func.attr in _RAW_SQL:
            if (reason := _sql_reason(node)) is not None:
                self._find(node, func.attr, reason)
        elif isinstance(func, ast.Attribute) and receiver in self.ops:
            self._operation(node, func.attr, None)
        elif isinstance(func, ast.Attribute) and receiver in self.batches:
            self._operation(node, func.attr, self.batches[receiver])
        elif isinstance(func, ast.Name) and func.id in self.functions and func.id not in self.followed:
            self.followed.add(func.id)
            for statement in self.functions[func.id].body:
                self.visit(statement)
        self.generic_visit(node)

    def _operation(self, call: ast.Call, name: str, batch: dict[str, ast.expr] | None) -> None:
        if name in _SAFE:
            return
        handler = _HANDLERS.get(name)
        if handler is None and name != "create_table":
            unknown = ast.unparse(call.func)
            self._find(call, name, f"{unknown} is not known to keep the stable release working: review it")
            return
        parameters = _SIGNATURES[name]
        if batch is not None:
            parameters = tuple(p for p in parameters if p != "table_name")
        args = _bind(call, parameters)
        table, key = _table({**(batch or {}), **args})
        if handler is None:  # create_table
            if key is not None:
                self.created.add(key)
        elif key is None or key not in self.created:
            for reason in handler(args, table):
                self._find(call, name, reason)

    def _find(self, call: ast.Call, operation: str, reason: str) -> None:
        self.findings.append(Finding(self.script.path, call.lineno, operation, reason))


def _parse(path: Path) -> ast.Module:
    try:
        return parse(path)
    except MigrationsError as error:
        raise CompatibilityError(str(error)) from None


def _read_upgrade(script: Script, created: Collection[str]) -> _Upgrade:
    module = _parse(script.path)
    upgrade = next(
        (
            node
            for node in module.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "upgrade"
        ),
        None,
    )
    if upgrade is None:
        raise CompatibilityError(f"{script.path}: no upgrade() to read")
    reader = _Upgrade(script, module, created)
    for statement in upgrade.body:
        reader.visit(statement)
    return reader


def breaking_operations(script: Script, *, created_tables: Collection[str] = ()) -> list[Finding]:
    """What in the script's ``upgrade()`` breaks the stable release (see the module's docstring), in order.

    ``created_tables``: tables the release creates in earlier scripts (``schema.table``
    when a schema is named); operations on them and on tables this ``upgrade()``
    creates are not findings.
    """
    return _read_upgrade(script, created_tables).findings


def assess(versions: Path, stable_revision: str, release_revision: str) -> Assessment:
    """The scripts the release adds since stable and what in them breaks stable.

    Equal revisions: no migration, compatible, nothing read. Otherwise VERSIONS
    must be the release's: its heads' ``migration_revision`` is ``release_revision``.
    """
    if stable_revision == release_revision:
        return Assessment()
    graph = _graph(versions)
    found = migration_revision(graph.heads)
    if found != release_revision:
        raise CompatibilityError(
            f"{versions} is at migration revision {found}, not the release's {release_revision}: "
            "these are not the release's scripts"
        )
    added = _added(graph, stable_revision)
    created: set[str] = set()
    findings: list[Finding] = []
    for script in added:
        reader = _read_upgrade(script, created)
        findings.extend(reader.findings)
        created = reader.created
    return Assessment(tuple(added), tuple(findings))
