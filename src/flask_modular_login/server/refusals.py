"""The words of a refusal page: a headline a person understands, one sentence of why, and
where to go next. Keyed by the stable error code (:mod:`.answers`, :mod:`.errors`), else
by the HTTP status. The page also shows the service's own message and the status, small.
"""

from __future__ import annotations

from typing import Any

INVITE_LINKS = ("groups", "code", "switch")
"""Onward links of an invite's refusal: Your access, Enter a code, Log in as someone else."""

BY_CODE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "not_found": ("We could not find that",
                  "The link may be mistyped or cut short, or what it named is gone.",
                  ("groups", "code")),
    "expired": ("This invite has expired",
                "Invites can be accepted only for a while, and the access it offered has ended "
                "or its time to accept ran out. Ask the person who invited you for a new one.",
                INVITE_LINKS),
    "revoked": ("This invite was revoked",
                "The person who sent it, or someone above them, took it back, so it no longer "
                "works. Ask them for a new one if you still need access.", INVITE_LINKS),
    "used_up": ("This invite is used up",
                "As many people as it allowed have joined already. Ask for an invite of your "
                "own.", INVITE_LINKS),
    "already_member": ("You are already in this group",
                       "You joined with this invite before, or you already hold this access. "
                       "An invite is used once per person, so no place was spent.",
                       INVITE_LINKS),
    "self_invite": ("This is your own invite",
                    "You created it, so you cannot accept it. Send it to the person you want "
                    "to invite.", ("groups", "switch")),
    "confirmation_required": ("Please confirm first",
                              "This invite asks you to press Join on its page.",
                              ("groups", "code")),
    "rate_limited": ("Too many tries",
                     "Too many codes were tried from here in a short time. Wait a few minutes "
                     "and try again, or open the invite's link instead.", ("groups",)),
    "outside_group": ("You cannot invite to that group",
                      "You may invite only to groups you hold, or groups below them.",
                      ("invite", "groups")),
    "exceeds_depth": ("You cannot pass on that much",
                      "The people you invite may invite fewer levels further than you can.",
                      ("invite", "groups")),
    "exceeds_spots": ("That is more places than you have",
                      "You can admit only as many people as your own access allows.",
                      ("invite", "groups")),
    "exceeds_expiry": ("That lasts longer than your own access",
                       "Nobody you invite can keep access after yours ends.",
                       ("invite", "groups")),
    "exceeds_removal": ("You cannot give that removal right",
                        "The people you invite cannot remove more people than you can.",
                        ("invite", "groups")),
    "identity_unknown": ("No such linked account",
                         "That account is not linked to you (anymore).", ("accounts",)),
    "identity_last": ("This is your only account",
                      "Link another account first, so you can still log in afterwards.",
                      ("accounts",)),
    "identity_taken": ("That account belongs to someone else",
                       "It is linked to another user, so it was not linked to yours.",
                       ("accounts", "switch")),
    "already_revoked": ("This invite was already revoked",
                        "Nothing changed: it stopped working before.", ("renege",)),
    "login_denied": ("The login was refused",
                     "The provider did not let you in, or you cancelled there.", ("login",)),
}

BY_STATUS: dict[int, tuple[str, str, tuple[str, ...]]] = {
    400: ("Something in the request is not right",
          "Go back, check what you entered, and try again.", ("back", "login")),
    401: ("Please log in", "This page is for logged-in people.", ("login",)),
    403: ("You may not do that", "Your account does not hold the access this needs.",
          ("groups", "switch")),
    404: ("We could not find that", "The address may be mistyped, or what it named is gone.",
          ("login",)),
    409: ("That is already done", "Nothing was changed.", ("groups",)),
    410: ("That is gone", "It has expired or was taken back.", ("groups", "code")),
    429: ("Too many tries", "Wait a few minutes and try again.", ("login",)),
}
SERVER_SIDE = ("Something went wrong on our side",
               "Nothing is wrong with what you did. Please try again in a minute.", ("back",))
FALLBACK = ("That did not work", "Nothing was changed.", ("login",))


def explain(status: int, code: str | None) -> dict[str, Any]:
    """``headline``, ``why`` and ``links`` (names of onward links) for a refusal page."""
    if code in BY_CODE:
        headline, why, links = BY_CODE[code]
    elif status >= 500:
        headline, why, links = SERVER_SIDE
    else:
        headline, why, links = BY_STATUS.get(status, FALLBACK)
    return {"headline": headline, "why": why, "links": links}
