"""The interactive API docs: Swagger UI served from the app, started by a script file (no inline script)."""
from pathlib import Path

import swagger_ui_bundle
from flask import send_from_directory

STATIC = Path(__file__).resolve().parent / "static"


def register(app) -> None:
    @app.get("/api/v1/docs")
    def docs_page():
        """Swagger UI over /api/v1/openapi.json."""
        return send_from_directory(STATIC, "docs.html")

    @app.get("/api/v1/docs/swagger-init.js")
    def docs_script():
        """The script that starts Swagger UI on the docs page."""
        return send_from_directory(STATIC, "swagger-init.js")

    @app.get("/api/v1/docs/assets/<path:name>")
    def swagger_assets(name):
        """The interactive docs' scripts and styles, served locally: the docs work without a network."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)
