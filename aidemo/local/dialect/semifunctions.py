"""Snowflake's ARRAY and OBJECT functions as sqlglot transforms to DuckDB (the constructors, paths
and casts are in :mod:`aidemo.local.dialect.semistructured`).

An ARRAY is DuckDB's ``JSON[]`` (a JSON null element is a NULL in it), an OBJECT a
``MAP(VARCHAR, JSON)``; a function given a VARIANT converts it first.
"""

from __future__ import annotations

from sqlglot import exp

from aidemo.local.dialect.jsonsql import ARRAY, OBJECT, VARIANT, as_json, build, json_path, kind, refuse, unary

# AS_<type>(v): the value when it holds that type (json_type names), else NULL.
_AS = {
    "AS_VARCHAR": (("VARCHAR",), "json_extract_string(__j, '$')", None),
    "AS_CHAR": (("VARCHAR",), "json_extract_string(__j, '$')", None),
    "AS_INTEGER": (("BIGINT", "UBIGINT"), "CAST(__j AS BIGINT)", None),
    "AS_DOUBLE": (("BIGINT", "UBIGINT", "DOUBLE"), "CAST(__j AS DOUBLE)", None),
    "AS_REAL": (("BIGINT", "UBIGINT", "DOUBLE"), "CAST(__j AS DOUBLE)", None),
    "AS_BOOLEAN": (("BOOLEAN",), "CAST(__j AS BOOLEAN)", None),
    "AS_OBJECT": (("OBJECT",), "CAST(__j AS MAP(VARCHAR, JSON))", OBJECT),
    "AS_ARRAY": (("ARRAY",), "CAST(__j AS JSON[])", ARRAY),
}


def array(node: exp.Expression) -> exp.Expression:
    """``node`` as DuckDB's JSON[] (an ARRAY as it is, a VARIANT holding an array converted)."""
    if kind(node) == ARRAY:
        return node
    return build("CAST(__j AS JSON[])", ARRAY, j=as_json(node))


def _object(node: exp.Expression) -> exp.Expression:
    if kind(node) == OBJECT:
        return node
    return build("CAST(__j AS MAP(VARCHAR, JSON))", OBJECT, j=as_json(node))


def _array_append(node: exp.ArrayAppend) -> exp.Expression:
    """ARRAY_APPEND(array, value)."""
    return build("CASE WHEN __a IS NOT NULL THEN list_append(__a, __v) END", ARRAY, a=array(node.this),
                 v=as_json(node.expression))  # fmt: skip


def _array_prepend(node: exp.ArrayPrepend) -> exp.Expression:
    """ARRAY_PREPEND(array, value)."""
    return build("CASE WHEN __a IS NOT NULL THEN list_prepend(__v, __a) END", ARRAY, a=array(node.this),
                 v=as_json(node.expression))  # fmt: skip


def _array_cat(node: exp.ArrayConcat) -> exp.Expression:
    """ARRAY_CAT(a, b): NULL when either is NULL."""
    if len(node.expressions) != 1:
        refuse(f"ARRAY_CAT with {len(node.expressions) + 1} arguments (it takes two)")
    return build("CASE WHEN __a IS NOT NULL AND __b IS NOT NULL THEN list_concat(__a, __b) END", ARRAY,
                 a=array(node.this), b=array(node.expressions[0]))  # fmt: skip


def _array_slice(node: exp.ArraySlice) -> exp.Expression:
    """ARRAY_SLICE(array, from, to): 0-based, ``to`` excluded, negative positions from the end."""
    start, end = node.args.get("start"), node.args.get("end")
    if start is None or end is None:
        refuse("ARRAY_SLICE without both FROM and TO")
    return build("list_slice(__a, CASE WHEN __f >= 0 THEN __f + 1 ELSE __f END, CASE WHEN __t < 0 THEN __t - 1 "
                 "ELSE __t END)", ARRAY, a=array(node.this), f=start, t=end)  # fmt: skip


def _array_to_string(node: exp.ArrayToString) -> exp.Expression:
    """ARRAY_TO_STRING(array, separator): each element as ::string would give it, NULLs empty."""
    return build("CASE WHEN __s IS NOT NULL THEN array_to_string(list_transform(__a, lambda e: "
                 "coalesce(json_extract_string(e, '$'), '')), __s) END", a=array(node.this),
                 s=node.expression)  # fmt: skip


def _array_position(node: exp.ArrayPosition) -> exp.Expression:
    """ARRAY_POSITION(value, array): the 0-based position of the first equal element, or NULL."""
    return build("list_position(__a, __v) - 1", a=array(node.this), v=as_json(node.expression))


def _arrays_overlap(node: exp.ArrayOverlaps) -> exp.Expression:
    """ARRAYS_OVERLAP(a, b): whether an element of one equals an element of the other."""
    return build("list_has_any(__a, __b)", a=array(node.this), b=array(node.expression))


def _to_array(node: exp.ToArray) -> exp.Expression:
    """TO_ARRAY(x): an array as it is, another value as an array of one element."""
    if kind(node.this) == ARRAY:
        return node.this
    return build("CASE WHEN json_type(__j) = 'ARRAY' THEN CAST(__j AS JSON[]) WHEN __j IS NOT NULL THEN [__j] END",
                 ARRAY, j=as_json(node.this))  # fmt: skip


def _to_json(node: exp.JSONFormat) -> exp.Expression:
    """TO_JSON(v): the value's JSON text, without spaces."""
    return build("CAST(json(CAST(__j AS VARCHAR)) AS VARCHAR)", j=as_json(node.this))


def _strip_null_value(node: exp.StripNullValue) -> exp.Expression:
    """STRIP_NULL_VALUE(v): a JSON null becomes SQL NULL."""
    return build("CASE WHEN json_type(__j) <> 'NULL' THEN __j END", VARIANT, j=as_json(node.this))


def _json_extract_path_text(node: exp.JSONExtractScalar) -> exp.Expression:
    """JSON_EXTRACT_PATH_TEXT(text, 'a.b'): the value at the path as text (NULL for text that is not JSON)."""
    if not isinstance(node.expression, exp.JSONPath):
        refuse("JSON_EXTRACT_PATH_TEXT with a path that is not a constant")
    return build("CASE WHEN json_valid(__s) THEN json_extract_string(CAST(__s AS JSON), __p) END", s=node.this,
                 p=exp.Literal.string(json_path(node.expression.expressions)))  # fmt: skip


def _object_keys_filter(keep: bool):
    name = "OBJECT_PICK" if keep else "OBJECT_DELETE"

    def select_keys(node: exp.Anonymous) -> exp.Expression:
        if len(node.expressions) < 2:
            refuse(f"{name} without keys")
        keys = exp.Array(expressions=[build("CAST(__k AS VARCHAR)", k=key) for key in node.expressions[1:]])
        test = "list_contains(__keys, e.key)" if keep else "NOT list_contains(__keys, e.key)"
        return build(f"map_from_entries(list_filter(map_entries(__o), lambda e: {test}))", OBJECT,
                     o=_object(node.expressions[0]), keys=keys)  # fmt: skip

    select_keys.__doc__ = f"{name}(object, key, ...)"
    return select_keys


def _object_construct_star(node: exp.StarMap) -> exp.Expression:
    """OBJECT_CONSTRUCT(*): the row of the one table (or subquery) the query reads, columns holding
    NULL left out."""
    select = node.find_ancestor(exp.Select)
    from_ = select.args.get("from_") if select else None
    source = from_.this if from_ else None
    if (
        not isinstance(source, (exp.Table, exp.Subquery))
        or select.args.get("joins")
        or (isinstance(source, exp.Table) and not isinstance(source.this, exp.Identifier))
        or not source.alias_or_name
    ):
        refuse("OBJECT_CONSTRUCT(*) over anything but one table or aliased subquery")
    name = source.args["alias"].this if source.args.get("alias") else source.this  # quoted as written
    row = exp.column(name.copy())
    return build("map_from_entries(list_filter(map_entries(CAST(to_json(__row) AS MAP(VARCHAR, JSON))), "
                 "lambda e: e.value IS NOT NULL))", OBJECT, row=row)  # fmt: skip


def _as_type(name: str):
    """AS_<type>(v): the value when it holds that type, else NULL."""
    types, value, result = _AS[name]
    names = ", ".join(f"'{t}'" for t in types)
    return unary(name, f"CASE WHEN json_type(__j) IN ({names}) THEN {value} END", result)


TRANSFORMS = {
    exp.ArrayAppend: _array_append,
    exp.ArrayPrepend: _array_prepend,
    exp.ArrayConcat: _array_cat,
    exp.ArraySlice: _array_slice,
    exp.ArrayToString: _array_to_string,
    exp.ArrayPosition: _array_position,
    exp.ArrayOverlaps: _arrays_overlap,
    exp.ToArray: _to_array,
    exp.JSONFormat: _to_json,
    exp.StripNullValue: _strip_null_value,
    exp.JSONExtractScalar: _json_extract_path_text,
    exp.StarMap: _object_construct_star,
}
#: Functions sqlglot does not model, by name.
BY_NAME = {
    "OBJECT_PICK": _object_keys_filter(keep=True),
    "OBJECT_DELETE": _object_keys_filter(keep=False),
} | {name: _as_type(name) for name in _AS}
