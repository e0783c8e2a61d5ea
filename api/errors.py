"""The one place that knows HTTP status codes: every error becomes {code, message, errors}."""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from engine import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.ValidationError: 422,
    errors.AuthenticationError: 401,
    errors.PermissionDenied: 403,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.ProcessError: 409,
    errors.TooManyAttempts: 429,
}


def error_response(status: int, message: str, field_errors: dict | None = None):
    response = jsonify({"code": status, "message": message, "errors": field_errors or {}})
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


def _flatten(messages: dict) -> dict:
    """webargs nests errors by location (json, query); callers want them by field."""
    flat = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat["_schema"] = location_errors
    return flat
