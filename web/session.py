"""Who is signed in on this browser: the session cookie holds a token and a CSRF token, as the API's does.

A page that needs a user sends anyone else to the sign-in page with `next` set to where they were; when the
session's token has expired or been revoked, the sign-in page says so. Changes (POST) must carry the session's
CSRF token, in the form (`csrf_token`) or in the X-CSRF-Token header (htmx and the offline queue)."""
import hmac
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, make_response, redirect, render_template, request, session, url_for

from api import context
from engine.deps import Deps
from engine.errors import AuthenticationError
from engine.people import access, auth

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LIST_ROLES = ("grid_worker",)  # whose first page is their own reports rather than the inbox


def deps() -> Deps:
    return current_app.extensions["gridflow"]


def current_user():
    """The signed-in user, or None (g.expired says whether a session was there but is no longer valid)."""
    if "user" not in g:
        g.user, g.token_id, g.expired = None, None, False
        if session.get("token"):
            try:
                g.user, g.token_id = auth.user_for_token(deps(), session["token"])
            except AuthenticationError:
                g.expired = True
    return g.user


def sign_in(username: str, password: str) -> None:
    """Check the password (throttled by the engine) and start a session: a token plus a CSRF token, as the API's
    POST /auth/session does."""
    context.start_browser_session(username, password)


def sign_out() -> None:
    """Revoke the session's token and forget the session."""
    token = session.get("token")
    if token:
        try:
            user, token_id = auth.user_for_token(deps(), token)
            auth.revoke_token(deps(), user, token_id)
        except AuthenticationError:
            pass  # already expired or revoked
    session.clear()


def csrf_token() -> str:
    return session.get("csrf", "")


def csrf_ok() -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    return bool(csrf_token()) and hmac.compare_digest(sent.encode(), csrf_token().encode())


def home_url(user) -> str:
    return url_for("reports.mine") if user.role in LIST_ROLES else url_for("work.inbox")


def can_report(user) -> bool:
    return user is not None and user.role in access.REPORTING_ROLES


def safe_next(target: str | None) -> str | None:
    """A path on this site to return to after signing in; anything else (another host, //evil) is dropped."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def signed_in(view):
    """View decorator: a signed-in user with, on a change, the session's CSRF token."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return _to_sign_in()
        if request.method not in SAFE_METHODS and not csrf_ok():
            return make_response(render_template("stale.html"), 400)
        return view(*args, **kwargs)
    return wrapper


def _to_sign_in():
    """Off to the sign-in page, to come back here (or, for a change or an htmx call, to the page it came from)."""
    if request.headers.get("HX-Request"):
        here = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = here.path + (f"?{here.query}" if here.query else "")
    elif request.method in SAFE_METHODS:
        back = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        back = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    target = url_for("account.sign_in", next=safe_next(back), expired=1 if g.get("expired") else None)
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    if request.accept_mimetypes.best == "application/json":
        return {"error": "signed_out", "sign_in": target}, 401
    return redirect(target)
