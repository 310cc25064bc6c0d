"""How this package talks to an issuer: one JSON request, with a timeout and a size cap (I/O).

Every fetch of :mod:`.discovery`, :mod:`.tokens` and :mod:`.claims` goes
through :func:`request_json`, which turns a network failure, an oversized or a
non-JSON answer into the error class its caller names; the status is handed
back for the caller to judge. Messages name the host, never a URL's query.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests

from ..authorization_code import MAX_BODY, read_limited
from .errors import OIDCError


@contextmanager
def session_for(http: requests.Session | None) -> Iterator[requests.Session]:
    """``http`` as is, or a fresh session closed afterwards."""
    if http is not None:
        yield http
        return
    with requests.Session() as fresh:
        yield fresh


def request_json(
    http: requests.Session | None,
    method: str,
    url: str,
    *,
    what: str,
    error: type[OIDCError],
    timeout: float,
    **kwargs: Any,
) -> tuple[int, object]:
    """``(status, decoded JSON body)``; ``error`` on network failure, huge or non-JSON body."""
    host = urlsplit(url).hostname or url
    try:
        with (
            session_for(http) as session,
            session.request(method, url, timeout=timeout, stream=True, **kwargs) as response,
        ):
            status = response.status_code
            body = read_limited(response, MAX_BODY + 1)
    except requests.RequestException as failure:
        raise error(f"{what}: cannot reach {host} ({type(failure).__name__})") from None
    if len(body) > MAX_BODY:
        raise error(f"{what}: the answer of {host} is too large")
    try:
        return status, json.loads(body)
    except ValueError:
        raise error(f"{what}: {host} answered HTTP {status} without JSON") from None
