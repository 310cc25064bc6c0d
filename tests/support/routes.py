"""Walk every URL rule of an app, and read its whole database: for tests that must cover
every route, new ones included."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import flask
from sqlalchemy import select

from flask_modular_login.store import tables


def every_request(app: flask.Flask, values: Mapping[str, str] | None = None,
                  methods: set[str] | None = None) -> Iterator[tuple[str, str, str]]:
    """(method, url, endpoint) for each method of each URL rule of ``app`` (HEAD and
    OPTIONS left out); a rule's variables take ``values[name]``, else ``"x"``."""
    values = values or {}
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        arguments = {name: values.get(name, "x") for name in rule.arguments
                     if name not in (rule.defaults or {})}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if methods is None or method in methods:
                yield method, adapter.build(rule.endpoint, arguments, method=method), rule.endpoint


def database(app: flask.Flask) -> dict[str, list[str]]:
    """Every row of every table: what a refused or read-only request must leave as it was."""
    store = app.extensions["flask_modular_login"].store
    with store.read() as conn:
        return {table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for table in tables.metadata.sorted_tables}
