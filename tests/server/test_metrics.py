"""``LOGIN_METRICS``: Prometheus metrics fed by the service's signals, scraped at
``/login/metrics``; off (404, prometheus-client not even imported) unless set."""

from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import csrf_from
from tests.support.ops import REFUSED_CALLBACK, ops_service


@pytest.fixture
def service(run_dir, clock):
    return ops_service(run_dir, clock, LOGIN_METRICS="/metrics")


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/login/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


LOGINS = "flask_modular_login_logins_total"
RENEWALS = "flask_modular_login_renewals_total"
REFUSALS = "flask_modular_login_refusals_total"
REVOCATIONS = "flask_modular_login_revocations_total"


def test_counts_move_with_logins_renewals_refusals_and_logouts(service, service_client, login,
                                                               clock):
    before = scrape(service_client)
    login("alice")
    other = service.test_client()
    login("alice", client=other)
    assert service_client.get(REFUSED_CALLBACK).status_code in (400, 403)
    clock.advance(16 * 60)  # both leases ran out: the next request renews
    assert service_client.get("/login/sessions").status_code == 200  # renewed
    csrf = csrf_from(service_client.get("/login/view/sessions").text)
    assert service_client.post("/login/sessions/end-others",
                               data={"csrf_token": csrf}).status_code < 400
    assert other.get("/login/sessions").status_code in (302, 401)  # renewal refused
    csrf = service_client.get("/login/sessions").json["csrf_token"]
    assert service_client.post("/login/logout", data={"csrf_token": csrf}).status_code < 400
    after = scrape(service_client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(LOGINS, provider="test", outcome="success") == 2
    assert moved(LOGINS, provider="github", outcome="refused") == 1
    assert moved(REFUSALS, kind="callback", reason="login_not_started") == 1
    assert moved(RENEWALS) == 1
    assert moved(REFUSALS, kind="renewal", reason="session_ended") == 1
    assert moved(REVOCATIONS, reason="ended_by_user") == 1
    assert moved(REVOCATIONS, reason="logout") == 1
    assert value(after, "flask_modular_login_event_log_cursor") >= 2


def test_metrics_are_off_unless_set(run_dir, clock):
    app = ops_service(run_dir, clock)
    assert app.test_client().get("/login/metrics").status_code == 404


def test_the_service_runs_without_prometheus_client_when_metrics_are_off(run_dir):
    program = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from flask_modular_login import create_app\n"
        f"app = create_app({{'LOGIN_RUN_DIR': {str(run_dir)!r}, 'LOGIN_DEBUG': True}})\n"
        "assert app.test_client().get('/login/health').status_code == 200\n"
        "assert 'flask_modular_login.ops.metrics' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
