"""What an Alembic operation of an ``upgrade()`` does to the stable release's code, read from its ast.

The rules are ``compatibility.py``'s (its docstring lists them); this module
holds the pieces that read one call: each ``op`` operation's reasons to refuse
it, the foreign keys a call adds, whether a dropped index or constraint may be
unique, whether raw SQL is known to be harmless, and the calls that are known
to do nothing the stable release would notice. ``compatibility.py`` walks
``upgrade()`` and decides which tables are the release's own.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

UNREADABLE = object()

# Alembic's positional parameters, op form; the batch form has no table (it is the block's).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("table_name", "new_table_name"),
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
    "create_foreign_key": ("constraint_name", "table_name", "referent_table", "local_cols", "remote_cols"),
    "create_exclude_constraint": ("constraint_name", "table_name"),
    "drop_constraint": ("constraint_name", "table_name", "type_"),
    "batch_alter_table": ("table_name",),
}
_TABLE_KEYWORDS = {"old_table_name": "table_name", "source_table": "table_name"}
# Operations that change nothing the stable release uses.
SAFE_OPERATIONS = frozenset(
    {
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
RAW_SQL = frozenset({"execute", "exec_driver_sql"})


# --- reading a call ---------------------------------------------------------------------


def literal(node: ast.expr | None) -> object:
    """The node's value when it is a literal, None for no node, else UNREADABLE."""
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNREADABLE


def called(node: ast.expr | None) -> str | None:
    """The name a call calls: ``Column`` for ``sa.Column(...)`` and ``Column(...)``."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _named(node: ast.expr | None) -> ast.expr | None:
    """``op.f("ix_name")``: the name as written."""
    if isinstance(node, ast.Call) and called(node) == "f" and len(node.args) == 1:
        return node.args[0]
    return node


def short(text: str, most: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def text(node: ast.expr | None) -> str:
    """The node as a finding names it: a literal's value, names joined, else the code, short."""
    node = _named(node)
    if node is None:
        return "?"
    value = literal(node)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return short(ast.unparse(node))


def bind(call: ast.Call, parameters: tuple[str, ...]) -> dict[str, ast.expr]:
    """The call's arguments by Alembic's parameter names."""
    bound = dict(zip(parameters, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg is not None:
            bound[_TABLE_KEYWORDS.get(keyword.arg, keyword.arg)] = keyword.value
    return bound


def table(args: Mapping[str, ast.expr]) -> tuple[str, str | None]:
    """The table's name for an operator, and its key (``schema.table``) when it is a literal."""
    name, schema = literal(args.get("table_name")), literal(args.get("schema"))
    if not isinstance(name, str):
        return text(args.get("table_name")), None
    full = f"{schema}.{name}" if isinstance(schema, str) else name
    return full, full


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}


def _column_name(column: ast.Call) -> str:
    return text(column.args[0] if column.args else _keywords(column).get("name"))


def _not_null(column: ast.Call) -> bool:
    """Whether a ``Column(...)`` is NOT NULL: SQLAlchemy's default is nullable unless a primary key."""
    keywords = _keywords(column)
    if "nullable" in keywords:
        return literal(keywords["nullable"]) is not True
    return literal(keywords.get("primary_key")) is True


# --- each operation's reasons -----------------------------------------------------------

Args: TypeAlias = Mapping[str, ast.expr]


def _drop_table(args: Args, table: str) -> list[str]:
    return [f"drops table {table}: the stable release still reads it"]


def _rename_table(args: Args, table: str) -> list[str]:
    new = text(args.get("new_table_name"))
    return [f"renames table {table} to {new}: the stable release still uses the old name"]


def _drop_column(args: Args, table: str) -> list[str]:
    return [f"drops column {table}.{text(args.get('column_name'))}: the stable release still reads it"]


def _alter_column(args: Args, table: str) -> list[str]:
    column = f"{table}.{text(args.get('column_name'))}"
    reasons = []
    if literal(new := args.get("new_column_name")) is not None:
        reasons.append(f"renames column {column} to {text(new)}: the stable release still uses the old name")
    if literal(type_ := args.get("type_")) is not None:
        reasons.append(
            f"changes the type of {column} to {text(type_)}: the stable release reads and writes the old one"
        )
    nullable = literal(args.get("nullable"))
    if nullable is False:
        reasons.append(f"makes {column} NOT NULL: the stable release's inserts may leave it empty")
    elif nullable is UNREADABLE:
        reasons.append(
            f"may make {column} NOT NULL (nullable={text(args.get('nullable'))}): "
            "the stable release's inserts may leave it empty"
        )
    if "server_default" in args and literal(args["server_default"]) is None:
        reasons.append(f"drops the server default of {column}: the stable release's inserts may rely on it")
    return reasons


def _add_column(args: Args, table: str) -> list[str]:
    column = args.get("column")
    if not isinstance(column, ast.Call) or called(column) != "Column":
        return [
            f"adds a column to {table} that cannot be read ({text(column)}): "
            "the stable release's inserts may not fill it"
        ]
    keywords = _keywords(column)
    name = f"{table}.{_column_name(column)}"
    defaulted = literal(keywords.get("server_default")) is not None or any(
        called(arg) in ("Identity", "Computed") for arg in column.args
    )
    if _not_null(column) and not defaulted:
        return [f"adds {name} NOT NULL without a server default: the stable release's inserts leave it empty"]
    if defaulted and literal(keywords.get("unique")) not in (None, False):
        return [f"adds {name} UNIQUE with a server default: the stable release's inserts all get that value"]
    return []


def _create_index(args: Args, table: str) -> list[str]:
    if literal(args.get("unique")) in (None, False):
        return []
    return [
        f"creates unique index {text(args.get('index_name'))} on {table} ({text(args.get('columns'))}): "
        "the stable release may insert duplicates"
    ]


def _unique_constraint(args: Args, table: str) -> list[str]:
    columns = text(args.get("columns"))
    return [f"adds a unique constraint on {table} ({columns}): the stable release may insert duplicates"]


def _primary_key(args: Args, table: str) -> list[str]:
    columns = text(args.get("columns"))
    return [f"adds a primary key on {table} ({columns}): the stable release may insert duplicates or NULLs"]


def _check_constraint(args: Args, table: str) -> list[str]:
    condition = text(args.get("condition"))
    return [f"adds a check constraint on {table} ({condition}): the stable release's writes do not know it"]


def _foreign_key(args: Args, table: str) -> list[str]:
    local, referent = text(args.get("local_cols")), text(args.get("referent_table"))
    return [
        f"adds a foreign key from {table} ({local}) to {referent}: "
        "the stable release's writes and deletes do not know it"
    ]


def _exclude_constraint(args: Args, table: str) -> list[str]:
    return [f"adds an exclusion constraint on {table}: the stable release's writes do not know it"]


# The reasons to refuse an operation on a table the stable release has (not on the release's own).
HANDLERS: dict[str, Callable[[Args, str], list[str]]] = {
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


# --- uniqueness -------------------------------------------------------------------------

# A unique index's or constraint's name by the usual conventions (uq_users_email, users_email_uk, ...);
# for constraints also PostgreSQL's own names, <table>_<column>_key and <table>_pkey.
_UNIQUE_NAME = re.compile(r"(?:^|_)(?:uq|uk|ux|uix|uniq|unique)(?:_|$)", re.IGNORECASE)
_POSTGRES_UNIQUE = re.compile(r"_p?key$")
_UNIQUE_TYPES = frozenset({"unique", "primary"})
_RELIED = "the stable release may rely on it (ON CONFLICT, a lookup that expects one row)"


def dropped_uniqueness(operation: str, args: Args, table: str, unique: Collection[str]) -> list[str]:
    """Why a ``drop_index``/``drop_constraint`` may take away a uniqueness stable relies on.

    ``type_="unique"``/``"primary"`` says so, another type says not. Without one,
    the name does: one that UNIQUE (the names the history creates unique) holds,
    one by a unique convention, or one that cannot be read. Any other name is
    taken as an ordinary index, foreign key or check, whose drop only relaxes.
    """
    kind = "index" if operation == "drop_index" else "constraint"
    node = args.get(f"{kind}_name")
    name, written = literal(_named(node)), text(node)
    type_ = literal(args.get("type_"))
    if isinstance(type_, str):
        return [f"drops {type_} constraint {written} on {table}: {_RELIED}"] if type_ in _UNIQUE_TYPES else []
    if type_ is UNREADABLE:
        why = f"its type_ cannot be read ({text(args.get('type_'))})"
    elif not isinstance(name, str):
        why = "its name cannot be read"
    elif name in unique:
        return [f"drops unique {kind} {name} on {table} (created unique in the history): {_RELIED}"]
    elif _UNIQUE_NAME.search(name) or (kind == "constraint" and _POSTGRES_UNIQUE.search(name)):
        why = "it is named as a unique one"
    else:
        return []
    return [f"drops {kind} {written} on {table}, which may be unique ({why}): {_RELIED}"]


def unique_names(module: ast.Module) -> set[str]:
    """The index and constraint names a script creates unique (outside its ``downgrade()``), when literal."""
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name == "downgrade":
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(name := literal(_named(_unique_name(node))), str):
                names.add(name)
    return names


def _unique_name(call: ast.Call) -> ast.expr | None:
    keywords, first = _keywords(call), call.args[0] if call.args else None
    match called(call):
        case "create_index" if literal(keywords.get("unique")) not in (None, False):
            return first or keywords.get("index_name")
        case "Index" if literal(keywords.get("unique")) not in (None, False):
            return first or keywords.get("name")
        case "create_unique_constraint" | "create_primary_key":
            return first or keywords.get("constraint_name")
        case "UniqueConstraint" | "PrimaryKeyConstraint":
            return keywords.get("name")
    return None


# --- foreign keys -----------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key a call adds: where it is written, from which columns, to which table, on delete what."""

    node: ast.expr
    columns: str
    referent: str  # as written
    key: str | None  # ``schema.table`` when it can be read
    ondelete: object
    nullable: bool  # the referencing columns are read, in the same call, as nullable

    def reason(self, table: str, created: Collection[str]) -> str | None:
        """Why the stable release's deletes of the referenced rows may fail; None when they do not."""
        if self.key is not None and self.key in created:
            return None
        ondelete = " ".join(self.ondelete.upper().split()) if isinstance(self.ondelete, str) else None
        if ondelete == "CASCADE" or (ondelete == "SET NULL" and self.nullable):
            return None
        if ondelete == "SET NULL":
            written = 'ondelete="SET NULL" on columns not read as nullable in this call'
        elif self.ondelete is None:
            written = "no ondelete"
        elif isinstance(self.ondelete, str):
            written = f'ondelete="{self.ondelete}"'
        else:
            written = f"ondelete={text(_keyword(self.node, 'ondelete'))}"
        return (
            f"adds a foreign key from {table} ({self.columns}) to {self.referent}, {written}: the stable "
            "release's deletes of the rows the canary's rows reference fail "
            '(ondelete="CASCADE", or "SET NULL" on a nullable column, keeps them working)'
        )


def _keyword(node: ast.expr, name: str) -> ast.expr | None:
    return _keywords(node).get(name) if isinstance(node, ast.Call) else None


def _referent(spec: object) -> str | None:
    """``users`` of ``"users.id"``, ``app.users`` of ``"app.users.id"``."""
    return (spec.rpartition(".")[0] or None) if isinstance(spec, str) else None


def _column_keys(column: ast.Call) -> Iterator[ForeignKey]:
    name = _column_name(column)
    for fk in column.args:
        if isinstance(fk, ast.Call) and called(fk) == "ForeignKey":
            spec = fk.args[0] if fk.args else _keywords(fk).get("column")
            key = _referent(literal(spec))
            yield ForeignKey(
                fk, name, key or text(spec), key, literal(_keyword(fk, "ondelete")), not _not_null(column)
            )


def _constraint_key(constraint: ast.Call, nullable: Mapping[str, bool]) -> ForeignKey:
    keywords = _keywords(constraint)
    columns = constraint.args[0] if constraint.args else keywords.get("columns")
    references = constraint.args[1] if len(constraint.args) > 1 else keywords.get("refcolumns")
    local, remote = literal(columns), literal(references)
    keys = {_referent(spec) for spec in remote} if isinstance(remote, list | tuple) else {None}
    key = keys.pop() if len(keys) == 1 else None
    named = local if isinstance(local, list | tuple) else [UNREADABLE]
    every_nullable = all(isinstance(c, str) and nullable.get(c, False) for c in named)
    return ForeignKey(
        constraint,
        text(columns),
        key or text(references),
        key,
        literal(keywords.get("ondelete")),
        every_nullable,
    )


# What create_table takes besides columns and foreign keys, and has nothing to read for them.
_TABLE_ITEMS = frozenset({"PrimaryKeyConstraint", "UniqueConstraint", "CheckConstraint", "Index"})


def foreign_keys(operation: str, call: ast.Call, args: Args) -> Iterator[ForeignKey | ast.expr]:
    """The foreign keys ``create_table``, ``add_column`` or ``create_foreign_key`` adds, and (as
    bare nodes) the columns and items they take that cannot be read for one."""
    if operation == "create_foreign_key":
        referent, schema = args.get("referent_table"), literal(args.get("referent_schema"))
        name = literal(referent)
        key = (f"{schema}.{name}" if isinstance(schema, str) else name) if isinstance(name, str) else None
        columns = text(args.get("local_cols"))
        yield ForeignKey(call, columns, key or text(referent), key, literal(args.get("ondelete")), False)
    elif operation == "add_column":
        column = args.get("column")
        if isinstance(column, ast.Call) and called(column) == "Column":
            yield from _column_keys(column)
        elif column is not None:
            yield column
    elif operation == "create_table":
        defined = [item for item in call.args[1:] if isinstance(item, ast.Call) and called(item) == "Column"]
        nullable = {_column_name(column): not _not_null(column) for column in defined}
        for item in call.args[1:]:
            if isinstance(item, ast.Call) and called(item) == "Column":
                yield from _column_keys(item)
            elif isinstance(item, ast.Call) and called(item) == "ForeignKeyConstraint":
                yield _constraint_key(item, nullable)
            elif not (isinstance(item, ast.Call) and called(item) in _TABLE_ITEMS):
                yield item


# --- raw SQL and other calls ------------------------------------------------------------


def sql_reason(call: ast.Call) -> str | None:
    """Why raw SQL breaks stable, or None for literal CREATE INDEX / CREATE TABLE / COMMENT ON."""
    statement = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg), None)
    if isinstance(statement, ast.Call) and called(statement) == "text" and statement.args:
        statement = statement.args[0]
    sql = literal(statement)
    if not isinstance(sql, str):
        return (
            f"runs SQL that cannot be read ({text(statement)}): "
            "whether the stable release survives it cannot be told"
        )
    refused = [part.strip() for part in sql.split(";") if part.strip() and not _SAFE_SQL.match(part.strip())]
    if not refused:
        return None
    return (
        f"runs SQL {short(refused[0])!r}: only CREATE INDEX, CREATE TABLE and COMMENT ON "
        "are known to keep the stable release working"
    )


# SQLAlchemy's lower-case expression builders; its types and schema items are CapWords.
# Building touches no database: executing what is built is raw SQL (refused unless a literal).
_SQLALCHEMY_BUILDERS = frozenset(
    {
        "text",
        "table",
        "column",
        "literal",
        "literal_column",
        "bindparam",
        "null",
        "true",
        "false",
        "and_",
        "or_",
        "not_",
        "cast",
        "case",
        "select",
        "insert",
        "update",
        "delete",
    }
)
# Builtins that compute a value (print only writes the job's log): getattr, exec, open and the rest are not.
_PURE_BUILTINS = frozenset(
    {
        "len", "str", "int", "float", "bool", "list", "tuple", "dict", "set", "frozenset", "range",
        "enumerate", "zip", "sorted", "reversed", "min", "max", "sum", "any", "all", "isinstance",
        "repr", "format", "print",
    }
)  # fmt: skip
_CONTEXT_METHODS = frozenset({"autocommit_block"})  # op.get_context().autocommit_block()


def types(call: ast.Call) -> Iterator[ast.Call]:
    """The classes a call is given as types, from whatever module: a ``Column``'s type (its first
    argument that is not its name) and ``type_=``/``existing_type=``. The app's own types
    (``samokoder.core.db.types.GUID()``, a TypeDecorator) are built, not run against the database."""
    keywords = _keywords(call)
    placed = [keywords.get("type_"), keywords.get("existing_type")]
    if called(call) == "Column":
        unnamed = bool(call.args) and isinstance(call.args[0], ast.Call)
        placed.extend(call.args[:1] if unnamed else call.args[1:2])
    for node in placed:
        if isinstance(node, ast.Call) and (called(node) or "")[:1].isupper():
            yield node


def imports(module: ast.Module) -> dict[str, str]:
    """Each name the module imports (at any depth), to the dotted path it stands for."""
    found: dict[str, str] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name if alias.asname else alias.name.split(".")[0]
                found[alias.asname or root] = root
        elif isinstance(node, ast.ImportFrom):
            source = "." * node.level + (node.module or "")
            for alias in node.names:
                found[alias.asname or alias.name] = f"{source}.{alias.name}"
    return found


def dotted(node: ast.expr, imported: Mapping[str, str]) -> str | None:
    """``sqlalchemy.dialects.postgresql.JSONB`` for ``postgresql.JSONB``; None for what is not imported."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in imported:
        return None
    return ".".join([imported[node.id], *reversed(parts)])


def known_call(call: ast.Call, imported: Mapping[str, str], ops: Collection[str]) -> bool:
    """Whether a call that is not an operation is known to leave the schema and the data alone:
    SQLAlchemy's types, schema items (CapWords) and expression builders, pure builtins, a string's
    methods and ``op.get_context().autocommit_block()``."""
    func = call.func
    path = dotted(func, imported)
    if path is not None and path.startswith("sqlalchemy."):
        last = path.rpartition(".")[2]
        return last[:1].isupper() or last in _SQLALCHEMY_BUILDERS or ".func." in path
    if isinstance(func, ast.Name):
        return func.id not in imported and func.id in _PURE_BUILTINS
    if not isinstance(func, ast.Attribute):
        return False
    if isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
        return True
    receiver = func.value
    return (
        func.attr in _CONTEXT_METHODS
        and isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Attribute)
        and receiver.func.attr == "get_context"
        and isinstance(receiver.func.value, ast.Name)
        and receiver.func.value.id in ops
    )
