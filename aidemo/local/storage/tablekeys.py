"""Primary, unique and foreign keys of tables: what CREATE TABLE declares, listed by SHOW ... KEYS.

Snowflake records these constraints without enforcing them (primary-key columns are NOT NULL,
nothing more), and clients read them back: SQLAlchemy's inspector and table reflection ask
``SHOW PRIMARY KEYS | UNIQUE KEYS | IMPORTED KEYS IN {TABLE t | SCHEMA s}``. DuckDB would
enforce them, so the translator drops them from the table it creates
(:func:`aidemo.local.dialect.ducksql.translate_with_sqlglot`) and records them here instead, in the
database's ``_AIDEMO.TABLE_KEYS``, by SQL that runs in the CREATE TABLE's own transaction
(:attr:`aidemo.local.engine.sqlcommands.DuckSql.keys`). A
DROP TABLE or DROP SCHEMA forgets them (:mod:`aidemo.local.storage.catalog`), ALTER TABLE ... RENAME TO
moves them along.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from aidemo.local.dialect.sqltokens import name_of
from aidemo.local.engine.sqlcommands import ShowKeys
from aidemo.local.engine.sqlresults import Result
from aidemo.local.errors import SqlError
from aidemo.local.storage.catalog import FOREIGN, KEYS, META, PRIMARY, UNIQUE, literal, quote

TABLE = KEYS  # in each database's _AIDEMO schema (created by aidemo.local.storage.catalog)
Keeping = Callable[[tuple[str, str, str]], str]


@dataclass(frozen=True)
class Key:
    """One declared key: its kind, name and columns; a foreign key's (database, schema, table)
    and columns (empty: the referenced table's primary key)."""

    kind: str
    name: str
    columns: tuple[str, ...]
    references: tuple[str | None, str | None, str] | None = None
    referenced: tuple[str, ...] = ()


def declared(table: exp.Expression, database: str | None, schema: str | None) -> list[Key]:
    """The keys a CREATE TABLE's column list (or ALTER TABLE's ADD) declares, inline or as table constraints; a foreign
    key's table is qualified from ``database.schema`` (the session's context; where the session
    has none, :func:`recording` takes the created table's)."""
    keys = []
    for element in table.expressions:
        if isinstance(element, exp.ColumnDef):
            keys.extend(_inline(element, database, schema))
            continue
        name = name_of(element.this) if isinstance(element, exp.Constraint) else None
        for constraint in element.expressions if isinstance(element, exp.Constraint) else [element]:
            key = _table_key(constraint, name, database, schema)
            if key is not None:
                keys.append(key)
    return keys


def _inline(column: exp.ColumnDef, database: str | None, schema: str | None) -> list[Key]:
    """``id INT PRIMARY KEY``, ``b INT UNIQUE``, ``c INT [CONSTRAINT f FOREIGN KEY] REFERENCES p (x)``."""
    keys, name, columns = [], None, (name_of(column.this),)
    for constraint in column.constraints:
        kind = constraint.args.get("kind")
        if constraint.this is not None:
            name = name_of(constraint.this)  # names the constraint of this or the next item
        if isinstance(kind, exp.PrimaryKeyColumnConstraint):
            keys.append(Key(PRIMARY, name or _system_name(), columns))
        elif isinstance(kind, exp.UniqueColumnConstraint):
            keys.append(Key(UNIQUE, name or _system_name(), columns))
        elif isinstance(kind, exp.Reference):
            keys.append(_foreign(name, columns, kind, database, schema))
        else:
            continue
        name = None
    return keys


def _table_key(constraint: exp.Expression, name: str | None, database: str | None, schema: str | None) -> Key | None:
    if isinstance(constraint, exp.PrimaryKey):
        return Key(PRIMARY, name or _system_name(), tuple(name_of(c) for c in constraint.expressions))
    if isinstance(constraint, exp.UniqueColumnConstraint) and isinstance(constraint.this, exp.Schema):
        return Key(UNIQUE, name or _system_name(), tuple(name_of(c) for c in constraint.this.expressions))
    if isinstance(constraint, exp.ForeignKey):
        columns = tuple(name_of(c) for c in constraint.expressions)
        return _foreign(name, columns, constraint.args["reference"], database, schema)
    return None


def _foreign(name: str | None, columns: tuple[str, ...], reference: exp.Reference, database, schema) -> Key:
    target = reference.this
    referenced = tuple(name_of(c) for c in target.expressions) if isinstance(target, exp.Schema) else ()
    table = target.this if isinstance(target, exp.Schema) else target
    catalog, db = table.args.get("catalog"), table.args.get("db")
    where = (name_of(catalog) if catalog else database, name_of(db) if db else schema, name_of(table.this))
    return Key(FOREIGN, name or _system_name(), columns, where, referenced)


def _system_name() -> str:
    """The name Snowflake gives a constraint declared without one."""
    return f"SYS_CONSTRAINT_{uuid.uuid4()}"


def bookkeeping(tree: exp.Expression, database: str | None, schema: str | None) -> Keeping | None:
    """What a statement does to the keys it names, as the SQL to run after it given the (database,
    schema, table) it writes: CREATE TABLE records its keys, ALTER TABLE ... ADD | DROP CONSTRAINT
    adds or forgets one, ... RENAME TO moves them; None for other statements. ``database.schema``
    is the session's context (for the table a foreign key references)."""
    if isinstance(tree, exp.Alter) and str(tree.args.get("kind") or "").upper() == "TABLE":
        action = (tree.args.get("actions") or [None])[0]
        if isinstance(action, exp.AlterRename):
            return lambda target: renaming(target, name_of(action.this.this))
        if isinstance(action, exp.AddConstraint):
            keys = declared(action, database, schema)
            return lambda target: recording(target, keys, replace=False)
        if isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "CONSTRAINT":
            name = name_of(action.args["tables"][0].this)
            return lambda target: _dropping(target, name)
        return None
    if not isinstance(tree, exp.Create) or str(tree.kind or "").upper() != "TABLE":
        return None
    keys = declared(tree.this, database, schema) if isinstance(tree.this, exp.Schema) else []
    kept = bool(tree.args.get("exists")) and not tree.args.get("replace")
    return lambda target: recording(target, keys, replace=not kept, only_if_none=kept)


def not_null(tree: exp.Expression) -> list[str] | None:
    """For ALTER TABLE ... ADD | DROP CONSTRAINT, which DuckDB must not see (it would enforce the key),
    the columns the statement makes NOT NULL (a primary key's); None for other statements."""
    action = (tree.args.get("actions") or [None])[0] if isinstance(tree, exp.Alter) else None
    if isinstance(action, exp.AddConstraint):
        return [column for key in declared(action, None, None) if key.kind == PRIMARY for column in key.columns]
    if isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "CONSTRAINT":
        return []
    return None


def recording(target: tuple[str, str, str], keys: list[Key], *, replace: bool, only_if_none: bool = False) -> str:
    """SQL (statements to run after the statement) that records keys of a table: ``replace`` those
    it had (a CREATE TABLE, of the table it replaces); ``only_if_none``: CREATE TABLE IF NOT EXISTS,
    which keeps a table that exists, and its keys (the new ones are recorded where the table has none)."""
    database, schema, table = target
    meta = f"{quote(database)}.{META}.{TABLE}"
    where = f"SCHEMA_NAME = {literal(schema)} AND TABLE_NAME = {literal(table)}"
    statements = [f"DELETE FROM {meta} WHERE {where}"] if replace else []
    rows = []
    for key in keys:
        pk_database, pk_schema, pk_table = key.references or (None, None, None)
        if key.references is not None:
            pk_database, pk_schema = pk_database or database, pk_schema or schema
        for sequence, column in enumerate(key.columns, 1):
            pk_column = key.referenced[sequence - 1] if sequence <= len(key.referenced) else None
            values = (schema, table, key.name, key.kind, column, pk_database, pk_schema, pk_table, pk_column)
            cells = ", ".join("NULL" if v is None else literal(v) for v in values)
            rows.append(f"({cells}, {sequence}, current_timestamp)")
    if rows:
        guard = f" WHERE NOT EXISTS (SELECT 1 FROM {meta} WHERE {where})" if only_if_none else ""
        statements.append(f"INSERT INTO {meta} SELECT * FROM (VALUES {', '.join(rows)}){guard}")
    return "; ".join(statements)


def _dropping(target: tuple[str, str, str], name: str) -> str:
    database, schema, table = target
    meta = f"{quote(database)}.{META}.{TABLE}"
    return (
        f"DELETE FROM {meta} WHERE SCHEMA_NAME = {literal(schema)} AND TABLE_NAME = {literal(table)} "
        f"AND CONSTRAINT_NAME = {literal(name)}"
    )


def renaming(source: tuple[str, str, str], new_name: str) -> str:
    """SQL to run after ALTER TABLE ... RENAME TO: the keys follow the table (referencing ones too)."""
    database, schema, table = source
    meta = f"{quote(database)}.{META}.{TABLE}"
    schema_, old, new = literal(schema), literal(table), literal(new_name)
    return (
        f"UPDATE {meta} SET TABLE_NAME = {new} WHERE SCHEMA_NAME = {schema_} AND TABLE_NAME = {old}; "
        f"UPDATE {meta} SET PK_TABLE_NAME = {new} WHERE PK_DATABASE_NAME = {literal(database)} "
        f"AND PK_SCHEMA_NAME = {schema_} AND PK_TABLE_NAME = {old}"
    )


# Snowflake's columns of SHOW PRIMARY KEYS and SHOW UNIQUE KEYS, and of SHOW IMPORTED KEYS.
_KEY_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("database_name", "VARCHAR"), ("schema_name", "VARCHAR"),
    ("table_name", "VARCHAR"), ("column_name", "VARCHAR"), ("key_sequence", "BIGINT"),
    ("constraint_name", "VARCHAR"), ("rely", "VARCHAR"), ("comment", "VARCHAR"),
]  # fmt: skip
_IMPORTED_COLUMNS = [
    ("created_on", "TIMESTAMP WITH TIME ZONE"), ("pk_database_name", "VARCHAR"), ("pk_schema_name", "VARCHAR"),
    ("pk_table_name", "VARCHAR"), ("pk_column_name", "VARCHAR"), ("fk_database_name", "VARCHAR"),
    ("fk_schema_name", "VARCHAR"), ("fk_table_name", "VARCHAR"), ("fk_column_name", "VARCHAR"),
    ("key_sequence", "BIGINT"), ("update_rule", "VARCHAR"), ("delete_rule", "VARCHAR"), ("fk_name", "VARCHAR"),
    ("pk_name", "VARCHAR"), ("deferrability", "VARCHAR"), ("rely", "VARCHAR"), ("comment", "VARCHAR"),
]  # fmt: skip


def show(store, command: ShowKeys) -> Result:
    """SHOW PRIMARY KEYS | UNIQUE KEYS | IMPORTED KEYS of one table or of the tables in a scope."""
    if command.database is not None and not store.has_database(command.database):
        raise SqlError(f"Database '{command.database}' does not exist or not authorized.")
    if command.table is not None and store.find_table(command.database, command.schema, command.table) is None:
        where = f"{command.database}.{command.schema}.{command.table}"
        raise SqlError(f"Table '{where}' does not exist or not authorized.")
    if command.table is None and command.schema is not None and not store.has_schema(command.database, command.schema):
        raise SqlError(f"Schema '{command.database}.{command.schema}' does not exist or not authorized.")
    rows = []
    for database in [command.database] if command.database else store.databases():
        rows.extend(_rows(store, database, command))
    return Result(list(_IMPORTED_COLUMNS if command.keys == FOREIGN else _KEY_COLUMNS), rows)


def _rows(store, database: str, command: ShowKeys) -> list[tuple]:
    meta = f"{quote(database)}.{META}.{TABLE}"
    scope = "k.KIND = ? AND (? IS NULL OR k.SCHEMA_NAME = ?) AND (? IS NULL OR k.TABLE_NAME = ?)"
    params = [command.keys, command.schema, command.schema, command.table, command.table]
    if command.keys != FOREIGN:
        sql = (
            f"SELECT k.CREATED_ON, {literal(database)}, k.SCHEMA_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.KEY_SEQUENCE, "
            f"k.CONSTRAINT_NAME, 'false', NULL FROM {meta} k WHERE {scope} ORDER BY 3, 4, 7, 6"
        )
        return store.cursor().execute(sql, params).fetchall()
    # A foreign key that names no columns references the primary key of its table, column by column.
    sql = f"""
        SELECT k.CREATED_ON, k.PK_DATABASE_NAME, k.PK_SCHEMA_NAME, k.PK_TABLE_NAME,
            coalesce(k.PK_COLUMN_NAME, p.COLUMN_NAME), {literal(database)}, k.SCHEMA_NAME, k.TABLE_NAME,
            k.COLUMN_NAME, k.KEY_SEQUENCE, 'NO ACTION', 'NO ACTION', k.CONSTRAINT_NAME, p.CONSTRAINT_NAME,
            'NOT DEFERRABLE', 'false', NULL
        FROM {meta} k LEFT JOIN {meta} p ON p.KIND = '{PRIMARY}' AND k.PK_DATABASE_NAME = {literal(database)}
            AND p.SCHEMA_NAME = k.PK_SCHEMA_NAME AND p.TABLE_NAME = k.PK_TABLE_NAME
            AND (p.COLUMN_NAME = k.PK_COLUMN_NAME OR (k.PK_COLUMN_NAME IS NULL AND p.KEY_SEQUENCE = k.KEY_SEQUENCE))
        WHERE {scope} ORDER BY 7, 8, 13, 10"""
    return store.cursor().execute(sql, params).fetchall()
