"""TO_CHAR / TO_VARCHAR of a number with a format: Snowflake's fixed-position numeric format models.

The format is read once, at translation, into the shape of its number; the DuckDB expression built
from that shape formats each value when the statement runs. The elements read: ``9`` and ``0``
(digit positions; a ``0`` prints the leading zeros from its position on, the units digit always
prints), ``,`` / ``G`` and ``.`` / ``D`` (group separator and decimal point), ``$`` (printed just
before the first digit), ``S`` (a leading or trailing ``+`` / ``-``), ``MI`` (a trailing ``-``),
``FM`` (no padding; not with a ``9`` after the decimal point, whose trailing zeros it would drop)
and text in double quotes before or after the number. Without ``FM`` the result has the format's
width: a blank stands for a positive number's sign, blanks for the leading ``9`` positions the
number does not fill. The value is rounded half away from zero to the format's decimals. Any other
element (``X``, ``EEEE``, ``TM``, ``B``, ``V``, ``PR``, ...) is refused, naming it; a value with
more integer digits than the format holds fails with an error (Snowflake prints ``#`` instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from aidemo.local.engine.sqlerrors import unsupported

_ELEMENT = re.compile(r'"[^"]*"|FM|MI|.', re.IGNORECASE)
_VALUE = "__number"  # the lambda parameter that holds the rounded value once
_DIGITS = "__digits"  # and the one that holds its integer digits, padded with the leading zeros


@dataclass
class _Shape:
    """What a numeric format prints: ``integer`` is its integer part's pattern (9, 0 and ``,``)."""

    integer: str = ""
    decimals: int | None = None  # digit positions after the decimal point; None: no decimal point
    dollar: bool = False
    sign: str = ""  # "" (leading, blank when positive), "S<", "S>" or "MI"
    fill: bool = False
    prefix: str = ""
    suffix: str = ""


def to_char(value: exp.Expression, fmt: str) -> exp.Expression:
    """The DuckDB expression of ``TO_CHAR(value, fmt)`` for a number ``value``."""
    shape = _shape(fmt)
    rounded = exp.Cast(
        this=exp.Anonymous(this="round", expressions=[value, exp.Literal.number(shape.decimals or 0)]),
        to=exp.DataType.build(f"DECIMAL(38, {shape.decimals or 0})"),
    )
    return _bound(_VALUE, rounded, _formatted(shape, fmt))


def _bound(name: str, value: exp.Expression, body: exp.Expression) -> exp.Expression:
    """``body`` with the column ``name`` standing for ``value``, computed once."""
    function = exp.Lambda(this=body, expressions=[exp.to_identifier(name)])
    listed = exp.Anonymous(this="list_transform", expressions=[exp.Array(expressions=[value]), function])
    return exp.Anonymous(this="list_extract", expressions=[listed, _int(1)])


def _shape(fmt: str) -> _Shape:
    """The shape of a numeric format, or a refusal naming the element the local service does not read."""
    shape, started, ended = _Shape(), False, False
    for element in _ELEMENT.findall(fmt):
        upper = element.upper()
        if element.startswith('"'):
            if started:
                shape.suffix, ended = shape.suffix + element[1:-1], True
            else:
                shape.prefix += element[1:-1]
        elif ended:
            raise _refused(element, fmt)
        elif upper == "FM" and not (started or shape.fill):
            shape.fill = True
        elif upper in ("9", "0") and shape.decimals is None:
            shape.integer, started = shape.integer + upper, True
        elif upper in ("9", "0") and shape.decimals is not None and not (upper == "9" and shape.fill):
            shape.decimals += 1  # (fill mode drops a 9's trailing zeros, which the local service does not)
        elif upper in (",", "G") and shape.integer and shape.decimals is None:
            shape.integer += ","
        elif upper in (".", "D") and shape.decimals is None:
            shape.decimals, started = 0, True
        elif upper == "$" and not (started or shape.dollar):
            shape.dollar = True
        elif upper == "S" and not shape.sign:
            shape.sign, ended = ("S>", True) if started else ("S<", False)
        elif upper == "MI" and started and not shape.sign:
            shape.sign, ended = "MI", True
        else:
            raise _refused(element, fmt)
    if not (shape.integer.strip(",") or shape.decimals) or shape.integer.endswith(","):
        raise unsupported(f"TO_CHAR of a number with the format '{fmt}'", "format the value in the client")
    return shape


def _refused(element: str, fmt: str):
    return unsupported(f"the number format element '{element}' (in '{fmt}')", "format the value in the client")


def _formatted(shape: _Shape, fmt: str) -> exp.Expression:
    """The text of the rounded value (the lambda parameter) in the shape."""
    number = exp.column(_VALUE)
    text = exp.Cast(this=_call("abs", number), to=exp.DataType.build("VARCHAR"))
    whole, fraction = _call("split_part", text, _str("."), _int(1)), _call("split_part", text, _str("."), _int(2))
    positions = shape.integer.replace(",", "")
    least = len(positions) - positions.find("0") if "0" in positions else min(len(positions), 1)
    too_long = exp.GT(this=_call("length", whole.copy()), expression=_int(len(positions)))
    if not positions:  # '.00': no integer digit prints, and the integer part must be 0
        too_long, whole = exp.NEQ(this=whole, expression=_str("0")), _str("")
    digits = exp.column(_DIGITS)
    body = _grouped(digits, _separators(shape.integer))
    if shape.dollar:
        body = exp.DPipe(this=_str("$"), expression=body)
    if shape.decimals is not None:
        body = exp.DPipe(this=exp.DPipe(this=body, expression=_str(".")), expression=fraction)
    negative = exp.LT(this=number.copy(), expression=_int(0))
    plus = {"S<": "+", "S>": "+", "MI": "" if shape.fill else " "}.get(shape.sign, "")
    sign = exp.If(this=negative, true=_str("-"), false=_str(plus))
    out = exp.DPipe(this=body, expression=sign) if shape.sign in ("S>", "MI") else exp.DPipe(this=sign, expression=body)
    if not shape.fill:
        width = len(shape.integer) + shape.dollar + (shape.decimals + 1 if shape.decimals is not None else 0) + 1
        out = _padded(out, width, " ")
    overflow = _call("error", _str(f"The number does not fit the format '{fmt}' of TO_CHAR"))
    out = exp.Case(ifs=[exp.If(this=too_long, true=overflow)], default=_bound(_DIGITS, _padded(whole, least, "0"), out))
    return exp.DPipe(this=exp.DPipe(this=_str(shape.prefix), expression=out), expression=_str(shape.suffix))


def _separators(pattern: str) -> list[int]:
    """The positions of a pattern's group separators, as the digits to their right, nearest first."""
    return [pattern[i:].count("9") + pattern[i:].count("0") for i in reversed(range(len(pattern))) if pattern[i] == ","]


def _grouped(digits: exp.Expression, separators: list[int]) -> exp.Expression:
    """``digits`` with a ``,`` at each separator that has a digit to its left."""
    if not separators:
        return digits
    low, rest = separators[0], [s - separators[0] for s in separators[1:]]
    size = _call("length", digits.copy())
    high = _call("left", digits.copy(), exp.Sub(this=size, expression=_int(low)))
    joined = exp.DPipe(
        this=exp.DPipe(this=_grouped(high, rest), expression=_str(",")),
        expression=_call("right", digits.copy(), _int(low)),
    )
    return exp.Case(ifs=[exp.If(this=exp.GT(this=size.copy(), expression=_int(low)), true=joined)], default=digits)


def _padded(text: exp.Expression, width: int, pad: str) -> exp.Expression:
    """``text`` padded on the left to ``width`` characters at least."""
    missing = _call("greatest", exp.Sub(this=_int(width), expression=_call("length", text)), _int(0))
    return exp.DPipe(this=_call("repeat", _str(pad), missing), expression=text.copy())


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _str(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _int(value: int) -> exp.Literal:
    return exp.Literal.number(value)
