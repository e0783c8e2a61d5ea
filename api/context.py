"""What a view needs from the request: the engine's dependencies and the signed-in user."""
from flask import current_app, g, request

from engine import auth
from engine.deps import Deps
from engine.errors import AuthenticationError


def deps() -> Deps:
    return current_app.extensions["gridflow"]


def user():
    return g.user


def authenticate() -> None:
    """before_request hook: resolve the bearer token to a user or fail with 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("send a bearer token: Authorization: Bearer <token>")
    g.user = auth.user_for_token(deps(), token.strip())
