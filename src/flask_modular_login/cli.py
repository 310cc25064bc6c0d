"""Command line: ``flask-modular-login COMMAND`` (also ``python -m flask_modular_login``).

Settings come from ``LOGIN_...`` environment variables (see ``config.py``).
"""

from __future__ import annotations

import ipaddress
import time

import click

from . import keystore
from .config import load_settings
from .store import open_store


@click.group()
def main() -> None:
    """Manage the login service: keys, database, sessions."""


@main.command()
def init() -> None:
    """Create run/, the first signing key (mode 0600) and the database schema."""
    settings = load_settings()
    keystore.ensure_private_dir(settings.run_dir)
    keystore.load(settings.keys_dir, create=True)
    open_store(settings.database_url, migrate=True).dispose()
    click.echo(f"ready: {settings.run_dir}")


@main.command("rotate-keys")
def rotate_keys() -> None:
    """Add a new signing key; older keys keep verifying the leases they signed."""
    path = keystore.create_key(load_settings().keys_dir)
    click.echo(f"new signing key: {path.name}")


@main.command("prune-keys")
def prune_keys() -> None:
    """Delete signing keys older than one lease life (never the newest)."""
    settings = load_settings()
    removed = keystore.prune(settings.keys_dir, older_than=2 * settings.lease_seconds)
    click.echo(f"removed {len(removed)} key(s)")


@main.command("remove-user")
@click.argument("user_id")
def remove_user(user_id: str) -> None:
    """End every session of USER_ID and delete the user."""
    settings = load_settings()
    store = open_store(settings.database_url)
    if store.accounts.get(user_id) is None:
        raise click.ClickException(f"no user {user_id}")
    ended = store.sessions.revoke_user(user_id, "user_removed", int(time.time()))
    store.accounts.delete(user_id)
    click.echo(f"removed {user_id}; ended {ended} session(s)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Test provider, plain-http cookies.")
@click.option("--debugger", is_flag=True, default=False,
              help="Werkzeug's interactive debugger (runs code typed in a browser): "
                   "loopback hosts only.")
def serve(host: str, port: int, debug: bool, debugger: bool) -> None:
    """Run the login service with the development server (use uwsgi in production)."""
    from .server import create_app
    from .server.platforms.credentials import CredentialsError
    from .server.platforms.registry import ProviderModuleError

    if debugger and not is_loopback(host):
        raise click.ClickException(
            f"--debugger runs code typed into a browser: bind it to a loopback host "
            f"(127.0.0.1, ::1, localhost), not {host!r}")
    config = {"LOGIN_DEBUG": True} if debug else {}
    try:
        app = create_app(config)
    except (CredentialsError, ProviderModuleError) as error:
        raise click.ClickException(str(error)) from None
    app.run(host=host, port=port, debug=debugger, use_debugger=debugger, use_reloader=False)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) can be reached from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
