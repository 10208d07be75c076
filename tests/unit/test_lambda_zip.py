"""The zip loader the other test suites reuse: every load is isolated and fresh."""

from __future__ import annotations

import sys

from tests.support.lambda_zip import load_handler


def test_each_load_is_a_fresh_module_with_its_own_configuration(monkeypatch):
    monkeypatch.setenv("AUTHORIZATION_TYPE", "none")
    monkeypatch.setenv("CONNECTIONS_TABLE", "first")
    first = load_handler("connect")
    monkeypatch.setenv("CONNECTIONS_TABLE", "second")
    second = load_handler("connect")

    assert (first.CONFIG.table, second.CONFIG.table) == ("first", "second")
    assert first.connection_item is not second.connection_item


def test_loading_leaves_no_handler_modules_behind(monkeypatch):
    monkeypatch.setenv("CONNECTIONS_TABLE", "t")
    before = {name for name in sys.modules if name.split(".")[0] in ("handler", "incident_ws")}

    load_handler("disconnect")

    after = {name for name in sys.modules if name.split(".")[0] in ("handler", "incident_ws")}
    assert after == before
