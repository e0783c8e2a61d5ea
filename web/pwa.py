"""The report page as an installable app that works offline: its manifest, its service worker (served from
the root so that it controls /report), and a fresh CSRF token for the offline queue to send with."""
from flask import Blueprint, current_app, jsonify, send_from_directory, url_for
from flask_babel import gettext as _

from web import session
from web.session import signed_in

bp = Blueprint("pwa", __name__)


@bp.get("/sw.js")
def service_worker():
    """The service worker: keeps the report page and its assets for when there is no network."""
    response = send_from_directory(current_app.blueprints["web"].static_folder, "sw.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: the report page opens full screen from the home screen."""
    response = jsonify(name=_("Gridflow"), short_name=_("Gridflow"), start_url=url_for("reports.report"),
                       scope="/", display="standalone", background_color="#ffffff", theme_color="#0b5cad",
                       lang="zh-CN", icons=[{"src": url_for("web.static", filename="icon.svg"),
                                             "sizes": "any", "type": "image/svg+xml"}])
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/session/csrf")
@signed_in
def csrf():
    """The session's CSRF token, for the offline queue (its cached page may hold an older one)."""
    response = jsonify(csrf_token=session.csrf_token())
    response.headers["Cache-Control"] = "no-store"
    return response
