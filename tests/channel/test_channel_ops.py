"""The channel's part in operations: a security log line for every credential used or
refused, the refusals counted, and the gauges its process publishes for the scrape."""

from __future__ import annotations

import asyncio
import logging
import secrets

import pytest

from flask_modular_login.core.protocol.auth import new_credential
from flask_modular_login.ops import metrics, security_log
from tests.channel.harness import wait_until
from tests.channel.raw import authenticate, close_code, open_raw, send_auth

SECURITY = "flask_modular_login.security"


@pytest.fixture
def security(caplog) -> pytest.LogCaptureFixture:
    security_log.connect()
    caplog.set_level(logging.INFO, logger=SECURITY)
    return caplog


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == SECURITY]


def refusals(reason: str) -> float:
    return metrics.REFUSALS.labels("channel", reason)._value.get()


def test_credentials_used_and_refused_are_logged_and_counted(world, server, security):
    metrics.connect()
    good = world.credential("app")
    wrong = new_credential("app", secrets.token_bytes(32))
    before = refusals("auth_failed")
    with open_raw(world.uri) as ws:
        authenticate(ws, good)
    with open_raw(world.uri) as ws:
        send_auth(ws, wrong)
        assert close_code(ws) == 4401
    wait_until(lambda: len(lines(security)) >= 2, what="two security lines")
    accepted, refused = lines(security)[:2]
    assert accepted.startswith("event=channel_accepted client=app address=127.0.0.1:")
    assert refused.startswith("event=channel_refused client=")
    assert refused.endswith("reason=auth_failed")
    logged = "\n".join(security.messages)
    for credential in (good, wrong):
        secret = credential.split(".", 1)[1]
        assert len(secret) > 20 and secret not in logged
    assert refusals("auth_failed") == before + 1


class FakeChannel:
    clients = 3
    cursor = 41


def test_the_channel_process_publishes_its_connections_and_cursor():
    async def one_round() -> None:
        task = asyncio.create_task(metrics.report_channel(FakeChannel(), interval=0.01))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(one_round())
    text = metrics.render(lambda: 45).decode()
    assert "flask_modular_login_channel_clients 3.0" in text
    assert f'flask_modular_login_channel_cursor{{host="{metrics.HOST}"}} 41.0' in text
    assert "flask_modular_login_event_log_cursor 45.0" in text
    assert f'flask_modular_login_event_log_lag_events{{host="{metrics.HOST}"}} 4.0' in text
