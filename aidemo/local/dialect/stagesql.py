"""Stage statements: CREATE / DROP STAGE and FILE FORMAT, LIST, REMOVE, PUT and GET.

:func:`translate` hooks turn the parsed statement (sqlglot's ``Put``, ``ListStage``, ``Create`` /
``Drop`` of kind STAGE or FILE FORMAT) or, for ``GET`` and ``REMOVE`` that sqlglot does not model,
its text, into the commands below; :data:`HANDLERS` runs them against the store's
:class:`~aidemo.local.storage.stages.Stages`. PUT and GET move no bytes here: the connector's reply names
the stage's transfer location (:mod:`aidemo.local.http.filetransfer`) and the client uploads or
downloads the files itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from sqlglot import exp

from aidemo.local.dialect.sqltokens import Cursor, name_of
from aidemo.local.engine.sqlcommands import CREATE, DROP, GET_FILES, LIST_FILES, PUT_FILES, REMOVE_FILES
from aidemo.local.engine.sqlerrors import SYNTAX, UNKNOWN_OBJECT
from aidemo.local.engine.sqlresults import Result
from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import SnowflakeError
from aidemo.local.storage.stages import FILE_FORMAT, NAMED_STAGE, TABLE_STAGE, StageRef, Stages, parse_ref, unknown

_WHAT = {NAMED_STAGE: "Stage", FILE_FORMAT: "File format"}


@dataclass(frozen=True)
class CreateStage:
    """CREATE [OR REPLACE] [TEMPORARY] STAGE [IF NOT EXISTS] ``ref`` [FILE_FORMAT = (...)], or a FILE
    FORMAT with its options (``ref.kind`` FILE_FORMAT: kept like a stage's FILE_FORMAT)."""

    kind: ClassVar[int] = CREATE
    ref: StageRef
    file_format: tuple[tuple[str, object], ...]
    temporary: bool
    or_replace: bool
    if_not_exists: bool


@dataclass(frozen=True)
class DropStage:
    """DROP STAGE | FILE FORMAT [IF EXISTS] ``ref``."""

    kind: ClassVar[int] = DROP
    ref: StageRef
    if_exists: bool


@dataclass(frozen=True)
class ListFiles:
    """LIST @location [PATTERN = '<regex>']."""

    kind: ClassVar[int] = LIST_FILES
    ref: StageRef
    pattern: str | None


@dataclass(frozen=True)
class RemoveFiles:
    """REMOVE @location [PATTERN = '<regex>']."""

    kind: ClassVar[int] = REMOVE_FILES
    ref: StageRef
    pattern: str | None


@dataclass(frozen=True)
class PutFiles:
    """PUT file://<local> @location with the options the client's upload follows."""

    kind: ClassVar[int] = PUT_FILES
    local: str
    ref: StageRef
    options: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class GetFiles:
    """GET @location file://<local directory> [PATTERN = ...]."""

    kind: ClassVar[int] = GET_FILES
    ref: StageRef
    local: str
    pattern: str | None
    options: tuple[tuple[str, object], ...]


def option_value(node: exp.Expression):
    """An option's value: bool, str (a keyword upper-case, a string as written) or a list of them."""
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, (exp.Tuple, exp.Paren)):
        return [option_value(e) for e in (node.expressions if isinstance(node, exp.Tuple) else [node.this])]
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, exp.Neg):
        return "-" + str(option_value(node.this))
    return node.name.upper() if isinstance(node, (exp.Var, exp.Identifier, exp.Column)) else node.sql("snowflake")


def options_of(properties) -> dict:
    """``NAME = value`` properties (sqlglot's Property nodes) as a dict, names upper-case."""
    found = {}
    for prop in properties:
        if type(prop) is exp.Property:  # not its subclasses (TEMPORARY and the like)
            found[prop.name.upper()] = option_value(prop.args["value"])
    return found


def ref_of(node: exp.Expression, session: Session) -> StageRef:
    """The stage a location node (``@x/p`` as a Var, a Table or a string) names."""
    text = node.name if isinstance(node, (exp.Literal, exp.Var)) else node.sql("snowflake")
    if isinstance(node, exp.Table) and isinstance(node.this, (exp.Var, exp.Literal)):
        text = node.this.name
    return parse_ref(_unquote(text.strip()), session.database, session.schema, session.user)  # '@s' as a Var


def _object_ref(table: exp.Table, session: Session, kind: str = NAMED_STAGE) -> StageRef:
    parts = [name_of(p) for p in (table.args.get("catalog"), table.args.get("db"), table.this) if p is not None]
    database = parts[-3] if len(parts) > 2 else session.database
    schema = parts[-2] if len(parts) > 1 else session.schema
    if database is None or schema is None:
        raise SnowflakeError(
            ("090105", "22000"), "Cannot perform operation. This session does not have a current database and schema."
        )
    return StageRef(kind, database, schema, parts[-1])


# ---- translation -----------------------------------------------------------------------


def create(tree: exp.Create, text: str, session: Session):
    """CREATE STAGE / CREATE FILE FORMAT."""
    properties = tree.args.get("properties")
    props = properties.expressions if properties else []
    temporary = any(isinstance(p, exp.TemporaryProperty) for p in props)
    exists, replace = bool(tree.args.get("exists")), bool(tree.args.get("replace"))
    if str(tree.kind).upper() == "FILE FORMAT":
        ref = _object_ref(tree.this, session, FILE_FORMAT)
        return CreateStage(ref, tuple(options_of(props).items()), temporary, replace, exists)
    file_format = {}
    for prop in props:
        if isinstance(prop, exp.FileFormatProperty):
            file_format = options_of(prop.expressions)
        elif not isinstance(prop, exp.TemporaryProperty):
            what = prop.sql("snowflake")[:60]
            raise SnowflakeError(
                ("002076", "0A000"), f"Unsupported feature '{what}': the local service's stages are internal stages"
            )
    return CreateStage(_object_ref(tree.this, session), tuple(file_format.items()), temporary, replace, exists)


def drop(tree: exp.Drop, text: str, session: Session):
    """DROP STAGE / DROP FILE FORMAT."""
    (target,) = tree.args["tables"]
    kind = FILE_FORMAT if str(tree.args.get("kind")).upper() == "FILE FORMAT" else NAMED_STAGE
    return DropStage(_object_ref(target, session, kind), bool(tree.args.get("exists")))


def put(tree: exp.Put, text: str, session: Session) -> PutFiles:
    local = tree.this.name
    if not local.lower().startswith("file://"):
        raise SnowflakeError(SYNTAX, f"SQL compilation error: PUT reads a local file: 'file://...', got '{local[:80]}'")
    properties = tree.args.get("properties")
    options = options_of(properties.expressions if properties else [])
    return PutFiles(local[len("file://") :], ref_of(tree.args["target"], session), tuple(options.items()))


def list_files(tree: exp.ListStage, text: str, session: Session) -> ListFiles:
    pattern = tree.args.get("pattern")
    return ListFiles(ref_of(tree.this, session), pattern.name if pattern is not None else None)


_OPTION = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.|'')*'|[^\s']+)")
_LOCATION = re.compile(r"""\s*('(?:[^'\\]|\\.|'')*'|(?:"(?:[^"]|"")*"|[^\s'"])+)""")


def _arguments(c: Cursor, count: int) -> tuple[list[str], dict]:
    """The ``count`` locations after the statement's first word, then its ``NAME = value`` options."""
    text, pos, found = c.rest(), 0, []
    first = re.match(r"\s*\w+", text)
    pos = first.end()
    for _ in range(count):
        match = _LOCATION.match(text, pos)
        if match is None:
            c.fail(f"expected a location after {c.word()}")
        found.append(_unquote(match.group(1)))
        pos = match.end()
    options = {}
    while pos < len(text.rstrip()):
        match = _OPTION.match(text, pos)
        if match is None:
            c.fail(f"unexpected text {text[pos:].strip()[:40]!r}")
        options[match.group(1).upper()] = _unquote(match.group(2))
        pos = match.end()
    return found, options


def _unquote(word: str) -> str:
    if len(word) > 1 and word[0] == word[-1] == "'":
        return word[1:-1].replace("''", "'").replace("\\'", "'").replace("\\\\", "\\")
    return word


def get_command(c: Cursor) -> GetFiles:
    """GET @location 'file://dir' [PARALLEL = n] [PATTERN = '...'] (sqlglot has no GET)."""
    (location, local), options = _arguments(c, 2)
    if not local.lower().startswith("file://"):
        c.fail("GET writes to a local directory: 'file://...'")
    ref = parse_ref(location, c.database, c.schema, Session().user)
    return GetFiles(ref, local[len("file://") :], options.pop("PATTERN", None), tuple(options.items()))


def remove_command(c: Cursor) -> RemoveFiles:
    """REMOVE | RM @location [PATTERN = '...'] (sqlglot has no REMOVE)."""
    (location,), options = _arguments(c, 1)
    pattern = options.pop("PATTERN", None)
    if options:
        c.fail(f"REMOVE takes PATTERN only, not {', '.join(options)}")
    return RemoveFiles(parse_ref(location, c.database, c.schema, Session().user), pattern)


# ---- running them --------------------------------------------------------------------------


def stages_of(store) -> Stages:
    """The store's stages (the running service sets them)."""
    stages = getattr(store, "stages", None)
    if stages is None:
        raise SnowflakeError(("000002", "0A000"), "Stages are served by the running local service only.")
    return stages


def check_stage(store, ref: StageRef) -> Stages:
    """The stages, once ``ref`` is known to exist (a table's stage: while its table does)."""
    stages = stages_of(store)
    if ref.kind == TABLE_STAGE and store.find_table(ref.database, ref.schema, ref.name) != ref.name:
        raise unknown(StageRef(NAMED_STAGE, ref.database, ref.schema, ref.name), "Table")
    if not stages.exists(ref):
        raise unknown(ref)
    return stages


def _create_stage(store, command: CreateStage, session: Session) -> Result:
    if not store.has_schema(command.ref.database, command.ref.schema):
        raise SnowflakeError(
            UNKNOWN_OBJECT, f"Schema '{command.ref.database}.{command.ref.schema}' does not exist or not authorized."
        )
    made = stages_of(store).create(
        command.ref,
        dict(command.file_format),
        temporary=command.temporary,
        or_replace=command.or_replace,
        if_not_exists=command.if_not_exists,
    )
    if not made:
        return Result(message=f"{command.ref.name} already exists, statement succeeded.")
    if command.temporary:
        session.temporary_stages.append(command.ref)
    made = "Stage area" if command.ref.kind == NAMED_STAGE else "File format"
    return Result(message=f"{made} {command.ref.name} successfully created.")


def _drop_stage(store, command: DropStage, session: Session) -> Result:
    if not stages_of(store).drop(command.ref) and not command.if_exists:
        raise unknown(command.ref, _WHAT[command.ref.kind])
    return Result(message=f"{command.ref.name} successfully dropped.")


def named_format(store, name: str, session: Session) -> dict:
    """The options of the file format ``name`` (qualified or not, as a statement writes it)."""
    ref = parse_ref("@" + name, session.database, session.schema, session.user)
    ref = StageRef(FILE_FORMAT, ref.database, ref.schema, ref.name)
    stages = stages_of(store)
    if not stages.exists(ref):
        raise unknown(ref, "File format")
    return stages.file_format(ref)


def _list(store, command: ListFiles, session: Session) -> Result:
    rows = check_stage(store, command.ref).listing(command.ref, command.pattern)
    columns = [("name", "VARCHAR"), ("size", "BIGINT"), ("md5", "VARCHAR"), ("last_modified", "VARCHAR")]
    return Result(columns, rows)


def _remove(store, command: RemoveFiles, session: Session) -> Result:
    rows = check_stage(store, command.ref).remove(command.ref, command.pattern)
    return Result([("name", "VARCHAR"), ("result", "VARCHAR")], rows)


def _transfer_only(store, command, session: Session) -> Result:
    raise SnowflakeError(
        ("000002", "0A000"),
        "PUT and GET run through a client's file transfer (snowflake-connector-python, the drivers), "
        "not through the SQL API.",
    )


def table_dropped(store, database: str, schema: str, table: str) -> None:
    """DROP TABLE dropped the table's stage too."""
    if getattr(store, "stages", None) is not None and store.find_table(database, schema, table) is None:
        store.stages.drop(StageRef(TABLE_STAGE, database, schema, table))


def end_session(store, session: Session) -> None:
    """Drop the session's temporary stages and file formats."""
    stages = getattr(store, "stages", None)
    for ref in session.temporary_stages if stages is not None else ():
        stages.drop(ref)
    session.temporary_stages.clear()


HANDLERS = {
    CreateStage: _create_stage, DropStage: _drop_stage, ListFiles: _list, RemoveFiles: _remove,
    PutFiles: _transfer_only, GetFiles: _transfer_only,
}  # fmt: skip
