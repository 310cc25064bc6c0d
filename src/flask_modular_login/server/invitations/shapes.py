"""How grants and invite terms are shown: the dicts the JSON twins return and the pages read."""

from __future__ import annotations

from typing import Any

from ...core.invitations import Grant, InviteTerms
from .form import removal_name


def grant_dict(grant: Grant) -> dict[str, Any]:
    return {"expires": grant.expires, "spots": grant.spots, "depth": grant.depth,
            "removal": removal_name(grant.removal), "deplete": grant.deplete}


def terms_dict(terms: InviteTerms) -> dict[str, Any]:
    return {"group": str(terms.group), "accept_by": terms.accept_by, "accepts": terms.accepts,
            "spots": terms.spots, "depth": terms.depth, "access_expires": terms.access_expires,
            "access_for": terms.access_for, "removal": removal_name(terms.removal),
            "deplete": terms.deplete, "redirect": terms.redirect, "confirm": terms.confirm}
