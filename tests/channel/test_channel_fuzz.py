"""Fuzzed messages on a real channel server: whatever one authenticated connection sends, the
server answers or closes that connection, never crashes, and another connected client keeps
working. ``LOGIN_FUZZ_EXAMPLES`` sets the number of runs (60 by default; the long run:
``LOGIN_FUZZ_EXAMPLES=10000 sh server.sh test tests/channel/test_channel_fuzz.py``)."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from flask_modular_login.core.protocol.messages import Renew, RenewResult
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


@settings(max_examples=int(os.environ.get("LOGIN_FUZZ_EXAMPLES", "60")), deadline=None,
          database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(messages, min_size=1, max_size=4))
def test_fuzzed_messages_never_crash_the_server_or_disturb_another_client(world, server,
                                                                          frames):
    if not hasattr(world, "fuzz"):
        client, _ = world.ready_client("bystander")
        world.fuzz = (client, world.session(), world.credential("fuzzer"))
    client, issued, credential = world.fuzz
    with open_raw(world.uri) as ws:
        authenticate(ws, credential)
        try:
            for frame in frames:
                ws.send(frame)
                ws.recv(timeout=2)  # an answer (or an error) for each, or a close
        except (ConnectionClosed, TimeoutError):
            pass
    assert client.connected, "another client was disturbed"
    assert isinstance(client.call(Renew(issued.token)), RenewResult)
