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
the script's own functions it calls, module-level or defined in ``upgrade()``),
as ``op.X(...)`` or as ``batch_op.X(...)`` inside ``with
op.batch_alter_table(...) as batch_op:``; each call is read by
``alembic_operations.py``:

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
  Non-unique ``create_index`` is fine.
- A foreign key to a table the stable release has, wherever it is added: a
  ``sa.ForeignKey`` in a column of ``create_table`` or ``add_column``, a
  ``sa.ForeignKeyConstraint`` of ``create_table``, a ``create_foreign_key`` on
  the release's own table. The canary's rows reference stable's rows, and
  stable, which does not know the new table, deletes them: refused by the
  default ON DELETE NO ACTION (and by RESTRICT, SET DEFAULT). Fine with
  ``ondelete="CASCADE"``, or ``"SET NULL"`` when every referencing column is
  read as nullable in the same call (``create_foreign_key`` does not name its
  columns' nullability: there only CASCADE). A referenced table the release
  creates is fine, a referent that is not a literal is not; so is an item of
  ``create_table`` that cannot be read (``*columns``, a helper's column).
  ``onupdate`` is not read: stable does not change primary keys.
- Dropping what may be unique: the stable release may rely on it (ON CONFLICT,
  a lookup that expects one row). ``drop_constraint`` with ``type_="unique"`` or
  ``"primary"`` is breaking, with another literal type fine. Without a type
  (and for ``drop_index``, which has none) the name decides: breaking when the
  history creates it unique (``create_index(unique=True)``,
  ``create_unique_constraint``, ``create_primary_key``, ``sa.Index(unique=True)``,
  ``sa.UniqueConstraint``/``sa.PrimaryKeyConstraint(name=...)`` in any script's
  upgrade), when it follows a unique convention (``uq``, ``uk``, ``ux``,
  ``uix``, ``uniq``, ``unique`` as a word; for constraints also PostgreSQL's
  ``<table>_<column>_key`` and ``_pkey``) or when it cannot be read; any other
  name is an ordinary index, foreign key or check, whose drop only relaxes.
  A unique index created unnamed by a model (``Column(unique=True)``) and named
  otherwise is not known: name it, or give ``type_``.
- Raw SQL (``op.execute``, and any ``.execute(...)``/``.exec_driver_sql(...)``
  such as ``op.get_bind().execute``) cannot be read: breaking unless it is a
  string literal (or ``sa.text`` of one) whose every ``;``-separated statement
  starts with CREATE INDEX, CREATE TABLE or COMMENT ON. CREATE UNIQUE INDEX is
  breaking like a unique index; a data migration (UPDATE, ...) is breaking
  because what it changes cannot be told.
- Any other ``op`` method not known to be safe (the safe ones: ``create_table``,
  the table comments, ``bulk_insert``, ``f``, ``get_bind``, ``get_context``,
  ``inline_literal``, ``batch_alter_table``) is breaking until reviewed.
- Any other call ("cannot be read"): what it does is not in the script. That
  is an imported helper (``drop_legacy_columns(op, ...)``, ``helpers.x(...)``),
  a dynamic call (``getattr(op, "drop_column")(...)``), an ORM or other data
  migration (``Session(bind=op.get_bind()).query(...).update(...)``, a method
  of anything but ``op``), ``sa.inspect(...)``. Known to be harmless, and read
  through: SQLAlchemy's types and schema items (CapWords: ``sa.Column``,
  ``sa.String``, ``postgresql.UUID``, ``sa.ForeignKey``, ...) and expression
  builders (``sa.text``, ``sa.func.now``, ``sa.table``, ...: building runs
  nothing, executing is raw SQL), a class given as a type from any module (a
  column's type, ``type_=``, ``existing_type=``: the app's
  ``samokoder.core.db.types.GUID()``), pure builtins (``len``, ``sorted``,
  ..., ``print``), a string literal's methods,
  ``op.get_context().autocommit_block()``. Conservative by design: a type
  created by hand (``postgresql.ENUM(...).create(op.get_bind())``) or an
  inspection (``sa.inspect(...)``) is found too; review and release it whole.
  One call found unreadable is one finding: the calls it is made of are not
  found again (the operations inside it are).

Operations on a table the release itself creates (in an earlier added script
or earlier in the same ``upgrade()``, named by a literal) are not findings: the
stable release does not know the table. Foreign keys are the exception: they
are judged by the table they reference.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from infra.ops.releases import alembic_operations as ops
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


# --- reading upgrade() ------------------------------------------------------------------


class _Upgrade(ast.NodeVisitor):
    """The findings of one ``upgrade()``, and the tables it creates."""

    def __init__(
        self, script: Script, module: ast.Module, created: Collection[str], unique: Collection[str]
    ) -> None:
        self.script = script
        self.created = set(created)
        self.unique = unique
        self.findings: list[Finding] = []
        self.imported = ops.imports(module)
        self.ops = {"op"} | {name for name, path in self.imported.items() if path == "alembic.op"}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
            node.name: node
            for node in module.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.followed = {"upgrade"}
        self.batches: dict[str, dict[str, ast.expr]] = {}
        self.quiet = 0  # inside a call already found unreadable: its parts are not found again
        self.types: set[int] = set()  # the calls given as types (ids of their nodes)

    def read(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        quiet, self.quiet = self.quiet, 0
        for statement in function.body:
            self.visit(statement)
        self.quiet = quiet

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions[node.name] = node  # a function defined in upgrade(): read when it is called

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.functions[node.name] = node

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
                self.batches[item.optional_vars.id] = ops.bind(call, ops.SIGNATURES["batch_alter_table"])
        for statement in node.body:
            self.visit(statement)
        self.batches = outer

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        receiver = (
            func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        )
        self.types.update(id(type_) for type_ in ops.types(node))
        if isinstance(func, ast.Attribute) and func.attr in ops.RAW_SQL:
            if (reason := ops.sql_reason(node)) is not None:
                self._find(node, func.attr, reason)
                self._unreadable(node)
                return
        elif isinstance(func, ast.Attribute) and receiver in self.ops:
            self._operation(node, func.attr, None)
        elif isinstance(func, ast.Attribute) and receiver in self.batches:
            self._operation(node, func.attr, self.batches[receiver])
        elif isinstance(func, ast.Name) and func.id in self.functions:
            if func.id not in self.followed:
                self.followed.add(func.id)
                self.read(self.functions[func.id])
        elif id(node) not in self.types and not ops.known_call(node, self.imported, self.ops):
            if not self.quiet:
                self._find(
                    node,
                    _callee(func),
                    f"cannot be read: {ops.short(ast.unparse(node))} is not an operation or a call known "
                    "to keep the stable release working (an imported helper, a dynamic call, an ORM or "
                    "other data migration): review it",
                )
            self._unreadable(node)
            return
        self.generic_visit(node)

    def _unreadable(self, node: ast.Call) -> None:
        """Reads inside a call found unreadable for operations, without finding its parts again."""
        self.quiet += 1
        self.generic_visit(node)
        self.quiet -= 1

    def _operation(self, call: ast.Call, name: str, batch: dict[str, ast.expr] | None) -> None:
        if name in ops.SAFE_OPERATIONS:
            return
        if name not in ops.SIGNATURES:
            unknown = ast.unparse(call.func)
            self._find(call, name, f"{unknown} is not known to keep the stable release working: review it")
            return
        parameters = ops.SIGNATURES[name]
        if batch is not None:
            parameters = tuple(p for p in parameters if p != "table_name")
        args = ops.bind(call, parameters)
        table, key = ops.table({**(batch or {}), **args})
        if name == "create_table" and key is not None:
            self.created.add(key)  # before its foreign keys: one to itself is the release's
        new = key is not None and key in self.created
        if not new:
            if name in ("drop_index", "drop_constraint"):
                reasons = ops.dropped_uniqueness(name, args, table, self.unique)
            else:
                reasons = ops.HANDLERS[name](args, table) if name in ops.HANDLERS else []
            for reason in reasons:
                self._find(call, name, reason)
        if new or name != "create_foreign_key":  # on stable's tables it is refused above
            self._foreign_keys(call, name, args, table, new)

    def _foreign_keys(self, call: ast.Call, name: str, args: ops.Args, table: str, new: bool) -> None:
        for found in ops.foreign_keys(name, call, args):
            if isinstance(found, ops.ForeignKey):
                if (reason := found.reason(table, self.created)) is not None:
                    self._find(found.node, name, reason)
            elif new:  # on stable's tables add_column's own rule refuses what it cannot read
                self._find(
                    found,
                    name,
                    f"cannot be read: {ops.short(ast.unparse(found))} in {table}: "
                    "whether it references a table the stable release writes cannot be told",
                )

    def _find(self, node: ast.expr, operation: str, reason: str) -> None:
        self.findings.append(Finding(self.script.path, node.lineno, operation, reason))


def _callee(func: ast.expr) -> str:
    """The operation a finding names for a call: ``update`` of ``session.query(X).update(...)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ops.short(ast.unparse(func), 40)


def _parse(path: Path) -> ast.Module:
    try:
        return parse(path)
    except MigrationsError as error:
        raise CompatibilityError(str(error)) from None


def _read_upgrade(
    script: Script, module: ast.Module, created: Collection[str], unique: Collection[str]
) -> _Upgrade:
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
    reader = _Upgrade(script, module, created, unique)
    reader.read(upgrade)
    return reader


def breaking_operations(
    script: Script, *, created_tables: Collection[str] = (), unique_names: Collection[str] = ()
) -> list[Finding]:
    """What in the script's ``upgrade()`` breaks the stable release (see the module's docstring), in order.

    ``created_tables``: tables the release creates in earlier scripts (``schema.table``
    when a schema is named); operations on them and on tables this ``upgrade()``
    creates are not findings. ``unique_names``: the index and constraint names
    the history creates unique (``assess`` reads them from every script).
    """
    module = _parse(script.path)
    unique = set(unique_names) | ops.unique_names(module)
    return _read_upgrade(script, module, created_tables, unique).findings


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
    modules = {script.path: _parse(script.path) for script in graph.ordered}
    unique = frozenset().union(*(ops.unique_names(module) for module in modules.values()))
    created: set[str] = set()
    findings: list[Finding] = []
    for script in added:
        reader = _read_upgrade(script, modules[script.path], created, unique)
        findings.extend(reader.findings)
        created = reader.created
    return Assessment(tuple(added), tuple(findings))
