"""The HTTP API under /api/v1: blueprints, OpenAPI document and error mapping."""
import swagger_ui_bundle
from flask import send_from_directory
from flask_smorest import Api

from api import admin, auth, cases, errors, grids, supervision, tasks


def register(app) -> Api:
    app.config.update(
        API_TITLE="Gridflow", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
    )

    @app.get("/api/v1/docs/assets/<path:name>")
    def swagger_assets(name):
        """The interactive docs' scripts and styles, served locally: the docs work without a network."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)

    api = Api(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for blueprint in (auth.blp, cases.blp, tasks.blp, grids.blp, supervision.blp, admin.blp):
        api.register_blueprint(blueprint)
    errors.register(app)
    return api
