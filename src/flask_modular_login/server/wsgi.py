"""WSGI entry point for uwsgi and other servers: ``flask_modular_login.server.wsgi:application``.

Unless logging is configured already, the service's INFO lines (the security log,
:mod:`..ops.security_log`) go to stderr, which is uwsgi's log, as the channel's do.
"""

import logging

from .app import create_app

if not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

application = create_app()
