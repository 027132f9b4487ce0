"""Internal stages of the local service: named stages, the user stage ``@~`` and table stages ``@%t``.

A stage is a directory under the home's ``spool/stages/`` (inside what DuckDB may read, so that
COPY INTO can read its files; user SQL cannot name a file at all)::

    named/<database>/<schema>/<name>/stage.json   the stage's FILE_FORMAT and whether it is temporary
    named/<database>/<schema>/<name>/files/...    its files, by their path in the stage
    format/<database>/<schema>/<name>/stage.json  a named file format's options
    table/<database>/<schema>/<table>/files/...   a table's stage (it exists while the table does)
    user/<user>/files/...                         the user's stage

Each name is percent-encoded into one path component, so no name reaches outside its directory;
a file's path in a stage is refused if it is absolute or has an empty, ``.`` or ``..`` part.
Uploads arrive in ``partial/`` next to ``files/`` and are renamed into place whole.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aidemo.local.engine.sqlerrors import EXISTS, SYNTAX, UNKNOWN_OBJECT
from aidemo.local.errors import SnowflakeError

USER_STAGE, TABLE_STAGE, NAMED_STAGE, FILE_FORMAT = "user", "table", "named", "format"
_DEFINED = (NAMED_STAGE, FILE_FORMAT)  # kinds that exist from their CREATE to their DROP
_NAME = re.compile(r'"((?:[^"]|"")*)"|([A-Za-z_$][A-Za-z0-9_$]*)')


@dataclass(frozen=True)
class StageRef:
    """A stage location as a statement names it: which stage, and the path in it ("" for its root)."""

    kind: str
    database: str | None
    schema: str | None
    name: str
    path: str = ""

    @property
    def display(self) -> str:
        """The stage's name as Snowflake's messages write it."""
        if self.kind == USER_STAGE:
            return "~"
        prefix = "%" if self.kind == TABLE_STAGE else ""
        return f"{self.database}.{self.schema}.{prefix}{self.name}"

    @property
    def listing_prefix(self) -> str:
        """What LIST writes before a file's path: a named stage's name in lower case, else nothing."""
        return f"{self.name.lower()}/" if self.kind == NAMED_STAGE else ""

    def with_path(self, path: str) -> StageRef:
        return StageRef(self.kind, self.database, self.schema, self.name, path)


def parse_ref(text: str, database: str | None, schema: str | None, user: str) -> StageRef:
    """The stage a location such as ``@~/p``, ``@%t``, ``@db.s.name/p`` or ``@"x"`` names.

    Unquoted names are upper-cased; a name without its database or schema takes the session's.
    """
    if not text.startswith("@"):
        raise SnowflakeError(SYNTAX, f"SQL compilation error: a stage location starts with '@', got '{text[:80]}'")
    rest = text[1:]
    if rest.startswith("~"):
        return StageRef(USER_STAGE, None, None, user, _path_part(rest[1:], text))
    table = rest.startswith("%")
    parts, pos = [], 1 if table else 0
    while True:
        match = _NAME.match(rest, pos)
        if match is None:
            raise SnowflakeError(SYNTAX, f"SQL compilation error: '{text[:80]}' does not name a stage")
        quoted, bare = match.groups()
        parts.append(quoted.replace('""', '"') if quoted is not None else bare.upper())
        pos = match.end()
        if pos < len(rest) and rest[pos] == "." and len(parts) < 3:
            pos += 1
            if rest[pos : pos + 1] == "%" and not table:  # @db.schema.%table
                table, pos = True, pos + 1
            continue
        break
    path = _path_part(rest[pos:], text)
    name, schema = parts[-1], parts[-2] if len(parts) > 1 else schema
    database = parts[-3] if len(parts) > 2 else database
    if database is None or schema is None:
        raise SnowflakeError(
            ("090105", "22000"), "Cannot perform operation. This session does not have a current database and schema."
        )
    return StageRef(TABLE_STAGE if table else NAMED_STAGE, database, schema, name, path)


def _path_part(rest: str, text: str) -> str:
    if not rest:
        return ""
    if not rest.startswith("/"):
        raise SnowflakeError(SYNTAX, f"SQL compilation error: '{text[:80]}' does not name a stage")
    path = rest.lstrip("/")
    if path.rstrip("/"):
        check_path(path.rstrip("/"))
    return path


def check_path(path: str) -> list[str]:
    """The parts of a file's path in a stage; refuses one that would leave the stage."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts) or "\0" in path:
        raise SnowflakeError(
            ("091016", "22000"), f"Remote file path '{path[:200]}' is not valid: it must stay inside the stage."
        )
    return parts


def unknown(ref: StageRef, what: str = "Stage") -> SnowflakeError:
    """Snowflake's 002003 for a stage (or file format, or table) that does not exist."""
    return SnowflakeError(
        UNKNOWN_OBJECT, f"SQL compilation error:\n{what} '{ref.display}' does not exist or not authorized."
    )


def _component(name: str) -> str:
    return quote(name, safe="").replace(".", "%2E")


class Stages:
    """The stages kept under ``root``; ``sign`` signs the transfer tokens handed out for them."""

    def __init__(self, root: Path, sign):
        self.root = root
        self._sign = sign
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for partial in root.glob("*/**/partial"):  # uploads a killed service left unfinished
            shutil.rmtree(partial, ignore_errors=True)

    # ---- stages ----------------------------------------------------------------------------

    def _dir(self, ref: StageRef) -> Path:
        if ref.kind == USER_STAGE:
            return self.root / USER_STAGE / _component(ref.name)
        return self.root / ref.kind / _component(ref.database) / _component(ref.schema) / _component(ref.name)

    def create(self, ref: StageRef, file_format: dict, *, temporary: bool, or_replace: bool, if_not_exists: bool):
        """CREATE STAGE; False when it existed and IF NOT EXISTS kept it."""
        directory = self._dir(ref)
        if (directory / "stage.json").exists():
            if if_not_exists:
                return False
            if not or_replace:
                raise SnowflakeError(EXISTS, f"SQL compilation error:\nObject '{ref.display}' already exists.")
            shutil.rmtree(directory)
        (directory / "files").mkdir(parents=True, exist_ok=True)
        meta = {"file_format": file_format, "temporary": temporary, "created_on": time.time()}
        partial = directory / f".stage.{uuid.uuid4().hex}.json"
        partial.write_text(json.dumps(meta))
        os.replace(partial, directory / "stage.json")
        return True

    def drop(self, ref: StageRef) -> bool:
        """DROP STAGE (or a table's stage, with its table); whether there was one."""
        directory = self._dir(ref)
        if ref.kind in _DEFINED and not (directory / "stage.json").exists():
            return False
        shutil.rmtree(directory, ignore_errors=True)
        return True

    def forget(self, database: str, schema: str | None = None) -> None:
        """A database or schema is gone: so are its stages, file formats and tables' stages."""
        for kind in (NAMED_STAGE, FILE_FORMAT, TABLE_STAGE):
            scope = self.root / kind / _component(database)
            shutil.rmtree(scope if schema is None else scope / _component(schema), ignore_errors=True)

    def exists(self, ref: StageRef) -> bool:
        return ref.kind not in _DEFINED or (self._dir(ref) / "stage.json").exists()

    def file_format(self, ref: StageRef) -> dict:
        """The FILE_FORMAT options the stage was created with (names upper-case)."""
        if ref.kind not in _DEFINED:
            return {}
        return json.loads((self._dir(ref) / "stage.json").read_text()).get("file_format", {})

    def files_dir(self, ref: StageRef) -> Path:
        """Where the stage's files are; Snowflake's 002003 for a stage that does not exist."""
        if not self.exists(ref):
            raise unknown(ref)
        files = self._dir(ref) / "files"
        files.mkdir(parents=True, exist_ok=True)
        return files

    # ---- files -----------------------------------------------------------------------------

    def files(self, ref: StageRef, pattern: str | None = None) -> list[tuple[str, Path]]:
        """(path in the stage, file) of each file under the location's path, in order of path.

        The location's path is a prefix of the file paths it takes in; ``pattern`` is a regular
        expression the whole path must match.
        """
        root = self.files_dir(ref)
        try:
            regex = re.compile(pattern) if pattern is not None else None
        except re.error as exc:
            raise SnowflakeError(("100048", "2201B"), f"Invalid regular expression '{pattern}': {exc}") from None
        found = []
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = Path(dirpath, name)
                key = path.relative_to(root).as_posix()
                if key.startswith(ref.path) and (regex is None or regex.fullmatch(key)):
                    found.append((key, path))
        return sorted(found)

    def listing(self, ref: StageRef, pattern: str | None) -> list[tuple]:
        """LIST's rows: name, size, md5, last_modified."""
        rows = []
        for key, path in self.files(ref, pattern):
            stat = path.stat()
            modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
            rows.append((ref.listing_prefix + key, stat.st_size, _md5(path), modified))
        return rows

    def remove(self, ref: StageRef, pattern: str | None) -> list[tuple]:
        """REMOVE's rows: name, result."""
        rows = []
        for key, path in self.files(ref, pattern):
            path.unlink(missing_ok=True)
            rows.append((ref.listing_prefix + key, "removed"))
        return rows

    # ---- transfers -------------------------------------------------------------------------

    def stage_id(self, ref: StageRef) -> str:
        """The stage's name in transfer URLs: its directory, base64url-encoded."""
        relative = self._dir(ref).relative_to(self.root).as_posix()
        return base64.urlsafe_b64encode(relative.encode()).decode().rstrip("=")

    def token(self, ref: StageRef, expiry_ms: int) -> str:
        """A bearer token for the files of ``ref``'s stage, valid until ``expiry_ms``."""
        stage_id = self.stage_id(ref)
        return f"{stage_id}.{expiry_ms}.{self._sign(f'{stage_id}.{expiry_ms}')}"

    def transfer_path(self, stage_id: str, key: str, token: str) -> tuple[Path, Path]:
        """(file, partial-upload directory) for ``key`` of the stage ``stage_id``, if ``token`` grants it.

        Raises PermissionError for a token that is not this service's, has expired or is for
        another stage, FileNotFoundError for a stage that is gone, ValueError for a bad key.
        """
        granted, _, rest = token.partition(".")
        expiry, _, mac = rest.partition(".")
        if granted != stage_id or not expiry.isdigit() or mac != self._sign(f"{stage_id}.{expiry}"):
            raise PermissionError("the token does not grant this stage")
        if int(expiry) < time.time() * 1000:
            raise PermissionError("the token has expired: run the PUT or GET again")
        try:
            relative = base64.urlsafe_b64decode(stage_id + "=" * (-len(stage_id) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise PermissionError("the stage is not one of this service's") from None
        directory = self.root.joinpath(*check_path(relative))
        if not (directory / "files").is_dir():
            raise FileNotFoundError("the stage no longer exists")
        try:
            parts = check_path(key)
        except SnowflakeError as exc:
            raise ValueError(str(exc)) from None
        return directory.joinpath("files", *parts), directory / "partial"


class LoadHistory:
    """The staged files COPY INTO loaded into one table (by stage, path, size and time), as Snowflake's
    load metadata; ``table`` names the table with its DuckDB oid, so a table made again starts afresh."""

    def __init__(self, stages: Stages, ref: StageRef, table: str):
        self._stage = stages.stage_id(ref)
        self._path = stages.root / "loads" / f"{hashlib.sha256(table.encode()).hexdigest()[:32]}.json"
        self._seen = json.loads(self._path.read_text()) if self._path.exists() else {}

    def _key(self, key: str, path: Path) -> tuple[str, str]:
        stat = path.stat()
        return f"{self._stage}/{key}", f"{stat.st_size}.{stat.st_mtime_ns}"

    def seen(self, key: str, path: Path) -> bool:
        name, version = self._key(key, path)
        return self._seen.get(name) == version

    def add(self, key: str, path: Path) -> None:
        name, version = self._key(key, path)
        self._seen[name] = version

    def save(self) -> None:
        self._path.parent.mkdir(exist_ok=True)
        partial = self._path.with_suffix(".part")
        partial.write_text(json.dumps(self._seen))
        os.replace(partial, self._path)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
