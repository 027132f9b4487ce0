"""Opening the service's store: the local user's key and, on a fresh database, the DDL in ``sql/``."""

from __future__ import annotations

from aidemo.local.home import DATABASE, USER, ServiceHome
from aidemo.local.store import Store


def open_store(home: ServiceHome) -> Store:
    store = Store(home.database, DATABASE, home.spool)
    store.set_user_key(USER, home.user_public_key())
    return store
