"""Snowflake's date functions that sqlglot's DuckDB SQL answers otherwise, as sqlglot transforms
(merged into :data:`aidemo.local.functions.TRANSFORMS`)."""

from __future__ import annotations

from sqlglot import exp

_MONTH_SECONDS = 31 * 86400  # MONTHS_BETWEEN counts a month's fraction in 31-day months
_MONTHS_BETWEEN = exp.DataType.build("DECIMAL(38, 6)")


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


TRANSFORMS = {exp.MonthsBetween: months_between}
