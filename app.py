"""The web app's composition root: create_app() wires settings, database, engine and API."""
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy

import api
import serving
import web
from api import security
from engine import bootstrap
from engine.cases import demo as demo_cases
from engine.cases import deploy
from engine.config import Settings
from engine.errors import GridflowError
from engine.imports import demo, importer
from engine.indicators import rollup
from engine.sla import holidays
from engine.store import archive as archives
from engine.store import db as database
from engine.store.model import Base
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
    web.register(app)
    security.register(app, https=settings.https, proxy_hops=settings.proxy_hops)
    serving.register(app)

    @app.get("/healthz")
    def health():
        """Liveness: answers when the app is up."""
        return jsonify(status="ok")

    @app.cli.command("demo")
    @click.option("--password", default=demo.DEMO_PASSWORD, show_default=True)
    def load_demo(password):
        """Load (or refresh) Nan'an: its grids with polygons, departments and demo users; on a database without
        cases, a dozen demo cases in Huihuang village (engine/cases/demo.py)."""
        for kind, report in demo.load_nanan(app.extensions["gridflow"], password).items():
            click.echo(f"{kind}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")
        filed = demo_cases.load(app.extensions["gridflow"])
        click.echo(f"cases: {filed} demo cases filed" if filed else "cases: some exist already, no demo case filed")

    @app.cli.command("import-data")
    @click.argument("kind", type=click.Choice(importer.KINDS))
    @click.argument("file", type=click.File("rb"))
    @click.option("--dry-run", is_flag=True, help="Check the file and count the changes; write nothing.")
    def import_data(kind, file, dry_run):
        """Import grids, departments or users from a CSV or GeoJSON file: all rows or none."""
        try:
            report = importer.import_file(app.extensions["gridflow"], kind, file.name, file.read(), dry_run)
        except GridflowError as exc:
            click.echo(exc.message, err=True)
            for where, messages in exc.errors.items():
                for message in messages:
                    click.echo(f"  {where}: {message}", err=True)
            raise SystemExit(1) from None
        click.echo(f"{report.kind}: {report.created} created, {report.updated} updated, "
                   f"{report.unchanged} unchanged{' (dry run: nothing written)' if dry_run else ''}")

    @app.cli.command("holiday")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.argument("kind", type=click.Choice(holidays.KINDS))
    @click.option("--name", default="", help="e.g. 春节")
    def set_holiday(day, kind, name):
        """Declare a day a holiday or a make-up working day (overrides the official calendar)."""
        holidays.set_day(app.extensions["gridflow"], day.date(), kind, name)
        click.echo(f"{day.date().isoformat()}: {kind} {name}".rstrip())

    @app.cli.command("deploy")
    def deploy_versions():
        """Register the current diagrams of every case type as versions (running cases stay on theirs)."""
        for code, version in deploy.deploy(app.extensions["gridflow"]).items():
            click.echo(f"{code}: {version}")

    @app.cli.command("migrate-cases")
    @click.argument("case_type")
    @click.option("--dry-run", is_flag=True, help="Only say which cases would move.")
    def migrate_cases(case_type, dry_run):
        """Move a type's open cases to its current version where the diff allows; list the rest and why."""
        report = deploy.migrate_cases(app.extensions["gridflow"], case_type, dry_run)
        click.echo(f"{case_type} -> {report.to_version}: {len(report.moved)} "
                   f"{'would move' if dry_run else 'moved'}, {len(report.blocked)} cannot")
        for number, reasons in report.blocked.items():
            click.echo(f"  {number}: " + "; ".join(reasons))

    @app.cli.command("rebuild-indicators")
    def rebuild_indicators():
        """Rebuild the indicators' rollup from every case's timeline (docs/indicators.md)."""
        count = rollup.rebuild_all(app.extensions["gridflow"])
        click.echo(f"indicators rebuilt from {count} cases")

    @app.cli.command("archive")
    @click.option("--months", type=click.IntRange(1), default=12, show_default=True,
                  help="Archive cases closed more than this many months ago.")
    @click.option("--out", "folder", type=click.Path(file_okay=False), default=None,
                  help="Folder for the archive file (default: <instance>/archive).")
    @click.option("--dry-run", is_flag=True, help="Only count the cases that would move.")
    def archive_cases(months, folder, dry_run):
        """Move closed cases older than N months out of the hot tables into a gzip JSON-lines file."""
        deps = app.extensions["gridflow"]
        cutoff = deps.clock.now() - timedelta(days=round(months * 30.44))
        rollup.catch_up(deps)  # a case leaves only once the indicators have counted all of it
        done = archives.archive(deps.sessions, cutoff, Path(folder or Path(app.instance_path) / "archive"),
                                dry_run=dry_run)
        if dry_run:
            click.echo(f"{done['cases']} case(s) closed before {cutoff:%Y-%m-%d} would move")
        elif done["file"] is None:
            click.echo(f"no case closed before {cutoff:%Y-%m-%d}: nothing archived")
        else:
            click.echo(f"{done['cases']} case(s), {done['rows']} rows, closed before {cutoff:%Y-%m-%d}: "
                       f"{done['file']}")

    @app.cli.command("verify-archive")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def verify_archive(file):
        """Check every archived case's timeline against its archived head, under the timeline key."""
        result = archives.verify_file(settings.chain_key, Path(file))
        click.echo(f"{result['cases']} case(s): {result['intact']} intact, {len(result['broken'])} broken")
        for number, reason in result["broken"].items():
            click.echo(f"  {number}: {reason}", err=True)
        if result["broken"]:
            raise SystemExit(1)

    return app
