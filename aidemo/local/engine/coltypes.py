"""The Snowflake types of the columns a statement names, read from the service's catalog.

Translation is pure, but what some Snowflake functions answer depends on their argument's type
(DATEADD of a DATE is a DATE, AVG of a NUMBER(10,2) has scale 8): :func:`reading` makes the
catalog's column types (and its tables' row counts, for INFORMATION_SCHEMA.TABLES) visible to the
translations run inside it, with those of the tables a script creates before the statements that
read them; :func:`annotate` gives each column of a parsed statement the type of what it names (a
table's column, or a CTE's or subquery's), scope by scope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.scope import Scope, traverse_scope

from aidemo.local.dialect.sqltokens import name_of

#: (database, schema, table) -> {column: Snowflake type}, or None where no catalog is at hand.
Lookup = Callable[[str, str, str], dict[str, str]]
_LOOKUP: ContextVar[Lookup | None] = ContextVar("aidemo_column_types", default=None)
#: database -> [(schema, table, rows)], or None where no catalog is at hand.
#: (database, schema, table) -> {column: Snowflake type} of the tables a script creates before it reads them.
_PLANNED: ContextVar[dict | None] = ContextVar("aidemo_planned_tables", default=None)
_TABLES: ContextVar[Callable[[str], list[tuple[str, str, int]]] | None] = ContextVar("aidemo_tables", default=None)


@contextlib.contextmanager
def reading(store) -> Iterator[None]:
    """Translations inside the block see the column types of ``store``'s tables (committed ones)."""

    def lookup(database: str, schema: str, table: str) -> dict[str, str]:
        found = store.find_table(database, schema, table, views=True)  # a view's columns are typed as it reads them
        if found is None:
            return {}
        return {column.name: column.declared for column in store.table_columns(database, schema, found)}

    token, tables = _LOOKUP.set(lookup), _TABLES.set(lambda database: [t[1:] for t in store.tables(database)])
    planned = _PLANNED.set({})
    try:
        yield
    finally:
        _LOOKUP.reset(token)
        _TABLES.reset(tables)
        _PLANNED.reset(planned)


def row_counts(database: str) -> list[tuple[str, str, int]] | None:
    """(schema, table, rows) of each of ``database``'s tables, committed; None outside :func:`reading`."""
    tables = _TABLES.get()
    return None if tables is None else tables(database)


def annotate(tree: exp.Expression, database: str | None, schema: str | None) -> None:
    """Type the columns of ``tree`` by what they name, scope by scope from the innermost: a column of
    a catalog table (or of one an earlier statement of the script creates) has its declared type, a
    column of a CTE or a subquery the type of that query's column; each scope's expressions are then
    typed from its columns (sqlglot's annotator), so that the scopes around it see them."""
    lookup = _LOOKUP.get()
    if lookup is None:
        return
    try:
        scopes = traverse_scope(tree)
    except Exception:  # a tree sqlglot cannot read as scopes is translated without its columns' types
        return
    tables: dict[tuple[str, str, str], dict[str, str]] = {}
    for scope in scopes:
        sources = _sources(scope, database, schema)
        for column in scope.columns:
            if isinstance(column.this, exp.Identifier):
                declared = _declared(column, sources, lambda source: _columns(source, tables, lookup, database, schema))
                if declared is not None:
                    column.type = declared
        if isinstance(scope.expression, exp.Query):
            try:
                annotate_types(scope.expression, dialect="snowflake", overwrite_types=False)
            except Exception:  # as above: what sqlglot cannot type stays unknown
                pass


def creates(tree: exp.Expression, database: str | None, schema: str | None) -> dict[str, str] | None:
    """The Snowflake types of the columns a CREATE TABLE makes (declared, or those of its query), while
    a script is translated (:func:`reading`); None for any other statement."""
    if _PLANNED.get() is None or not isinstance(tree, exp.Create) or str(tree.kind).upper() != "TABLE":
        return None
    if isinstance(tree.this, exp.Schema):
        return {
            name_of(c.this): c.args["kind"].sql("snowflake")
            for c in tree.this.expressions
            if isinstance(c, exp.ColumnDef) and isinstance(c.args.get("kind"), exp.DataType)
        }
    query = tree.expression
    if not isinstance(query, exp.Select):
        return None
    annotate(query, database, schema)
    return {_output_name(p): _known(p.type).sql("snowflake") for p in query.expressions if _known(p.type)}


def created(table: tuple[str, str, str], columns: dict[str, str]) -> None:
    """A statement of the script being translated creates ``table`` with these columns: those after it see them."""
    planned = _PLANNED.get()
    if planned is not None:
        planned[table] = columns


def _sources(scope: Scope, database, schema) -> dict[str, tuple[str, str, str] | Scope]:
    """What a scope reads, by the name (upper case) or alias its columns use: a table as
    (database, schema, table), a CTE or subquery as its scope."""
    sources = {}
    for key, (_, source) in scope.selected_sources.items():
        if isinstance(source, Scope):
            sources[key.upper()] = source
        elif isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
            db, catalog = source.args.get("db"), source.args.get("catalog")
            where = (name_of(catalog) if catalog else database, name_of(db) if db else schema)
            if None not in where:
                alias = source.args.get("alias")
                name = name_of(alias.this) if alias and alias.this else name_of(source.this)
                sources[name] = (*where, name_of(source.this))
    return sources


def _declared(column: exp.Column, sources, columns_of) -> exp.DataType | None:
    name = name_of(column.this)
    if column.table:
        wanted = name_of(column.args["table"])
        candidates = [source for key, source in sources.items() if key in (wanted, wanted.upper())]
    else:
        candidates = list(sources.values())
    found = []
    for source in candidates:
        columns = columns_of(source)
        if name in columns:
            found.append(columns[name])
    return found[0] if len(found) == 1 else None


def _columns(source, tables, lookup: Lookup, database, schema) -> dict[str, exp.DataType | None]:
    """The columns of a source with their types (None where unknown); a query's ``*`` stands for
    the columns of what it reads."""
    if isinstance(source, Scope):
        query = source.expression
        if isinstance(query, exp.Values):
            return _values_columns(query)
        while isinstance(query, exp.SetOperation):
            query = query.this
        if not isinstance(query, exp.Select):
            return {}
        columns = {}
        for projection in query.expressions:
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
                for inner in _sources(source, database, schema).values():
                    columns.update(_columns(inner, tables, lookup, database, schema))
            elif _output_name(projection):
                columns[_output_name(projection)] = _known(projection.type)
        return columns
    if source not in tables:
        planned = _PLANNED.get() or {}
        declared = planned[source] if source in planned else lookup(*source)
        tables[source] = {c: exp.DataType.build(t, dialect="snowflake") for c, t in declared.items()}
    return tables[source]


def _values_columns(values: exp.Values) -> dict[str, exp.DataType | None]:
    """The columns of a VALUES list (named by its alias, or COLUMN1, COLUMN2, ... as Snowflake names
    them), each typed as Snowflake types it from its rows' literals."""
    rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in values.expressions]
    alias = values.args.get("alias")
    width = max((len(row) for row in rows), default=0)
    if alias is not None and alias.columns:
        names = [name_of(column) for column in alias.columns]
    else:
        names = [f"COLUMN{i + 1}" for i in range(width)]
    return {name: _common_type([row[i] for row in rows if i < len(row)]) for i, name in enumerate(names)}


def _common_type(cells: list[exp.Expression]) -> exp.DataType | None:
    """NUMBER(p, s) wide enough for every row of a column of number literals; else the one type all
    its (non-NULL) cells have; None where they differ or are not known."""
    cells = [cell for cell in cells if not isinstance(cell, exp.Null)]
    numbers = [_fixed_literal(cell) for cell in cells]
    if cells and None not in numbers:
        scale = max(s for _, s in numbers)
        precision = min(38, max(1, max(digits for digits, _ in numbers) + scale))
        return exp.DataType.build(f"DECIMAL({precision}, {scale})")
    kinds = {_known(cell.type).sql("snowflake") if _known(cell.type) else None for cell in cells}
    return exp.DataType.build(kinds.pop(), dialect="snowflake") if len(kinds) == 1 and None not in kinds else None


def _fixed_literal(cell: exp.Expression) -> tuple[int, int] | None:
    """(integer digits, scale) of a fixed-point number literal (negated or not); None for anything else."""
    if isinstance(cell, exp.Neg):
        cell = cell.this
    if not isinstance(cell, exp.Literal) or cell.is_string or "e" in cell.name.lower():
        return None
    whole, _, fraction = cell.name.partition(".")
    return len(whole.lstrip("0")), len(fraction)


def _output_name(projection: exp.Expression) -> str:
    identifier = projection.args.get("alias") if isinstance(projection, exp.Alias) else projection
    if isinstance(identifier, exp.TableAlias):
        identifier = identifier.this
    if isinstance(projection, exp.Column):
        identifier = projection.this
    return name_of(identifier) if isinstance(identifier, exp.Identifier) else ""


def _known(kind: exp.DataType | None) -> exp.DataType | None:
    return None if kind is None or kind.this in (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL) else kind
