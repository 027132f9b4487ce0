"""Snowflake's scalar, aggregate and window functions as sqlglot transforms to DuckDB.

sqlglot's Snowflake dialect parses these into its own expressions and its DuckDB generator
writes DuckDB's namesakes, which answer differently: TO_CHAR drops its format, DATEADD on a
DATE gives a TIMESTAMP, ``/`` and AVG give a DOUBLE, HASH an unsigned integer, division by zero
infinity. :func:`transform` rewrites a parsed statement bottom-up, one function per construct
(:data:`TRANSFORMS`), so that DuckDB answers Snowflake's value with Snowflake's type.

Types come from sqlglot's type annotation of the Snowflake tree (literals, casts, functions) and
from :mod:`aidemo.local.engine.coltypes` (columns of tables, views, CTEs and subqueries); a construct
whose answer depends on a type that is still unknown keeps DuckDB's answer of the same value
(DATEADD of such a DATE gives a TIMESTAMP at midnight, AVG a FLOAT).
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from aidemo.local.dialect import datefunctions, numformat
from aidemo.local.engine import coltypes
from aidemo.local.engine.sqlerrors import unsupported

_T = exp.DataType.Type
_INTEGERS = {_T.TINYINT, _T.SMALLINT, _T.INT, _T.BIGINT, _T.INT128, _T.UBIGINT, _T.UINT}
_NTZ, _TIMESTAMPS, _TEXT = datefunctions.NTZ, datefunctions.TIMESTAMPS, datefunctions.TEXT
_DAY_OR_LARGER = {"DAY": 1, "DAYS": 1, "D": 1, "WEEK": 7, "WEEKS": 7, "W": 7}
_MONTHS = {"MONTH": 1, "MONTHS": 1, "MM": 1, "MON": 1, "QUARTER": 3, "QUARTERS": 3, "Q": 3, "YEAR": 12, "YEARS": 12}
_YEARS = {"Y", "YY", "YYY", "YYYY", "YR", "YRS"}
_SAME_TYPE = (exp.Paren, exp.Min, exp.Max, exp.AnyValue, exp.Sum)  # what has its argument's type (and scale)
_SCALE = "snowflake_scale"  # meta key: the Snowflake scale of a fixed-point result built here
_MAX_SCALE = 12  # Snowflake adds up to 6 digits of scale to a quotient, up to 12 in all

# Snowflake's date and time format elements, longest first, as DuckDB strftime codes.
_DATE_FORMAT = [
    ("YYYY", "%Y"),
    ("YY", "%y"),
    ("MMMM", "%B"),
    ("MON", "%b"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("DY", "%a"),
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("HH", "%I"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("FF9", "%n"),
    ("FF6", "%f"),
    ("FF3", "%g"),
    ("FF", "%n"),
    ("TZH:TZM", "%z"),
]
_FORMAT_ELEMENT = re.compile("|".join(re.escape(e) for e, _ in _DATE_FORMAT) + r'|"[^"]*"|[A-Za-z]+|.', re.IGNORECASE)
_LITERAL_FORMAT_CHARS = set(" -/:.,;_T")
_TIMESTAMP_TEXT = "%Y-%m-%d %H:%M:%S.%g"  # Snowflake's TIMESTAMP_NTZ_OUTPUT_FORMAT, YYYY-MM-DD HH24:MI:SS.FF3


def transform(tree: exp.Expression, database: str | None = None, schema: str | None = None) -> None:
    """Rewrite the Snowflake functions of a parsed statement in place (children first); its
    columns are typed from the catalog where :func:`aidemo.local.engine.coltypes.reading` gives one."""
    if not any(isinstance(node, _TYPED) for node in tree.walk()):
        _rewrite(tree)
        return
    try:
        annotate_types(tree, dialect="snowflake")
    except Exception:  # a tree sqlglot cannot type is translated without what types would tell
        pass
    coltypes.annotate(tree, database, schema)
    _rewrite(tree)


def _rewrite(node: exp.Expression) -> None:
    for child in list(node.iter_expressions()):
        _rewrite(child)
    handler = TRANSFORMS.get(type(node))
    if handler is None and isinstance(node, exp.Anonymous):
        handler = _ANONYMOUS.get(node.name.upper())
    if handler is not None and node.parent is not None:
        rewritten = handler(node)
        if rewritten is not node:
            if _type(rewritten) is None:  # the constructs around it still know what it is
                rewritten.type = node.type
            node.replace(rewritten)


# ---- what is known of a value's type ----------------------------------------------------------


def _type(node: exp.Expression) -> exp.DataType | None:
    if isinstance(node, _SAME_TYPE):  # typed before the columns in them were
        return _type(node.this)
    kind = node.type
    return None if kind is None or kind.this in (_T.UNKNOWN, _T.NULL) else kind


def _is_date(node: exp.Expression) -> bool:
    kind = _type(node)
    return kind is not None and kind.this == _T.DATE


def _is_timestamp(node: exp.Expression, kinds=_TIMESTAMPS) -> bool:
    kind = _type(node)
    return kind is not None and kind.this in kinds


def _scale(node: exp.Expression) -> int | None:
    """The scale of a fixed-point value, where it is known; None for floats and unknown types."""
    if node.meta and _SCALE in node.meta:
        return node.meta[_SCALE]
    if isinstance(node, (*_SAME_TYPE, exp.Neg)):
        return _scale(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = node.name
        if "e" in text.lower():
            return None
        return len(text.partition(".")[2])
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = _scale(node.this), _scale(node.expression)
        return None if left is None or right is None else max(left, right)
    if isinstance(node, exp.Mul):
        left, right = _scale(node.this), _scale(node.expression)
        return None if left is None or right is None else min(left + right, max(left, right, _MAX_SCALE))
    kind = _type(node)
    if kind is None:
        return None
    if kind.this in _INTEGERS:
        return 0
    if kind.this == _T.DECIMAL and isinstance(node, (exp.Cast, exp.TryCast, exp.Column)):
        params = [int(p.name) for p in kind.expressions]
        return params[1] if len(params) > 1 else 0
    return None


def _fixed(node: exp.Expression, scale: int) -> exp.Expression:
    """``node`` as Snowflake's NUMBER(38, scale), marked with its scale."""
    cast = exp.Cast(this=node.copy(), to=exp.DataType.build(f"DECIMAL(38, {scale})"))  # exp.cast keeps a DECIMAL cast
    cast.meta[_SCALE] = scale
    return cast


def _quotient_scale(numerator: int) -> int:
    """Snowflake's scale of a quotient whose numerator has ``numerator`` digits of scale."""
    return max(numerator, min(numerator + 6, _MAX_SCALE))


def _unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "DAY").upper()


# ---- the transforms, one per construct ---------------------------------------------------------


def _to_char(node: exp.ToChar) -> exp.Expression:
    """TO_CHAR / TO_VARCHAR: a date or time format as strftime, a number format as
    :mod:`aidemo.local.dialect.numformat` reads it; a timestamp without one in Snowflake's default output format."""
    value, fmt = node.this, node.args.get("format")
    if fmt is None:
        return _as_text(value)
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise unsupported("TO_CHAR with a format that is not a string literal")
    if isinstance(value, exp.Literal) and value.is_string:
        value = exp.cast(value, exp.DataType.build("TIMESTAMP"))
    elif _type(value) is not None and _type(value).is_type(*exp.DataType.NUMERIC_TYPES):
        return numformat.to_char(value, fmt.name)
    elif not (_is_date(value) or _is_timestamp(value) or _type(value) is None):
        kind = _type(value).sql("snowflake")
        raise unsupported(f"TO_CHAR of a {kind} with the format '{fmt.name}'", "format the value in the client")
    return exp.func("strftime", value, exp.Literal.string(_strftime(fmt.name)))


def _as_text(value: exp.Expression) -> exp.Expression:
    """A value as text; a TIMESTAMP_NTZ in Snowflake's default output format (milliseconds)."""
    if _is_timestamp(value, _NTZ):
        return exp.func("strftime", value, exp.Literal.string(_TIMESTAMP_TEXT))
    return exp.cast(value, exp.DataType.build("VARCHAR"))


def _cast(node: exp.Cast) -> exp.Expression:
    """``ts::VARCHAR`` prints a TIMESTAMP_NTZ as TO_CHAR does."""
    to = node.args.get("to")
    if isinstance(to, exp.DataType) and to.this in _TEXT and _is_timestamp(node.this, _NTZ):
        return _as_text(node.this)
    return datefunctions.timestamp_text(node)


def _add_months(node: exp.AddMonths) -> exp.Expression:
    """ADD_MONTHS of a DATE is a DATE."""
    return exp.cast(node.copy(), exp.DataType.build("DATE")) if _is_date(node.this) else node


def _strftime(snowflake_format: str) -> str:
    """A Snowflake date/time format as a DuckDB strftime format."""
    codes = dict(_DATE_FORMAT)
    out = []
    for element in _FORMAT_ELEMENT.findall(snowflake_format):
        upper = element.upper()
        if upper in codes:
            out.append(codes[upper])
        elif element.startswith('"'):
            out.append(element[1:-1].replace("%", "%%"))
        elif element in _LITERAL_FORMAT_CHARS:
            out.append(element)
        else:
            raise unsupported(f"the date format element '{element}' (in '{snowflake_format}')")
    return "".join(out)


def _parsed_format(node: exp.Expression) -> exp.Expression:
    """TO_CHAR of a DATE or timestamp, TO_DATE and TO_TIMESTAMP with a format, which sqlglot has read
    already: an element it did not know is left in the format as letters, which DuckDB would take
    as text to print or to match."""
    fmt = node.args.get("format")
    if isinstance(fmt, exp.Literal):
        unknown = re.findall(r"[A-Za-z]+", re.sub(r"%[A-Za-z](?:_[a-z]+)?|%.", "", fmt.name))
        if unknown:
            raise unsupported(f"the date format element '{unknown[0]}' (in {node.sql(dialect='snowflake')})")
    return node


def _split(node: exp.Split) -> exp.Expression:
    """SPLIT is an ARRAY (a list of JSON strings, as ARRAY columns are kept), not a list of VARCHARs."""
    return _array_of_texts(exp.func("str_split", node.this, node.expression))


def _strtok_to_array(node: exp.StrtokToArray) -> exp.Expression:
    """STRTOK_TO_ARRAY is an ARRAY as SPLIT's is (sqlglot's DuckDB SQL gives its tokens)."""
    return _array_of_texts(node.copy())


def _array_of_texts(texts: exp.Expression) -> exp.Expression:
    each = exp.Lambda(this=exp.func("to_json", exp.column("__part")), expressions=[exp.to_identifier("__part")])
    return exp.cast(exp.func("list_transform", texts, each), exp.DataType.build("JSON[]", dialect="duckdb"))


def _convert_timezone(node: exp.ConvertTimezone) -> exp.Expression:
    """CONVERT_TIMEZONE(source, target, ts) is the wall-clock time in ``target`` of ``ts`` read in
    ``source`` (sqlglot's translation). The two-argument form answers a TIMESTAMP_TZ in the target's
    offset, and a zoned ``ts`` first loses its own offset: the local service keeps neither."""
    if node.args.get("source_tz") is None:
        raise unsupported(
            "CONVERT_TIMEZONE with two arguments (a TIMESTAMP_TZ in the target zone's offset)",
            "CONVERT_TIMEZONE('<from zone>', '<to zone>', <timestamp>::TIMESTAMP_NTZ) gives the wall-clock time",
        )
    if _is_timestamp(node.args["timestamp"], _TIMESTAMPS - _NTZ):
        raise unsupported("CONVERT_TIMEZONE with three arguments of a TIMESTAMP_LTZ or TIMESTAMP_TZ")
    return node


def _percentile(node: exp.WithinGroup) -> exp.Expression:
    """PERCENTILE_CONT of a fixed-point value is a NUMBER with 3 more digits of scale, as MEDIAN's (the
    value, widened, makes DuckDB's answer that NUMBER); PERCENTILE_DISC answers one of the values."""
    ordered = node.expression.expressions if isinstance(node.expression, exp.Order) else []
    if not isinstance(node.this, exp.PercentileCont) or len(ordered) != 1:
        return node
    scale = _scale(ordered[0].this)
    if scale is not None:
        widened = min(scale + 3, 37)
        ordered[0].set("this", _fixed(ordered[0].this, widened))
        node.meta[_SCALE] = widened
    return node


def _date_add(node: exp.DateAdd) -> exp.Expression:
    """DATEADD / TIMEADD / TIMESTAMPADD: a DATE plus days, weeks, months, quarters or years is a DATE."""
    value, amount, unit = node.this, node.expression, _unit(node)
    if not _is_date(value) or unit not in {**_DAY_OR_LARGER, **_MONTHS, **dict.fromkeys(_YEARS, 12)}:
        return node
    if unit in _DAY_OR_LARGER:
        count, to_interval = _DAY_OR_LARGER[unit], "to_days"
    else:
        count, to_interval = _MONTHS.get(unit, 12), "to_months"
    amount = exp.Mul(this=exp.paren(amount), expression=exp.Literal.number(count))
    shifted = exp.Add(this=value, expression=exp.func(to_interval, exp.cast(amount, "INT")))
    return exp.cast(shifted, exp.DataType.build("DATE"))


def _date_trunc(node: exp.Expression) -> exp.Expression:
    """DATE_TRUNC of a DATE is a DATE."""
    if not _is_date(node.this):
        return node
    return exp.cast(exp.func("date_trunc", exp.Literal.string(_unit(node)), node.this), exp.DataType.build("DATE"))


def _div(node: exp.Div) -> exp.Expression:
    """``a / b``: Snowflake's NUMBER with scale max(s, min(s + 6, 12)) for fixed-point operands, and
    an error (100051) for a zero divisor, where DuckDB answers a DOUBLE and infinity."""
    numerator, divisor = node.this, node.expression
    quotient = exp.Div(this=numerator, expression=divisor)
    scale = _scale(numerator)
    if scale is not None and (_scale(divisor) is not None or isinstance(divisor, exp.Null)):
        quotient = _fixed(quotient, _quotient_scale(scale))
    guarded = exp.If(
        this=exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
        true=exp.func("error", exp.Literal.string("Division by zero")),
    )
    result = exp.Case(ifs=[guarded], default=quotient)
    result.meta.update(quotient.meta)
    return exp.paren(result) if quotient.meta else result


def _avg(node: exp.Avg) -> exp.Expression:
    """AVG of a fixed-point value is a NUMBER with a quotient's scale."""
    scale = _scale(node.this)
    return node if scale is None else _fixed(node, _quotient_scale(scale))


def _median(node: exp.Median) -> exp.Expression:
    """MEDIAN of a fixed-point value is a NUMBER with 3 more digits of scale (MEDIAN of 1.00 and 2.01
    is 1.505), where DuckDB's keeps the input's scale and rounds the midpoint."""
    scale = _scale(node.this)
    if scale is None:
        return node
    widened = min(scale + 3, 37)
    return _fixed(exp.Median(this=_fixed(node.this, widened)), widened)


def _to_timestamp(node: exp.Anonymous) -> exp.Expression:
    """TO_TIMESTAMP[_NTZ | _LTZ | _TZ] of a column: a DATE, timestamp or text converts (DuckDB's
    to_timestamp takes epoch seconds only), epoch seconds give a TIMESTAMP_NTZ (or LTZ / TZ)."""
    if len(node.expressions) != 1:
        return node
    (value,) = node.expressions
    target = "TIMESTAMP" if node.name.upper() in ("TO_TIMESTAMP", "TO_TIMESTAMP_NTZ") else "TIMESTAMPTZ"
    kind = _type(value)
    if kind is None:
        return node
    if kind.is_type(*exp.DataType.NUMERIC_TYPES):
        value = exp.func("to_timestamp", value)
    return datefunctions.timestamp_text(exp.cast(value, exp.DataType.build(target)))


def _hash(node: exp.Anonymous) -> exp.Expression:
    """HASH is a signed 64-bit integer: DuckDB's unsigned hash shifted onto BIGINT's range.
    (Its values are not Snowflake's, which no other engine computes.)"""
    hashed = exp.cast(exp.func("hash", *node.expressions), "HUGEINT")
    return exp.cast(exp.Sub(this=hashed, expression=exp.Literal.number(2**63)), "BIGINT")


def _ratio_to_report(node: exp.Window) -> exp.Expression:
    """RATIO_TO_REPORT(x) OVER (PARTITION BY ...): x over the window's sum, NULL where it is 0."""
    function = node.this
    if not (isinstance(function, exp.Anonymous) and function.name.upper() == "RATIO_TO_REPORT"):
        return node
    (value,) = function.expressions
    total = exp.Window(this=exp.Sum(this=value.copy()), partition_by=node.args.get("partition_by"))
    ratio = exp.Div(this=value, expression=exp.func("nullif", total, exp.Literal.number(0)))
    scale = _scale(value)
    return ratio if scale is None else _fixed(ratio, _quotient_scale(scale))


TRANSFORMS = {
    exp.ToChar: _to_char,
    exp.TimeToStr: _parsed_format,
    exp.StrToTime: _parsed_format,
    exp.StrToDate: _parsed_format,
    exp.TsOrDsToDate: _parsed_format,
    exp.Split: _split,
    exp.StrtokToArray: _strtok_to_array,
    exp.ConvertTimezone: _convert_timezone,
    exp.WithinGroup: _percentile,
    exp.DateAdd: _date_add,
    exp.TimeAdd: _date_add,
    exp.TimestampAdd: _date_add,
    exp.AddMonths: _add_months,
    exp.Cast: _cast,
    exp.DateTrunc: _date_trunc,
    exp.TimestampTrunc: _date_trunc,
    exp.Div: _div,
    exp.Avg: _avg,
    exp.Median: _median,
    exp.Window: _ratio_to_report,
} | datefunctions.TRANSFORMS
_ANONYMOUS = {"HASH": _hash} | dict.fromkeys(
    ("TO_TIMESTAMP", "TO_TIMESTAMP_NTZ", "TO_TIMESTAMP_LTZ", "TO_TIMESTAMP_TZ"), _to_timestamp
)
# The constructs whose translation depends on their arguments' types.
_TYPED = (exp.ToChar, exp.DateAdd, exp.TimeAdd, exp.TimestampAdd, exp.DateTrunc, exp.TimestampTrunc)
_TYPED += (exp.Div, exp.Avg, exp.Median, exp.Window, exp.AddMonths, exp.Cast, exp.Anonymous, exp.WithinGroup)
_TYPED += (exp.ConvertTimezone,)

#: The Snowflake functions these transforms implement, and those sqlglot's dialects already answer as
#: Snowflake does (tests/test_functions.py checks each): the function allowlist takes them all.
IMPLEMENTED = tuple(
    """
    TO_CHAR TO_VARCHAR SPLIT DATEADD TIMEADD TIMESTAMPADD ADD_MONTHS DATE_TRUNC AVG MEDIAN HASH RATIO_TO_REPORT
    DIV0 DIV0NULL
    TO_DATE TRY_TO_DATE TO_TIMESTAMP TO_TIMESTAMP_NTZ TO_TIMESTAMP_LTZ TO_TIMESTAMP_TZ TO_TIME
    TIMESTAMPDIFF DATE_FROM_PARTS DAYNAME MONTHNAME NEXT_DAY PREVIOUS_DAY DAYOFWEEKISO WEEKISO YEAROFWEEK
    TO_NUMBER TO_DECIMAL TO_NUMERIC TRY_TO_NUMBER TO_DOUBLE EDITDISTANCE STRTOK
    PERCENTILE_CONT PERCENTILE_DISC CONVERT_TIMEZONE STRTOK_TO_ARRAY SPLIT_PART MONTHS_BETWEEN TO_BOOLEAN TRY_TO_BOOLEAN
    """.split()
)
