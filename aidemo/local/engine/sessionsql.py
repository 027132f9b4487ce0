"""SQL that reads the session: CURRENT_ROLE() and its kin, ``$name``, SHOW PARAMETERS / VARIABLES /
WAREHOUSES / USERS / ROLES. The service has one account, one user and no warehouses; these answer
what the session says it is (the names USE ROLE / USE WAREHOUSE and the login gave it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from aidemo.local.dialect.sqltokens import quote_statement
from aidemo.local.engine.sqlresults import Result, like
from aidemo.local.engine.sqlsession import PARAMETERS, REGION, UNKNOWN_VARIABLE, VERSION, Session
from aidemo.local.errors import SnowflakeError
from aidemo.local.process.home import ACCOUNT

# Functions whose value is a fact of the session, by sqlglot expression type or (Anonymous) name.
_FACTS: dict[type | str, Callable[[Session], str | None]] = {
    exp.CurrentDatabase: lambda s: s.database,
    exp.CurrentSchema: lambda s: s.schema,
    exp.CurrentRole: lambda s: s.role,
    exp.CurrentUser: lambda s: s.user,
    exp.CurrentWarehouse: lambda s: s.warehouse,
    exp.CurrentAccount: lambda s: ACCOUNT,
    exp.CurrentRegion: lambda s: REGION,
    exp.CurrentSession: lambda s: str(s.id),
    exp.CurrentVersion: lambda s: VERSION,
    "CURRENT_ACCOUNT_NAME": lambda s: ACCOUNT,
    "CURRENT_SECONDARY_ROLES": lambda s: '{"roles":"","value":""}',
    "CURRENT_AVAILABLE_ROLES": lambda s: f'["{s.role}"]',
    # Statements run to completion before their reply: a session has nothing to cancel.
    "SYSTEM$CANCEL_ALL_QUERIES": lambda s: "0 queries were canceled.",
}
_ZONED = {exp.CurrentDate: "DATE", exp.CurrentTime: "TIME", exp.Localtime: "TIME"}  # in the session's TIMEZONE
_WALL_CLOCK_TYPES = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)


def session_value(node: exp.Expression, session: Session, text: str) -> exp.Expression | None:
    """The literal that stands for ``node`` in ``session``, or None if it is no session fact."""
    if isinstance(node, exp.Parameter):
        return _variable(node, session, text)
    key = node.name.upper() if isinstance(node, exp.Anonymous) else type(node)
    if key in _FACTS:
        value = _FACTS[key](session)
        return exp.Literal.string(value) if value is not None else exp.null()
    if type(node) in _ZONED and not node.args.get("this"):
        return exp.cast(_wall_clock(session), _ZONED[type(node)])
    if isinstance(node, exp.Cast) and _is_now(node.this) and node.to.this in _WALL_CLOCK_TYPES:
        return exp.cast(_wall_clock(session), node.to.copy())  # CURRENT_TIMESTAMP()::TIMESTAMP_NTZ
    return None


def _wall_clock(session: Session) -> exp.Expression:
    """The current time as a TIMESTAMP without time zone, in the session's TIMEZONE."""
    return exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string(session.parameter("TIMEZONE")))


def _is_now(node: exp.Expression) -> bool:
    return isinstance(node, exp.CurrentTimestamp) and not node.args.get("sysdate") and not node.args.get("this")


def _variable(node: exp.Parameter, session: Session, text: str) -> exp.Expression | None:
    if not isinstance(node.this, exp.Var):
        return None  # $1 and the like: positional columns of a pipe's SELECT, not variables
    name = node.this.name.upper()
    variable = session.variables.get(name)
    if variable is None:
        raise SnowflakeError(UNKNOWN_VARIABLE, f"{quote_statement(text)}: Session variable '${name}' does not exist")
    return sqlglot.parse_one(variable.literal, read="snowflake")


def show(session: Session, what: str, pattern: str | None) -> Result:
    """SHOW PARAMETERS / VARIABLES / WAREHOUSES / USERS / ROLES, with Snowflake's columns."""
    rows, columns = _SHOW[what](session)
    key = columns.index(_KEY[what])
    return Result([(name, "VARCHAR") for name in columns], [r for r in rows if like(r[key], pattern)])


def _parameters(s: Session):
    columns = ["key", "value", "default", "level", "description", "type"]
    rows = [
        (name, s.parameter(name), default, "SESSION" if name in s.parameters else "", "", kind)
        for name, (default, kind) in sorted(PARAMETERS.items())
    ]
    return rows, columns


def _variables(s: Session):
    columns = ["session_id", "created_on", "updated_on", "name", "value", "type", "comment"]
    rows = []
    for name, v in sorted(s.variables.items()):
        at = dt.datetime.fromtimestamp(v.created_on, dt.UTC).isoformat(" ")
        value = sqlglot.parse_one(v.literal, read="snowflake")
        shown = value.this.name if isinstance(value, exp.Cast) else value.name if value.is_string else value.sql()
        rows.append((str(s.id), at, at, name, shown, v.type, ""))
    return rows, columns


def _warehouses(s: Session):
    columns = ["name", "state", "type", "size", "running", "queued", "is_default", "is_current", "auto_suspend",
               "auto_resume", "created_on", "owner", "comment"]  # fmt: skip
    rows = [(s.warehouse, "STARTED", "STANDARD", "X-Small", "0", "0", "Y", "Y", "600", "true", "", s.role, "")]
    return (rows if s.warehouse else []), columns


def _users(s: Session):
    columns = ["name", "created_on", "login_name", "display_name", "first_name", "last_name", "email", "comment",
               "disabled", "default_warehouse", "default_namespace", "default_role", "owner",
               "has_rsa_public_key"]  # fmt: skip
    row = (s.user, "", s.user, s.user, "", "", "", "", "false", s.warehouse or "", "", s.role, s.role, "true")
    return [row], columns


def _roles(s: Session):
    columns = ["created_on", "name", "is_default", "is_current", "is_inherited", "assigned_to_users",
               "granted_to_roles", "granted_roles", "owner", "comment"]  # fmt: skip
    return [("", s.role, "Y", "Y", "N", "1", "0", "0", "", "")], columns


_SHOW = {"PARAMETERS": _parameters, "VARIABLES": _variables, "WAREHOUSES": _warehouses, "USERS": _users,
         "ROLES": _roles}  # fmt: skip
_KEY = {"PARAMETERS": "key", "VARIABLES": "name", "WAREHOUSES": "name", "USERS": "name", "ROLES": "name"}
