"""What one SQL session is: its context, its identity, its parameters and variables.

A connector session keeps one :class:`Session` for its lifetime (kept in the home across
restarts, see :mod:`aidemo.local.http.sessions`); a SQL API request builds one from its body.
USE, ALTER SESSION and SET change it; CURRENT_ROLE() and the like, ``$name`` and SHOW
PARAMETERS / VARIABLES read it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo
from dataclasses import dataclass, field

from aidemo.local.engine.sqlerrors import unsupported
from aidemo.local.errors import SnowflakeError, SqlError
from aidemo.local.process.home import ROLE, USER
from aidemo.local.storage.catalog import normalize

VERSION = "9.40.1"  # what CURRENT_VERSION() answers: Snowflake's major.minor.patch shape
REGION = "LOCAL"  # CURRENT_REGION(): the service runs on this machine, in no cloud region

# ALTER SESSION parameters the service keeps: name -> (default, type as SHOW PARAMETERS names it).
# Those whose value changes what SQL means or answers (QUOTED_IDENTIFIERS_IGNORE_CASE, WEEK_START,
# input and output formats, ROWS_PER_RESULTSET, ...) take their default only (see :data:`FIXED`):
# a value the service would not apply is refused rather than ignored.
PARAMETERS = {
    "AUTOCOMMIT": ("true", "BOOLEAN"),
    "TIMEZONE": ("UTC", "STRING"),
    "QUERY_TAG": ("", "STRING"),
    "USE_CACHED_RESULT": ("true", "BOOLEAN"),
    "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": ("ARROW", "STRING"),
    "QUERY_RESULT_FORMAT": ("JSON", "STRING"),
    "TIMESTAMP_OUTPUT_FORMAT": ("YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM", "STRING"),
    "TIMESTAMP_NTZ_OUTPUT_FORMAT": ("YYYY-MM-DD HH24:MI:SS.FF3", "STRING"),
    "TIMESTAMP_LTZ_OUTPUT_FORMAT": ("", "STRING"),
    "TIMESTAMP_TZ_OUTPUT_FORMAT": ("", "STRING"),
    "DATE_OUTPUT_FORMAT": ("YYYY-MM-DD", "STRING"),
    "TIME_OUTPUT_FORMAT": ("HH24:MI:SS", "STRING"),
    "BINARY_OUTPUT_FORMAT": ("HEX", "STRING"),
    "STATEMENT_TIMEOUT_IN_SECONDS": ("172800", "NUMBER"),
    "LOCK_TIMEOUT": ("43200", "NUMBER"),
    "ROWS_PER_RESULTSET": ("0", "NUMBER"),
    "ABORT_DETACHED_QUERY": ("false", "BOOLEAN"),
    "CLIENT_RESULT_CHUNK_SIZE": ("160", "NUMBER"),
    "MULTI_STATEMENT_COUNT": ("1", "NUMBER"),
    "JSON_INDENT": ("2", "NUMBER"),
    "ERROR_ON_NONDETERMINISTIC_MERGE": ("true", "BOOLEAN"),
    "ERROR_ON_NONDETERMINISTIC_UPDATE": ("false", "BOOLEAN"),
    "TRANSACTION_DEFAULT_ISOLATION_LEVEL": ("READ COMMITTED", "STRING"),
    "QUOTED_IDENTIFIERS_IGNORE_CASE": ("false", "BOOLEAN"),
    "WEEK_START": ("0", "NUMBER"),
    "WEEK_OF_YEAR_POLICY": ("0", "NUMBER"),
    "TIMESTAMP_TYPE_MAPPING": ("TIMESTAMP_NTZ", "STRING"),
    "TIMESTAMP_INPUT_FORMAT": ("AUTO", "STRING"),
    "DATE_INPUT_FORMAT": ("AUTO", "STRING"),
    "TIME_INPUT_FORMAT": ("AUTO", "STRING"),
    "CLIENT_TIMESTAMP_TYPE_MAPPING": ("TIMESTAMP_LTZ", "STRING"),
}
INVALID_PARAMETER = ("001008", "22023")
INVALID_VALUE = ("002154", "22023")
UNKNOWN_VARIABLE = ("002211", "02000")
FIXED = frozenset(
    ("QUOTED_IDENTIFIERS_IGNORE_CASE", "WEEK_START", "WEEK_OF_YEAR_POLICY", "TIMESTAMP_TYPE_MAPPING",
     "TIMESTAMP_INPUT_FORMAT", "DATE_INPUT_FORMAT", "TIME_INPUT_FORMAT", "TRANSACTION_DEFAULT_ISOLATION_LEVEL",
     "TIMESTAMP_OUTPUT_FORMAT", "TIMESTAMP_NTZ_OUTPUT_FORMAT", "TIMESTAMP_LTZ_OUTPUT_FORMAT",
     "TIMESTAMP_TZ_OUTPUT_FORMAT", "DATE_OUTPUT_FORMAT", "TIME_OUTPUT_FORMAT", "BINARY_OUTPUT_FORMAT",
     "ROWS_PER_RESULTSET")
)  # fmt: skip


@dataclass
class Variable:
    """A session variable: its value as a Snowflake literal (``1``, ``'x'``, ``'2024-01-02'::DATE``) and type."""

    literal: str
    type: str
    created_on: float


@dataclass
class Session:
    """The state of one SQL session: current database and schema, which USE statements set, who
    it is (user, role, warehouse, id), the ALTER SESSION parameters set and the SET variables."""

    database: str | None = None
    schema: str | None = None
    user: str = USER
    role: str = ROLE
    warehouse: str | None = None
    id: int = 0
    parameters: dict[str, str] = field(default_factory=dict)  # only those set, by name
    variables: dict[str, Variable] = field(default_factory=dict)
    # (database, schema, table) of each CREATE TEMPORARY TABLE: dropped when the session ends.
    temporary_tables: list[tuple[str, str, str]] = field(default_factory=list)
    # The StageRef of each CREATE TEMPORARY STAGE or FILE FORMAT: dropped when the session ends.
    temporary_stages: list = field(default_factory=list)
    # The open transaction (aidemo.local.engine.transactions.Transaction), which ends with the session.
    transaction: object | None = field(default=None, repr=False, compare=False)

    @classmethod
    def named(cls, database, schema, **identity) -> Session:
        """A session in ``database.schema`` as a client names them (unquoted names upper-case)."""
        for what, value in (("database", database), ("schema", schema)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise SqlError(f"the {what} must be a name, not {value!r}")
        return cls(database and normalize(database.strip()), schema and normalize(schema.strip()), **identity)

    def parameter(self, name: str) -> str:
        """A parameter's value in this session (its default unless ALTER SESSION set it)."""
        return self.parameters.get(name, PARAMETERS[name][0])

    @property
    def autocommit(self) -> bool:
        return self.parameter("AUTOCOMMIT").lower() == "true"

    def set_parameter(self, name: str, value: str | None) -> None:
        """ALTER SESSION SET (``value``) or UNSET (None) one parameter; Snowflake's error for an unknown one."""
        if name not in PARAMETERS:
            raise SnowflakeError(INVALID_PARAMETER, f"invalid parameter '{name}'")
        if value is None:
            self.parameters.pop(name, None)
            return
        kind = PARAMETERS[name][1]
        if kind == "BOOLEAN":
            if value.lower() not in ("true", "false"):
                raise SnowflakeError(INVALID_VALUE, f"invalid value [{value}] for parameter '{name}'")
            value = value.lower()
        elif kind == "NUMBER" and not value.lstrip("-").isdigit():
            raise SnowflakeError(INVALID_VALUE, f"invalid value [{value}] for parameter '{name}'")
        elif name == "TIMEZONE":
            _check_timezone(value)
        if name in FIXED and value.upper() != PARAMETERS[name][0].upper():
            raise unsupported(f"ALTER SESSION SET {name} = {value}", f"the local service runs with {name} = "
                              f"{PARAMETERS[name][0]} only")  # fmt: skip
        self.parameters[name] = value


def literal_of(value) -> tuple[str, str]:
    """(Snowflake literal, Snowflake type) of a value that a SET expression evaluated to."""
    if value is None:
        return "NULL", "NULL"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), "BOOLEAN"
    if isinstance(value, int):
        return str(value), "NUMBER"
    if isinstance(value, decimal.Decimal):
        return format(value, "f"), "NUMBER"
    if isinstance(value, float):
        return f"{value!r}::FLOAT", "FLOAT"
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMP_NTZ" if value.tzinfo is None else "TIMESTAMP_LTZ"
        return f"'{value.isoformat(' ')}'::{kind}", kind
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'::DATE", "DATE"
    if isinstance(value, dt.time):
        return f"'{value.isoformat()}'::TIME", "TIME"
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'", "VARCHAR"


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SnowflakeError(INVALID_VALUE, f"invalid value ['{name}'] for parameter 'TIMEZONE'") from None
