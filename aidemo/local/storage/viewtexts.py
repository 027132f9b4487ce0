"""The text of each view as its CREATE VIEW was written, for SHOW VIEWS and INFORMATION_SCHEMA.VIEWS.

Snowflake answers a view's definition with the statement that made it; DuckDB keeps its own
rewriting of the translated query, which must not reach a client. The statement's text is kept in
the database's ``_AIDEMO.VIEW_TEXTS`` by SQL that runs in the statement's own transaction
(:attr:`aidemo.local.engine.sqlcommands.DuckSql.keys`); DROP VIEW forgets it, ALTER VIEW ... RENAME TO
moves it, DROP SCHEMA forgets those of the schema (:mod:`aidemo.local.storage.catalog`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from aidemo.local.dialect.sqltokens import name_of
from aidemo.local.storage.catalog import META, VIEW_TEXTS, literal, quote


def bookkeeping(tree: exp.Expression, text: str) -> Callable[[tuple[str, str, str]], str] | None:
    """The SQL to run after CREATE VIEW, DROP VIEW or ALTER VIEW ... RENAME TO (``text`` is the
    statement), given the (database, schema, view) it writes; None for other statements."""
    kind = str(tree.args.get("kind") or "").upper()
    if kind != "VIEW":
        return None
    if isinstance(tree, exp.Create):
        return lambda target: (
            f"{_forget(target)}; INSERT INTO {_meta(target)} VALUES ({_names(target)}, {literal(text)})"
        )
    if isinstance(tree, exp.Drop):
        return _forget
    rename = tree.find(exp.AlterRename) if isinstance(tree, exp.Alter) else None
    if rename is not None:
        new_name = literal(name_of(rename.this.this))
        return lambda target: f"UPDATE {_meta(target)} SET VIEW_NAME = {new_name} WHERE {_where(target)}"
    return None


def _meta(target: tuple[str, str, str]) -> str:
    return f"{quote(target[0])}.{META}.{VIEW_TEXTS}"


def _names(target: tuple[str, str, str]) -> str:
    return f"{literal(target[1])}, {literal(target[2])}"


def _where(target: tuple[str, str, str]) -> str:
    return f"SCHEMA_NAME = {literal(target[1])} AND VIEW_NAME = {literal(target[2])}"


def _forget(target: tuple[str, str, str]) -> str:
    return f"DELETE FROM {_meta(target)} WHERE {_where(target)}"
