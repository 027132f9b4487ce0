"""The Snowflake types of the table columns a statement names, read from the service's catalog.

Translation is pure, but what some Snowflake functions answer depends on their argument's type
(DATEADD of a DATE is a DATE, AVG of a NUMBER(10,2) has scale 8): :func:`reading` makes the
catalog's column types (and its tables' row counts, for INFORMATION_SCHEMA.TABLES) visible to the
translations run inside it, and :func:`annotate` gives each column of a parsed statement the type
its table declares, where the column resolves to one table of its SELECT.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from sqlglot import exp

from aidemo.local.sqltokens import name_of

#: (database, schema, table) -> {column: Snowflake type}, or None where no catalog is at hand.
Lookup = Callable[[str, str, str], dict[str, str]]
_LOOKUP: ContextVar[Lookup | None] = ContextVar("aidemo_column_types", default=None)
#: database -> [(schema, table, rows)], or None where no catalog is at hand.
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
    try:
        yield
    finally:
        _LOOKUP.reset(token)
        _TABLES.reset(tables)


def row_counts(database: str) -> list[tuple[str, str, int]] | None:
    """(schema, table, rows) of each of ``database``'s tables, committed; None outside :func:`reading`."""
    tables = _TABLES.get()
    return None if tables is None else tables(database)


def annotate(tree: exp.Expression, database: str | None, schema: str | None) -> None:
    """Set ``type`` on each column of ``tree`` that names a column of a table in its SELECT's FROM."""
    lookup = _LOOKUP.get()
    if lookup is None:
        return
    ctes = {name_of(cte.args["alias"].this) for cte in tree.find_all(exp.CTE)}
    tables: dict[tuple[str, str, str], dict[str, str]] = {}
    for select in tree.find_all(exp.Select):
        sources = _sources(select, database, schema, ctes)
        for column in select.find_all(exp.Column):
            if column.find_ancestor(exp.Select) is not select or not isinstance(column.this, exp.Identifier):
                continue
            declared = _declared(column, sources, tables, lookup)
            if declared is not None:
                column.type = exp.DataType.build(declared, dialect="snowflake")


def _sources(select: exp.Select, database, schema, ctes) -> dict[str, tuple[str, str, str]]:
    """The tables a SELECT reads, by the name or alias its columns use."""
    sources = {}
    for table in [select.args.get("from_"), *select.args.get("joins", [])]:
        table = table.this if table is not None else None
        if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
            continue
        name = name_of(table.this)
        db, catalog = table.args.get("db"), table.args.get("catalog")
        if db is None and name in ctes:
            continue
        where = (name_of(catalog) if catalog else database, name_of(db) if db else schema)
        if None in where:
            continue
        alias = table.args.get("alias")
        sources[name_of(alias.this) if alias and alias.this else name] = (*where, name)
    return sources


def _declared(column: exp.Column, sources, tables, lookup: Lookup) -> str | None:
    name = name_of(column.this)
    if column.table:
        candidates = [sources[t] for t in sources if t == name_of(column.args["table"])]
    else:
        candidates = list(sources.values())
    found = []
    for source in candidates:
        if source not in tables:
            tables[source] = lookup(*source)
        if name in tables[source]:
            found.append(tables[source][name])
    return found[0] if len(found) == 1 else None
