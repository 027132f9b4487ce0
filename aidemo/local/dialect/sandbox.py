"""The boundary between user SQL and the service's own state, built into the translation.

The service's bookkeeping (pipes, channels, committed offset tokens) lives in the ``_AIDEMO``
schema of each database file, next to the user's tables, so that a streamed batch and its
channel's token commit in one DuckDB transaction. User SQL therefore runs in the same DuckDB
instance, and what keeps it out is the shape of the statement the service runs:

- :func:`admit` checks the statement as parsed from Snowflake SQL: every function it calls is
  one of Snowflake's on :data:`FUNCTIONS` (another of Snowflake's is refused as unsupported, naming
  it; anything else, DuckDB's table functions and pragmas included, is Snowflake's ``Unknown
  function``), and ``IDENTIFIER(...)`` becomes a quoted
  name, never SQL text.
- :func:`seal` checks the tree the service is about to generate DuckDB SQL from: a statement
  kind the service translates, every table reference a plain name qualified to a database and
  schema (CTE names excepted), none of DuckDB's own catalogs or the service's schemas, no table
  function but DuckDB's data generators, no verbatim SQL. It returns the (database, schema)
  pairs the statement reads or writes; :func:`check_schemas` admits them only if they are
  schemas the store lists for the user (which never include ``_AIDEMO``).

Subtrees the translator builds itself over DuckDB's catalog (:mod:`aidemo.local.dialect.infoschema`)
are marked with :func:`trust` and are the only place DuckDB's catalog functions may appear.
"""

from __future__ import annotations

from sqlglot import exp

from aidemo.local.dialect import functions
from aidemo.local.dialect.sfnames import SNOWFLAKE_FUNCTIONS
from aidemo.local.dialect.sqltokens import ORIGINAL_NAME, Cursor, name_of, quote_statement, quoted, tokenize
from aidemo.local.engine.sessionsql import session_value
from aidemo.local.engine.sqlerrors import SYNTAX, UNKNOWN_FUNCTION, UNKNOWN_OBJECT, UNSUPPORTED, unsupported
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SnowflakeError, SqlError

INTERNAL = "_AIDEMO"  # the service's own schema in every database (aidemo.local.storage.catalog.META)
#: Schemas no table reference may name, in any database: the service's and DuckDB's.
HIDDEN_SCHEMAS = frozenset({INTERNAL, "INFORMATION_SCHEMA", "PG_CATALOG", "MAIN"})
#: DuckDB's own catalogs (DuckDB compares catalog names case-insensitively).
HIDDEN_CATALOGS = frozenset({"SYSTEM", "TEMP", "MEMORY"})
_TRUSTED = "aidemo_sandbox"  # meta key of subtrees the translator built

# Snowflake's functions the local service runs, by the name a statement calls them (one group a line).
# fmt: off
FUNCTIONS = frozenset("""
    COUNT SUM AVG MIN MAX COUNT_IF ANY_VALUE MEDIAN MODE LISTAGG APPROX_COUNT_DISTINCT
    STDDEV STDDEV_POP STDDEV_SAMP VARIANCE VARIANCE_POP VARIANCE_SAMP VAR_POP VAR_SAMP
    CORR COVAR_POP COVAR_SAMP BOOLAND_AGG BOOLOR_AGG BITAND_AGG BITOR_AGG BITXOR_AGG
    ROW_NUMBER RANK DENSE_RANK PERCENT_RANK CUME_DIST NTILE LAG LEAD FIRST_VALUE LAST_VALUE NTH_VALUE
    ABS CEIL CEILING FLOOR ROUND SIGN SQRT CBRT POWER POW EXP LN LOG MOD SQUARE
    SIN COS TAN ASIN ACOS ATAN ATAN2 PI DEGREES RADIANS GREATEST LEAST
    COALESCE NVL IFNULL NULLIF NVL2 IFF ZEROIFNULL NULLIFZERO EQUAL_NULL
    UPPER LOWER LENGTH LEN TRIM LTRIM RTRIM SUBSTR SUBSTRING CONCAT CONCAT_WS REPLACE REPEAT REVERSE
    SPLIT_PART LPAD RPAD LEFT RIGHT INITCAP POSITION CHARINDEX CONTAINS STARTSWITH ENDSWITH
    ASCII CHR CHAR RLIKE REGEXP_LIKE REGEXP_REPLACE REGEXP_SUBSTR REGEXP_COUNT MD5 SHA1 SHA2 TRANSLATE
    DATE_TRUNC DATEDIFF DATEADD DATE_PART EXTRACT YEAR MONTH DAY DAYOFMONTH DAYOFWEEK DAYOFYEAR
    WEEK WEEKOFYEAR QUARTER HOUR MINUTE SECOND LAST_DAY
    CURRENT_DATE CURRENT_TIMESTAMP CURRENT_TIME LOCALTIMESTAMP LOCALTIME SYSDATE
    CURRENT_DATABASE CURRENT_SCHEMA CURRENT_USER CURRENT_ROLE CURRENT_VERSION CURRENT_WAREHOUSE CURRENT_ACCOUNT
    CURRENT_ACCOUNT_NAME CURRENT_REGION CURRENT_SESSION CURRENT_SECONDARY_ROLES CURRENT_AVAILABLE_ROLES
    SYSTEM$CANCEL_ALL_QUERIES
    CAST TRY_CAST TRUNC TRUNCATE DIV0 DIV0NULL DECODE HASH RANDOM UUID_STRING GENERATOR SEQ1 SEQ2 SEQ4 SEQ8
    TO_CHAR TO_VARCHAR SPLIT TIMEADD TIMESTAMPADD RATIO_TO_REPORT
    PARSE_JSON TRY_PARSE_JSON TO_VARIANT OBJECT_CONSTRUCT OBJECT_CONSTRUCT_KEEP_NULL ARRAY_CONSTRUCT GET GET_PATH
    ARRAY_SIZE ARRAY_CONTAINS ARRAY_AGG OBJECT_AGG OBJECT_KEYS TYPEOF
    IS_OBJECT IS_ARRAY IS_VARCHAR IS_CHAR IS_BOOLEAN IS_INTEGER IS_DECIMAL IS_DOUBLE IS_REAL IS_NULL_VALUE
    ARRAY_PREPEND OBJECT_PICK OBJECT_DELETE
    AS_VARCHAR AS_CHAR AS_INTEGER AS_DOUBLE AS_REAL AS_BOOLEAN AS_OBJECT AS_ARRAY
""".split()) | frozenset(functions.IMPLEMENTED) | frozenset("""
    APPROX_TOP_K FLATTEN ARRAY_APPEND ARRAY_CAT ARRAY_COMPACT ARRAY_DISTINCT ARRAY_SLICE ARRAY_TO_STRING ARRAY_FLATTEN
    ARRAYS_OVERLAP OBJECT_INSERT ARRAY_POSITION ARRAY_EXCEPT ARRAY_INTERSECTION TO_ARRAY TO_JSON STRIP_NULL_VALUE
    CHECK_JSON JSON_EXTRACT_PATH_TEXT
""".split())  # Snowflake's, which the transforms implement or refuse themselves as unsupported (0A000)
# fmt: on

# Nodes the Snowflake parser builds from syntax rather than from a function's name (operators, CAST(x AS t),
# x::t, CASE, EXTRACT(y FROM d), CURRENT_DATE without parentheses, v:path, [..], {..}, EXISTS (...)).
_SYNTAX = (
    exp.Cast, exp.TryCast, exp.Case, exp.If, exp.Extract, exp.Ceil, exp.Floor, exp.Substring, exp.StrPosition,
    exp.GroupConcat, exp.Initcap, exp.Chr, exp.DecodeCase, exp.Exists, exp.CurrentDate, exp.CurrentTimestamp,
    exp.CurrentTime, exp.Localtime, exp.CurrentUser, exp.CurrentRole, exp.JSONExtract, exp.Array, exp.Struct,
    exp.JSONObject,
)  # fmt: skip

# DuckDB's table functions that only make rows from their arguments (translations may use them).
_GENERATORS = frozenset({"unnest", "range", "generate_series", "json_tree", "json_each"})

_ROW_SOURCES = (exp.From, exp.Join, exp.Lateral, exp.Table, exp.TableFromRows)
_DUCK_STATEMENTS = (
    exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable, exp.Describe,
)  # fmt: skip


def runs_on_duckdb(tree: exp.Expression) -> bool:
    """True for the statement kinds the service translates to DuckDB SQL."""
    if isinstance(tree, _DUCK_STATEMENTS):
        return True
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Drop):
        return kind in ("TABLE", "VIEW")
    return isinstance(tree, (exp.Create, exp.Alter)) and kind in ("TABLE", "VIEW")


def trust(node: exp.Expression) -> exp.Expression:
    """Mark a subtree the translator built itself (over DuckDB's catalog): :func:`seal` passes it."""
    node.meta[_TRUSTED] = True
    return node


def refusal(message: str, code: tuple[str, str]) -> SnowflakeError:
    """A refusal with Snowflake's (code, SQLSTATE)."""
    return SnowflakeError(code, message)


def unknown_function(name: str) -> SnowflakeError:
    return refusal(f"Unknown function {name.upper()}", UNKNOWN_FUNCTION)


def unknown_schema(database: str, schema: str) -> SnowflakeError:
    return refusal(f"Schema '{database}.{schema}' does not exist or not authorized.", UNKNOWN_OBJECT)


def admit(tree: exp.Expression, text: str, session: Session) -> None:
    """Check a statement as parsed: Snowflake functions on the allowlist only; IDENTIFIER() made names."""
    for node in list(tree.walk()):
        if isinstance(node, exp.DynamicIdentifier):
            _resolve_identifier(node, text, session)
        elif isinstance(node, exp.Func):
            _check_function(node)


def _check_function(node: exp.Func) -> None:
    if isinstance(node, exp.Anonymous):
        name = node.name
    else:
        name = node.meta.get(ORIGINAL_NAME)
        if name is None:  # built from syntax (an operator, CAST, CASE, ...), not called by name
            if isinstance(node, (exp.Binary, exp.Unary, *_SYNTAX)):
                return
            name = node.sql_name()
    if name.upper() in FUNCTIONS:
        return
    if name.upper() in SNOWFLAKE_FUNCTIONS:
        raise unsupported(name.upper())
    raise unknown_function(name)


def _resolve_identifier(node: exp.DynamicIdentifier, text: str, session: Session) -> None:
    """``IDENTIFIER('<name>')`` (or a session variable holding it) as the quoted identifier(s) it
    names, or Snowflake's error."""
    argument = node.this
    if isinstance(argument, exp.Parameter):
        argument = session_value(argument, session, text) or argument
    if not (isinstance(argument, exp.Literal) and argument.is_string):
        what = "a bind variable with no value" if isinstance(argument, exp.Placeholder) else argument.sql("snowflake")
        raise refusal(
            f"{quote_statement(text)}: IDENTIFIER() takes a name (a string literal, a bind variable or a "
            f"session variable), not {what}.",
            SYNTAX,
        )
    name = argument.name
    try:
        cursor = Cursor(name, tokenize(name, name), None, None)
        parts = [quoted(part) for part in cursor.name_parts(max_parts=4)]
        cursor.end()
    except (SqlError, IndexError):
        raise refusal(f"{quote_statement(text)}: IDENTIFIER({name!r}) does not name an object.", SYNTAX) from None
    parent = node.parent
    if isinstance(parent, exp.Table) and node.arg_key == "this":
        if len(parts) > 3 or (len(parts) > 1 and (parent.args.get("db") or parent.args.get("catalog"))):
            raise refusal(f"{quote_statement(text)}: {name!r} is not a table name.", SYNTAX)
        for key, part in zip(("this", "db", "catalog"), reversed(parts)):
            parent.set(key, part)
        return
    column = exp.column(*reversed(parts)) if len(parts) <= 4 else None
    node.replace(column)


def seal(tree: exp.Expression, text: str) -> frozenset[tuple[str, str | None]]:
    """Check the tree the service is about to run; the (database, schema) pairs it names
    (schema None: a database whose INFORMATION_SCHEMA it reads).

    Rows come only from qualified tables, CTEs, subqueries, VALUES and DuckDB's row generators.
    Comments are dropped (they would reach DuckDB verbatim otherwise).
    """
    if not runs_on_duckdb(tree):
        raise refusal(f"{quote_statement(text)} is not supported by the local service.", UNSUPPORTED)
    ctes = {name_of(cte.args["alias"].this) for cte in tree.find_all(exp.CTE)}
    schemas = set()
    for node in tree.walk(prune=lambda n: bool(n.meta.get(_TRUSTED))):
        node.comments = None
        if node.meta.get(_TRUSTED):
            if "database" in node.meta:
                schemas.add((node.meta["database"], None))
            continue
        if isinstance(node, exp.Command):
            raise refusal(f"{quote_statement(text)} is not supported by the local service.", UNSUPPORTED)
        if isinstance(node, exp.Func) and _makes_rows(node) and not _generator(node):
            raise unknown_function(node.name if isinstance(node, exp.Anonymous) else node.sql_name())
        if isinstance(node, exp.Table):
            schemas.update(_table_schema(node, ctes, text))
    return frozenset(schemas)


def _makes_rows(node: exp.Expression) -> bool:
    """True for a function in a FROM or JOIN (a table function)."""
    return node.arg_key == "this" and isinstance(node.parent, _ROW_SOURCES)


def _generator(node: exp.Func) -> bool:
    if isinstance(node, (exp.Unnest, exp.Explode, exp.Generator, exp.GenerateSeries, exp.ExplodingGenerateSeries)):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _GENERATORS


def _table_schema(table: exp.Table, ctes: set[str], text: str) -> list[tuple[str, str]]:
    name, db, catalog = table.args.get("this"), table.args.get("db"), table.args.get("catalog")
    if isinstance(name, exp.Func):  # a table function, checked as one
        return []
    if name is not None and not isinstance(name, exp.Identifier):
        raise refusal(f"{quote_statement(text)}: {table.sql('snowflake')} is not a table name.", SYNTAX)
    if catalog is None and db is None and name is not None and name_of(name) in ctes:
        return []
    if not isinstance(catalog, exp.Identifier) or not isinstance(db, exp.Identifier):
        raise refusal(f"{quote_statement(text)}: {table.sql('snowflake')} is not a qualified table name.", SYNTAX)
    if catalog.name.upper() in HIDDEN_CATALOGS or db.name.upper() in HIDDEN_SCHEMAS:
        raise unknown_schema(catalog.name, db.name)
    return [(catalog.name, db.name)]


def check_schemas(store, schemas: frozenset[tuple[str, str | None]]) -> None:
    """Refuse a statement that names a schema the store does not list for the user (it lists no
    ``_AIDEMO``; names are compared exactly, as Snowflake compares them, where DuckDB would not)."""
    for database, schema in sorted(schemas, key=lambda pair: (pair[0], pair[1] or "")):
        if not store.has_database(database):
            raise refusal(f"Database '{database}' does not exist or not authorized.", UNKNOWN_OBJECT)
        if schema is not None and not store.has_schema(database, schema):
            raise unknown_schema(database, schema)
