"""The root of every error the package raises: :class:`LoginError`, each with a stable
``code`` (used in JSON bodies, on the channel and in logs).

This module holds the root and the lease errors; the others live next to the code
that raises them (the third column: a module under ``flask_modular_login``, for its
row and the rows below it). A second base in parentheses is kept for callers that
catch it. The channel's RPC errors carry the code the request failed with
(docs/protocol.md, "Error codes")::

    LoginError                            login_error        core.errors
    ├── LeaseError                        lease_invalid        bad token: forged, garbage,
    │   │                                                      unknown key
    │   └── LeaseExpired                  lease_expired        genuine, past its expiry
    ├── SessionEnded                      session_ended        revoked, unknown, or past
    │                                                          its absolute life
    ├── MembershipLookupError (LookupError)  membership_lookup  core.groups
    ├── InviteError                       invite_error       core.invitations
    │   ├── BadValue                      bad_value
    │   ├── Escalation                    escalation
    │   │   └── ExceedsDepth, ExceedsSpots, ExceedsExpiry, ExceedsRemoval, OutsideGroup:
    │   │       exceeds_depth, exceeds_spots, exceeds_expiry, exceeds_removal, outside_group
    │   └── RedeemError                   redeem_error
    │       └── Expired, UsedUp, Revoked, AlreadyMember, SelfInvite:
    │           expired, used_up, revoked, already_member, self_invite
    ├── ProtocolError                     protocol_error     core.protocol.errors
    │   └── Malformed, AuthFailed, RevokedClient, Unexpected, Stale, Replayed, TooLarge,
    │       BadField, Flood, Internal, UnknownType, Timeout, UnsupportedVersion:
    │       malformed, auth_failed, revoked_client, unexpected, stale, replayed, too_large,
    │       bad_field, flood, internal, unknown_type, timeout, unsupported_version
    ├── ConnectionClosed                  closed
    ├── UsageError (RuntimeError)         usage_error
    ├── InviteNotFound (LookupError)      not_found          store.access
    ├── AccountError                      account_error      store.accounts
    │   ├── IdentityTaken                 identity_taken
    │   ├── NoSuchIdentity                identity_unknown
    │   └── LastIdentity                  identity_last
    ├── ClientExists (ValueError)         client_exists      store.clients
    ├── NotYours (LookupError)            not_found          service.access
    ├── AlreadyRevoked (RuntimeError)     already_revoked
    ├── UnknownUser (LookupError)         unknown_user       service.sessions
    ├── RevocationsUnavailable (RuntimeError)  revocations_unavailable  client.revocations
    ├── RunDirNotFound (FileNotFoundError)     run_dir_not_found        config
    ├── OpenDirectory (PermissionError)        directory_open           keystore
    ├── ChannelUnavailable (ConnectionError)   channel_unavailable      channel.client
    ├── ChannelRpcError                   the RPC's code
    ├── RpcFailure                        the RPC's code     channel.rpc
    ├── Refusal                           its own code       server.answers (a view's own)
    ├── CredentialsError (ValueError)     credentials_invalid      server.platforms.credentials
    ├── ProviderModuleError (ValueError)  provider_module_invalid  server.platforms.registry
    └── ProviderError                     provider_error     server.platforms.profile
        ├── LoginDenied                   login_denied
        ├── StaleLogin                    login_not_started  server.identities.providers
        ├── CallbackError                 (shapes shared by  server.platforms.authorization_code
        │   └── AuthorizationDenied        OAuth 2 and OIDC,
        │       (also a LoginDenied)       never raised
        ├── TokenExchangeError             themselves)
        ├── OAuth2Error                   oauth2_error       server.platforms.oauth2
        │   ├── CallbackError             oauth2_callback
        │   │   └── AuthorizationDenied   oauth2_denied
        │   ├── TokenExchangeError        oauth2_token_exchange
        │   └── ProfileError              oauth2_profile
        └── OIDCError                     oidc_error         server.platforms.oidc.errors
            ├── DiscoveryError            oidc_discovery
            ├── CallbackError             oidc_callback
            │   └── AuthorizationDenied   oidc_denied
            ├── TokenExchangeError        oidc_token_exchange
            ├── IdTokenError              oidc_id_token
            │   └── AlgorithmRefused, UnknownKey, SignatureInvalid, IssuerMismatch,
            │       AudienceMismatch, TokenExpired, NonceMismatch: oidc_id_token_alg,
            │       _key, _signature, _iss, _aud, _expired, _nonce
            └── UserInfoError             oidc_userinfo

The login service's own HTTP answers are werkzeug ``HTTPException`` subclasses,
not LoginErrors: their ``code`` is the HTTP status, so their stable name is
``error`` (``server.csrf.CSRFError`` and ``server.request_body.FieldError``:
``bad_request``; ``server.api_version.UnsupportedVersion``: ``unsupported_version``),
which ``server.errors`` puts in the JSON body.
"""

from __future__ import annotations


class LoginError(Exception):
    """Base of every error the core raises."""

    code = "login_error"


class LeaseError(LoginError):
    """The token is not a lease we issued: treat the request as logged out."""

    code = "lease_invalid"


class LeaseExpired(LeaseError):
    """The token is genuine but its lease ran out; ``lease`` holds its claims for renewal."""

    code = "lease_expired"

    def __init__(self, lease: object) -> None:
        super().__init__("lease expired")
        self.lease = lease


class SessionEnded(LoginError):
    """The session behind a lease is revoked, unknown or past its absolute life."""

    code = "session_ended"
