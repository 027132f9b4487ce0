"""Setting up a backend for the demo: database, tables, pipes and the pre-loaded customers.

:func:`setup` runs ``sql/01_database.sql`` and ``sql/02_tables.sql`` (idempotent: ``IF NOT
EXISTS``), creates the pipes of ``sql/03_pipes.sql`` that are missing, and loads the
customers when ``CUSTOMERS`` is empty. Pipes that exist are left alone, whatever their
form: ``CREATE OR REPLACE PIPE`` would drop their channels and with them the committed
offset tokens that resuming depends on. So a second call changes nothing.

``reset=True`` drops and recreates everything, channels included, with ``sql/reset.sql``
on every backend: pipes and the streamed tables, and with each table its default pipe and
that pipe's channels (grants on the database survive), then CUSTOMERS. Customers already
loaded with the same seed and count (the count and a few sampled rows agree with the
generator's) are kept instead of being dropped and loaded again.

Both backends run the same SQL through the same connector: customers are loaded with
multi-row INSERTs of literal values, which need INSERT on ``CUSTOMERS`` and no stage.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aidemo.backends.scripts import insert_statements, run_file, sql_text
from aidemo.data.models import CUSTOMERS, TABLES
from aidemo.errors import ConfigError, SqlError

if TYPE_CHECKING:
    from aidemo.backends.backend import StreamingBackend

DDL_FILES = ("01_database.sql", "02_tables.sql")
PIPES_FILE = "03_pipes.sql"
RESET_FILE = "reset.sql"


@dataclass(frozen=True)
class SetupReport:
    """What :func:`setup` found and did.

    ``tables`` maps each table to its row count afterwards; ``pipes`` lists the pipes of the
    schema afterwards and ``pipes_created`` those this call created.
    """

    backend: str
    tables: dict[str, int]
    pipes: tuple[str, ...]
    pipes_created: tuple[str, ...]
    customers_loaded: int
    reset: bool
    elapsed: float

    def summary(self) -> str:
        """A few lines for a terminal or a notebook cell."""
        lines = [f"backend: {self.backend}{' (reset)' if self.reset else ''}"]
        lines += [f"  {name:<12} {rows:>10,} rows" for name, rows in self.tables.items()]
        created = f" (created: {', '.join(self.pipes_created)})" if self.pipes_created else ""
        lines.append(f"  pipes: {', '.join(self.pipes) or 'none'}{created}")
        lines.append(f"  customers loaded: {self.customers_loaded:,} in {self.elapsed:.1f} s total")
        return "\n".join(lines)


def setup(
    backend: StreamingBackend | None = None,
    *,
    reset: bool = False,
    num_customers: int | None = None,
    seed: int | None = None,
) -> SetupReport:
    """Create the demo's objects on ``backend`` (default: the profile's) and load its customers.

    ``num_customers`` and ``seed`` default to the settings (``num.customers``, ``seed``).
    Customers are loaded only when ``CUSTOMERS`` is empty (or after ``reset``); asking for
    a count other than the one loaded raises ConfigError, since reloading needs ``reset``.
    """
    from aidemo.backends.backend import open_backend
    from aidemo.settings import load_settings

    settings = load_settings(num_customers=num_customers, seed=seed)
    backend = backend or open_backend()
    started = time.perf_counter()
    if reset:
        run_file(DDL_FILES[0], backend)  # the database and schema: DROP ... IF EXISTS names objects inside them
        _reset(backend, keep_customers=_customers_match(backend, settings.num_customers, settings.seed))
    for name in DDL_FILES:
        run_file(name, backend)
    created = _create_missing_pipes(backend)
    existing = _count(backend, CUSTOMERS.name)
    loaded = 0
    if existing == 0:
        loaded = _load_customers(backend, settings.num_customers, settings.seed)
    elif num_customers is not None and existing != num_customers:
        raise ConfigError(
            f"CUSTOMERS already holds {existing:,} customers, not {num_customers:,}; run setup with "
            "reset=True (aidemo setup --reset) to reload them, which also empties ORDERS and ORDER_ITEMS"
        )
    return SetupReport(
        backend=backend.name,
        tables={name: _count(backend, name) for name in TABLES},
        pipes=tuple(_pipes(backend)),
        pipes_created=created,
        customers_loaded=loaded,
        reset=reset,
        elapsed=time.perf_counter() - started,
    )


def _reset(backend: StreamingBackend, keep_customers: bool) -> None:
    run_file(RESET_FILE, backend)
    if not keep_customers:
        backend.sql(f"DROP TABLE IF EXISTS {backend.database}.{backend.schema}.{CUSTOMERS.name}")


#: Columns compared between loaded and generated customers (the generator's seed shows in each).
_SAMPLED = ("CUSTOMER_ID", "EMAIL", "PHONE", "ADDRESS", "CUSTOMER_SEGMENT")


def _customers_match(backend: StreamingBackend, count: int, seed: int) -> bool:
    """Whether CUSTOMERS holds exactly ``count`` customers generated with ``seed`` (first, middle, last sampled)."""
    from aidemo.data.customers import generate_customers

    ids = sorted({1, count // 2 + 1, count})
    try:
        if _count(backend, CUSTOMERS.name) != count:
            return False
        loaded = backend.sql(
            f"SELECT {', '.join(_SAMPLED)} FROM {backend.database}.{backend.schema}.{CUSTOMERS.name} "
            f"WHERE CUSTOMER_ID IN ({', '.join(map(str, ids))}) ORDER BY CUSTOMER_ID"
        )
    except SqlError:  # no database or table yet
        return False
    expected = generate_customers(seed, count).set_index("CUSTOMER_ID").loc[ids].reset_index()[list(_SAMPLED)]
    return loaded.astype(str).values.tolist() == expected.astype(str).values.tolist()


def _create_missing_pipes(backend: StreamingBackend) -> tuple[str, ...]:
    """Run the statements of 03_pipes.sql whose pipe does not exist; the names created."""
    import io

    from snowflake.connector.util_text import split_statements

    existing = set(_pipes(backend))
    missing = {}
    script = io.StringIO(sql_text(PIPES_FILE, backend))
    for statement, _ in split_statements(script, remove_comments=True):
        created = _CREATE_PIPE.match(statement)
        if not created:
            raise SqlError(f"{PIPES_FILE} should hold CREATE PIPE statements only; found {statement[:60]!r}")
        name = created["name"].rsplit(".", 1)[-1].strip('"').upper()
        if name not in existing:
            missing[name] = statement.rstrip().rstrip(";")
    if missing:
        backend.sql(";\n".join(missing.values()))
    return tuple(missing)


# CREATE [OR REPLACE] PIPE [IF NOT EXISTS] [db.][schema.]name: the pipe's name, however qualified.
_CREATE_PIPE = re.compile(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?PIPE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>[\w$.\"]+)", re.I)


def _pipes(backend: StreamingBackend) -> list[str]:
    frame = backend.sql(f"SHOW PIPES IN SCHEMA {backend.database}.{backend.schema}")
    return sorted(frame["name"]) if len(frame) else []


def _count(backend: StreamingBackend, table: str) -> int:
    frame = backend.sql(f"SELECT COUNT(*) AS N FROM {backend.database}.{backend.schema}.{table}")
    return int(frame.iloc[0, 0])


def _load_customers(backend: StreamingBackend, count: int, seed: int) -> int:
    """Load customers 1..count with multi-row INSERTs of literal values: the same SQL on every
    backend, needing only INSERT on CUSTOMERS (no stage, unlike the connector's write_pandas)."""
    from aidemo.data.customers import generate_customers

    frame = generate_customers(seed, count)
    for statement in insert_statements(f"{backend.database}.{backend.schema}.{CUSTOMERS.name}", frame):
        backend.sql(statement)
    return len(frame)
