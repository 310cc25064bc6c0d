"""The user's access (``/access/view/groups``, JSON twin ``/access/groups``): every group
they hold, with its limits. Where accepting an invite without a redirect lands: with
``?joined=<group>`` the page says "You joined <group>", but only while the user holds
that group (the URL alone cannot make the page claim anything).
"""

from __future__ import annotations

import flask
from werkzeug.wrappers import Response

from ...core.invitations import Grant
from ..answers import json_wanted, refusing
from ..auth import user_id
from ..state import current_state
from .shapes import grant_dict


@refusing
def groups_page() -> Response | str:
    state = current_state()
    access, me, now = state.store.access, user_id(), state.authority.now()
    owned = [(path, Grant.owner(), True) for path in access.owned_groups(me)]
    joined = [(m.group, m.grant, False) for m in access.memberships_of(me)]
    groups = [{"group": str(group), "grant": grant_dict(grant), "owner": owner,
               "active": grant.active(now), "can_invite": grant.can_invite}
              for group, grant, owner in owned + joined]
    if json_wanted():
        return flask.jsonify(groups=groups)
    asked = flask.request.args.get("joined")
    welcome = asked if any(g["group"] == asked and g["active"] for g in groups) else None
    return flask.render_template("login/access_groups.html", groups=groups, joined=welcome)
