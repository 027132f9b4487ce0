"""A statement's result in the connector's reply: Arrow or JSON, inline or in chunks.

The connector reads Arrow unless the client asks for JSON (``PYTHON_CONNECTOR_QUERY_RESULT_FORMAT``,
which a client without pyarrow sends). Rows the service makes itself (DML counts, listings,
statuses) are JSON, as Snowflake's are. A query's rows are read from DuckDB batch by batch and
cut into parts as they come: the first part, up to ``INLINE_BYTES``, goes in the reply, each
further one (up to ``CHUNK_BYTES``) into a chunk (:mod:`aidemo.local.engine.chunks`), so a large
result is never held whole.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

from aidemo.local.engine import resultset as rs
from aidemo.local.engine import sftypes
from aidemo.local.engine.arrowresults import ArrowEncoder, common_schema, ipc_batches, ipc_stream, widened
from aidemo.local.engine.chunks import ResultChunks
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import Session

FORMAT_PARAMETER = "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT"
INLINE_BYTES = 1 << 20
CHUNK_BYTES = 4 << 20
_SLICE_BYTES = 256 << 10  # Arrow batches are cut to about this size, so parts keep near their bounds


def result_format(parameters: dict, session: Session) -> str:
    """ "json" when the request's parameters, or else the session's, ask for JSON; else "arrow"."""
    wanted = parameters.get(FORMAT_PARAMETER) or session.parameter(FORMAT_PARAMETER)
    return "json" if str(wanted).upper() == "JSON" else "arrow"


def reply_rows(result: Result, wanted: str, chunks: ResultChunks) -> dict:
    """The reply's result keys: format, rowtype, the first part's rows, total, and any chunks."""
    types = [sftypes.of(duck) for _, duck in result.columns]
    rowtype = [t.row_type(name) for (name, _), t in zip(result.columns, types)]
    cells = rs.row_cells(types)
    if result.batches is None:
        rowset = [cells(row) for row in result.rows]
        return _rows("json", rowtype, len(rowset), rowset=rowset)
    try:
        if wanted == "arrow":
            first, first_rows, total = _arrow_chunked(ArrowEncoder(result.columns), result.batches, chunks)
            inline = base64.b64encode(ipc_stream(first)).decode() if first else ""
            return _rows("arrow", rowtype, total, first_rows, rowsetBase64=inline) | chunks.reply()
        parts = _json_parts(cells, result.batches)
        first, first_rows = next(parts, ([], 0))
        total = first_rows + _chunked(((",".join(p).encode(), n) for p, n in parts), chunks)
        return _rows("json", rowtype, total, first_rows, rowset=[json.loads(row) for row in first]) | chunks.reply()
    except BaseException:
        chunks.discard()
        raise


def _rows(result_format: str, rowtype: list[dict], total: int, returned: int | None = None, **rowset) -> dict:
    return {
        "queryResultFormat": result_format,
        "rowtype": rowtype,
        **rowset,
        "total": total,
        "returned": total if returned is None else returned,
    }


def _chunked(parts: Iterator[tuple[bytes, int]], chunks: ResultChunks) -> int:
    """Keep every further part as a chunk; the rows they hold."""
    rows = 0
    for data, count in parts:
        chunks.add(data, count)
        rows += count
    return rows


def _arrow_chunked(encoder: ArrowEncoder, batches, chunks: ResultChunks) -> tuple[list, int, int]:
    """(first part's batches, its rows, all rows): every further part kept as a chunk, all in one schema."""
    parts = _arrow_parts(encoder, batches)
    first, total = next(parts, ([], 0))
    first_rows, schemas = total, [first[0].schema] if first else []
    for part, rows in parts:
        chunks.add(ipc_stream(part), rows)
        schemas.append(part[0].schema)
        total += rows
    if any(schema != schemas[0] for schema in schemas):  # a later part needed decimal128
        schema = common_schema(schemas)
        first = [widened(batch, schema) for batch in first]
        chunks.rewrite(lambda data: ipc_stream([widened(batch, schema) for batch in ipc_batches(data)]))
    return first, first_rows, total


def _arrow_parts(encoder: ArrowEncoder, batches) -> Iterator[tuple[list, int]]:
    """Snowflake's batches in parts, each within its part's bound, with their row counts."""
    part, size, rows, limit = [], 0, 0, INLINE_BYTES
    for batch in batches:
        if not batch.num_rows:
            continue
        converted = encoder.convert(batch)
        step = max(1, _SLICE_BYTES * converted.num_rows // max(1, converted.nbytes))
        for start in range(0, converted.num_rows, step):
            piece = converted.slice(start, step)
            piece_bytes = converted.nbytes * piece.num_rows // converted.num_rows
            if part and size + piece_bytes > limit:
                yield _one_schema(part), rows
                part, size, rows, limit = [], 0, 0, CHUNK_BYTES
            part.append(piece)
            size, rows = size + piece_bytes, rows + piece.num_rows
    if part:
        yield _one_schema(part), rows


def _one_schema(batches: list) -> list:
    """The batches of one part in one schema (one of them needed decimal128 where others did not)."""
    schemas = [batch.schema for batch in batches]
    if all(schema == schemas[0] for schema in schemas):
        return batches
    schema = common_schema(schemas)
    return [widened(batch, schema) for batch in batches]


def _json_parts(cells, batches) -> Iterator[tuple[list[str], int]]:
    """Rows as JSON arrays of string cells, cut into parts within their bounds."""
    part, size, limit = [], 0, INLINE_BYTES
    for batch in batches:
        for row in rs.batch_rows(batch):
            text = json.dumps(cells(row), ensure_ascii=False)
            if part and size + len(text) > limit:
                yield part, len(part)
                part, size, limit = [], 0, CHUNK_BYTES
            part.append(text)
            size += len(text) + 1
    if part:
        yield part, len(part)
