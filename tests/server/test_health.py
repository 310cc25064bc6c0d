"""``/login/health`` (readiness: database, memcached, signing key) and ``/login/health/live``."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from sqlalchemy import create_engine

from flask_modular_login.ops import health


def parts_of(response) -> dict[str, str]:
    return response.json["parts"]


def test_all_up_is_200_and_uncached(service_client):
    response = service_client.get("/login/health")
    assert response.status_code == 200
    assert response.json == {"status": "up", "parts": {"database": "up", "signing_key": "up"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_liveness_answers_whenever_the_process_does(service, service_client, run_dir):
    shutil.rmtree(run_dir / "keys")
    assert service_client.get("/login/health").status_code == 503
    live = service_client.get("/login/health/live")
    assert live.status_code == 200 and live.json == {"status": "up"}
    assert live.headers["Cache-Control"] == "no-store"


def test_database_down_is_503_naming_the_part_without_a_path(service, service_client, run_dir):
    store = service.extensions["flask_modular_login"].store
    store.engine = create_engine(f"sqlite:///{run_dir}/missing/dir/users.db")  # cannot open
    response = service_client.get("/login/health")
    assert response.status_code == 503
    assert response.json["status"] == "down"
    assert parts_of(response) == {"database": "down", "signing_key": "up"}
    assert str(run_dir) not in response.text and "sqlite" not in response.text


def test_signing_key_missing_or_broken_is_503(service_client, run_dir):
    [key] = (run_dir / "keys").glob("*.pem")
    key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    assert parts_of(service_client.get("/login/health"))["signing_key"] == "down"
    key.unlink()
    response = service_client.get("/login/health")
    assert response.status_code == 503
    assert parts_of(response) == {"database": "up", "signing_key": "down"}
    assert str(run_dir) not in response.text


class FakeCache:
    def __init__(self, up: bool | Exception) -> None:
        self.up = up

    def healthy(self) -> bool:
        if isinstance(self.up, Exception):
            raise self.up
        return self.up


@pytest.mark.parametrize("cache, state, status", [
    (FakeCache(True), "up", 200),
    (FakeCache(False), "down", 503),
    (FakeCache(ConnectionRefusedError("memcached at 10.0.0.5:11211")), "down", 503),
])
def test_memcached_is_asked_when_configured(service, service_client, cache, state, status,
                                            monkeypatch):
    login_state = service.extensions["flask_modular_login"]
    monkeypatch.setattr(login_state.services, "cache", cache, raising=False)
    assert "memcached" not in parts_of(service_client.get("/login/health"))  # not configured
    monkeypatch.setattr(login_state, "settings",
                        replace(login_state.settings, memcached="10.0.0.5:11211"))
    response = service_client.get("/login/health")
    assert response.status_code == status
    assert parts_of(response)["memcached"] == state
    assert "10.0.0.5" not in response.text


def test_health_needs_no_csrf_token_nor_login_and_is_json(service_client):
    response = service_client.get("/login/health", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200 and json.loads(response.data)["status"] == "up"
    assert service_client.post("/login/health").status_code == 405


def test_a_probe_that_raises_is_down_and_logged_by_type_only(caplog):
    def broken() -> bool:
        raise RuntimeError("postgresql://admin:hunter2@db/users")

    with caplog.at_level("WARNING", logger="flask_modular_login.health"):
        assert health._run("database", broken) == health.DOWN
    assert "hunter2" not in caplog.text and "RuntimeError" in caplog.text
