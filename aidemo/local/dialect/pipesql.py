"""CREATE PIPE in the local service: the three COPY INTO forms a streaming pipe takes.

``COPY INTO t``; ``COPY INTO t [(c, ...)] FROM (SELECT $1:KEY[::TYPE], ... FROM
TABLE(DATA_SOURCE(TYPE => 'STREAMING')))``; ``COPY INTO t FROM
TABLE(DATA_SOURCE(TYPE => 'STREAMING')) [MATCH_BY_COLUMN_NAME = ...]``.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from aidemo.local.dialect.ducksql import duck_type
from aidemo.local.dialect.sqltokens import Cursor
from aidemo.local.engine.sqlcommands import CreatePipe, PipeColumn


def create_pipe(c: Cursor, or_replace: bool) -> CreatePipe:
    if_not_exists = c.accept("IF", "NOT", "EXISTS")
    if or_replace and if_not_exists:
        c.fail("OR REPLACE and IF NOT EXISTS cannot be used together")
    database, schema, name = c.object_name()
    while c.word() not in (
        None,
        "AS",
        "COPY",
    ):  # AUTO_INGEST = ..., COMMENT = '...', and the like
        c.advance(1)
        c.expect_type(TokenType.EQ, "'=' after a pipe property")
        c.advance(2)
    c.expect("AS")
    definition, start = c.rest(), c.i
    c.expect("COPY")
    c.expect("INTO")
    table = c.object_name()
    targets = None
    if c.token_type() == TokenType.L_PAREN:
        c.advance(1)
        targets = [c.name_parts(max_parts=1)[0]]
        while c.token_type() == TokenType.COMMA:
            c.advance(1)
            targets.append(c.name_parts(max_parts=1)[0])
        c.expect_type(TokenType.R_PAREN, "')' after the COPY INTO column list")
        c.advance(1)
    columns = None if c.at_end() else _pipe_columns(c, c.parse_rest(start), targets)
    if columns is None and targets is not None:
        c.fail("a COPY INTO column list needs a FROM (SELECT ...) list to fill it")
    return CreatePipe(
        database,
        schema,
        name,
        *table,
        or_replace=or_replace,
        if_not_exists=if_not_exists,
        columns=columns,
        definition=definition,
    )


def _pipe_columns(c: Cursor, copy: exp.Expression, targets: list[str] | None) -> tuple[PipeColumn, ...] | None:
    """The ``$1:KEY::TYPE`` items of a DATA_SOURCE pipe, or None for the match-by-name form."""
    source = copy.args["files"][0] if isinstance(copy, exp.Copy) and copy.args.get("files") else None
    if isinstance(source, exp.Table) and _is_streaming_source(source.this):
        return None
    select = source.this if isinstance(source, exp.Subquery) else None
    from_ = select.args.get("from_") if isinstance(select, exp.Select) else None
    if from_ is None or not _is_streaming_source(from_.this):
        c.fail(
            "a pipe reads FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')) or "
            "FROM (SELECT ... FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING'))); staged files "
            "exist only in Snowflake"
        )
    extra = sorted(k for k, v in select.args.items() if v and k not in ("expressions", "from_"))
    if extra:
        c.fail(f"the local service maps columns only; remove {', '.join(extra).upper()} from the pipe's SELECT")
    items = select.expressions
    if targets is not None and len(targets) != len(items):
        c.fail(f"COPY INTO lists {len(targets)} columns but the SELECT has {len(items)} items")
    return tuple(_pipe_column(c, item, targets[i] if targets else None) for i, item in enumerate(items))


def _pipe_column(c: Cursor, item: exp.Expression, target: str | None) -> PipeColumn:
    value = item.this if isinstance(item, exp.Alias) else item
    cast_type = None
    if isinstance(value, exp.Cast):
        cast_type = duck_type(value.to).sql("duckdb")
        value = value.this
    path = value.expression.expressions if isinstance(value, exp.JSONExtract) else []
    if (
        not isinstance(value.this, exp.Parameter)
        or value.this.name != "1"
        or len(path) != 2
        or not isinstance(path[1], exp.JSONPathKey)
    ):
        c.fail(
            f"pipe item {item.sql('snowflake')!r} is not supported: the local service maps "
            "items of the form $1:KEY or $1:KEY::TYPE"
        )
    return PipeColumn(target, path[1].name, cast_type)


def _is_streaming_source(node: exp.Expression | None) -> bool:
    """True for ``TABLE(DATA_SOURCE(TYPE => 'STREAMING'))``."""
    call = node.this if isinstance(node, exp.TableFromRows) else None
    if not isinstance(call, exp.Anonymous) or call.name.upper() != "DATA_SOURCE":
        return False
    return [(a.this.name.upper(), a.expression.name.upper()) for a in call.expressions if isinstance(a, exp.Kwarg)] == [
        ("TYPE", "STREAMING")
    ]
