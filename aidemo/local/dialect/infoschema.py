"""Snowflake's INFORMATION_SCHEMA in every database, as subqueries the translator emits.

A reference to ``[db.]INFORMATION_SCHEMA.<VIEW>`` becomes a subquery over DuckDB's catalog
functions, scoped to that database (or the session's), with Snowflake's column names and
values, and without the service's own schema or DuckDB's. Only the translator can call
DuckDB's catalog functions: the subquery is marked trusted (:func:`aidemo.local.dialect.sandbox.trust`),
and user SQL calling them is refused as calling unknown functions.

TABLES, COLUMNS, SCHEMATA, VIEWS, DATABASES and PIPES hold rows; the other views a client may
probe answer with their columns and no rows, as Snowflake's do in an account without such objects.
"""

from __future__ import annotations

from sqlglot import exp, parse_one

from aidemo.local.dialect.sandbox import refusal, trust
from aidemo.local.dialect.sqltokens import quoted
from aidemo.local.engine import coltypes
from aidemo.local.engine.sqlerrors import UNKNOWN_OBJECT
from aidemo.local.process.home import ROLE
from aidemo.local.storage import identity
from aidemo.local.storage.catalog import META, SNOWFLAKE_TYPE_FUNCTION, literal

SCHEMA = "INFORMATION_SCHEMA"
_OWNER = literal(ROLE)
# Schemas and catalogs never listed: the service's own, and DuckDB's.
_HIDDEN = f"schema_name NOT IN ({literal(META)}, 'main', 'information_schema', 'pg_catalog')"

_DECLARED = f"coalesce(comment, {SNOWFLAKE_TYPE_FUNCTION}(data_type))"  # NUMBER(38,0), VARCHAR(20), ...
_BASE = f"regexp_extract({_DECLARED}, '^[A-Z_]+')"
_ARGUMENT = f"TRY_CAST(nullif(regexp_extract({_DECLARED}, '\\((\\d+)', 1), '') AS BIGINT)"
_SCALE = f"TRY_CAST(nullif(regexp_extract({_DECLARED}, ',(\\d+)\\)', 1), '') AS BIGINT)"

# An identity column's DEFAULT is a sequence of the service's (aidemo.local.storage.identity): never shown.
_PATTERN = identity.DEFAULT_PATTERN.replace("{", "{{").replace("}", "}}")
_IDENTITY = f"coalesce(regexp_matches(column_default, '{_PATTERN}'), false)"

_VIEWS = {
    "TABLES": f"""
        SELECT database_name AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, table_name AS TABLE_NAME,
            {_OWNER} AS TABLE_OWNER, CASE WHEN temporary THEN 'TEMPORARY TABLE' ELSE 'BASE TABLE' END AS TABLE_TYPE,
            'NO' AS IS_TRANSIENT, CAST(NULL AS VARCHAR) AS CLUSTERING_KEY, counts.n AS ROW_COUNT,
            CAST(NULL AS BIGINT) AS BYTES, 1 AS RETENTION_TIME, CAST(NULL AS VARCHAR) AS SELF_REFERENCING_COLUMN_NAME,
            CAST(NULL AS VARCHAR) AS REFERENCE_GENERATION, CAST(NULL AS VARCHAR) AS USER_DEFINED_TYPE_CATALOG,
            CAST(NULL AS VARCHAR) AS USER_DEFINED_TYPE_SCHEMA, CAST(NULL AS VARCHAR) AS USER_DEFINED_TYPE_NAME,
            'YES' AS IS_INSERTABLE_INTO, 'YES' AS IS_TYPED, CAST(NULL AS VARCHAR) AS COMMIT_ACTION,
            CAST(NULL AS TIMESTAMPTZ) AS CREATED, CAST(NULL AS TIMESTAMPTZ) AS LAST_ALTERED,
            CAST(NULL AS TIMESTAMPTZ) AS LAST_DDL, CAST(NULL AS VARCHAR) AS LAST_DDL_BY, 'NO' AS AUTO_CLUSTERING_ON,
            comment AS COMMENT, CASE WHEN temporary THEN 'YES' ELSE 'NO' END AS IS_TEMPORARY, 'NO' AS IS_ICEBERG,
            'NO' AS IS_DYNAMIC, 'NO' AS IS_IMMUTABLE, 'NO' AS IS_HYBRID
        FROM duckdb_tables() LEFT JOIN {{counts}} AS counts(s, t, n) ON counts.s = schema_name AND counts.t = table_name
        WHERE database_name = {{db}} AND {_HIDDEN}
        UNION ALL
        SELECT database_name, schema_name, view_name, {_OWNER}, 'VIEW', 'NO', NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, 'NO', 'YES', NULL, NULL, NULL, NULL, NULL, 'NO', comment, 'NO', 'NO', 'NO', 'NO', 'NO'
        FROM duckdb_views() WHERE NOT internal AND database_name = {{db}} AND {_HIDDEN}""",
    "COLUMNS": f"""
        SELECT database_name AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, table_name AS TABLE_NAME,
            column_name AS COLUMN_NAME, CAST(column_index AS BIGINT) AS ORDINAL_POSITION,
            CASE WHEN NOT {_IDENTITY} THEN column_default END AS COLUMN_DEFAULT,
            CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END AS IS_NULLABLE,
            CASE {_BASE} WHEN 'VARCHAR' THEN 'TEXT' ELSE {_BASE} END AS DATA_TYPE,
            CASE WHEN {_BASE} IN ('VARCHAR', 'BINARY') THEN {_ARGUMENT} END AS CHARACTER_MAXIMUM_LENGTH,
            CASE WHEN {_BASE} = 'VARCHAR' THEN least(4 * {_ARGUMENT}, 16777216)
                WHEN {_BASE} = 'BINARY' THEN {_ARGUMENT} END AS CHARACTER_OCTET_LENGTH,
            CASE WHEN {_BASE} = 'NUMBER' THEN {_ARGUMENT} END AS NUMERIC_PRECISION,
            CASE WHEN {_BASE} = 'NUMBER' THEN 10 END AS NUMERIC_PRECISION_RADIX,
            CASE WHEN {_BASE} = 'NUMBER' THEN coalesce({_SCALE}, 0) END AS NUMERIC_SCALE,
            CASE WHEN {_BASE} LIKE 'TIME%' THEN {_ARGUMENT} END AS DATETIME_PRECISION,
            CAST(NULL AS VARCHAR) AS INTERVAL_TYPE, CAST(NULL AS BIGINT) AS INTERVAL_PRECISION,
            CAST(NULL AS VARCHAR) AS CHARACTER_SET_CATALOG, CAST(NULL AS VARCHAR) AS CHARACTER_SET_SCHEMA,
            CAST(NULL AS VARCHAR) AS CHARACTER_SET_NAME, CAST(NULL AS VARCHAR) AS COLLATION_CATALOG,
            CAST(NULL AS VARCHAR) AS COLLATION_SCHEMA, CAST(NULL AS VARCHAR) AS COLLATION_NAME,
            CAST(NULL AS VARCHAR) AS DOMAIN_CATALOG, CAST(NULL AS VARCHAR) AS DOMAIN_SCHEMA,
            CAST(NULL AS VARCHAR) AS DOMAIN_NAME, CAST(NULL AS VARCHAR) AS UDT_CATALOG,
            CAST(NULL AS VARCHAR) AS UDT_SCHEMA, CAST(NULL AS VARCHAR) AS UDT_NAME,
            CAST(NULL AS VARCHAR) AS SCOPE_CATALOG, CAST(NULL AS VARCHAR) AS SCOPE_SCHEMA,
            CAST(NULL AS VARCHAR) AS SCOPE_NAME, CAST(NULL AS BIGINT) AS MAXIMUM_CARDINALITY,
            CAST(NULL AS VARCHAR) AS DTD_IDENTIFIER, 'NO' AS IS_SELF_REFERENCING,
            CASE WHEN {_IDENTITY} THEN 'YES' ELSE 'NO' END AS IS_IDENTITY,
            CASE WHEN {_IDENTITY} THEN 'BY DEFAULT' END AS IDENTITY_GENERATION,
            nullif(regexp_extract(column_default, '{_PATTERN}', 1), '') AS IDENTITY_START,
            nullif(regexp_extract(column_default, '{_PATTERN}', 2), '') AS IDENTITY_INCREMENT,
            CAST(NULL AS VARCHAR) AS IDENTITY_MAXIMUM, CAST(NULL AS VARCHAR) AS IDENTITY_MINIMUM,
            CASE WHEN {_IDENTITY} THEN 'NO' END AS IDENTITY_CYCLE,
            CASE regexp_extract(column_default, '{_PATTERN}', 3) WHEN 'ORDER' THEN 'YES' WHEN 'NOORDER' THEN 'NO' END
                AS IDENTITY_ORDERED, CAST(NULL AS VARCHAR) AS SCHEMA_EVOLUTION_RECORD,
            CAST(NULL AS VARCHAR) AS COMMENT, CAST(NULL AS VARCHAR) AS DATA_TYPE_ALIAS
        FROM duckdb_columns() WHERE NOT internal AND database_name = {{db}} AND {_HIDDEN}""",
    "SCHEMATA": f"""
        SELECT database_name AS CATALOG_NAME, schema_name AS SCHEMA_NAME, {_OWNER} AS SCHEMA_OWNER,
            'NO' AS IS_TRANSIENT, 'NO' AS IS_MANAGED_ACCESS, 1 AS RETENTION_TIME,
            CAST(NULL AS VARCHAR) AS DEFAULT_CHARACTER_SET_CATALOG,
            CAST(NULL AS VARCHAR) AS DEFAULT_CHARACTER_SET_SCHEMA,
            CAST(NULL AS VARCHAR) AS DEFAULT_CHARACTER_SET_NAME, CAST(NULL AS VARCHAR) AS SQL_PATH,
            CAST(NULL AS TIMESTAMPTZ) AS CREATED, CAST(NULL AS TIMESTAMPTZ) AS LAST_ALTERED,
            comment AS COMMENT, 'NO' AS REPLICABLE_WITH_FAILOVER_GROUPS, 'ROLE' AS OWNER_ROLE_TYPE
        FROM duckdb_schemas() WHERE database_name = {{db}} AND {_HIDDEN}
        UNION ALL SELECT {{db}}, '{SCHEMA}', NULL, 'NO', 'NO', 1, NULL, NULL, NULL, NULL, NULL, NULL,
            'Views describing the contents of schemas in this database', 'NO', NULL
        FROM duckdb_databases() WHERE database_name = {{db}}""",
    "VIEWS": f"""
        SELECT database_name AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, view_name AS TABLE_NAME,
            {_OWNER} AS TABLE_OWNER, coalesce(written, sql) AS VIEW_DEFINITION, 'NONE' AS CHECK_OPTION,
            'NO' AS IS_UPDATABLE,
            'NO' AS INSERTABLE_INTO, 'NO' AS IS_SECURE, CAST(NULL AS TIMESTAMPTZ) AS CREATED,
            CAST(NULL AS TIMESTAMPTZ) AS LAST_ALTERED, CAST(NULL AS TIMESTAMPTZ) AS LAST_DDL,
            CAST(NULL AS VARCHAR) AS LAST_DDL_BY, comment AS COMMENT
        FROM duckdb_views() LEFT JOIN (SELECT SCHEMA_NAME AS written_schema, VIEW_NAME AS written_view,
            TEXT AS written FROM {{meta}}.VIEW_TEXTS) ON written_schema = schema_name AND written_view = view_name
        WHERE NOT internal AND database_name = {{db}} AND {_HIDDEN}""",
    "DATABASES": f"""
        SELECT database_name AS DATABASE_NAME, {_OWNER} AS DATABASE_OWNER, 'NO' AS IS_TRANSIENT,
            comment AS COMMENT, CAST(NULL AS TIMESTAMPTZ) AS CREATED, CAST(NULL AS TIMESTAMPTZ) AS LAST_ALTERED,
            1 AS RETENTION_TIME, 'STANDARD' AS TYPE, 'NO' AS REPLICABLE_WITH_FAILOVER_GROUPS,
            'ROLE' AS OWNER_ROLE_TYPE
        FROM duckdb_databases() WHERE NOT internal AND path IS NOT NULL""",
    "PIPES": f"""
        SELECT DATABASE_NAME AS PIPE_CATALOG, SCHEMA_NAME AS PIPE_SCHEMA, PIPE_NAME, {_OWNER} AS PIPE_OWNER,
            DEFINITION, 'NO' AS IS_AUTOINGEST_ENABLED, CAST(NULL AS VARCHAR) AS NOTIFICATION_CHANNEL_NAME,
            make_timestamptz(CREATED_ON_MS * 1000) AS CREATED, make_timestamptz(CREATED_ON_MS * 1000) AS LAST_ALTERED,
            CAST(NULL AS VARCHAR) AS COMMENT, CAST(NULL AS VARCHAR) AS PATTERN, 'ROLE' AS OWNER_ROLE_TYPE
        FROM {{meta}}.PIPES""",
}

# Views with no rows here: their columns, as Snowflake's documentation lists them.
# fmt: off
_EMPTY = {
    "TABLE_CONSTRAINTS": "CONSTRAINT_CATALOG CONSTRAINT_SCHEMA CONSTRAINT_NAME TABLE_CATALOG TABLE_SCHEMA TABLE_NAME "
                         "CONSTRAINT_TYPE IS_DEFERRABLE INITIALLY_DEFERRED ENFORCED COMMENT CREATED LAST_ALTERED RELY",
    "REFERENTIAL_CONSTRAINTS": "CONSTRAINT_CATALOG CONSTRAINT_SCHEMA CONSTRAINT_NAME UNIQUE_CONSTRAINT_CATALOG "
                               "UNIQUE_CONSTRAINT_SCHEMA UNIQUE_CONSTRAINT_NAME MATCH_OPTION UPDATE_RULE DELETE_RULE "
                               "COMMENT CREATED LAST_ALTERED",
    "FUNCTIONS": "FUNCTION_CATALOG FUNCTION_SCHEMA FUNCTION_NAME FUNCTION_OWNER ARGUMENT_SIGNATURE DATA_TYPE "
                 "CHARACTER_MAXIMUM_LENGTH CHARACTER_OCTET_LENGTH NUMERIC_PRECISION NUMERIC_PRECISION_RADIX "
                 "NUMERIC_SCALE FUNCTION_LANGUAGE FUNCTION_DEFINITION VOLATILITY IS_NULL_CALL IS_SECURE CREATED "
                 "LAST_ALTERED COMMENT IS_EXTERNAL API_INTEGRATION CONTEXT_HEADERS MAX_BATCH_ROWS COMPRESSION "
                 "PACKAGES RUNTIME_VERSION INSTALLED_PACKAGES IS_MEMOIZABLE",
    "PROCEDURES": "PROCEDURE_CATALOG PROCEDURE_SCHEMA PROCEDURE_NAME PROCEDURE_OWNER ARGUMENT_SIGNATURE DATA_TYPE "
                  "CHARACTER_MAXIMUM_LENGTH CHARACTER_OCTET_LENGTH NUMERIC_PRECISION NUMERIC_PRECISION_RADIX "
                  "NUMERIC_SCALE PROCEDURE_LANGUAGE PROCEDURE_DEFINITION CREATED LAST_ALTERED COMMENT",
    "STAGES": "STAGE_CATALOG STAGE_SCHEMA STAGE_NAME STAGE_URL STAGE_REGION STAGE_TYPE STAGE_OWNER COMMENT CREATED "
              "LAST_ALTERED OWNER_ROLE_TYPE DIRECTORY_ENABLED",
    "FILE_FORMATS": "FILE_FORMAT_CATALOG FILE_FORMAT_SCHEMA FILE_FORMAT_NAME FILE_FORMAT_OWNER FILE_FORMAT_TYPE "
                    "RECORD_DELIMITER FIELD_DELIMITER SKIP_HEADER DATE_FORMAT TIME_FORMAT TIMESTAMP_FORMAT "
                    "BINARY_FORMAT ESCAPE ESCAPE_UNENCLOSED_FIELD TRIM_SPACE FIELD_OPTIONALLY_ENCLOSED_BY NULL_IF "
                    "COMPRESSION ERROR_ON_COLUMN_COUNT_MISMATCH CREATED LAST_ALTERED COMMENT",
    "SEQUENCES": "SEQUENCE_CATALOG SEQUENCE_SCHEMA SEQUENCE_NAME SEQUENCE_OWNER DATA_TYPE NUMERIC_PRECISION "
                 "NUMERIC_PRECISION_RADIX NUMERIC_SCALE START_VALUE MINIMUM_VALUE MAXIMUM_VALUE NEXT_VALUE INCREMENT "
                 "CYCLE_OPTION CREATED LAST_ALTERED ORDERED COMMENT",
    "EVENT_TABLES": "TABLE_CATALOG TABLE_SCHEMA TABLE_NAME TABLE_OWNER ROW_COUNT BYTES CREATED LAST_ALTERED COMMENT",
    "EXTERNAL_TABLES": "TABLE_CATALOG TABLE_SCHEMA TABLE_NAME TABLE_OWNER CREATED LAST_ALTERED COMMENT LOCATION "
                       "FILE_FORMAT_NAME FILE_FORMAT_TYPE",
    "MODEL_VERSIONS": "DATABASE_NAME SCHEMA_NAME MODEL_NAME MODEL_VERSION_NAME VERSION_ALIASES COMMENT OWNER CREATED "
                      "LAST_ALTERED FUNCTIONS MODEL_TYPE PYTHON_VERSION LANGUAGE DEPENDENCIES METADATA USERDATA",
    "OBJECT_PRIVILEGES": "GRANTOR GRANTEE OBJECT_CATALOG OBJECT_SCHEMA OBJECT_NAME OBJECT_TYPE PRIVILEGE_TYPE "
                         "IS_GRANTABLE CREATED",
    "TABLE_PRIVILEGES": "GRANTOR GRANTEE TABLE_CATALOG TABLE_SCHEMA TABLE_NAME PRIVILEGE_TYPE IS_GRANTABLE "
                        "WITH_HIERARCHY CREATED",
}
# fmt: on


def view(name: str, database: str, alias: exp.TableAlias | None) -> exp.Subquery:
    """The subquery that stands for ``database.INFORMATION_SCHEMA.name``, named ``alias`` (else the view's name).

    Raises Snowflake's "does not exist" error for a view it does not know.
    """
    if name in _VIEWS:
        meta = f'"{database.replace(chr(34), chr(34) * 2)}".{META}'
        sql = _VIEWS[name].format(db=literal(database), meta=meta, counts=_counts(database))
    elif name in _EMPTY:
        sql = "SELECT " + ", ".join(f"CAST(NULL AS VARCHAR) AS {column}" for column in _EMPTY[name].split())
        sql += " WHERE FALSE"
    else:
        raise refusal(f"Object '{database}.{SCHEMA}.{name}' does not exist or not authorized.", UNKNOWN_OBJECT)
    query = parse_one(sql, read="duckdb")
    for identifier in query.find_all(exp.Identifier):
        identifier.set("quoted", True)  # as written: Snowflake's normalisation must not change them
    subquery = exp.Subquery(this=query, alias=alias or exp.TableAlias(this=quoted(name)))
    subquery.meta["database"] = database
    return trust(subquery)


def _counts(database: str) -> str:
    """The exact row count of each table, as rows (schema, table, n) computed when the statement is
    translated; with no catalog at hand, no rows, so ROW_COUNT is NULL rather than an estimate."""
    counts = coltypes.row_counts(database)
    if not counts:
        return "(SELECT CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS BIGINT) WHERE FALSE)"
    return "(VALUES " + ", ".join(f"({literal(s)}, {literal(t)}, {int(n)})" for s, t, n in counts) + ")"
