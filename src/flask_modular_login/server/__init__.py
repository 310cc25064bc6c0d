"""The login service (Flask): :class:`LoginBlueprint` to mount, :func:`create_app` to run alone."""

from .app import create_app as create_app
from .blueprint import LoginBlueprint as LoginBlueprint

__all__ = ["LoginBlueprint", "create_app"]
