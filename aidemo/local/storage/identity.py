"""Identity columns: ``AUTOINCREMENT`` / ``IDENTITY`` [``(start, step)`` | ``START s INCREMENT i``]
[``ORDER | NOORDER``], as SQLAlchemy writes for an integer primary key.

A column's numbers come from a DuckDB sequence of its own in the database's ``_AIDEMO`` schema,
its column's DEFAULT ``nextval(...)``; the sequence's name carries what Snowflake reports of the
column (``IDENTITY_<start>_<increment>_<ORDER|NOORDER>_<id>``), so that DESC TABLE, SHOW COLUMNS
and INFORMATION_SCHEMA.COLUMNS answer Snowflake's ``IDENTITY START 1 INCREMENT 1 ORDER`` and never
the sequence. :mod:`aidemo.local.storage.catalog` drops a sequence once no column uses it.
"""

from __future__ import annotations

import re
import uuid

from sqlglot import exp

from aidemo.local.errors import SqlError
from aidemo.local.storage.catalog import META, quote

PREFIX = "IDENTITY_"
# DuckDB's spelling of an identity column's DEFAULT: nextval('"db"."_AIDEMO"."IDENTITY_1_1_ORDER_<id>"')
DEFAULT = re.compile(rf"nextval\('\"[^']*\"\.{META}\.\"{PREFIX}(-?\d+)_(-?\d+)_(ORDER|NOORDER)_[0-9a-f]+\"'\)", re.I)
#: the same, for SQL over duckdb_columns(): its groups 1-3 are start, increment and ORDER | NOORDER
DEFAULT_PATTERN = "(?i)" + DEFAULT.pattern.replace("'", "''")
_LIMITS = "MINVALUE -9223372036854775808 MAXVALUE 9223372036854775807"  # either direction, as Snowflake


def transform(tree: exp.Expression, database: str) -> list[str]:
    """Give each identity column of a CREATE TABLE in ``database`` a DEFAULT from a new sequence;
    the statements that create those sequences, to run before the CREATE TABLE."""
    sequences = []
    for constraint in list(tree.find_all(exp.ColumnConstraint)):
        kind = constraint.args.get("kind")
        if not isinstance(kind, (exp.AutoIncrementColumnConstraint, exp.GeneratedAsIdentityColumnConstraint)):
            continue
        start, increment = (_number(kind.args.get(part), 1) for part in ("start", "increment"))
        if increment == 0:
            raise SqlError("an identity column's INCREMENT cannot be 0")
        order = "NOORDER" if kind.args.get("order") is False else "ORDER"
        name = f"{quote(database)}.{META}.{quote(f'{PREFIX}{start}_{increment}_{order}_{uuid.uuid4().hex}')}"
        sequences.append(f"CREATE SEQUENCE {name} START WITH {start} INCREMENT BY {increment} {_LIMITS}")
        nextval = exp.Anonymous(this="nextval", expressions=[exp.Literal.string(name)])
        constraint.replace(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=nextval)))
    return sequences


def described(default: str | None) -> str | None:
    """Snowflake's text for an identity column's DEFAULT (``IDENTITY START 1 INCREMENT 1 ORDER``), else None."""
    match = DEFAULT.fullmatch(default or "")
    return f"IDENTITY START {match[1]} INCREMENT {match[2]} {match[3]}" if match else None


def _number(literal: exp.Expression | None, default: int) -> int:
    if literal is None:
        return default
    value = literal.this if isinstance(literal, exp.Neg) else literal
    if not (isinstance(value, exp.Literal) and value.is_int):
        raise SqlError("an identity column's START and INCREMENT are integers")
    return -int(value.name) if isinstance(literal, exp.Neg) else int(value.name)
