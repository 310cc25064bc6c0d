"""The channel server killed with SIGKILL and started again in the middle of a stream of
1,000 revocations: every remote client ends with all 1,000 applied.

A real channel server process serves the run directory's SQLite database; four remote
clients (two :class:`RemoteLoginInterface`, two bare :class:`ChannelClient` with an
event feed, each its own credential) are connected to it. A writer in the test ends
1,000 sessions through the service layer (:meth:`SessionService.end`, as a logout
does): the channel is SIGKILLed after a third of them and started again (a new
process, the same port) while the writer goes on. The clients reconnect with backoff
and catch up by cursor; the test waits until each feed's revoked set holds all 1,000
session ids and checks that the cursors reached the log's last event.
``LOGIN_FAULT_REVOCATIONS`` makes the stream shorter (CI on a slow machine).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import threading
import time

from flask_modular_login import keystore
from flask_modular_login.channel.client import ChannelClient
from flask_modular_login.client.remote import ChannelEventFeed, RemoteLoginInterface
from flask_modular_login.config import load_settings
from flask_modular_login.core.protocol import auth
from flask_modular_login.service import Services
from flask_modular_login.store import open_store
from tests.support.servers import ROOT, free_port, python, running, until

REVOCATIONS = int(os.environ.get("LOGIN_FAULT_REVOCATIONS", "1000"))
CLIENTS = 4


def add_client(store, name: str) -> str:
    credential = auth.new_credential(name, secrets.token_bytes(auth.SECRET_BYTES))
    store.clients.add(name, auth.parse_credential(credential)[1], int(time.time()))
    return credential


def test_every_remote_client_gets_all_revocations_across_a_channel_sigkill(tmp_path):
    run_dir, port = tmp_path / "run", free_port()
    env = {**os.environ, "LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1"}
    subprocess.run(python("-m", "flask_modular_login", "init"), env=env, cwd=ROOT, check=True,
                   capture_output=True)
    settings = load_settings(run_dir=str(run_dir), debug=True)
    store = open_store(settings.database_url)
    services = Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings)
    user = store.accounts.login("test", "walker", "walker", None, int(time.time()))
    session_ids = [services.sessions.start(user.id, "test").lease.session_id
                   for _ in range(REVOCATIONS)]
    credentials = [add_client(store, f"app{number}") for number in range(CLIENTS)]
    uri = f"ws://127.0.0.1:{port}"
    channel_args = python("-m", "flask_modular_login", "channel", "--port", str(port))
    feeds: list[ChannelEventFeed] = []
    closers = []
    try:
        with running(channel_args, port, env) as first_channel:
            for number, credential in enumerate(credentials):
                if number % 2:
                    feed = ChannelEventFeed()
                    channel = ChannelClient(uri, credential, on_events=feed.apply,
                                            cursor=lambda feed=feed: feed.cursor)
                    channel.start()
                    closers.append(channel.close)
                else:
                    # base_url serves the public keys: no lease is verified here
                    interface = RemoteLoginInterface("http://127.0.0.1:9", uri, credential)
                    feed, channel = interface.feed, interface.channel  # type: ignore[assignment]
                    closers.append(interface.close)
                assert channel.wait_ready(10), f"client {number} did not connect"
                feeds.append(feed)
            ended = [0]
            third, restarted = threading.Event(), threading.Event()

            def writer() -> None:  # never waits for the kill: it goes on while it happens
                for number, session_id in enumerate(session_ids):
                    if number == REVOCATIONS // 3:
                        third.set()
                    if number == 2 * REVOCATIONS // 3:
                        assert restarted.wait(60), "the channel did not restart"
                    assert services.sessions.end(session_id, "logout")
                    ended[0] += 1

            writing = threading.Thread(target=writer)
            writing.start()
            assert third.wait(60), "the writer did not get a third through"
            first_channel.send_signal(signal.SIGKILL)
            first_channel.wait(10)
            killed_at = ended[0]
        with running(channel_args, port, env):
            restarted_at = ended[0]
            restarted.set()  # the last third is written while the clients catch up
            writing.join(120)
            assert not writing.is_alive() and ended[0] == REVOCATIONS
            last = store.events.cursor()
            until(lambda: all(len(feed.revoked) >= REVOCATIONS for feed in feeds), 60,
                  "every client holding all the revocations")
            for number, feed in enumerate(feeds):
                missing = [sid for sid in session_ids if sid not in feed.revoked]
                assert not missing, f"client {number} lacks {len(missing)} revocations"
                assert feed.cursor == last, f"client {number} at {feed.cursor}, log at {last}"
        assert REVOCATIONS // 3 <= killed_at <= restarted_at <= 2 * REVOCATIONS // 3
    finally:
        for close in closers:
            close()
        store.dispose()
