"""The one place that knows HTTP status codes: every error becomes {code, message, errors}."""
import logging
from http import HTTPStatus

from flask import jsonify
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

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
        response = error_response(STATUS.get(type(exc), 400), exc.message, exc.errors)
        if isinstance(exc, errors.TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = (getattr(exc, "data", None) or {}).get("messages", {})
        field_errors = _flatten(messages)
        message = "the request data is not valid" if field_errors else exc.description
        if exc.code == 413:
            message = "the request body is too large"
        return error_response(exc.code, message, field_errors)

    @app.errorhandler(Exception)
    def unexpected(exc):
        log.exception("unexpected error")
        return error_response(500, "internal error; it has been logged")


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
