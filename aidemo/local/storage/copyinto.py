"""COPY INTO <table> FROM @stage, and INFER_SCHEMA, over the files of the local service's stages.

A COPY loads each staged file with one ``INSERT INTO <table> SELECT ... FROM <the file's reader>``
translated like any statement (casts, semi-structured paths), where the reader is a temporary
view of the writer connection over :func:`aidemo.local.storage.fileformats.reader_sql`, named by a
trusted table reference: COPY's own code is the only path from SQL to a staged file.
``$1:"name"`` of a Parquet file is its column ``name``, ``$n`` of a CSV its n-th
field. Without a transformation, MATCH_BY_COLUMN_NAME pairs file and table columns by name, and a
CSV fills the table's columns by position.

ON_ERROR = ABORT_STATEMENT (the default) loads all the files or none; SKIP_FILE commits file by
file and reports a failed file LOAD_FAILED; CONTINUE leaves out the rows with a value their column's
type cannot hold (or a NULL for a NOT NULL column) and reports the file PARTIALLY_LOADED. A file
loaded into a table before is skipped (LOAD_SKIPPED, as Snowflake's load metadata does) unless
FORCE = TRUE; PURGE = TRUE removes the loaded files. The reply has Snowflake's columns: file,
status, rows_parsed, rows_loaded, error_limit, errors_seen, first_error, first_error_line,
first_error_character, first_error_column_name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import duckdb
from sqlglot import exp

from aidemo.local.dialect.ducksql import translate_with_sqlglot
from aidemo.local.dialect.sandbox import check_schemas, trust
from aidemo.local.dialect.sqltokens import name_of, quoted
from aidemo.local.dialect.stagesql import check_stage, named_format, option_value, options_of, ref_of
from aidemo.local.engine.sqlcommands import COPY, SELECT
from aidemo.local.engine.sqlerrors import duck_error, unsupported
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SnowflakeError, SqlError
from aidemo.local.storage import fileformats, unload
from aidemo.local.storage.stages import LoadHistory, StageRef

RESULT_COLUMNS = [
    ("file", "VARCHAR"), ("status", "VARCHAR"), ("rows_parsed", "BIGINT"), ("rows_loaded", "BIGINT"),
    ("error_limit", "BIGINT"), ("errors_seen", "BIGINT"), ("first_error", "VARCHAR"),
    ("first_error_line", "BIGINT"), ("first_error_character", "BIGINT"), ("first_error_column_name", "VARCHAR"),
]  # fmt: skip
_ON_ERROR = ("ABORT_STATEMENT", "SKIP_FILE", "CONTINUE")
_OPTIONS = {"FILE_FORMAT", "FILES", "PATTERN", "ON_ERROR", "PURGE", "FORCE", "MATCH_BY_COLUMN_NAME"}
_TOO_MANY = ("100080", "22000")
_VIEW = "_aidemo_staged_file"  # the file being loaded, in the writer connection's temporary catalog
_ROWS = "_aidemo_staged_rows"  # its rows, converted (ON_ERROR = CONTINUE)
_WHAT_FAILED = (("NUMBER", "Numeric value"), ("DECIMAL", "Numeric value"), ("INT", "Numeric value"),
                ("FLOAT", "Numeric value"), ("DOUBLE", "Numeric value"), ("DATE", "Date"), ("TIMESTAMP", "Timestamp"),
                ("TIME", "Time"), ("BOOLEAN", "Boolean value"))  # fmt: skip


@dataclass(frozen=True)
class CopyInto:
    """COPY INTO ``database.schema.table`` [(columns)] FROM ``ref`` or a transformation of it."""

    kind: ClassVar[int] = COPY
    database: str
    schema: str
    table: str
    columns: tuple[str, ...] | None
    ref: StageRef
    transform: exp.Select | None
    options: tuple[tuple[str, object], ...]
    text: str


@dataclass(frozen=True)
class InferSchema:
    """SELECT <columns> FROM TABLE(INFER_SCHEMA(LOCATION => '@...', FILE_FORMAT => '<name>'[, FILES => ...]))."""

    kind: ClassVar[int] = SELECT
    ref: StageRef
    file_format: str
    files: tuple[str, ...] | None
    columns: tuple[str, ...] | None


def translate(tree: exp.Copy, text: str, session: Session) -> CopyInto | unload.UnloadInto:
    """The COPY INTO <table> statement as a command (COPY INTO @stage: :mod:`aidemo.local.storage.unload`)."""
    target = tree.this
    if isinstance(target, exp.Table) and isinstance(target.this, (exp.Var, exp.Literal)):
        return unload.translate(ref_of(target, session), tree, text)
    columns = None
    if isinstance(target, exp.Schema):
        columns = tuple(name_of(c) for c in target.expressions)
        target = target.this
    if not isinstance(target, exp.Table) or not isinstance(target.this, exp.Identifier):
        raise unsupported(f"COPY INTO {target.sql('snowflake')[:60]}")
    (source,) = tree.args["files"]
    transform = None
    if isinstance(source, exp.Subquery):
        transform = source.this
        if not isinstance(transform, exp.Select) or transform.args.get("joins") or transform.args.get("where"):
            raise unsupported("a COPY transformation other than SELECT <items> FROM @stage")
        source = transform.args["from_"].this
    options = {}
    for param in tree.args.get("params") or []:
        name = param.name.upper()
        if name not in _OPTIONS:
            raise unsupported(f"COPY option {name}")
        expressions = param.args.get("expressions")
        options[name] = options_of(expressions) if expressions else option_value(param.args["expression"])
    parts = [name_of(p) for p in (target.args.get("catalog"), target.args.get("db"), target.this) if p is not None]
    database = parts[-3] if len(parts) > 2 else session.database
    schema = parts[-2] if len(parts) > 1 else session.schema
    return CopyInto(
        database, schema, parts[-1], columns, ref_of(source, session), transform, tuple(options.items()), text
    )


def infer_schema(tree: exp.Expression, session: Session) -> InferSchema | None:
    """The INFER_SCHEMA query a statement is, or None for any other statement."""
    source = tree.args.get("from_") if isinstance(tree, exp.Select) else None
    function = source.this.this if source is not None and isinstance(source.this, exp.TableFromRows) else None
    if not isinstance(function, exp.Anonymous) or function.name.upper() != "INFER_SCHEMA":
        return None
    arguments = {kwarg.this.name.upper(): option_value(kwarg.expression) for kwarg in function.expressions}
    if (
        "LOCATION" not in arguments
        or "FILE_FORMAT" not in arguments
        or set(arguments) - {"LOCATION", "FILE_FORMAT", "FILES"}
    ):
        raise SnowflakeError(("001003", "42000"), "INFER_SCHEMA takes LOCATION, FILE_FORMAT and FILES")
    items = tree.expressions
    columns = None if len(items) == 1 and isinstance(items[0], exp.Star) else tuple(i.name.upper() for i in items)
    files = arguments.get("FILES")
    ref = ref_of(exp.Literal.string(str(arguments["LOCATION"])), session)
    return InferSchema(ref, str(arguments["FILE_FORMAT"]), tuple(files) if files else None, columns)


# ---- running -----------------------------------------------------------------------------------


def _format(store, command, session: Session, statement: dict) -> fileformats.FileFormat:
    stages = check_stage(store, command.ref)
    return fileformats.resolve(
        stages.file_format(command.ref), statement, named=lambda n: named_format(store, n, session)
    )


def _files(store, ref: StageRef, files, pattern) -> list[tuple[str, object]]:
    stages = check_stage(store, ref)
    found = stages.files(ref, pattern)
    if files:
        wanted = {f"{ref.path.rstrip('/')}/{name}".lstrip("/") for name in files}
        found = [(key, path) for key, path in found if key in wanted]
    return found


def run_infer(store, command: InferSchema, session: Session) -> Result:
    """INFER_SCHEMA's rows: COLUMN_NAME, TYPE, NULLABLE, EXPRESSION, FILENAMES, ORDER_ID."""
    fmt = fileformats.resolve({"FORMAT_NAME": command.file_format}, named=lambda n: named_format(store, n, session))
    found: dict[str, list] = {}
    cur = store.cursor()
    for key, path in _files(store, command.ref, command.files, None):
        for name, duck_type in fileformats.file_columns(cur, path, fmt):
            found.setdefault(name, [fileformats.inferred_type(duck_type), []])[1].append(key)
    names = ["COLUMN_NAME", "TYPE", "NULLABLE", "EXPRESSION", "FILENAMES", "ORDER_ID"]
    rows = [
        (name, kind, True, f'$1:"{name}"::{kind}', ",".join(keys), i)
        for i, (name, (kind, keys)) in enumerate(found.items())
    ]
    types = ["VARCHAR", "VARCHAR", "BOOLEAN", "VARCHAR", "VARCHAR", "BIGINT"]
    picked = (
        list(range(len(names))) if command.columns is None else [names.index(c) for c in command.columns if c in names]
    )
    return Result([(names[i], types[i]) for i in picked], [tuple(row[i] for i in picked) for row in rows])


def run(store, command: CopyInto, session: Session) -> Result:
    """Load the staged files into the table; one reply row per file."""
    if session.transaction is not None:
        raise unsupported("COPY INTO inside an open transaction", "COMMIT first")
    options = dict(command.options)
    on_error = str(options.get("ON_ERROR", "ABORT_STATEMENT")).upper()
    if on_error not in _ON_ERROR:
        raise unsupported(f"ON_ERROR = {on_error}", "use ABORT_STATEMENT, SKIP_FILE or CONTINUE")
    fmt = _format(store, command, session, options.get("FILE_FORMAT", {}))
    table = store.find_table(command.database, command.schema, command.table)
    if table is None:
        raise SnowflakeError(
            ("002003", "42S02"),
            f"SQL compilation error:\nTable '{command.database}.{command.schema}.{command.table}' does not exist "
            "or not authorized.",
        )
    command = dataclasses.replace(command, table=table)
    oid = (
        store.cursor()
        .execute(
            "SELECT table_oid FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
            [command.database, command.schema, command.table],
        )
        .fetchone()
    )
    history = LoadHistory(store.stages, command.ref, f"{command.database}.{command.schema}.{command.table}.{oid}")
    force = _flag(options.get("FORCE", False))
    files = _files(store, command.ref, options.get("FILES"), options.get("PATTERN"))
    if not files:
        return Result([("status", "VARCHAR")], [("Copy executed with 0 files processed.",)])
    rows, loaded = [], []
    atomic = on_error == "ABORT_STATEMENT"
    with store.writing() as w:
        w.execute("BEGIN")
        try:
            for key, path in files:
                name = command.ref.listing_prefix + key
                if not force and history.seen(key, path):
                    rows.append((name, "LOAD_SKIPPED", 0, 0, 1, 1, "File was loaded before.", None, None, None))
                    continue
                try:
                    parsed, count, first = _load(w, store, command, session, path, fmt, on_error == "CONTINUE")
                except (duckdb.Error, SqlError) as exc:
                    code, message = duck_error(exc) if isinstance(exc, duckdb.Error) else (None, str(exc))
                    if atomic and code is not None:
                        raise SnowflakeError(code, f"{message} (file '{name}')") from exc
                    if atomic:
                        raise
                    w.execute("ROLLBACK")
                    w.execute("BEGIN")
                    rows.append((name, "LOAD_FAILED", 0, 0, 1, 1, message, None, None, None))
                    continue
                if first is None:
                    rows.append((name, "LOADED", parsed, count, 1, 0, None, None, None, None))
                else:
                    status = "PARTIALLY_LOADED" if count else "LOAD_FAILED"
                    rows.append((name, status, parsed, count, parsed, parsed - count, *first))
                history.add(key, path)
                loaded.append(path)
                if not atomic:
                    history.save()
                    w.execute("COMMIT")
                    w.execute("BEGIN")
            history.save()
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
    if _flag(options.get("PURGE", False)):
        for path in loaded:
            path.unlink(missing_ok=True)
    return Result(RESULT_COLUMNS, rows)


def _flag(value) -> bool:
    return value if isinstance(value, bool) else str(value).upper() == "TRUE"


def _load(w, store, command: CopyInto, session: Session, path, fmt, skip_rows: bool) -> tuple[int, int, tuple | None]:
    """Insert one file's rows: (rows parsed, rows loaded, the first error's four columns or None).

    With ``skip_rows`` (ON_ERROR = CONTINUE), a row with a value its column's type cannot hold (or a
    NULL for a NOT NULL column) is left out and counted instead of failing the file.
    """
    file_columns = fileformats.file_columns(w, path, fmt)
    positions = ", ".join(f'"_f{i}"' for i in range(1, len(file_columns) + 1))  # the file's names may clash in DuckDB
    w.execute(f"CREATE OR REPLACE TEMP VIEW {_VIEW} ({positions}) AS {fileformats.reader_sql(path, fmt)}")
    targets, select = _select(w, store, command, path, fmt, [name for name, _ in file_columns])
    into = exp.Table(this=quoted(command.table), db=quoted(command.schema), catalog=quoted(command.database))
    if skip_rows:
        outcome = _load_valid_rows(w, store, command, session, into, targets, select)
    else:
        insert = exp.Insert(this=exp.Schema(this=into, expressions=[quoted(t) for t in targets]), expression=select)
        duck = translate_with_sqlglot(insert, command.text, session)
        check_schemas(store, duck.schemas)
        w.execute(duck.sql)
        count = int(w.fetchall()[0][0])
        outcome = count, count, None
    w.execute(f"DROP VIEW temp.main.{_VIEW}")
    return outcome


def _load_valid_rows(w, store, command: CopyInto, session: Session, into, targets, select) -> tuple:
    """ON_ERROR = CONTINUE: insert the rows whose values all convert; (parsed, loaded, first error)."""
    columns = {c.name: c for c in store.table_columns(command.database, command.schema, command.table, w)}
    for i, item in enumerate(list(select.expressions)):
        item.replace(exp.alias_(item.unalias(), f"_c{i}", quoted=True))
    duck = translate_with_sqlglot(select, command.text, session)
    check_schemas(store, duck.schemas)
    typed = [f'TRY_CAST("_c{i}" AS {columns[t].type})' for i, t in enumerate(targets)]
    bad = [f'("_c{i}" IS NOT NULL AND {cast} IS NULL)' for i, cast in enumerate(typed)]
    bad += [f'"_c{i}" IS NULL' for i, t in enumerate(targets) if not columns[t].nullable]
    values = ", ".join(f'{cast} AS "_v{i}"' for i, cast in enumerate(typed))
    w.execute(
        f"CREATE OR REPLACE TEMP VIEW {_ROWS} AS SELECT row_number() OVER () AS _line, *, {values}, "
        f"({' OR '.join(bad)}) AS _bad FROM ({duck.sql})"
    )
    rows = f"temp.main.{_ROWS}"
    parsed, errors = w.execute(f"SELECT count(*), count(*) FILTER (WHERE _bad) FROM {rows}").fetchone()
    names = ", ".join(quoted(t).sql("duckdb") for t in targets)
    picked = ", ".join(f'"_v{i}"' for i in range(len(targets)))
    w.execute(f"INSERT INTO {into.sql('duckdb')} ({names}) SELECT {picked} FROM {rows} WHERE NOT _bad")
    first = None
    if errors:
        line, *raw = w.execute(
            f"SELECT _line, * EXCLUDE (_line, _bad) FROM {rows} WHERE _bad ORDER BY _line LIMIT 1"
        ).fetchone()
        first = _first_error(command.table, targets, columns, line, raw[: len(targets)], raw[len(targets) :])
    w.execute(f"DROP VIEW {rows}")
    return parsed, parsed - errors, first


def _first_error(table: str, targets, columns, line: int, raw: list, typed: list) -> tuple:
    """first_error, first_error_line, first_error_character, first_error_column_name of a row left out."""
    i = next(i for i, (r, v) in enumerate(zip(raw, typed)) if (r is not None and v is None) or r is None)
    declared = columns[targets[i]].declared.upper()
    if raw[i] is None:
        message = "NULL result in a non-nullable column"
    else:
        what = next((w for prefix, w in _WHAT_FAILED if declared.startswith(prefix)), "Value")
        message = f"{what} '{raw[i]}' is not recognized"
    return message, line, None, f'"{table}"["{targets[i]}":{i + 1}]'


def _select(w, store, command: CopyInto, path, fmt, names: list[str]) -> tuple[list[str], exp.Select]:
    """The target columns and the SELECT over the file's reader (its columns ``_f1``, ``_f2``, ... are
    the file's ``names``) that fills them."""
    table_columns = [c.name for c in store.table_columns(command.database, command.schema, command.table, w)]
    reader = trust(exp.Table(this=quoted(_VIEW), db=quoted("main"), catalog=quoted("temp")))
    refs = [f"_f{i}" for i in range(1, len(names) + 1)]
    if command.transform is not None:
        select = command.transform.copy()
        for kind in (exp.JSONExtract, exp.Parameter):  # paths first: each holds its $1
            for node in list(select.find_all(kind)):
                _file_column(node, names, refs, fmt)
        select.set("from_", exp.From(this=reader))
        targets = list(command.columns or table_columns[: len(select.expressions)])
        if len(targets) != len(select.expressions):
            raise SnowflakeError(
                ("002020", "21S01"), "SQL compilation error:\nInsert value list does not match column list"
            )
        return targets, select
    match = str(dict(command.options).get("MATCH_BY_COLUMN_NAME", "NONE")).upper()
    if match != "NONE":
        if fmt.type == "CSV":
            if not fmt.flag("PARSE_HEADER", False):
                raise SnowflakeError(
                    ("002024", "22000"), "MATCH_BY_COLUMN_NAME for CSV needs the file format option PARSE_HEADER = TRUE"
                )
            names = fileformats.header_names(w, path, fmt)
        fold = (lambda n: n) if match == "CASE_SENSITIVE" else str.upper
        by_name = dict(zip(map(fold, names), refs))
        pairs = [(t, by_name[fold(t)]) for t in table_columns if fold(t) in by_name]
        select = exp.select(*[exp.column(quoted(source)) for _, source in pairs]).from_(reader)
        return [t for t, _ in pairs], select
    if fmt.type == "PARQUET":
        raise SnowflakeError(
            ("002019", "0A000"),
            "SQL compilation error:\nPARQUET file format can produce one and only one column of type variant, object, "
            "or array. Load data into separate columns using the MATCH_BY_COLUMN_NAME copy option or copy with "
            "transformation.",
        )
    targets = list(command.columns or table_columns)
    if len(names) != len(targets) and fmt.flag("ERROR_ON_COLUMN_COUNT_MISMATCH", True):
        raise SnowflakeError(
            _TOO_MANY,
            f"Number of columns in file ({len(names)}) does not match that of the corresponding table "
            f"({len(targets)}), use file format option error_on_column_count_mismatch=false to ignore this error",
        )
    columns = [exp.column(quoted(n)) for n in refs[: len(targets)]]
    columns += [exp.Null()] * (len(targets) - len(columns))
    return targets, exp.select(*columns).from_(reader)


def _file_column(node: exp.Expression, names: list[str], refs: list[str], fmt) -> None:
    """``$1:"name"`` (Parquet: the file's column of that name, case-sensitive as Snowflake's paths) or
    ``$n`` (CSV) of a transformation as the reader's column (NULL if the file has none)."""
    if isinstance(node, exp.JSONExtract):
        base, path = node.this, node.expression
        keys = [k for k in path.expressions if isinstance(k, exp.JSONPathKey)] if isinstance(path, exp.JSONPath) else []
        if fmt.type != "PARQUET" or not isinstance(base, exp.Parameter) or base.name != "1" or len(keys) != 1:
            raise unsupported(
                f"{node.sql('snowflake')} in a COPY transformation", 'select $1:"<column>" of a Parquet file'
            )
        wanted = keys[0].this
        node.replace(exp.column(quoted(refs[names.index(wanted)])) if wanted in names else exp.Null())
        return
    if not isinstance(node.this, exp.Literal) or not node.this.name.isdigit():
        return  # a session variable: the translation reads it
    position = int(node.this.name)
    if fmt.type == "PARQUET":
        raise unsupported(f"${position} of a Parquet file", 'select $1:"<column>"')
    node.replace(exp.column(quoted(refs[position - 1])) if 0 < position <= len(refs) else exp.Null())
