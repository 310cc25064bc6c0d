"""memcached killed with SIGKILL and started again while the login service is under load:
zero failed requests, and memcached is used again afterwards.

Real processes: memcached, the login service (``serve``) and its channel, both with
``LOGIN_MEMCACHED`` set. Eight threads keep sending a mix for the whole run: renewals
of an expired lease (200 and a new cookie), the cookie of an ended session (401: the
tombstone in memcached, else the database), group checks over the channel (``check``
RPC: the cached answers), short-code attempts (404, then 429 once the limit counts up;
the counters live in memcached), and the sessions page (200). memcached is SIGKILLed
in the middle and started again, empty, at the same address; every answer must still
be one of the expected ones, and once it is back its ``get_hits`` grows again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable

import requests

from flask_modular_login import keystore
from flask_modular_login.channel.client import ChannelClient
from flask_modular_login.client.remote import ChannelEventFeed
from flask_modular_login.core import leases
from flask_modular_login.core.groups import GroupPath
from flask_modular_login.core.protocol import auth, messages
from flask_modular_login.core.verifier import LeaseVerifier
from flask_modular_login.store import open_store
from tests.support.faults import log_in, running_logged, serve_args, service_env
from tests.support.memcached import running_memcached
from tests.support.servers import free_port, python, until

THREADS = 8
PHASE_SECONDS = float(os.environ.get("LOGIN_FAULT_PHASE_SECONDS", "1.5"))


def expired_copy(token: str, keys: keystore.Keys) -> str:
    """``token``'s lease, signed again as if it had run out a minute ago."""
    lease = LeaseVerifier(lambda: keys.ring).lease(token)
    now = int(time.time())
    return leases.issue(dataclasses.replace(lease, issued_at=now - 120, expires_at=now - 60),
                        keys.signing)


def test_memcached_killed_under_load_costs_no_request(tmp_path):
    run_dir, http, channel_port = tmp_path / "run", free_port(), free_port()
    url = f"http://127.0.0.1:{http}"
    with contextlib.ExitStack() as stack:
        memcached = stack.enter_context(running_memcached())
        env = service_env(run_dir, LOGIN_MEMCACHED=memcached.spec)
        log = tmp_path / "processes.log"
        stack.enter_context(running_logged(serve_args(http), http, env, log))
        stack.enter_context(running_logged(
            python("-m", "flask_modular_login", "channel", "--port", str(channel_port)),
            channel_port, env, log))
        alice, bob = log_in(url, "alice"), log_in(url, "bob")
        alice_id = alice.get(f"{url}/login/me").json()["user"]["id"]
        store = open_store(f"sqlite:///{run_dir / 'users.db'}")
        stack.callback(store.dispose)
        store.access.ensure_group(GroupPath("chat"), int(time.time()))
        store.access.add_member(GroupPath("chat"), alice_id, int(time.time()))
        credential = auth.new_credential("app", secrets.token_bytes(auth.SECRET_BYTES))
        store.clients.add("app", auth.parse_credential(credential)[1], int(time.time()))
        feed = ChannelEventFeed()
        channel = ChannelClient(f"ws://127.0.0.1:{channel_port}", credential,
                                on_events=feed.apply, cursor=lambda: feed.cursor)
        channel.start()
        stack.callback(channel.close)
        assert channel.wait_ready(10)

        keys = keystore.load(run_dir / "keys")
        alice_expired = expired_copy(alice.cookies.get("login"), keys)
        bob_token = bob.cookies.get("login")
        assert bob.post(f"{url}/login/logout").status_code == 200
        bob_ended = expired_copy(bob_token, keys)
        check = messages.Check(user=alice_id, expr=GroupPath.parse("chat/room"))

        def renewal() -> object:
            answer = requests.get(f"{url}/login/me", cookies={"login": alice_expired},
                                  timeout=30)
            return answer.status_code if "login=" in answer.headers.get("Set-Cookie", "") \
                else f"{answer.status_code} without a cookie"

        def ended() -> object:
            return requests.get(f"{url}/login/me", cookies={"login": bob_ended},
                                timeout=30).status_code

        def group_check() -> object:
            try:
                return "allowed" if channel.call(check, timeout=10).allowed else "refused"
            except Exception as error:  # noqa: BLE001 - counted as a failure
                return type(error).__name__

        def short_code() -> object:
            return alice.post(f"{url}/login/access/code", json={"code": "ZZZZZZZZ"},
                              timeout=30).status_code

        def page() -> object:
            return alice.get(f"{url}/login/view/sessions", headers={"Accept": "text/html"},
                             timeout=30).status_code

        mix: dict[str, tuple[Callable[[], object], set[object]]] = {
            "renewal": (renewal, {200}), "ended": (ended, {401}),
            "group_check": (group_check, {"allowed"}), "short_code": (short_code, {404, 429}),
            "page": (page, {200})}
        answers: Counter[tuple[str, object]] = Counter()
        lock, stop = threading.Lock(), threading.Event()

        def load(number: int) -> None:
            names = list(mix)
            turn = number
            while not stop.is_set():
                name = names[turn % len(names)]
                turn += 1
                try:
                    result = mix[name][0]()
                except requests.RequestException as error:
                    result = type(error).__name__
                with lock:
                    answers[(name, result)] += 1

        threads = [threading.Thread(target=load, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(PHASE_SECONDS)
            hits_before = memcached.stats()["get_hits"]
            assert hits_before > 0, "memcached was not in use before the kill"
            memcached.kill()
            time.sleep(PHASE_SECONDS)
            down = sum(answers.values())
            memcached.start()
            until(lambda: memcached.stats()["get_hits"] >= 20, 20,  # dead 5 s, looked at every 5
                  "the service and the channel using memcached again")
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
    failed = {key: count for key, count in answers.items() if key[1] not in mix[key[0]][1]}
    assert failed == {}, f"failed requests: {failed} of {sum(answers.values())}"
    for name in mix:
        assert any(key[0] == name for key in answers), f"no {name} was sent"
    assert sum(answers.values()) > down > 0
