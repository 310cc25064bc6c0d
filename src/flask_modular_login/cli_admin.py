"""The grouped commands of ``flask-modular-login`` (and ``flask login``): ``db``, ``groups``,
``invites``, ``sessions``, ``users``, ``keys``; and the helpers every command shares.

Under ``flask login`` (a Flask app with the LoginBlueprint), commands use that app's
settings and store; otherwise ``LOGIN_...`` environment variables. Listings print aligned
tables, or JSON with the group's ``--json`` flag. Bad input is a ``click.ClickException``
(a message and exit status 1), never a traceback.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from . import keystore
from .config import Settings, load_settings
from .core.errors import LoginError
from .core.groups import GroupPath
from .core.invitations import Grant, Removal
from .service import Services
from .service.admin import AdminService
from .store import open_store
from .store.admin import AdminQueries

JSON_KEY = "flask_modular_login.json"
REMOVALS = {"none": Removal.NONE, "invited": Removal.INVITED, "any_below": Removal.ANY_BELOW}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# -- context ---------------------------------------------------------------------------------


def _app_state() -> Any:
    """The LoginBlueprint's state when run as ``flask login ...``, else None."""
    try:
        from flask.cli import ScriptInfo
    except ImportError:  # pragma: no cover
        return None
    ctx = click.get_current_context(silent=True)
    info = ctx.find_root().obj if ctx is not None else None
    if not isinstance(info, ScriptInfo):
        return None
    from .server.state import EXTENSION

    app = info.load_app()  # the CLI's app (cached), never a context left pushed elsewhere
    state = app.extensions.get(EXTENSION)
    if state is None:
        raise click.ClickException("this Flask app has no LoginBlueprint (init_app was not run)")
    return state


def current_settings() -> Settings:
    state = _app_state()
    if state is not None:
        return state.settings
    try:
        return load_settings()
    except ValueError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def services(migrate: bool = True) -> Iterator[Services]:
    """The app's services under ``flask login``, else new ones (disposed afterwards).
    Store and rule errors become ClickExceptions."""
    state = _app_state()
    try:
        if state is not None:
            yield state.services
            return
        settings = current_settings()
        store = open_store(settings.database_url, migrate=migrate)
        try:
            yield Services.build(store, keystore.KeyCache(settings.keys_dir).get, settings)
        finally:
            store.dispose()
    except (LoginError, ValueError, TypeError) as error:
        raise click.ClickException(str(error)) from None
    except SQLAlchemyError as error:
        raise click.ClickException(f"database error: {error.__class__.__name__}: "
                                   f"{str(error).splitlines()[0]}") from None


def admin(found: Services) -> AdminService:
    return AdminService(found.store, found.notifier, found.sessions.now, found.access)


def as_json() -> bool:
    ctx = click.get_current_context()
    return bool(ctx.meta.get(JSON_KEY))


# -- output ----------------------------------------------------------------------------------


def show(rows: Sequence[dict[str, Any]], columns: Sequence[str], empty: str) -> None:
    """``rows`` as a JSON list (``--json``) or an aligned table of ``columns``."""
    if as_json():
        click.echo(json.dumps(list(rows), indent=2, sort_keys=False))
        return
    if not rows:
        click.echo(empty)
        return
    click.echo(table(rows, columns))


def show_one(record: dict[str, Any]) -> None:
    if as_json():
        click.echo(json.dumps(record, indent=2))
        return
    width = max(len(key) for key in record)
    for key, value in record.items():
        click.echo(f"{key.ljust(width)}  {cell(value)}")


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[column.upper() for column in columns]]
    cells += [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(value.ljust(width)
                               for value, width in zip(line, widths, strict=True)).rstrip()
                     for line in cells)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(item) for item in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    return str(value)


def when(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


# -- parsing ---------------------------------------------------------------------------------


def group_arg(text: str) -> GroupPath:
    try:
        return GroupPath.parse(text)
    except (ValueError, TypeError) as error:
        raise click.BadParameter(str(error)) from None


def duration(text: str, name: str) -> int:
    """Seconds from ``3600``, ``90s``, ``30m``, ``12h``, ``7d``, ``2w``."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration like 3600, 30m, 12h, 7d, 2w",
                                 param_hint=name)
    return int(match.group(1)) * _UNITS[match.group(2)]


def instant(text: str, name: str, now: float) -> float:
    """A time: a duration from now (``7d``) or an ISO 8601 date or date-time (UTC if naive)."""
    if _DURATION.match(text):
        return now + duration(text, name)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a duration (7d) nor an ISO date "
                                 "(2030-01-31 or 2030-01-31T12:00)", param_hint=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def limit(text: str | None, name: str, least: int = 0) -> int | None:
    """A count, or ``unlimited`` (None)."""
    if text is None:
        return None
    if text.strip().lower() in ("unlimited", "none", "inf"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise click.BadParameter(f"{text!r}: give an integer >= {least} or 'unlimited'",
                                 param_hint=name)
    return value


def identity(text: str) -> tuple[str, str]:
    provider, sep, subject = text.partition(":")
    if not sep or not provider or not subject:
        raise click.BadParameter(f"{text!r}: give provider:subject (e.g. google:1234)",
                                 param_hint="--owner")
    return provider, subject


def grant_dict(grant: Grant) -> dict[str, Any]:
    removal = next(name for name, value in REMOVALS.items() if value is grant.removal)
    return {"expires": when(grant.expires), "spots": grant.spots, "depth": grant.depth,
            "removal": removal, "deplete": grant.deplete}


def qr_text(data: str) -> str:
    """``data``'s QR code in terminal text, two modules per character (half blocks).

    Light modules are drawn, dark ones left blank: right for a terminal with a dark
    background (the common case)."""
    from .server.invitations.qr import matrix

    rows = matrix(data)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyphs = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
    return "\n".join("".join(glyphs[pair] for pair in zip(upper, lower, strict=True))
                     for upper, lower in zip(rows[::2], rows[1::2], strict=True))


# -- registration ----------------------------------------------------------------------------


def register(main: click.Group) -> None:
    for group in (db, groups, invites, sessions, users, keys, audit):
        main.add_command(group)


# -- db --------------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head); safe to repeat."""
    with services(migrate=False) as found:
        found.store.migrate(revision)
        now = AdminQueries(found.store).schema_revision()
    click.echo(f"database at revision {now}")


@db.command("current")
def db_current() -> None:
    """The schema revision the database is at, and the newest one this version knows."""
    with services(migrate=False) as found:
        queries = AdminQueries(found.store)
        current, head = queries.schema_revision(), queries.head_revision()
    show_one({"current": current, "head": head, "up_to_date": current == head})


# -- groups ----------------------------------------------------------------------------------


@click.group()
def groups() -> None:
    """Access groups: the tree, members, owners."""


@groups.command("tree")
@click.argument("root", required=False)
def groups_tree(root: str | None) -> None:
    """Every group (of ROOT's tree only, if given), with owners and member counts."""
    with services() as found:
        rows = AdminQueries(found.store).groups(root)
    if root is not None and not rows:
        raise click.ClickException(f"no group {root!r}")
    if as_json():
        show([{"path": r.path, "parent": r.parent, "owners": list(r.owners),
               "members": r.members} for r in rows], (), "")
        return
    if not rows:
        click.echo("no groups")
        return
    for row in rows:
        depth = row.path.count("/")
        name = row.path.rsplit("/", 1)[-1]
        notes = [f"{row.members} member(s)"]
        if row.owners:
            notes.append("owner " + ", ".join(row.owners))
        click.echo(f"{'  ' * depth}{name}  ({'; '.join(notes)})")


@groups.command("ensure")
@click.argument("group")
@click.option("--owner", help="provider:subject to own the root, if it has no owner yet.")
def groups_ensure(group: str, owner: str | None) -> None:
    """Create GROUP and its ancestors (idempotent); optionally claim the root for --owner."""
    path = group_arg(group)
    claimed = identity(owner) if owner else None
    with services() as found:
        owns = admin(found).ensure_group(path, claimed)
    if not owns:
        raise click.ClickException(f"{path.root} already has another owner; owners unchanged "
                                   f"(group {path} exists)")
    click.echo(f"group {path} ready" + (f", root owned by {owner}" if owner else ""))


@groups.command("add-member")
@click.argument("group")
@click.argument("user")
@click.option("--spots", default="0", show_default=True,
              help="People they may invite (a number or 'unlimited').")
@click.option("--depth", default="0", show_default=True,
              help="Invite chain length below them (a number or 'unlimited').")
@click.option("--expires", help="End of access: a duration (30d) or an ISO date.")
@click.option("--removal", type=click.Choice(list(REMOVALS)), default="none",
              show_default=True, help="Whom they may remove.")
def groups_add_member(group: str, user: str, spots: str, depth: str, expires: str | None,
                      removal: str) -> None:
    """Give USER (a user id) access to GROUP, replacing any membership they had there."""
    path = group_arg(group)
    with services() as found:
        if found.store.accounts.get(user) is None:
            raise click.ClickException(f"no user {user}")
        now = found.sessions.now()
        grant = Grant(expires=instant(expires, "--expires", now) if expires else None,
                      spots=limit(spots, "--spots"), depth=limit(depth, "--depth"),
                      removal=REMOVALS[removal])
        admin(found).add_member(path, user, grant)
    click.echo(f"added {user} to {path}")


@groups.command("remove-member")
@click.argument("group")
@click.argument("user")
def groups_remove_member(group: str, user: str) -> None:
    """End USER's membership stored on GROUP (not one inherited from above)."""
    path = group_arg(group)
    with services() as found:
        removed = admin(found).remove_member(path, user)
    if not removed:
        raise click.ClickException(f"{user} is not a member of {path}")
    click.echo(f"removed {user} from {path}")


# -- invites ---------------------------------------------------------------------------------


def invite_dict(invite: Any) -> dict[str, Any]:
    terms = invite.terms
    return {"id": invite.id, "group": str(terms.group), "inviter": terms.inviter_id,
            "uses": invite.state.uses, "accepts": terms.accepts,
            "accept_by": when(terms.accept_by), "revoked": invite.state.revoked,
            "created": when(invite.created_at)}


@click.group()
def invites() -> None:
    """Invite links: create (with a QR code), list, revoke."""


@invites.command("create")
@click.argument("group")
@click.option("--as", "inviter", required=True, help="User id of the inviter (their rights "
              "on GROUP bound the invite).")
@click.option("--accepts", default="1", show_default=True,
              help="How many people may accept (a number or 'unlimited').")
@click.option("--spots", default="0", show_default=True, help="Spots each invitee gets.")
@click.option("--depth", default="0", show_default=True, help="Invite depth each invitee gets.")
@click.option("--accept-for", help="Acceptable for this long (default 7d).")
@click.option("--access-for", help="Access lasts this long after accepting.")
@click.option("--removal", type=click.Choice(list(REMOVALS)), default="none",
              show_default=True)
@click.option("--base-url", default="http://localhost:8000", show_default=True,
              help="Where the login service is reached.")
@click.option("--qr", is_flag=True, help="Also draw the link's QR code in the terminal.")
def invites_create(group: str, inviter: str, accepts: str, spots: str, depth: str,
                   accept_for: str | None, access_for: str | None, removal: str,
                   base_url: str, qr: bool) -> None:
    """Create an invite to GROUP on behalf of --as USER; prints its link (shown once)."""
    from .server.invitations.form import InviteForm

    form = InviteForm(
        group=group_arg(group), accepts=limit(accepts, "--accepts", least=1),
        spots=limit(spots, "--spots"), depth=limit(depth, "--depth"),
        accept_for=duration(accept_for, "--accept-for") if accept_for else None,
        access_for=duration(access_for, "--access-for") if access_for else None,
        removal=REMOVALS[removal])
    with services() as found:
        if found.store.accounts.get(inviter) is None:
            raise click.ClickException(f"no user {inviter}")
        issued, terms = found.access.create_invite(inviter, form.group, form.request)
        prefix = found.sessions.authority.settings.url_prefix
    link = f"{base_url.rstrip('/')}{prefix}/access/accept/{issued.code}"
    record = {"id": issued.id, "link": link, "short_code": issued.short_code,
              "group": str(terms.group), "accept_by": when(terms.accept_by)}
    if as_json():
        click.echo(json.dumps(record, indent=2))
    else:
        show_one(record)
    if qr and not as_json():
        click.echo(qr_text(link))


@invites.command("list")
@click.option("--group", help="Only invites to this group and the groups below it.")
@click.option("--all", "everything", is_flag=True, help="Include revoked invites.")
def invites_list(group: str | None, everything: bool) -> None:
    """Invites, oldest first (live ones only unless --all)."""
    with services() as found:
        if group is not None:
            found_invites = found.store.access.invites_for(group_arg(group), subtree=True)
        else:
            found_invites = AdminQueries(found.store).invites()
    rows = [invite_dict(i) for i in found_invites if everything or not i.state.revoked]
    show(rows, ("id", "group", "inviter", "uses", "accepts", "accept_by", "revoked"),
         "no invites")


@invites.command("revoke")
@click.argument("invite_id")
def invites_revoke(invite_id: str) -> None:
    """Revoke invite INVITE_ID: its link, short code and QR code stop working."""
    with services() as found:
        if found.store.access.invite_by_id(invite_id) is None:
            raise click.ClickException(f"no invite {invite_id}")
        if not admin(found).revoke_invite(invite_id):
            raise click.ClickException(f"invite {invite_id} was already revoked")
    click.echo(f"revoked {invite_id}")


# -- sessions --------------------------------------------------------------------------------


@click.group()
def sessions() -> None:
    """Live sessions: list, end."""


@sessions.command("list")
@click.option("--user", help="Only this user's sessions.")
def sessions_list(user: str | None) -> None:
    """Live sessions, newest first (handles, never session ids)."""
    with services() as found:
        rows = AdminQueries(found.store).live_sessions(found.sessions.now(), user)
    show([{"user": r.user_id, "name": r.name, "handle": r.handle, "provider": r.provider,
           "started": when(r.auth_time), "last_seen": when(r.last_seen),
           "expires": when(r.expires_at), "ip": r.ip} for r in rows],
         ("user", "name", "handle", "provider", "started", "last_seen", "ip"), "no sessions")


@sessions.command("end")
@click.argument("handle")
@click.option("--user", required=True, help="The user the session belongs to.")
def sessions_end(handle: str, user: str) -> None:
    """End USER's session HANDLE; clients refuse it at once (or within their poll)."""
    with services() as found:
        ended = found.sessions.end_by_handle(user, handle)
    if not ended:
        raise click.ClickException(f"no live session {handle} of user {user}")
    click.echo(f"ended session {handle}")


# -- audit -----------------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """The audit log: who did what to whose sessions, memberships, invites and identities."""


@audit.command("list")
@click.option("--user", help="Only this user's events.")
@click.option("--since", help="From this time on: a duration ago (7d, 12h) or an ISO 8601 "
                              "date or date-time (UTC unless an offset is given).")
@click.option("--limit", "most", default="100", show_default=True, help="At most this many.")
def audit_list(user: str | None, since: str | None, most: str) -> None:
    """Events, newest first (handles and invite ids, never secrets)."""
    with services(migrate=False) as found:
        now = found.sessions.now()
        start = None
        if since is not None:
            start = (now - duration(since, "--since") if _DURATION.match(since)
                     else instant(since, "--since", now))
        rows = found.store.audit.list(user, start, limit(most, "--limit", 1) or 100)
    show([{"when": when(r.created_at), "user": r.user_id, "by": r.actor_id, "kind": r.kind,
           "detail": r.detail, "ip": r.ip} for r in rows],
         ("when", "user", "by", "kind", "detail", "ip"), "no events")


# -- users -----------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Users: show, remove."""


@users.command("show")
@click.argument("user")
def users_show(user: str) -> None:
    """A user: name, linked identities, groups owned and joined, live sessions."""
    with services() as found:
        account = found.store.accounts.get(user)
        if account is None:
            raise click.ClickException(f"no user {user}")
        linked = found.store.accounts.linked(user)
        owned = found.store.access.owned_groups(user)
        joined = found.store.access.memberships_of(user)
        live = AdminQueries(found.store).live_sessions(found.sessions.now(), user)
    record: dict[str, Any] = {**account.as_dict(),
                              "identities": [f"{i.provider}:{i.subject}" for i in linked],
                              "owns": [str(path) for path in owned]}
    if as_json():
        record["memberships"] = [{"group": str(m.group), **grant_dict(m.grant)}
                                 for m in joined]
        record["sessions"] = [s.handle for s in live]
        click.echo(json.dumps(record, indent=2))
        return
    record["memberships"] = [str(m.group) for m in joined]
    record["sessions"] = f"{len(live)} live"
    show_one(record)


@users.command("remove")
@click.argument("user")
@click.pass_context
def users_remove(ctx: click.Context, user: str) -> None:
    """End every session of USER and delete the user."""
    from .cli import remove_user

    ctx.invoke(remove_user, user_id=user)


# -- keys ------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Lease signing keys: rotate, prune."""


@keys.command("rotate")
@click.option("--activate-in", type=click.IntRange(min=0), default=0, metavar="SECONDS",
              help="Sign with the new key only after SECONDS (time to copy it to every "
                   "host); it verifies at once.")
@click.pass_context
def keys_rotate(ctx: click.Context, activate_in: int) -> None:
    """Add a new signing key; older keys keep verifying the leases they signed."""
    from .cli import rotate_keys

    ctx.invoke(rotate_keys, activate_in=activate_in)


@keys.command("prune")
@click.pass_context
def keys_prune(ctx: click.Context) -> None:
    """Delete signing keys older than two lease lives (never the newest)."""
    from .cli import prune_keys

    ctx.invoke(prune_keys)
