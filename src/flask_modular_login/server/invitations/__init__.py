"""Invitations to access groups: creating invites (link, short code, QR code), accepting
them, the user's groups, removing members and reneging invites (docs/invitations.md)."""
