"""The protected route the request benchmarks time: its path and body, what every variant
must do before it is timed (answer the real page; refuse without a cookie, so the login
check is really in the path), and a timed batch of GETs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def timed_batch(client: Any, requests: int, clock: Callable[[], float]) -> float:
    """Seconds (by ``clock``) taken by ``requests`` GETs; every one must answer 200."""
    get = client.get
    failures = 0
    start = clock()
    for _ in range(requests):
        if get(PATH).status_code != 200:
            failures += 1
    elapsed = clock() - start
    if failures:
        raise SystemExit(f"{failures} of {requests} requests were not 200 during timing")
    return elapsed


def timed_round(variants: Sequence[Any], slices: int, chunk: int,
                clock: Callable[[], float], passes: int) -> tuple[dict[str, float], int]:
    """One round: ``slices`` passes over ``variants``, ``chunk`` GETs per variant each, the
    order rotated every pass (``passes`` counts passes so far, so the rotation carries on
    across rounds). Slicing keeps the variants side by side in time, so a burst of load on
    the machine hits all of them rather than one. The seconds each variant spent, and the
    passes done after this round."""
    spent = dict.fromkeys((v.name for v in variants), 0.0)
    for _ in range(slices):
        shift = passes % len(variants)
        passes += 1
        for variant in [*variants[shift:], *variants[:shift]]:
            spent[variant.name] += timed_batch(variant.client, chunk, clock)
    return spent, passes
