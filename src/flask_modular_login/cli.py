"""Command line: ``flask-modular-login COMMAND`` (also ``python -m flask_modular_login``).

Settings come from ``LOGIN_...`` environment variables (see ``config.py``).
"""

from __future__ import annotations

import ipaddress
import secrets
import time

import click

from . import keystore
from .cli_admin import JSON_KEY, current_settings, register, show
from .config import load_settings
from .core.protocol import auth
from .service import Services
from .service.sessions import UnknownUser
from .sockets import ensure_socket_dir
from .store import Store, open_store
from .store.clients import ClientExists


@click.group()
@click.option("--json", "json_output", is_flag=True,
              help="Listings and show commands print JSON instead of tables.")
@click.pass_context
def main(ctx: click.Context, json_output: bool) -> None:
    """Manage the login service: keys, database, groups, invites, sessions, users, clients
    (docs/cli.md)."""
    ctx.meta[JSON_KEY] = json_output


@main.command()
def init() -> None:
    """Create run/, the first signing key (mode 0600) and the database schema."""
    settings = current_settings()
    keystore.ensure_private_dir(settings.run_dir)
    keystore.load(settings.keys_dir, create=True)
    open_store(settings.database_url, migrate=True).dispose()
    ensure_socket_dir(settings)
    click.echo(f"ready: {settings.run_dir}")


@main.command()
def status() -> None:
    """Ask the running service (over uwsgi's socket) and the channel whether they are up;
    exit status 1 if either is not."""
    from .ops.status import report

    up, lines = report(current_settings())
    for line in lines:
        click.echo(line)
    if not up:
        raise SystemExit(1)


@main.command("rotate-keys")
@click.option("--activate-in", type=click.IntRange(min=0), default=0, metavar="SECONDS",
              help="Sign with the new key only after SECONDS (time to copy it to every "
                   "host); it verifies at once.")
def rotate_keys(activate_in: int = 0) -> None:
    """Add a new signing key; older keys keep verifying the leases they signed."""
    path = keystore.create_key(current_settings().keys_dir, activate_in=activate_in)
    when = f"signs in {activate_in} s" if activate_in else "signs now"
    click.echo(f"new signing key: {path.name} ({when})")


@main.command("prune-keys")
def prune_keys() -> None:
    """Delete signing keys older than one lease life (never the newest)."""
    settings = current_settings()
    removed = keystore.prune(settings.keys_dir, older_than=2 * settings.lease_seconds)
    click.echo(f"removed {len(removed)} key(s)")


@main.command("remove-user")
@click.argument("user_id")
def remove_user(user_id: str) -> None:
    """End every session of USER_ID and delete the user."""
    services = _services()
    try:
        ended = services.sessions.remove_user(user_id)
    except UnknownUser as error:
        raise click.ClickException(str(error)) from None
    finally:
        services.store.dispose()
    click.echo(f"removed {user_id}; ended {ended} session(s)")


def _services() -> Services:
    settings = current_settings()
    store = open_store(settings.database_url)
    return Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings)


@main.group()
def clients() -> None:
    """Remote client apps allowed on the channel (docs/protocol.md)."""


@clients.command("add")
@click.argument("name")
def clients_add(name: str) -> None:
    """Allow client NAME; prints its credential once (only a key derived from it is kept)."""
    try:
        auth.check_name(name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    credential = auth.new_credential(name, secrets.token_bytes(auth.SECRET_BYTES))
    store = _store()
    try:
        store.clients.add(name, auth.parse_credential(credential)[1], int(time.time()))
    except ClientExists as error:
        raise click.ClickException(str(error)) from None
    finally:
        store.dispose()
    click.echo(credential)


@clients.command("list")
def clients_list() -> None:
    """Every client: name, when added, whether revoked."""
    store = _store()
    try:
        found = store.clients.list()
    finally:
        store.dispose()
    show([{"name": client.name,
           "state": "revoked" if client.revoked_at is not None else "active",
           "added": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(client.created_at))}
          for client in found], ("name", "state", "added"), "no clients")


@clients.command("revoke")
@click.argument("name")
def clients_revoke(name: str) -> None:
    """Cut client NAME off: its connections close at once, its credential stops working."""
    store = _store()
    try:
        if not store.clients.revoke(name, int(time.time())):
            raise click.ClickException(f"no active client {name!r}")
    finally:
        store.dispose()
    click.echo(f"revoked {name}")


def _store() -> Store:
    return open_store(current_settings().database_url, migrate=True)


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


@main.command()
@click.option("--host", default=None,
              help="Address to listen on  [default: LOGIN_CHANNEL_HOST, else 127.0.0.1]")
@click.option("--port", default=None, type=int,
              help="TCP port  [default: LOGIN_CHANNEL_PORT, else 8001]")
def channel(host: str | None, port: int | None) -> None:
    """Run the channel for remote client apps (websockets; docs/protocol.md) on HOST:PORT and
    the unix socket run/sockets/channel.sock, until SIGTERM or SIGINT."""
    from .channel.server import run_channel

    run_channel(load_settings(channel_host=host, channel_port=port))


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) can be reached from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


register(main)
