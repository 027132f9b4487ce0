"""Snowflake's date functions that sqlglot's DuckDB SQL answers otherwise, as sqlglot transforms
(merged into :data:`aidemo.local.dialect.functions.TRANSFORMS`)."""

from __future__ import annotations

import re

from sqlglot import exp

_MONTH_SECONDS = 31 * 86400  # MONTHS_BETWEEN counts a month's fraction in 31-day months
_MONTHS_BETWEEN = exp.DataType.build("DECIMAL(38, 6)")
_T = exp.DataType.Type
NTZ = frozenset({_T.TIMESTAMP, _T.TIMESTAMPNTZ, _T.DATETIME})  # sqlglot's types of a TIMESTAMP_NTZ
TIMESTAMPS = NTZ | {_T.TIMESTAMPLTZ, _T.TIMESTAMPTZ}
TEXT = frozenset({_T.VARCHAR, _T.TEXT, _T.CHAR, _T.NVARCHAR, _T.NCHAR})
# A UTC offset after a space at the end of a timestamp's text ('... 10:00:00 +02:00', '... -0530').
_SPACED_OFFSET = r"(\d) +([+-]\d{2}(:?\d{2})?)$"


def _month_number(ts: exp.Expression) -> exp.Expression:
    year = exp.Mul(this=exp.Year(this=ts.copy()), expression=exp.Literal.number(12))
    return exp.paren(exp.Add(this=year, expression=exp.Month(this=ts.copy())))


def _into_month(ts: exp.Expression) -> exp.Expression:
    """Seconds from the start of ``ts``'s month (its day and time of day)."""
    start = exp.func("date_trunc", exp.Literal.string("month"), ts.copy())
    return exp.paren(exp.Sub(this=exp.func("epoch", ts.copy()), expression=exp.func("epoch", start)))


def _last_day(ts: exp.Expression) -> exp.Expression:
    return exp.EQ(this=exp.cast(ts.copy(), "DATE"), expression=exp.LastDay(this=ts.copy()))


def months_between(node: exp.MonthsBetween) -> exp.Expression:
    """MONTHS_BETWEEN(d1, d2): whole months from the year and month parts, and a fraction from the
    day and time parts in 31-day months, none when the days of the month are the same or both
    the last of their month; a NUMBER(38, 6) as Snowflake answers it (sqlglot's DuckDB SQL drops
    the time of day and answers a DOUBLE)."""
    later, earlier = (exp.cast(arg.copy(), "TIMESTAMP") for arg in (node.this, node.expression))
    months = exp.Sub(this=_month_number(later), expression=_month_number(earlier))
    whole = exp.or_(
        exp.EQ(this=exp.Day(this=later.copy()), expression=exp.Day(this=earlier.copy())),
        exp.and_(_last_day(later), _last_day(earlier)),
    )
    fraction = exp.Div(
        this=exp.paren(exp.Sub(this=_into_month(later), expression=_into_month(earlier))),
        expression=exp.Literal.number(_MONTH_SECONDS),
    )
    value = exp.Add(
        this=months, expression=exp.Case(ifs=[exp.If(this=whole, true=exp.Literal.number(0))], default=fraction)
    )
    result = exp.Cast(this=exp.Round(this=value, decimals=exp.Literal.number(6)), to=_MONTHS_BETWEEN.copy())
    result.type = _MONTHS_BETWEEN.copy()
    return result


def timestamp_text(node: exp.Cast) -> exp.Expression:
    """Text cast to a timestamp with a space before its UTC offset ('2024-01-31 10:00:00 +02:00'), which
    Snowflake reads as that offset and DuckDB as a time zone it does not know: the offset joined to
    the time, in a literal as the service runs it, in a text column by ``regexp_replace``."""
    to, value = node.args.get("to"), node.this
    if not (isinstance(to, exp.DataType) and to.this in TIMESTAMPS):
        return node
    if isinstance(value, exp.Literal) and value.is_string:
        node.set("this", exp.Literal.string(re.sub(_SPACED_OFFSET, r"\1\2", value.name)))
    elif value.type is not None and value.type.this in TEXT:
        joined = exp.Literal.string(r"\1\2")
        node.set("this", exp.func("regexp_replace", value, exp.Literal.string(_SPACED_OFFSET), joined))
    return node


TRANSFORMS = {exp.MonthsBetween: months_between}
