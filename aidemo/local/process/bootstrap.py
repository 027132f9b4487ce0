"""Opening the service's store: the local user's key and, on a fresh home, the DDL in ``sql/``."""

from __future__ import annotations

from aidemo.local.engine.sqlexec import Session, run_script
from aidemo.local.process.home import DATABASE, SCHEMA, USER, ServiceHome
from aidemo.local.process.sqlfiles import SQL_DIR
from aidemo.local.storage.store import Store

# Run on a fresh home so that a new service already holds the demo's tables and pipes.
BOOTSTRAP_FILES = ("01_database.sql", "02_tables.sql", "03_pipes.sql")


def open_store(home: ServiceHome) -> Store:
    store = Store(home.database, DATABASE, home.spool)
    store.set_user_key(USER, home.user_public_key())
    if not store.databases():
        for name in BOOTSTRAP_FILES:
            run_script(store, (SQL_DIR / name).read_text(), Session(DATABASE, SCHEMA))
    return store
