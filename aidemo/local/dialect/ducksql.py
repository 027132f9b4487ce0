"""Statements DuckDB runs, translated with sqlglot: Snowflake's names, types and result column
names, qualified with the session's context; the service's own schema and functions that
read files or run SQL text refused.
"""

from __future__ import annotations

from typing import NoReturn

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from aidemo.local.dialect import functions, infoschema, rowsources, sandbox, semistructured
from aidemo.local.dialect.sqltokens import (
    SOURCE_TEXT,
    context,
    ident,
    name_of,
    quote_statement,
    quoted,
)
from aidemo.local.engine import coltypes
from aidemo.local.engine.sessionsql import session_value
from aidemo.local.engine.sqlcommands import DuckSql
from aidemo.local.engine.sqlerrors import unsupported
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SqlError
from aidemo.local.storage import identity, viewtexts
from aidemo.local.storage.tablekeys import bookkeeping, not_null

# Snowflake's integer types are all NUMBER(38,0).
_INTEGER_TYPES = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}
RESERVED = "_AIDEMO"  # the service's own schema (see aidemo.local.storage.catalog.META)
_TEXT_TYPES = {
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.NVARCHAR,
    exp.DataType.Type.NCHAR,
}
_UNENFORCED_COLUMN_CONSTRAINTS = (
    exp.PrimaryKeyColumnConstraint,
    exp.UniqueColumnConstraint,
    exp.Reference,
    exp.ForeignKey,  # the inline [CONSTRAINT f] FOREIGN KEY REFERENCES ...
)
_UNENFORCED_TABLE_CONSTRAINTS = (
    exp.PrimaryKey,
    exp.UniqueColumnConstraint,
    exp.ForeignKey,
)
# Table and view properties that change how Snowflake stores or governs an object, not what it
# answers: a DuckDB table or view without them gives the same results. (A materialized view is
# always current in Snowflake, as a plain view is.)
_INERT_PROPERTIES = (
    exp.SchemaCommentProperty,
    exp.TransientProperty,
    exp.ClusterProperty,
    exp.CopyGrantsProperty,
    exp.SecureProperty,
    exp.MaterializedProperty,
)
_INERT_PARAMETERS = {"DATA_RETENTION_TIME_IN_DAYS", "MAX_DATA_EXTENSION_TIME_IN_DAYS", "CHANGE_TRACKING"}
# Tables that Snowflake keeps up to date or serves in ways a DuckDB table cannot: a one-time
# snapshot would answer stale rows without saying so.
_REFUSED_TABLES = {
    exp.DynamicProperty: ("CREATE DYNAMIC TABLE", "a view answers the same query with current rows"),
    exp.InteractiveProperty: ("CREATE INTERACTIVE TABLE", "create a standard table (CREATE TABLE ... AS SELECT)"),
}
# Constructs sqlglot's DuckDB generator writes without complaint but wrongly (FLATTEN becomes
# invalid SQL, time travel and MATCH_RECOGNIZE are copied as DuckDB cannot run them).
_MISTRANSLATED = {
    exp.Explode: "FLATTEN",
    exp.HistoricalData: "AT | BEFORE (time travel)",
    exp.Changes: "CHANGES",
    exp.MatchRecognize: "MATCH_RECOGNIZE",
}

# What may give another value each time a statement runs: the clock, chance, and the order of rows
# that nothing fixes (windows, aggregates of rows in their order, a LIMIT, an UPDATE's joined rows).
_UNREPEATABLE = (
    exp.Rand, exp.Randn, exp.Uuid, exp.CurrentTimestamp, exp.CurrentTime, exp.CurrentDate, exp.CurrentDatetime,
    exp.Localtime, exp.Localtimestamp, exp.TableSample, exp.Window, exp.RowNumber, exp.ArrayAgg, exp.AnyValue,
    exp.GroupConcat, exp.Limit, exp.Fetch,
)  # fmt: skip
_UNNAMED = {  # DuckDB functions of the same kind, by name
    "RANDOM",
    "UUID",
    "GEN_RANDOM_UUID",
    "NOW",
    "SETSEED",
}


def not_supported(text: str) -> NoReturn:
    """Refuse a statement of a kind the local service does not handle, naming it and what it handles."""
    raise SqlError(
        f"{quote_statement(text)} is not supported by the local service; it handles "
        "queries, table and view DDL/DML, databases, schemas, pipes, channels, stages, transactions "
        "and session state. Run it against a Snowflake account instead."
    )


def translate_with_sqlglot(tree: exp.Expression, text: str, session: Session) -> DuckSql:
    """The DuckDB translation of a parsed query, table/view DDL or DML (``text`` is its statement)."""
    _session_context(tree, session, text)
    if not sandbox.runs_on_duckdb(tree):
        not_supported(text)
    _check_properties(tree)
    if isinstance(tree, exp.Query):
        _name_columns(tree)
    keys = bookkeeping(tree, session.database, session.schema) or viewtexts.bookkeeping(tree, text)
    key_columns = not_null(tree)  # an ALTER TABLE that changes keys only: the service keeps them
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        _relax_constraints(tree.this)
    lengths = _declared_lengths(tree)
    rowsources.transform(tree)
    semistructured.transform(tree, session.database, session.schema)
    functions.transform(tree, session.database, session.schema)
    columns = coltypes.creates(tree, session.database, session.schema)  # before the types become DuckDB's
    for datatype in list(tree.find_all(exp.DataType)):
        datatype.replace(duck_type(datatype))
    _qualify_tables(tree, session.database, session.schema, text)
    normalize_identifiers(tree, dialect="snowflake")
    merge = _merge_clauses(tree) if isinstance(tree, exp.Merge) else ()
    returns_rows = isinstance(tree, (exp.Query, exp.Describe))
    target = None if returns_rows else _target(tree)
    schemas = sandbox.seal(tree, text)
    if columns is not None and target is not None:
        coltypes.created(target, columns)
    # the sequences of identity columns, named by the service: made after the sandbox has checked the names
    sequences = identity.transform(tree, target[0]) if isinstance(tree, exp.Create) and target else []
    query = _query_of_typed_create(tree)
    sql = "; ".join([*sequences, duck_sql(tree)])
    if key_columns is not None and target is not None:
        ref = ".".join(ident(part) for part in target)
        sql = "; ".join(f"ALTER TABLE {ref} ALTER COLUMN {ident(c)} SET NOT NULL" for c in key_columns)
    if query is not None:
        sql += "; " + duck_sql(exp.insert(query, tree.this.this.copy()))
    if target is not None and lengths:
        ref = ".".join(ident(part) for part in target)
        sql += "".join(f"; COMMENT ON COLUMN {ref}.{ident(column)} IS '{declared}'" for column, declared in lengths)
    dropped = target if isinstance(tree, exp.Drop) and str(tree.args.get("kind")).upper() == "TABLE" else None
    return DuckSql(
        sql,
        returns_rows,
        database=target[0] if target else None,
        dropped=dropped,
        merge=merge,
        schemas=schemas,
        repeatable=_repeatable(tree),
        keys=keys(target) if target is not None and keys is not None else "",
    )


def _query_of_typed_create(tree: exp.Expression) -> exp.Query | None:
    """The query of ``CREATE TABLE t (a type, ...) AS SELECT ...``, taken out of the statement: DuckDB
    has no column list in CREATE TABLE AS, so the table is created with its columns, then filled."""
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema) and tree.args.get("expression"):
        return tree.args["expression"].pop()
    return None


def _repeatable(tree: exp.Expression) -> bool:
    """Whether running the translated statement again on the same rows makes the same change."""
    if isinstance(tree, exp.Update) and tree.args.get("from_"):
        return False
    for node in tree.walk():
        if isinstance(node, _UNREPEATABLE) or (isinstance(node, exp.Anonymous) and node.name.upper() in _UNNAMED):
            return False
    return True


def _merge_clauses(tree: exp.Merge) -> tuple[str, ...]:
    """The kinds of change a MERGE's clauses make, in the order Snowflake counts them; the
    statement returns each changed row's action, which the reply counts per kind."""
    kinds = set()
    for when in tree.args["whens"].expressions:
        then = when.args.get("then")
        kinds.add("INSERT" if isinstance(then, exp.Insert) else "UPDATE" if isinstance(then, exp.Update) else "DELETE")
    tree.set("returning", exp.Returning(expressions=[exp.column("merge_action")]))
    return tuple(kind for kind in ("INSERT", "UPDATE", "DELETE") if kind in kinds)


def _session_context(tree: exp.Expression, session: Session, text: str) -> None:
    """What the session is, as literals: CURRENT_DATABASE(), CURRENT_ROLE() and the like
    (:func:`aidemo.local.engine.sessionsql.session_value`), and ``$name`` (its variable's value).

    An unaliased one keeps Snowflake's column name (``CURRENT_DATABASE()``, ``$X``).
    """
    for node in list(tree.find_all(exp.Func, exp.Parameter)):
        value = session_value(node, session, text)
        if value is None:
            continue
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            name = node.sql(dialect="snowflake").upper()
            if isinstance(node, exp.Func) and not name.endswith(")"):
                name += "()"  # sqlglot writes CURRENT_DATE() as CURRENT_DATE; the call is what clients write
            value = exp.alias_(value, name, quoted=True)
        node.replace(value)


def duck_sql(tree: exp.Expression) -> str:
    """DuckDB SQL for a translated tree, or a refusal naming the construct DuckDB cannot express.

    sqlglot would otherwise drop what its DuckDB generator cannot write (a format argument, a
    property) and only log a warning: the statement would run and answer something else.
    """
    for node in tree.walk():
        if type(node) in _MISTRANSLATED:
            raise unsupported(_MISTRANSLATED[type(node)])
    try:
        return tree.sql(dialect="duckdb", identify=True, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise unsupported(_culprit(tree, exc)) from exc


def _culprit(tree: exp.Expression, error: UnsupportedError) -> str:
    """The Snowflake text of the innermost part of ``tree`` that DuckDB cannot express."""
    for node in reversed(list(tree.walk())):  # children before their parents
        try:
            node.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError:
            text = " ".join(node.sql(dialect="snowflake").split())
            return text if len(text) <= 80 else text[:77] + "..."
        except Exception:  # a part that cannot be generated on its own says nothing
            continue
    return str(error).splitlines()[0]


def _check_properties(tree: exp.Expression) -> None:
    """Refuse dynamic and interactive tables, and properties DuckDB cannot keep; drop those that do
    not change results."""
    properties = tree.args.get("properties") if isinstance(tree, exp.Create) else None
    for column in tree.find_all(exp.ColumnDef):
        kept = [c for c in column.constraints if not isinstance(c.args.get("kind"), exp.CommentColumnConstraint)]
        column.set("constraints", kept)
    if properties is None:
        return
    for prop in properties.expressions:
        if type(prop) in _REFUSED_TABLES:
            raise unsupported(*_REFUSED_TABLES[type(prop)])
    kept = [prop for prop in properties.expressions if not _inert(prop)]
    for prop in kept:
        alone = exp.Create(this=exp.to_table("T"), kind=tree.kind, properties=exp.Properties(expressions=[prop.copy()]))
        try:
            alone.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as exc:
            raise unsupported(prop.sql(dialect="snowflake")) from exc
    properties.set("expressions", kept)


def _inert(prop: exp.Expression) -> bool:
    return isinstance(prop, _INERT_PROPERTIES) or (
        isinstance(prop, exp.Property) and prop.name.upper() in _INERT_PARAMETERS
    )


def _name_columns(query: exp.Query) -> None:
    """Name the result columns as Snowflake does: an expression without an alias is named by
    its text as written, in upper case (``a+1`` is ``A+1``), a column by its name."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for item in list(select.expressions):
        if isinstance(item, (exp.Alias, exp.Column, exp.Star)):
            continue
        text = item.meta.get(SOURCE_TEXT) or item.sql("snowflake")
        item.replace(exp.alias_(item.copy(), exp.to_identifier(text.upper(), quoted=True)))


def _declared_lengths(tree: exp.Expression) -> list[tuple[str, str]]:
    """(column, VARCHAR(n)) of the character columns a CREATE TABLE or ALTER TABLE declares
    with a length. In CREATE TABLE, each also gets a CHECK on its length, so SQL inserts are
    held to it as Snowflake holds them (DuckDB ignores VARCHAR's length; it cannot add a
    column with a CHECK, so ALTER TABLE ... ADD COLUMN keeps only the declared type)."""
    lengths = []
    for column in tree.find_all(exp.ColumnDef):
        kind = column.args.get("kind")
        if isinstance(kind, exp.DataType) and kind.this in _TEXT_TYPES and kind.expressions:
            name, limit = name_of(column.this), int(kind.expressions[0].name)
            lengths.append((name, f"VARCHAR({limit})"))
            if isinstance(tree, exp.Create):
                length = exp.Length(this=exp.column(quoted(name)))
                check = exp.CheckColumnConstraint(this=exp.LTE(this=length, expression=exp.Literal.number(limit)))
                column.append("constraints", exp.ColumnConstraint(kind=check))
    return lengths


def _target(tree: exp.Expression) -> tuple[str, str, str] | None:
    """(database, schema, table) a statement writes to, once qualified."""
    table = tree.args["tables"][0] if isinstance(tree, exp.Drop) and tree.args.get("tables") else tree.this
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table) or not table.args.get("catalog"):
        return None
    return table.catalog, table.db, table.name


def _relax_constraints(table: exp.Schema) -> None:
    """Drop PRIMARY KEY, UNIQUE and FOREIGN KEY; make primary-key columns NOT NULL.

    Snowflake does not enforce these constraints, except NOT NULL on primary-key columns;
    kept in DuckDB they would reject duplicate rows that Snowflake accepts (and that the
    kit's exactly-once checks must be able to see).
    """
    key_columns = set()
    for element in list(table.expressions):
        if isinstance(element, exp.ColumnDef):
            for constraint in list(element.constraints):
                kind = constraint.args.get("kind")
                if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    key_columns.add(name_of(element.this))
                if isinstance(kind, _UNENFORCED_COLUMN_CONSTRAINTS):
                    constraint.pop()
            continue
        inner = element.expressions if isinstance(element, exp.Constraint) else [element]
        for constraint in inner:
            if isinstance(constraint, exp.PrimaryKey):
                key_columns.update(name_of(column) for column in constraint.expressions)
        if any(isinstance(c, _UNENFORCED_TABLE_CONSTRAINTS) for c in inner):
            element.pop()
    for column in table.find_all(exp.ColumnDef):
        not_null = any(
            isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) and not c.args["kind"].args.get("allow_null")
            for c in column.constraints
        )
        if name_of(column.this) in key_columns and not not_null:
            column.append("constraints", exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))


def duck_type(datatype: exp.DataType) -> exp.DataType:
    """Snowflake type to DuckDB type.

    NUMBER(p,s) becomes DECIMAL(p,s) with explicit precision and scale (a bare DuckDB
    DECIMAL is DECIMAL(18,3)). NUMBER, NUMBER(38,0) and the integer types, which
    Snowflake stores as NUMBER(38,0), become BIGINT: they hold ids and counts here, and
    BIGINT is faster and maps to plain Python ints; values beyond 2**63 would not fit.
    """
    if datatype.this in _INTEGER_TYPES:
        return exp.DataType.build("BIGINT")
    semi = semistructured.duck_type(datatype)
    if semi is not None:
        return semi
    if datatype.this == exp.DataType.Type.DECIMAL:
        params = [int(p.name) for p in datatype.expressions]
        precision, scale = (params + [38, 0][len(params) :])[:2]
        if (precision, scale) == (38, 0):
            return exp.DataType.build("BIGINT")
        return exp.DataType.build(f"DECIMAL({precision}, {scale})")
    return datatype


def _qualify_tables(tree: exp.Expression, database: str | None, schema: str | None, text: str) -> None:
    """Give every table (and schema) reference its database and schema from the session.

    CTE names are left alone; an INFORMATION_SCHEMA view becomes Snowflake's, of its database.
    """
    ctes = {name_of(cte.args["alias"].this) for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        name, db = table.args.get("this"), table.args.get("db")
        if isinstance(db, exp.Identifier) and name_of(db) == infoschema.SCHEMA and isinstance(name, exp.Identifier):
            catalog = table.args.get("catalog")
            owner = name_of(catalog) if catalog else context(database, "database", text)
            table.replace(infoschema.view(name_of(name), owner, table.args.get("alias")))
            continue
        is_schema = name is None and isinstance(db, exp.Identifier)  # as in DROP SCHEMA s
        if table.args.get("catalog") or not (is_schema or isinstance(name, exp.Identifier)):
            continue
        if db is None:
            if name_of(name) in ctes:
                continue
            table.set("db", quoted(context(schema, "schema", text)))
        table.set("catalog", quoted(context(database, "database", text)))


def reserved(text: str) -> NoReturn:
    raise SqlError(
        f"{quote_statement(text)} names {RESERVED}, which holds the local service's own bookkeeping; "
        "SQL cannot read or change it."
    )
