"""COPY INTO @stage FROM <table> | (<query>): unloading rows into a staged Parquet file.

The query is translated like any other (the sandbox's checks included) and DuckDB writes its rows
as one Snappy-compressed Parquet file, named as Snowflake names it (``<path>data_0_0_0.snappy.parquet``,
``<prefix>_0_0_0.snappy.parquet`` after a path that does not end in ``/``, the path itself with
SINGLE = TRUE). CSV is refused rather than written with other text than Snowflake's for NULLs,
empty strings, dates and times. The reply has Snowflake's columns rows_unloaded, input_bytes
(the data before compression) and output_bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pyarrow.parquet as pq
from sqlglot import exp

from aidemo.local.dialect.ducksql import translate_with_sqlglot
from aidemo.local.dialect.sandbox import check_schemas
from aidemo.local.dialect.stagesql import check_stage, named_format, option_value, options_of
from aidemo.local.engine.sqlcommands import UNLOAD
from aidemo.local.engine.sqlerrors import unsupported
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SnowflakeError
from aidemo.local.storage import fileformats
from aidemo.local.storage.stages import StageRef, check_path

_OPTIONS = {"FILE_FORMAT", "OVERWRITE", "SINGLE", "HEADER", "MAX_FILE_SIZE"}


@dataclass(frozen=True)
class UnloadInto:
    """COPY INTO ``ref`` FROM a table or a query."""

    kind: ClassVar[int] = UNLOAD
    ref: StageRef
    query: exp.Query
    options: tuple[tuple[str, object], ...]
    text: str


def translate(ref: StageRef, tree: exp.Copy, text: str) -> UnloadInto:
    """The unload a COPY INTO @stage statement is."""
    (source,) = tree.args["files"]
    query = source.this if isinstance(source, exp.Subquery) else exp.select("*").from_(source.copy())
    options = {}
    for param in tree.args.get("params") or []:
        name = param.name.upper()
        if name not in _OPTIONS:
            raise unsupported(f"COPY INTO @stage option {name}")
        expressions = param.args.get("expressions")
        options[name] = options_of(expressions) if expressions else option_value(param.args["expression"])
    return UnloadInto(ref, query, tuple(options.items()), text)


def run(store, command: UnloadInto, session: Session) -> Result:
    """Write the query's rows into the stage; Snowflake's one reply row."""
    stages = check_stage(store, command.ref)
    options = dict(command.options)
    statement = options.get("FILE_FORMAT", {})
    fmt = fileformats.resolve(
        stages.file_format(command.ref), statement, named=lambda n: named_format(store, n, session)
    )
    if fmt.type != "PARQUET":
        raise unsupported(f"COPY INTO @stage with TYPE = {fmt.type}", "unload with FILE_FORMAT = (TYPE = PARQUET)")
    path = command.ref.path
    if _flag(options.get("SINGLE", False)):
        if not path or path.endswith("/"):
            raise SnowflakeError(("001008", "22023"), "SINGLE = TRUE needs a file name after the stage")
        name = path
    else:
        name = f"{path if path and not path.endswith('/') else path + 'data'}_0_0_0.snappy.parquet"
    target = stages.files_dir(command.ref).joinpath(*check_path(name))
    if target.exists() and not _flag(options.get("OVERWRITE", False)):
        raise SnowflakeError(
            ("001030", "22000"),
            f"Files already existing at the unload destination: @{command.ref.display}/{name}. "
            "Use overwrite option to force unloading.",
        )
    duck = translate_with_sqlglot(command.query.copy(), command.text, session)
    check_schemas(store, duck.schemas)
    target.parent.mkdir(parents=True, exist_ok=True)
    location = "'" + str(target).replace("'", "''") + "'"
    rows = store.cursor().execute(f"COPY ({duck.sql}) TO {location} (FORMAT parquet, COMPRESSION snappy)")
    count = int(rows.fetchall()[0][0])
    metadata = pq.ParquetFile(target).metadata
    plain = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    columns = [("rows_unloaded", "BIGINT"), ("input_bytes", "BIGINT"), ("output_bytes", "BIGINT")]
    return Result(columns, [(count, plain, target.stat().st_size)])


def _flag(value) -> bool:
    return value if isinstance(value, bool) else str(value).upper() == "TRUE"
