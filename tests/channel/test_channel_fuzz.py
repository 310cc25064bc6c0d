"""Fuzzed messages on a real channel server: whatever one authenticated connection sends, the
server answers or closes that connection, never crashes, and another connected client keeps
working, between the fuzzed connections and after them all. ``LOGIN_FUZZ_EXAMPLES`` sets
the number of frames sent (150 by default; ``sh server.sh fuzz`` sends 10,000)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from flask_modular_login.core.protocol.messages import Renew, RenewResult
from tests.channel.harness import World, making_world
from tests.channel.raw import authenticate, open_raw

TYPES = ["renew", "check", "ensure_group", "add_member", "remove_member", "events", "auth",
         "hello", "welcome", "event", "heartbeat", "response", "nope"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=5),
    max_leaves=20)
messages = st.one_of(
    st.text(max_size=300),
    st.builds(lambda kind, v, fields: json.dumps({"v": v, "type": kind, **fields}),
              st.sampled_from(TYPES), st.sampled_from([1, 1, 1, 2, "1", None]),
              st.dictionaries(st.sampled_from(["id", "token", "user", "expr", "path", "after",
                                               "limit", "owner", "grant", "x"]),
                              json_values, max_size=5)),
)


FRAMES = int(os.environ.get("LOGIN_FUZZ_EXAMPLES", "150"))
HEARTBEAT = 5.0
"""The server's heartbeat here: a client counts 11 s of silence as down. The fuzz asks whether
a connection drops, not whether heartbeats keep time on a loaded machine: server, clients and
hypothesis share one process, and with the usual 2 s a busy machine has failed a long run."""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with making_world(tmp_path, HEARTBEAT) as made:
        yield made


# websockets' keepalive pings (every 20 s, in the server's and the bystander's threads) draw
# from the random module while hypothesis draws frames here; hypothesis takes that for a
# strategy using random. No strategy of this module does.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_fuzzed_messages_never_crash_the_server_or_disturb_another_client(world, server):
    client, _ = world.ready_client("bystander")
    issued, credential = world.session(), world.credential("fuzzer")
    sent = [0]

    def fuzz(frames: list[str]) -> None:
        with open_raw(world.uri) as ws:
            authenticate(ws, credential)
            try:
                for frame in frames:
                    ws.send(frame)
                    sent[0] += 1
                    ws.recv(timeout=2)  # an answer (or an error) for each, or a close
            except (ConnectionClosed, TimeoutError):
                pass
        assert client.connected, "another client was disturbed"
        assert isinstance(client.call(Renew(issued.token)), RenewResult)

    while sent[0] < FRAMES:  # each run sends 1 to 4 frames: about 2.5
        runs = max(1, (FRAMES - sent[0]) * 2 // 5)
        run = given(frames=st.lists(messages, min_size=1, max_size=4))(fuzz)
        settings(max_examples=runs, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))(run)()
    assert client.connected, "another client was disturbed"
    assert isinstance(client.call(Renew(issued.token)), RenewResult)
