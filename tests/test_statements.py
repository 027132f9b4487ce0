"""The SQL API's statement registry on its own: a handle and a request id reach only their user's statements."""

from __future__ import annotations

import pytest

from aidemo.local.engine.sqlresults import Result
from aidemo.local.errors import StatementError
from aidemo.local.http.statements import Statements, set_result


def _answer(value: str):
    def run(statement):
        set_result(statement, Result([("V", "VARCHAR")], [(value,)]), None)

    return run


def test_a_handle_and_a_request_id_reach_only_their_user_s_statements():
    statements = Statements()
    mine, new = statements.submit("ALICE", "req-1", False, _answer("alice's"))
    assert new and mine.done.wait(10)
    assert statements.find(mine.handle, "ALICE") is mine
    with pytest.raises(StatementError) as other:
        statements.find(mine.handle, "BOB")
    assert (other.value.status, other.value.code) == (404, "000709")
    again, new = statements.submit("ALICE", "req-1", True, _answer("twice"))
    assert again is mine and not new  # the retry finds the statement: it does not run twice
    theirs, new = statements.submit("BOB", "req-1", True, _answer("bob's"))
    assert new and theirs is not mine and theirs.done.wait(10)
    status, body, _ = theirs.reply()
    assert status == 200 and b'"data": [["bob\'s"]]' in body
