"""The HTTP API under /api/v1: blueprints, OpenAPI document and error mapping."""
from flask_smorest import Api
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from api import (
    admin,
    attachments,
    auth,
    campaigns,
    cases,
    docs,
    errors,
    grids,
    indicators,
    integrations,
    open311,
    schemas,
    supervision,
    tasks,
)
from api.schemas import MAX_ID


class IdConverter(IntegerConverter):
    """A row id in a URL (`<id:case_id>`): a larger number names nothing, so it answers 404 before any query."""

    def __init__(self, url_map):
        super().__init__(url_map, max=MAX_ID)


class TextConverter(UnicodeConverter):
    """Every string segment of a URL: one with a NUL character (%00) names nothing, so it answers 404."""

    def to_python(self, value: str) -> str:
        if "\x00" in value:
            raise ValidationError()  # the rule does not match, and the URL answers 404
        return value


class GridflowApi(Api):
    """flask-smorest's Api, documenting every error answer as {code, message, errors} (api/errors.py)."""

    ERROR_SCHEMA = schemas.ErrorOut
    DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all: each view documents the errors it answers with


def register(app) -> Api:
    app.config.update(
        API_TITLE="Gridflow", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",  # the docs page is api/docs.py's
    )
    docs.register(app)

    app.url_map.converters.update(id=IdConverter, default=TextConverter, string=TextConverter)
    api = GridflowApi(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in (auth.blp, cases.blp, tasks.blp, attachments.blp, grids.blp, supervision.blp, admin.blp,
                      integrations.blp, campaigns.blp, indicators.blp):
        api.register_blueprint(blueprint)
    errors.register(app)
    app.register_blueprint(open311.bp)  # Open311's own formats, outside the OpenAPI document
    return api
