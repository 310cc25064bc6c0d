"""flask_modular_login: one login service for many web servers.

Client apps check the signed lease in the ``login`` cookie without calling the
service; see the README for the whole picture.
"""

from .client.decorators import LoginBuilder as LoginBuilder
from .client.local import LocalLoginInterface as LocalLoginInterface
from .client.namespace import AccessNamespace as AccessNamespace
from .core.invitations import Grant as Grant

LocalLoginBuilder = LoginBuilder

_default_builder = LoginBuilder()
login_required, login_optional = _default_builder.decorators

__all__ = [
    "AccessNamespace",
    "Grant",
    "LocalLoginBuilder",
    "LocalLoginInterface",
    "LoginBlueprint",
    "LoginBuilder",
    "RemoteLoginBuilder",
    "RemoteLoginInterface",
    "create_app",
    "login_optional",
    "login_required",
]

_REMOTE = {"RemoteLoginBuilder", "RemoteLoginInterface"}
_SERVER = {"LoginBlueprint", "create_app"}


def __getattr__(name: str) -> object:
    """The remote client (and its websocket library) and the login service (and its OAuth,
    QR code and migration libraries) are imported only when named: a client app that
    imports this package for its decorators loads neither."""
    if name in _REMOTE:
        from .client import remote

        return getattr(remote, name)
    if name in _SERVER:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
