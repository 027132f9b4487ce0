"""Reading one Snowflake statement: its tokens, a cursor over them, names as Snowflake normalises them."""

from __future__ import annotations

import re
from typing import NoReturn

from sqlglot import exp
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from aidemo.local.engine.sqlerrors import SYNTAX
from aidemo.local.errors import SnowflakeError, SqlError

SOURCE_TEXT = "snowflake_text"  # meta key: a SELECT item's text as written (Snowflake names a column by it)


class _Parser(Snowflake.Parser):
    """Snowflake's parser, keeping the text of each SELECT item."""

    def _parse_projections(self):
        return self._parse_csv(self._parse_projection), None

    def _parse_projection(self) -> exp.Expression | None:
        first = self._curr
        projection = self._parse_expression()
        if projection is not None and first is not None and self._prev is not None:
            projection.meta[SOURCE_TEXT] = self.sql[first.start : self._prev.end + 1]
        return projection


class _Snowflake(Snowflake):
    """Snowflake's dialect, keeping the name each function is called by (aidemo.local.dialect.sandbox checks it)
    and the text of each SELECT item."""

    ORIGINAL_NAME_META_KEY = "snowflake_name"
    Parser = _Parser


DIALECT = _Snowflake()
ORIGINAL_NAME = _Snowflake.ORIGINAL_NAME_META_KEY
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: (.*?), line: \d+, col: \d+, .*?>")


class Cursor:
    """A position in the tokens of one statement, with the session's context."""

    def __init__(
        self, text: str, tokens: list[Token], database: str | None, schema: str | None, sql: str | None = None
    ):
        self.text, self.tokens, self.i = text, tokens, 0
        self.database, self.schema = database, schema
        self.base = tokens[0].start  # tokens may come from a whole script; text is their statement
        self.sql = text if sql is None else sql  # the text the tokens' positions index

    def _token(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str | None:
        """The upper-cased word at the position (keyword or unquoted name), else None."""
        token = self._token(offset)
        if token is None or token.token_type in (
            TokenType.IDENTIFIER,
            TokenType.STRING,
        ):
            return None
        return token.text.upper() if WORD.match(token.text) else None

    def token_type(self) -> TokenType | None:
        token = self._token()
        return token.token_type if token else None

    def advance(self, count: int) -> None:
        self.i += count

    def rewind(self) -> None:
        self.i = 0

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def parse_rest(self, start: int) -> exp.Expression:
        """The tokens from position ``start`` to the end, parsed by sqlglot (not tokenized again)."""
        return parse_tokens(self.tokens[start:], self.sql, self.text)

    def rest(self) -> str:
        """The statement's text from the position to its end."""
        return self.text[self.tokens[self.i].start - self.base :] if not self.at_end() else ""

    def accept(self, *words: str) -> bool:
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word} {self._where()}")

    def expect_type(self, token_type: TokenType, what: str) -> None:
        if self.token_type() != token_type:
            self.fail(f"expected {what} {self._where()}")

    def end(self) -> None:
        if not self.at_end():
            self.fail(f"unexpected {self._token().text!r}; the local service does not support this clause")

    def string(self) -> str:
        token = self._token()
        if token is None or token.token_type != TokenType.STRING:
            self.fail(f"expected a quoted string {self._where()}")
        self.i += 1
        return token.text

    def value(self) -> str:
        """A parameter's value: a quoted string, a number, TRUE/FALSE or a word, as text."""
        token = self._token()
        if token is None or token.token_type not in (TokenType.STRING, TokenType.NUMBER) and self.word() is None:
            self.fail(f"expected a value {self._where()}")
        self.i += 1
        return token.text

    def name_parts(self, max_parts: int = 3) -> list[str]:
        """A dotted name, each part normalised the Snowflake way."""
        parts = [self._identifier()]
        while self.token_type() == TokenType.DOT:
            self.i += 1
            parts.append(self._identifier())
        if len(parts) > max_parts:
            self.fail(f"{'.'.join(parts)!r} has more than {max_parts} name part(s)")
        return parts

    def object_name(self) -> tuple[str, str, str]:
        """A pipe or table name as (database, schema, name), filled in from the session."""
        parts = self.name_parts()
        if len(parts) == 1:
            return self.current_database(), self.current_schema(), parts[0]
        if len(parts) == 2:
            return self.current_database(), parts[0], parts[1]
        return parts[0], parts[1], parts[2]

    def schema_name(self) -> tuple[str, str]:
        """A schema name as (database, schema), filled in from the session."""
        parts = self.name_parts(max_parts=2)
        return (parts[0], parts[1]) if len(parts) == 2 else (self.current_database(), parts[0])

    def current_database(self) -> str:
        return context(self.database, "database", self.text)

    def current_schema(self) -> str:
        return context(self.schema, "schema", self.text)

    def fail(self, problem: str) -> NoReturn:
        raise SqlError(f"{quote_statement(self.text)}: {problem}.")

    def _identifier(self) -> str:
        token = self._token()
        if token is not None and token.token_type == TokenType.IDENTIFIER:
            self.i += 1
            return token.text
        word = self.word()
        if word is None:
            self.fail(f"expected a name {self._where()}")
        self.i += 1
        return word

    def _where(self) -> str:
        token = self._token()
        return f"at {token.text!r} (character {token.start - self.base + 1})" if token else "at the end"


def tokenize(sql: str, statement: str) -> list[Token]:
    try:
        return DIALECT.tokenize(sql)
    except TokenError as exc:
        raise SqlError(f"Cannot read {quote_statement(statement)}: {exc} (an unclosed quote or comment?)") from exc


def parse_tokens(tokens: list[Token], sql: str, statement: str) -> exp.Expression:
    """The tokens of one statement (without its semicolon) parsed; ``sql`` is the text they index."""
    try:
        (tree,) = DIALECT.parser().parse(tokens, sql)
        return tree
    except ParseError as exc:
        detail = exc.errors[0] if exc.errors else {}
        where = f" at line {detail['line']}, column {detail['col']}" if "line" in detail else ""
        # sqlglot names the offending token by its repr; keep only its text.
        message = TOKEN_REPR.sub(r"'\1'", detail.get("description") or str(exc))
        raise SqlError(f"Cannot parse {quote_statement(statement)}: {message}{where}.") from exc
    except RecursionError:  # sqlglot's parser recurses about twenty frames per nested parenthesis
        raise too_deep(statement) from None


def too_deep(statement: str) -> SnowflakeError:
    """The refusal of a statement nested too deeply to parse or translate (a syntax error, 001003)."""
    return SnowflakeError(
        SYNTAX, f"{quote_statement(statement)} nests its expressions too deeply for the local service; simplify it."
    )


def quote_statement(statement: str, limit: int = 80) -> str:
    """The statement on one line, shortened to about ``limit`` characters, in quotes."""
    flat = " ".join(statement.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def name_of(identifier: exp.Expression) -> str:
    """A sqlglot identifier, normalised the Snowflake way."""
    return identifier.name if getattr(identifier, "quoted", False) else identifier.name.upper()


def ident(name: str) -> str:
    """A DuckDB quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def quoted(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def context(value: str | None, what: str, statement: str) -> str:
    if value is None:
        command = "USE DATABASE" if what == "database" else "USE SCHEMA"
        raise SqlError(
            f"{quote_statement(statement)} names an object without its {what}, and the session "
            f"has no current {what}; run {command} first or qualify the name."
        )
    return value
