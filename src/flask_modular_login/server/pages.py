"""What every page of the login service shares: the layout's data, times, and a strict
Content-Security-Policy.

* **Layout.** Every template extends ``login/base.html``: a header naming who is logged
  in and one menu (:data:`MENU`), the current entry marked ``aria-current="page"``.
  :func:`layout` gives the templates ``viewer`` and ``menu``.
* **Times.** ``{{ epoch | login_when }}`` is a ``<time>`` element in UTC, with the ISO
  instant in ``datetime``; ``static/time.js`` (a file: no inline script) rewrites its
  text in the viewer's local time and keeps the UTC text as its tooltip. Without
  scripts the UTC text stays. ``{{ epoch | ago }}`` says "2 min ago" by the service's
  clock.
* **CSP.** HTML answers of the blueprint get ``default-src 'self'``: scripts and styles
  only from the service's own files, images from there or ``data:`` (the QR code's
  PNG). :mod:`.headers` adds ``frame-ancestors 'none'`` to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import flask
from markupsafe import Markup
from werkzeug.wrappers import Response

from .auth import current_auth
from .csrf import csrf_token
from .state import current_state

POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"


@dataclass(frozen=True)
class MenuItem:
    label: str
    endpoint: str
    also: tuple[str, ...] = ()
    """Other endpoints whose pages belong to this entry (marked current there too)."""


MENU = (
    MenuItem("Sessions", "login.sessions_page", ("login.confirm_end_session",
                                                 "login.confirm_end_others")),
    MenuItem("Linked accounts", "login.accounts_page", ("login.confirm_unlink",)),
    MenuItem("Your access", "login.groups_page", ("login.remove_page", "login.renege_page")),
    MenuItem("Invite", "login.invite_page", ("login.create_invite", "login.invite_created")),
    MenuItem("Enter a code", "login.code_page", ("login.enter_code", "login.accept_page",
                                                  "login.accept_invite")),
)


def register(blueprint: flask.Blueprint) -> None:
    """Give the blueprint's templates the layout, the time filters and the CSP."""
    blueprint.context_processor(layout)
    blueprint.add_app_template_filter(time_element, "login_when")
    blueprint.add_app_template_filter(ago, "ago")
    blueprint.after_request(content_policy)


def layout() -> dict[str, Any]:
    """``viewer`` (the logged-in user, or None), ``menu`` (label, URL, current) and
    ``login_csrf()`` (the CSRF token, for the menu's Log out)."""
    endpoint = flask.request.endpoint or ""
    try:
        viewer = current_auth().user
    except Exception:  # an error page while the store is down: show no one, fail closed
        viewer = None
    menu = [(item.label, flask.url_for(item.endpoint),
             endpoint == item.endpoint or endpoint in item.also) for item in MENU]
    return {"viewer": viewer, "menu": menu if viewer else [], "login_csrf": csrf_token}


def utc_text(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def time_element(epoch: float | None) -> Markup:
    """``<time datetime="...Z" title="... UTC">... UTC</time>`` (upgraded by time.js)."""
    if epoch is None:
        return Markup("")
    instant = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    text = utc_text(epoch)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(instant, text, text)


def ago(epoch: float | None) -> str:
    """"just now", "5 min ago", "3 h ago", "2 days ago" by the service's clock."""
    if epoch is None:
        return "never"
    seconds = max(0, int(current_state().authority.now() - epoch))
    for size, unit in ((86_400, "days"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {'day' if unit == 'days' and count == 1 else unit} ago"
    return "just now"


def content_policy(response: Response) -> Response:
    """A strict policy on HTML pages that set none of their own."""
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = POLICY
    return response
