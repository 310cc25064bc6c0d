"""WSGI entry point for uwsgi and other servers: ``flask_modular_login.server.wsgi:application``."""

from .app import create_app

application = create_app()
