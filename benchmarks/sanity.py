"""What every variant of a request benchmark must do before it is timed: answer the real page,
and refuse without a cookie (so the login check is really in the path)."""

from __future__ import annotations

from typing import Any

PATH = "/hidden"
BODY = b"ok"


def check_page(variant: Any) -> None:
    """One request must be the real page: 200 with the body, no cookie set or cleared."""
    response = variant.client.get(PATH)
    if response.status_code != 200 or response.data != BODY:
        raise SystemExit(f"{variant.name}: GET {PATH} answered {response.status_code} "
                         f"{response.data[:80]!r}, not 200 {BODY!r}: refusing to benchmark it")
    if response.headers.getlist("Set-Cookie"):
        raise SystemExit(f"{variant.name}: unexpected Set-Cookie {response.headers['Set-Cookie']}")


def check_protected(variant: Any) -> None:
    """Without cookies the route must refuse (redirect or 401): the check really runs."""
    anonymous = variant.client.application.test_client().get(PATH)
    if anonymous.status_code == 200:
        raise SystemExit(f"{variant.name}: GET {PATH} without a cookie answered 200: "
                         "the login check is not in the path")
