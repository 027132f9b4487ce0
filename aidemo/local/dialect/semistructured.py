"""Snowflake's semi-structured data (VARIANT, OBJECT, ARRAY) as sqlglot transforms to DuckDB.

Values are JSON throughout, and the DuckDB type says which Snowflake type holds them: VARIANT
is ``JSON``, OBJECT is ``MAP(VARCHAR, JSON)`` and ARRAY is ``JSON[]``, so a column, a function's
result and a query's result column carry their Snowflake type (``sftypes.of`` and the result
encoders map them). A JSON ``null`` is a value, kept apart from SQL NULL as Snowflake keeps
them: a missing key is SQL NULL, ``PARSE_JSON('null')`` is a JSON null.

:func:`transform` rewrites a parsed Snowflake statement bottom-up, one function per construct
(:data:`TRANSFORMS`); each result is marked with the Snowflake type it has, so the constructs
around it know whether it is already JSON.
"""

from __future__ import annotations

from sqlglot import exp

from aidemo.local.dialect import semifunctions
from aidemo.local.dialect.flatten import flatten
from aidemo.local.dialect.jsonsql import (
    ARRAY,
    DUCK_JSON_TYPES,
    DUCK_TYPES,
    OBJECT,
    SEMI,
    VARIANT,
    as_json,
    build,
    extract,
    json_path,
    kind,
    refuse,
    unary,
)
from aidemo.local.engine import coltypes

# Snowflake's TYPEOF names for DuckDB's json_type names (numbers are refined by _TYPEOF).
_TYPEOF = """CASE json_type(__j) WHEN 'OBJECT' THEN 'OBJECT' WHEN 'ARRAY' THEN 'ARRAY'
    WHEN 'VARCHAR' THEN 'VARCHAR' WHEN 'BOOLEAN' THEN 'BOOLEAN' WHEN 'NULL' THEN 'NULL_VALUE'
    WHEN 'BIGINT' THEN 'INTEGER' WHEN 'UBIGINT' THEN 'INTEGER'
    WHEN 'DOUBLE' THEN CASE WHEN regexp_matches(CAST(__j AS VARCHAR), '[eE]') THEN 'DOUBLE' ELSE 'DECIMAL' END END"""
# IS_<type>(v): the TYPEOF names each predicate is true for (Snowflake's IS_DECIMAL takes integers too).
_PREDICATES = {
    "IS_OBJECT": ("OBJECT",),
    "IS_ARRAY": ("ARRAY",),
    "IS_VARCHAR": ("VARCHAR",),
    "IS_CHAR": ("VARCHAR",),
    "IS_BOOLEAN": ("BOOLEAN",),
    "IS_INTEGER": ("INTEGER",),
    "IS_DECIMAL": ("INTEGER", "DECIMAL"),
    "IS_DOUBLE": ("INTEGER", "DECIMAL", "DOUBLE"),
    "IS_REAL": ("INTEGER", "DECIMAL", "DOUBLE"),
    "IS_NULL_VALUE": ("NULL_VALUE",),
}
# Semi-structured functions sqlglot knows whose DuckDB translation treats arrays as DuckDB lists of
# plain values (not JSON): refused until they are written here.
_REFUSED = {
    exp.ArrayCompact: "ARRAY_COMPACT",
    exp.ArrayDistinct: "ARRAY_DISTINCT",
    exp.Flatten: "ARRAY_FLATTEN",
    exp.ObjectInsert: "OBJECT_INSERT",
    exp.ArrayExcept: "ARRAY_EXCEPT",
    exp.ArrayIntersect: "ARRAY_INTERSECTION",
    exp.CheckJson: "CHECK_JSON",
}


def transform(tree: exp.Expression, database: str | None = None, schema: str | None = None) -> None:
    """Rewrite the semi-structured constructs of a parsed Snowflake statement in place; a column
    the catalog declares VARIANT, OBJECT or ARRAY (:mod:`aidemo.local.engine.coltypes`) is used as it is."""
    if any(_semi_structured(node) for node in tree.walk()):
        coltypes.annotate(tree, database, schema)
    _rewrite(tree)


def _semi_structured(node: exp.Expression) -> bool:
    """Whether a node is semi-structured SQL (not a comparison, ORDER BY or cast that may hold some)."""
    handler = _handler(node)
    if handler in (_compare, _in, _ordered):
        return False
    return handler is not None and (not isinstance(node, exp.Cast) or node.to.this in {*SEMI, *_TEXT_TYPES})


def _handler(node: exp.Expression):
    handler = TRANSFORMS.get(type(node))
    if handler is None and isinstance(node, exp.Anonymous):
        handler = _ANONYMOUS.get(node.name.upper())
    return handler


def _rewrite(tree: exp.Expression) -> None:
    for child in list(tree.iter_expressions()):
        _rewrite(child)
    handler = _handler(tree)
    if handler is not None and tree.parent is not None:
        rewritten = handler(tree)
        if rewritten is not tree:
            tree.replace(rewritten)
    elif type(tree) in _REFUSED:
        refuse(_REFUSED[type(tree)])


def duck_type(datatype: exp.DataType) -> exp.DataType | None:
    """The DuckDB type of a Snowflake VARIANT, OBJECT or ARRAY type; None for other types."""
    if datatype.this in DUCK_TYPES and not datatype.expressions:
        return exp.DataType.build(DUCK_TYPES[datatype.this], dialect="duckdb")
    return None


# ---- one function per construct ----------------------------------------------------------------


def _get_path(node: exp.JSONExtract) -> exp.Expression:
    """``v:a.b[0]``, ``v:"Quoted Key"``, GET_PATH(v, 'a.b'): the value at the path (VARIANT)."""
    path = node.expression
    if not isinstance(path, exp.JSONPath):
        refuse("GET_PATH with a path that is not a constant")
    return extract(node.this, json_path(path.expressions))


def _get(node: exp.GetExtract) -> exp.Expression:
    """GET(v, 'key') and GET(array, index)."""
    return _element(node.this, node.expression, "GET")


def _bracket(node: exp.Bracket) -> exp.Expression:
    """``v['key']`` and ``v[0]`` (Snowflake's brackets are GET on semi-structured values)."""
    if len(node.expressions) != 1:
        refuse("A bracket with more than one subscript")
    return _element(node.this, node.expressions[0], "The subscript")


def _element(value: exp.Expression, key: exp.Expression, what: str) -> exp.Expression:
    if isinstance(key, exp.Literal) and key.is_string and '"' not in key.name:
        return extract(value, f'$."{key.name}"')
    if isinstance(key, exp.Literal) and key.is_int and int(key.name) >= 0:
        return extract(value, f"$[{key.name}]")
    if isinstance(key, exp.Literal):
        refuse(f"{what} with {key.sql('snowflake')!r}")
    # a key computed per row: a string is a key, a number an index
    return build("CASE WHEN typeof(__k) = 'VARCHAR' THEN json_extract(__j, '$.\"' || __k || '\"') "
                 "ELSE json_extract(__j, CAST(__k AS BIGINT)) END", VARIANT, j=as_json(value), k=key)  # fmt: skip


def _parse_json(node: exp.ParseJSON) -> exp.Expression:
    """PARSE_JSON(s): NULL for NULL, '' and whitespace alone; TRY_PARSE_JSON(s) is NULL where the text is not JSON."""
    if node.args.get("safe"):
        return build("CASE WHEN json_valid(__s) THEN CAST(__s AS JSON) END", VARIANT, s=node.this)
    # NULL, '' and whitespace alone are NULL
    return build("CASE WHEN regexp_matches(__s, '\\S') THEN CAST(__s AS JSON) END", VARIANT, s=node.this)


def _to_variant(node: exp.ToVariant) -> exp.Expression:
    return as_json(node.this)


def _cast(node: exp.Cast) -> exp.Expression:
    """Casts into and out of VARIANT: ``::variant``, ``::object``, ``::array``, and ``v::string``
    without the JSON quotes (a plain value keeps DuckDB's cast)."""
    target = node.to
    if target.this in SEMI and not target.expressions:
        wanted = SEMI[target.this]
        if wanted == VARIANT:
            return as_json(node.this)
        if kind(node.this) == wanted:
            return node.this
        return build(f"CAST(__x AS {DUCK_TYPES[target.this]})", wanted, x=as_json(node.this))
    if target.this not in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR):
        if kind(node.this) in (OBJECT, ARRAY):  # Snowflake casts these as VARIANT
            node.set("this", as_json(node.this))
        if kind(node.this) and _is_integer(target):
            # through a decimal, which rounds half away from zero as Snowflake does (2.5 -> 3); a
            # DECIMAL(38, 0) would become BIGINT, which rounds a JSON number half to even
            node.set("this", build("CAST(__j AS DECIMAL(37, 0))", j=as_json(node.this)))
        return node
    as_text = build("json_extract_string(__j, '$')", j=as_json(node.this))
    if kind(node.this):
        return as_text
    # a column of unknown type: JSON-holding types convert as VARIANT, others as DuckDB casts
    kinds = exp.Tuple(expressions=[exp.Literal.string(t) for t in DUCK_JSON_TYPES])
    return build("CASE WHEN typeof(__x) IN __kinds THEN __text ELSE __plain END", x=node.this, kinds=kinds,
                  text=as_text, plain=node)  # fmt: skip


def _is_integer(datatype: exp.DataType) -> bool:
    """INT, BIGINT, NUMBER, NUMBER(p) and NUMBER(p, 0): Snowflake's integers."""
    if datatype.this == exp.DataType.Type.DECIMAL:
        return len(datatype.expressions) < 2 or datatype.expressions[1].name == "0"
    return datatype.is_type(*exp.DataType.INTEGER_TYPES)


def _object_construct(node: exp.Struct) -> exp.Expression:
    """OBJECT_CONSTRUCT(k, v, ...): pairs with a NULL key or value are left out."""
    pairs = []
    for pair in node.expressions:
        if not isinstance(pair, exp.PropertyEQ):
            refuse(f"OBJECT_CONSTRUCT with {pair.sql('snowflake')!r}")
        pairs.append((pair.this, pair.expression))
    return _object(pairs, keep_null=False)


def _object_keep_null(node: exp.JSONObject) -> exp.Expression:
    """OBJECT_CONSTRUCT_KEEP_NULL(k, v, ...): a NULL value is kept as a JSON null."""
    return _object([(pair.this, pair.expression) for pair in node.expressions], keep_null=True)


def _object(pairs: list[tuple[exp.Expression, exp.Expression]], keep_null: bool) -> exp.Expression:
    if not pairs:
        return build("CAST(MAP() AS MAP(VARCHAR, JSON))", OBJECT)
    value = "coalesce(__v, 'null'::JSON)" if keep_null else "__v"
    entries = exp.Array(
        expressions=[build(f"{{'k': CAST(__k AS VARCHAR), 'v': {value}}}", k=key, v=as_json(val)) for key, val in pairs]
    )
    return build("map_from_entries(list_filter(__e, lambda e: e.k IS NOT NULL AND e.v IS NOT NULL))", OBJECT, e=entries)


def _array_construct(node: exp.Array) -> exp.Expression:
    """ARRAY_CONSTRUCT(a, b, ...)."""
    if not node.expressions:
        return build("CAST([] AS JSON[])", ARRAY)
    items = exp.Array(expressions=[as_json(item) for item in node.expressions])
    return build("CAST(__items AS JSON[])", ARRAY, items=items)


def _array_size(node: exp.ArraySize) -> exp.Expression:
    """ARRAY_SIZE(a): NULL for a value that is not an array."""
    return build("CASE WHEN json_type(__j) = 'ARRAY' THEN json_array_length(__j) END", j=as_json(node.this))


def _array_contains(node: exp.ArrayContains) -> exp.Expression:
    """ARRAY_CONTAINS(value, array), comparing JSON values."""
    # sqlglot's ArrayContains is (array, value); Snowflake's call is (value, array)
    return build("list_contains(CAST(__a AS JSON[]), __v)", a=as_json(node.this), v=as_json(node.expression))


def _array_agg(node: exp.Expression) -> exp.Expression:
    """ARRAY_AGG([DISTINCT] x) [WITHIN GROUP (ORDER BY ...)]: NULLs left out, [] for no rows."""
    if isinstance(node, exp.ArrayAgg) and isinstance(node.parent, exp.WithinGroup):
        return node  # rewritten with its WITHIN GROUP
    agg, order = (node.this, node.expression) if isinstance(node, exp.WithinGroup) else (node, None)
    if not isinstance(agg, exp.ArrayAgg):
        return node
    value, distinct = agg.this, isinstance(agg.this, exp.Distinct)
    if distinct:
        value = value.expressions[0]
    ordered = " ORDER BY __o" if order is not None else ""
    built = build(
        f"coalesce(CAST(to_json(list({'DISTINCT ' if distinct else ''}__v{ordered}) FILTER (WHERE __v IS NOT NULL)) "
        "AS JSON[]), CAST([] AS JSON[]))",
        ARRAY,
        v=value,
        o=exp.null(),
    )
    if order is not None:
        built.find(exp.Order).set("expressions", [o.copy() for o in order.expressions])
    return built


def _object_agg(node: exp.ObjectAgg) -> exp.Expression:
    """OBJECT_AGG(k, v): pairs with a NULL key or value left out."""
    return build(
        "coalesce(map_from_entries(list({'k': CAST(__k AS VARCHAR), 'v': __v}) FILTER (WHERE __k IS NOT NULL "
        "AND __v IS NOT NULL)), CAST(MAP() AS MAP(VARCHAR, JSON)))",
        OBJECT,
        k=node.this,
        v=as_json(node.expression),
    )


def _object_keys(node: exp.JSONKeys) -> exp.Expression:
    """OBJECT_KEYS(o): its keys as an ARRAY."""
    return build("CAST(to_json(json_keys(__o)) AS JSON[])", ARRAY, o=as_json(node.this))


def _is_type(name: str):
    """IS_<type>(v): whether TYPEOF(v) is one the predicate is true for (NULL for SQL NULL)."""
    names = ", ".join(f"'{typeof}'" for typeof in _PREDICATES[name])
    return unary(name, f"CASE WHEN __j IS NOT NULL THEN ({_TYPEOF}) IN ({names}) END")


# ---- comparing and ordering VARIANTs -------------------------------------------------------------

_TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR,
               exp.DataType.Type.NVARCHAR}  # fmt: skip
# ORDER BY a VARIANT: numbers by their value (DuckDB would order JSON by its text: 10 before 9), then the rest.
_SORT_KEY = """{'n': CASE WHEN json_type(__j) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(__j AS DOUBLE) END,
    's': CAST(__j AS VARCHAR)}"""


def _is_text(node: exp.Expression) -> bool:
    if isinstance(node, exp.Literal):
        return node.is_string
    typed = node.to if isinstance(node, exp.Cast) else node.type if isinstance(node, exp.Column) else None
    return typed is not None and typed.this in _TEXT_TYPES


def _is_number(node: exp.Expression) -> bool:
    if isinstance(node, exp.Neg):
        return _is_number(node.this)
    if isinstance(node, exp.Literal):
        return not node.is_string
    typed = node.to if isinstance(node, exp.Cast) else node.type if isinstance(node, exp.Column) else None
    return typed is not None and typed.is_type(*exp.DataType.NUMERIC_TYPES)


def _as_text(node: exp.Expression) -> exp.Expression:
    return build("json_extract_string(__j, '$')", j=node)


def _as_number(node: exp.Expression) -> exp.Expression:
    return build("CAST(__j AS DOUBLE)", j=node)


def _compare(node: exp.Binary) -> exp.Expression:
    """A VARIANT compared with text (``v:s = 'x'``, ``v:s LIKE 'a%'``) compares its string, with a
    number its number, as Snowflake casts a VARIANT to the other side's type (DuckDB would parse
    the text as JSON, and cast the JSON to the literal's type: 1.4 = 1)."""
    pattern = isinstance(node, (exp.Like, exp.ILike))
    for side, other in (("this", "expression"), ("expression", "this")):
        value, against = node.args[side], node.args[other]
        if kind(value) != VARIANT or kind(against):
            continue
        if pattern or _is_text(against):
            node.set(side, _as_text(value))
        elif _is_number(against):
            node.set(side, _as_number(value))
    return node


def _in(node: exp.In) -> exp.Expression:
    """``v:s IN ('a', 'b')`` compares the VARIANT's string."""
    if kind(node.this) == VARIANT and node.expressions and all(_is_text(e) for e in node.expressions):
        node.set("this", _as_text(node.this))
    return node


def _ordered(node: exp.Ordered) -> exp.Expression:
    """ORDER BY a VARIANT orders numbers by value, as Snowflake does."""
    if kind(node.this) == VARIANT:
        node.set("this", build(_SORT_KEY, j=node.this))
    return node


TRANSFORMS = {
    exp.JSONExtract: _get_path,
    exp.GetExtract: _get,
    exp.Bracket: _bracket,
    exp.ParseJSON: _parse_json,
    exp.ToVariant: _to_variant,
    exp.Cast: _cast,
    exp.Struct: _object_construct,
    exp.JSONObject: _object_keep_null,
    exp.Array: _array_construct,
    exp.ArraySize: _array_size,
    exp.ArrayContains: _array_contains,
    exp.WithinGroup: _array_agg,
    exp.ArrayAgg: _array_agg,
    exp.ObjectAgg: _object_agg,
    exp.JSONKeys: _object_keys,
    exp.Typeof: unary("TYPEOF", _TYPEOF),
    exp.IsArray: _is_type("IS_ARRAY"),
    exp.IsNullValue: _is_type("IS_NULL_VALUE"),
    exp.Lateral: flatten,
    exp.TableFromRows: flatten,
    **{comparison: _compare for comparison in (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike)},
    exp.In: _in,
    exp.Ordered: _ordered,
    **semifunctions.TRANSFORMS,
}
_ANONYMOUS = {name: _is_type(name) for name in _PREDICATES} | semifunctions.BY_NAME
