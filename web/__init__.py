"""The pages people use: server-rendered Jinja enhanced with htmx, Chinese first, at `/`.

Pages call the engine's services and read queries as the API does (never the API over HTTP). Every response
carries a strict Content-Security-Policy: scripts and styles come only from the app's own static files."""
from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

import web.admin_integrations  # noqa: F401 - its pages go on the admin blueprint (web/admin.py)
from api import errors as api_errors
from api import messages
from api.errors import STATUS
from engine.errors import GridflowError
from engine.process.catalogue import SEVERITIES
from engine.store.filetypes import IMAGES
from web import (
    admin_process,
    auth,
    campaigns,
    cases,
    catalogue,
    dossier,
    gridmap,
    i18n,
    labels,
    notices,
    pwa,
    search,
    session,
    stats,
    supervision,
    tasks,
)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
BLUEPRINTS = (auth.bp, cases.bp, tasks.bp, notices.bp, pwa.bp, gridmap.bp, search.bp, supervision.bp, dossier.bp,
              catalogue.bp, admin_process.bp,  # the admin pages: web/admin.py and web/admin_process.py, one blueprint
              campaigns.bp, stats.bp)

assets = Blueprint("web", __name__, static_folder="static", static_url_path="/assets", template_folder="templates")


@assets.get("/")
def home():
    """The signed-in user's first page, by role; the sign-in page for anyone else."""
    user = session.current_user()
    if user is None:
        return redirect(url_for("account.sign_in"))
    return redirect(session.home_url(user))


def _secure(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _is_page() -> bool:
    """A request for a page: one of the pages' blueprints, or a URL that matched nothing outside the API."""
    if request.url_rule is None:
        return not request.path.startswith(i18n.API_PREFIX)
    return request.blueprint in {b.name for b in (assets, *BLUEPRINTS)}


def _page_context() -> dict:
    """What every page's template may use: the user, the CSRF token, labels and the unread count."""
    if not _is_page():
        return {}
    user = session.current_user()
    catalogue = session.deps().catalogue
    return {"user": user, "csrf_token": session.csrf_token(), "can_report": session.can_report(user),
            "chinese": labels.chinese(), "label": labels.label, "choice": labels.choice,
            "field_title": labels.field_title, "type_name": lambda code: labels.case_type(catalogue, code),
            "severities": SEVERITIES, "image_types": IMAGES, "unread": notices.unread() if user else 0,
            "desk": user is not None and user.role in gridmap.DESK_ROLES,
            "tab_names": {"mine": _("Mine"), "offered": _("To claim"), "overdue": _("Overdue"),
                          "soon": _("Due soon")}}


def _engine_error(exc: GridflowError):
    """An engine error on a page: its message in the user's language, with the API's status code."""
    status = STATUS.get(type(exc), 400)
    page = render_template("error.html", title=_("Not found") if status == 404 else _("Not possible"),
                           text=messages.message(exc))
    return make_response(page, status)


def _http_error(exc: HTTPException):
    """An HTTP error on a page, in the user's language, with its headers (Allow on a 405)."""
    texts = {404: _("Not found, or outside your area."), 413: _("The files are too large to send together."),
             400: _("The request was not understood."), 405: _("This page cannot be used that way.")}
    title = _("Not found") if exc.code == 404 else _("Not possible")
    response = make_response(render_template("error.html", title=title, text=texts.get(exc.code, exc.description)),
                             exc.code)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unavailable(exc):
    """The database is away (restarting, failing over): a page in both languages that needs no database (not
    even the signed-in user), 503 with Retry-After, as the API answers."""
    api_errors.database_unavailable(exc)  # logged as the API logs it
    page = current_app.jinja_env.get_template("unavailable.html").render(
        back=request.referrer if request.method != "GET" and request.referrer else request.path)
    response = make_response(page, 503)
    response.headers["Retry-After"] = str(api_errors.RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return _secure(response)


def _unrouted_error(exc: HTTPException):
    """An HTTP error no blueprint handles (an unknown URL, a method a URL does not take): the API's JSON under
    /api/, the error page anywhere else."""
    if not _is_page():
        return api_errors.http_error(exc)
    return _secure(_http_error(exc))


for _blueprint in (assets, *BLUEPRINTS):
    _blueprint.after_request(_secure)
    _blueprint.register_error_handler(GridflowError, _engine_error)
    _blueprint.register_error_handler(HTTPException, _http_error)
    for _cause in api_errors.UNAVAILABLE:
        _blueprint.register_error_handler(_cause, _unavailable)


def register(app) -> None:
    """Bind translations and the pages' blueprints (with their error pages and security headers) to the app.

    Called after the API's register: the error page for unknown URLs outside /api/ replaces its JSON there."""
    i18n.init_app(app)
    app.register_error_handler(HTTPException, _unrouted_error)
    app.context_processor(_page_context)
    for blueprint in (assets, *BLUEPRINTS):
        app.register_blueprint(blueprint)
