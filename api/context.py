"""What a view needs from the request: the engine's dependencies, the signed-in user, the body parser.

A request is signed in by a bearer token, or by the browser session cookie (which holds a token too).
A cookie-signed request that changes something must also send the session's CSRF token in X-CSRF-Token.

Request bodies are capped per endpoint: JSON_BODY_LIMIT unless the blueprint (`Blueprint(..., body_limit=n)`)
or the view (`@body_limit(n)`) says otherwise; a larger body answers 413.
"""
import hmac
import json
from functools import partial

import flask_smorest
from flask import current_app, g, request, session
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from engine.deps import Deps
from engine.errors import AuthenticationError
from engine.people import auth

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
JSON_BODY_LIMIT = 64 * 1024  # the largest JSON request of this API is a few kilobytes
MAX_JSON_DEPTH = 32  # the deepest request of this API (a task's form data) nests four levels


def deps() -> Deps:
    return current_app.extensions["gridflow"]


def user():
    return g.user


def token_id() -> int:
    """The id of the token (or browser session) the request is signed in with."""
    return g.token_id


def client_address() -> str:
    """The client's address: the peer's, or what trusted proxies say it is (GRIDFLOW_PROXY_HOPS, api/security.py)."""
    return request.remote_addr or ""


def start_browser_session(username: str, password: str) -> auth.BrowserSession:
    """Sign this browser in (the API's session and the sign-in page): the session cookie holds the new session's
    token and CSRF token, and lasts as long as the token."""
    started = auth.start_session(deps(), username, password, current_app.config["GRIDFLOW_SETTINGS"].token_hours,
                                 client_address())
    session.clear()
    session.update(token=started.token, csrf=started.csrf)
    session.permanent = True
    return started


def authenticate() -> None:
    """before_request hook: resolve the bearer token or the session to a user, or fail with 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        g.user, g.token_id = auth.user_for_token(deps(), token.strip())
        return
    if "token" in session:
        # compared as bytes: compare_digest refuses str with non-ASCII characters, which a header may carry
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                request.headers.get("X-CSRF-Token", "").encode(), session.get("csrf", "").encode()):
            raise AuthenticationError("send the session's CSRF token in the X-CSRF-Token header")
        g.user, g.token_id = auth.user_for_token(deps(), session["token"])
        return
    raise AuthenticationError("sign in, or send a bearer token: Authorization: Bearer <token>")


class BodyParser(FlaskParser):
    """webargs' parser; JSON that Python's decoder gives up on is malformed (400) like any other bad JSON,
    and so is JSON nested deeper than MAX_JSON_DEPTH, before any schema walks it.
    The location `multipart` reads a multipart/form-data body: its files and its other fields together."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}
    # a misspelt filter (?stauts=open) would silently widen a list: unknown query parameters are refused too
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def _raw_load_json(self, req):
        if not is_json_request(req) and req.content_length:  # webargs would ignore the body: say why instead
            raise BadRequest("send the body as JSON, with the header Content-Type: application/json")
        try:
            data = super()._raw_load_json(req)
        except RequestEntityTooLarge as exc:
            exc.data = {"messages": {"json": _largest_field(req)}}
            raise
        except json.JSONDecodeError:
            raise  # webargs' own answer: an empty body is missing, anything else 400
        except RecursionError:  # deeper than Python's decoder goes
            raise BadRequest(TOO_DEEP) from None
        except ValueError as exc:  # an integer of more than 4300 digits
            return self._handle_invalid_json_error(exc, req)
        if nested_deeper_than(data, MAX_JSON_DEPTH):
            raise BadRequest(TOO_DEEP)
        return data


TOO_DEEP = f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"


def nested_deeper_than(value, limit: int) -> bool:
    """True when arrays and objects in `value` nest more than `limit` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _largest_field(req) -> dict:
    """For a too large JSON object that still fits the app's own cap: its largest field, to name in the 413."""
    limit, cap = req.max_content_length, current_app.config.get("MAX_CONTENT_LENGTH")
    if not req.content_length or not cap or req.content_length > cap:
        return {}
    req.max_content_length = cap
    try:
        document = json.loads(req.get_data(cache=True))
        if not isinstance(document, dict) or not document:
            return {}
        sizes = {key: len(json.dumps(value, ensure_ascii=False).encode()) for key, value in document.items()}
    except (ValueError, RecursionError, RequestEntityTooLarge):
        return {}
    finally:
        req.max_content_length = limit
    field = max(sizes, key=sizes.get)
    return {field: [f"Too long: {sizes[field]:,} bytes of JSON, and the whole body may be at most "
                    f"{size_text(limit)}."]}


def size_text(size: int) -> str:
    """65536 -> '64 KB', 1048576 -> '1 MB'."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} bytes"


def body_limit(max_bytes: int):
    """View decorator: this endpoint reads request bodies of up to `max_bytes` (an upload, an import)."""
    def mark(view):
        view.body_limit = max_bytes
        return view
    return mark


def limit_body(default: int) -> None:
    """before_request hook: cap the body at the view's body_limit, else the blueprint's default.

    Werkzeug checks the cap when the body is first read, so nothing is read before it is set."""
    view = current_app.view_functions.get(request.endpoint)
    handler = getattr(getattr(view, "view_class", None), request.method.lower(), view)
    request.max_content_length = getattr(handler, "body_limit", default)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, reading request arguments with BodyParser, bodies capped at `body_limit`."""

    ARGUMENTS_PARSER = BodyParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    def __init__(self, *args, body_limit: int = JSON_BODY_LIMIT, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(partial(limit_body, body_limit))
