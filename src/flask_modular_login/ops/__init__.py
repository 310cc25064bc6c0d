"""Operating the login service: health checks, metrics, security logs, proxies, status.

Each module is one concern, shared by the login service (``server``) and the
channel's process (``channel``); none is needed to run the service:

* :mod:`.health`: readiness of the database, memcached and the signing key.
* :mod:`.metrics`: Prometheus counters fed by :mod:`flask_modular_login.signals`
  (``prometheus-client``, the ``metrics`` extra, imported only when enabled).
* :mod:`.security_log`: one ``key=value`` line per security event.
* :mod:`.proxies`: trust ``X-Forwarded-For``/``-Proto`` from a known number of proxies.
* :mod:`.status`: what ``sh server.sh status`` asks the running service.
"""
