"""The one place that knows HTTP status codes: every error becomes {code, message, errors}."""
import logging
from http import HTTPStatus

from flask import g, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from api import messages
from api.context import size_text
from engine import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.ValidationError: 422,
    errors.AuthenticationError: 401,
    errors.PermissionDenied: 403,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.TooLarge: 413,
    errors.ProcessError: 409,
    errors.TooManyAttempts: 429,
}
JSON_BODY = (BadRequest, RequestEntityTooLarge)  # what reading any request body can fail with: 400, 413
# The database is away (restarting, crashed, failing over) or too busy (SQLite's lock): nothing was saved,
# and the same request sent again in a moment will do (filings carry an Idempotency-Key).
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 2


def raises(blp, *causes: type[Exception]):
    """Decorator: document the error answers a view gives for these engine errors or HTTP exceptions."""
    statuses = sorted({cause.code if issubclass(cause, HTTPException) else STATUS[cause] for cause in causes})

    def document(view):
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view
    return document


def error_response(status: int, message: str, field_errors: dict | None = None):
    response = jsonify(_encodable({"code": status, "message": message, "errors": field_errors or {}}))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def register(app) -> None:
    @app.errorhandler(errors.GridflowError)
    def engine_error(exc):
        message, field_errors = exc.message, exc.errors
        if messages.chinese():
            message, field_errors = messages.message(exc), messages.field_tree(field_errors)
        response = error_response(STATUS.get(type(exc), 400), message, field_errors)
        if isinstance(exc, errors.TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    app.register_error_handler(HTTPException, http_error)
    for cause in UNAVAILABLE:
        app.register_error_handler(cause, database_unavailable)

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unexpected error")
        message = "internal error; it has been logged"
        return error_response(500, messages.http_message(message, 500) if messages.chinese() else message)


def database_unavailable(exc):
    """The database could not be reached, or its connection broke: 503 with Retry-After, not a 500."""
    log.warning("database unavailable: %s", str(exc).strip().splitlines()[0][:300])
    message = "the database is not available just now; try again in a moment"
    response = error_response(503, messages.http_message(message, 503) if messages.chinese() else message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def http_error(exc: HTTPException):
    """An HTTP error (unknown URL, wrong method, bad body...) as {code, message, errors}, with its headers."""
    field_errors = _flatten((getattr(exc, "data", None) or {}).get("messages", {}))
    message = "the request data is not valid" if field_errors else exc.description
    if exc.code == 413:
        message, field_errors = _too_large(field_errors)
    if messages.chinese():
        message, field_errors = messages.http_message(message, exc.code), messages.field_tree(field_errors)
    response = error_response(exc.code, message, field_errors)
    for name, value in exc.get_headers():  # e.g. Allow on a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _too_large(field_errors: dict) -> tuple[str, dict]:
    """A 413 says the limit it broke, and the field when it is known: a file upload's, or the largest JSON field
    (api/context.py)."""
    if g.get("upload_limit"):
        limit = size_text(g.upload_limit)
        return f"the file is larger than {limit}, the most an attachment may be", {"file": [f"At most {limit}."]}
    if not request.max_content_length:
        return "the request body is too large", field_errors
    return (f"the request body is larger than {size_text(request.max_content_length)}, the most this endpoint "
            "accepts", field_errors)


def _encodable(value):
    """Messages and field names echo the request, and a lone surrogate from a JSON escape ("\\ud800") in them
    would make the response itself fail to encode: write it out as that escape."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode()
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value


def _flatten(messages: dict) -> dict:
    """webargs nests errors by location (json, query); callers want them by field."""
    flat = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat["_schema"] = location_errors
    return flat
