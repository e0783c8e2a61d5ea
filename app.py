"""The web app's composition root: create_app() wires settings, database, engine and API."""
from datetime import timedelta

import click
from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

import api
from engine import bootstrap, demo
from engine import db as database
from engine.config import Settings
from engine.model import Base
from workflows import CATALOGUE

db = SQLAlchemy(metadata=Base.metadata)


def create_app(settings: Settings | None = None, clock=None) -> Flask:
    """Build the app; the database is migrated and the embedded Redis started if none is set."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key, GRIDFLOW_SETTINGS=settings, MAX_CONTENT_LENGTH=1024 * 1024,
        SQLALCHEMY_DATABASE_URI=(url := database.normalize_url(settings.database_url)),
        SQLALCHEMY_ENGINE_OPTIONS=database.engine_options(url),
        SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.token_hours),
    )
    app.json.ensure_ascii = False
    db.init_app(app)
    with app.app_context():
        sql_engine = db.engine
        database.prepare(sql_engine)
    app.extensions["gridflow"] = bootstrap.build(settings, CATALOGUE, sql_engine=sql_engine, clock=clock,
                                                     migrate=settings.migrate)
    api.register(app)

    @app.get("/healthz")
    def health():
        """Liveness: answers when the app is up."""
        return jsonify(status="ok")

    @app.cli.command("demo")
    @click.option("--password", default=demo.DEMO_PASSWORD, show_default=True)
    def load_demo(password):
        """Load the demo grids, departments and users."""
        created = demo.load(app.extensions["gridflow"], password)
        click.echo("demo data loaded" if created else "demo data already present")

    return app
