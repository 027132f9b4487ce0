"""How a query-request's statement is answered when the service itself fails."""

from __future__ import annotations

import logging

import pytest

from aidemo.local.engine.sqlsession import Session
from aidemo.local.errors import QueryFailed
from aidemo.local.http.queries import run_query
from aidemo.local.http.sessions import ConnectorSession


class _BrokenStore:
    """A store whose every use fails, as a fault inside the service would."""

    def __getattr__(self, name):
        raise RuntimeError(f"store.{name} is broken")


def test_a_fault_of_the_service_is_snowflakes_internal_error_not_a_500(caplog):
    session = ConnectorSession(Session.named("D", "S"))
    with caplog.at_level(logging.ERROR, logger="aidemo.local.http.connector"):
        with pytest.raises(QueryFailed) as failed:
            run_query(_BrokenStore(), session, {"sqlText": "SELECT 1"}, chunks=None)
    assert (failed.value.code, failed.value.sql_state) == ("000603", "XX000")
    assert failed.value.message.startswith("SQL execution internal error")
    assert "broken" not in failed.value.message  # the cause goes to the service's log only
    assert "is broken" in caplog.text
