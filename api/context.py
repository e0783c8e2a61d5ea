"""What a view needs from the request: the engine's dependencies and the signed-in user.

A request is signed in by a bearer token, or by the browser session cookie (which holds a token too).
A cookie-signed request that changes something must also send the session's CSRF token in X-CSRF-Token.
"""
import hmac

from flask import current_app, g, request, session

from engine import auth
from engine.deps import Deps
from engine.errors import AuthenticationError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def deps() -> Deps:
    return current_app.extensions["gridflow"]


def user():
    return g.user


def client_address() -> str:
    return request.remote_addr or ""


def authenticate() -> None:
    """before_request hook: resolve the bearer token or the session to a user, or fail with 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        g.user, g.token_id = auth.user_for_token(deps(), token.strip())
        return
    if "token" in session:
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                request.headers.get("X-CSRF-Token", ""), session.get("csrf", "")):
            raise AuthenticationError("send the session's CSRF token in the X-CSRF-Token header")
        g.user, g.token_id = auth.user_for_token(deps(), session["token"])
        return
    raise AuthenticationError("sign in, or send a bearer token: Authorization: Bearer <token>")
