"""Helpers of the fault tests (tests/faults/): browsers logged in to a real login service,
and the service as a process that a test may kill."""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from flask_modular_login.store import Store
from tests.support.servers import python, running

JSON = {"Accept": "application/json"}


def serve_args(port: int) -> list[str]:
    return python("-m", "flask_modular_login", "serve", "--debug", "--port", str(port))


def service_env(run_dir: Path, **extra: str) -> dict[str, str]:
    return {"LOGIN_RUN_DIR": str(run_dir), "LOGIN_DEBUG": "1", **extra}


def running_logged(args: Sequence[str], port: int, env: Mapping[str, str],
                   log: Path) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """:func:`tests.support.servers.running`, its output kept in the file ``log``."""
    return running(args, port, env, log=log)


def log_in(url: str, username: str) -> requests.Session:
    """A browser logged in to the service at ``url`` through the test provider, holding
    its CSRF token in ``headers`` (``X-CSRF-Token``) for JSON posts."""
    browser = requests.Session()
    form = browser.get(f"{url}/login/test/", timeout=30)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, form.text
    done = browser.post(f"{url}/login/test/", allow_redirects=False, timeout=30,
                        data={"username": username, "csrf_token": csrf.group(1)})
    assert done.status_code == 302, done.text
    token = browser.get(f"{url}/login/sessions", timeout=30).json()["csrf_token"]
    browser.headers.update({"X-CSRF-Token": token, **JSON})
    return browser


def log_in_all(url: str, names: list[str], workers: int = 16) -> dict[str, requests.Session]:
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(names, pool.map(lambda name: log_in(url, name), names), strict=True))


@contextlib.contextmanager
def thread_holding_the_write_lock(store: Store) -> Iterator[None]:
    """Another thread of this process holds ``store``'s write lock until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def long_writer() -> None:
        with store.write():
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=long_writer)
    writer.start()
    try:
        assert holding.wait(10), "the writer did not get the lock"
        yield
    finally:
        release.set()
        writer.join(10)

