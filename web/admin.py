"""管理 (administration), for admins only (anyone else gets 404): importing grids, departments and users from a
file (the dry-run report first, then the same file confirmed), and users (find, deactivate, activate, reset a
password). The holiday calendar and process versions are in web/admin_process.py, on the same blueprint.

The pages call the engine functions the admin API and the flask commands call."""
import time
from functools import wraps
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api import messages
from engine.errors import ConflictError, GridflowError, ValidationError
from engine.imports import formats, importer
from engine.people import accounts
from engine.read import admin as queries
from engine.store.blobstore import BlobCorrupted, BlobStore
from web import import_problems, labels
from web import session as web_session
from web.session import signed_in

bp = Blueprint("administration", __name__, url_prefix="/admin")
MAX_IMPORT_BYTES = 50 * 1024 * 1024  # as the admin API: a city's grid polygons
FORM_OVERHEAD = 64 * 1024
EXTENSIONS = (".csv", ".geojson", ".json")
PENDING = "admin_import"  # the session key of the file last checked: kind, sha256, filename
PENDING_SECONDS = 24 * 3600  # a checked file not confirmed within a day is dropped
KIND_NAMES = {"grids": _l("Grids"), "departments": _l("Departments"), "users": _l("Users")}


@bp.context_processor
def _admin_context() -> dict:
    return {"kind_names": KIND_NAMES, "columns": formats.COLUMNS, "roles": labels.ROLES}


def admin_only(view):
    """A signed-in admin (with the CSRF token on a change); anyone else is told the page does not exist."""
    @signed_in
    @wraps(view)
    def wrapper(*args, **kwargs):
        if web_session.current_user().role != "admin":
            abort(404)
        return view(*args, **kwargs)
    return wrapper


@bp.before_request
def _allow_import_files():
    """An admin's import may be larger than the app's 1 MB limit on requests; anyone else's may not."""
    user = web_session.current_user()
    if request.method == "POST" and request.endpoint == "administration.import_check" and user is not None \
            and user.role == "admin":
        request.max_content_length = MAX_IMPORT_BYTES + FORM_OVERHEAD


@bp.errorhandler(413)
def _too_large(_exc):
    """A file over the limit, said beside the file field (the body was not read, so the form starts afresh)."""
    if web_session.current_user() is None or web_session.current_user().role != "admin":
        return render_template("error.html", title=_("Not found"), text=_("Not found, or outside your area.")), 404
    errors = {"file": [_("The file is larger than %(mb)s MB, the most an import may be.",
                         mb=MAX_IMPORT_BYTES // (1024 * 1024))]}
    return render_template("admin_import.html", kinds=importer.KINDS, kind="users", errors=errors), 413


@bp.get("/")
@admin_only
def index():
    """The administrator's desk: imports, the holiday calendar, process versions, users."""
    return render_template("admin.html", nav="admin")


def _pending_files() -> BlobStore:
    """Checked files waiting for their confirmation, by content hash, in the instance folder every process shares."""
    return BlobStore(Path(current_app.config["GRIDFLOW_SETTINGS"].instance_path) / "imports")


def _drop_stale(store: BlobStore) -> None:
    """Forget checked files nobody confirmed within a day."""
    if not store.root.exists():
        return
    oldest = time.time() - PENDING_SECONDS
    for path in store.root.glob("*/*/*"):
        if path.is_file() and path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)


@bp.route("/import", methods=["GET", "POST"], endpoint="import_check")
@admin_only
def import_check():
    """Upload a file: it is checked as a dry run and kept on the server, by its hash, until it is confirmed."""
    kind = request.values.get("kind", "users")
    if request.method == "GET":
        return render_template("admin_import.html", kinds=importer.KINDS, kind=kind, errors={})
    upload = request.files.get("file")
    filename, content = (upload.filename or "", upload.read()) if upload else ("", b"")
    errors = {}
    if kind not in importer.KINDS:
        errors["kind"] = [_("Choose what the file holds.")]
    if not filename and not content:
        errors["file"] = [_("Choose a file to upload.")]
    elif not filename.lower().endswith(EXTENSIONS):
        errors["file"] = [_("Upload a CSV file (.csv), or GeoJSON (.geojson, .json) for grids.")]
    elif not content:
        errors["file"] = [_("The file is empty.")]
    if errors:
        return render_template("admin_import.html", kinds=importer.KINDS, kind=kind, errors=errors), 422
    try:
        report = importer.import_file(web_session.deps(), kind, filename, content, dry_run=True)
    except ValidationError as exc:
        problems = import_problems.table(exc.errors)
        return render_template("admin_import.html", kinds=importer.KINDS, kind=kind, errors={},
                               filename=filename, problems=problems), 422
    store = _pending_files()
    _drop_stale(store)
    sha256 = store.put(content)
    store.path(sha256).touch()  # the same bytes checked again wait a day from now
    session[PENDING] = {"kind": kind, "sha256": sha256, "filename": filename}
    return render_template("admin_import.html", kinds=importer.KINDS, kind=kind, errors={}, filename=filename,
                           report=report, sha256=sha256)


@bp.post("/import/confirm")
@admin_only
def import_confirm():
    """Import the file that was checked: the one kept under the hash this session checked, nothing the form says."""
    pending = session.get(PENDING) or {}
    if not pending or request.form.get("sha256") != pending.get("sha256"):
        flash(_("That file is no longer waiting to be imported; upload it again."), "error")
        return redirect(url_for("administration.import_check"))
    kind, filename = pending["kind"], pending["filename"]
    try:
        content = _pending_files().read(pending["sha256"])
    except (BlobCorrupted, ValueError):
        session.pop(PENDING, None)
        flash(_("That file is no longer waiting to be imported; upload it again."), "error")
        return redirect(url_for("administration.import_check", kind=kind))
    try:
        report = importer.import_file(web_session.deps(), kind, filename, content)
    except ValidationError as exc:  # the database changed since the check
        return render_template("admin_import.html", kinds=importer.KINDS, kind=kind, errors={},
                               filename=filename, problems=import_problems.table(exc.errors)), 422
    except ConflictError:
        flash(_("The data changed while the file was imported; nothing was written. Import it again."), "error")
        return redirect(url_for("administration.import_check", kind=kind))
    session.pop(PENDING, None)
    _pending_files().path(pending["sha256"]).unlink(missing_ok=True)
    return render_template("admin_import.html", kinds=importer.KINDS, kind=kind, errors={}, filename=filename,
                           report=report, done=True)


# Users

ACTIVE = {"": None, "yes": True, "no": False}
USER_PAGE = 50


@bp.get("/users")
@admin_only
def users():
    """Users by username, found by name, role, grid, department and whether they may sign in."""
    filters = {name: request.args.get(name, "").strip()[:100] for name in ("q", "role", "grid", "department",
                                                                         "active")}
    if filters["role"] not in labels.ROLES:
        filters["role"] = ""
    if filters["active"] not in ACTIVE:
        filters["active"] = ""
    try:
        found = queries.list_users(web_session.deps(), filters["q"], filters["role"], filters["grid"],
                                   filters["department"], ACTIVE[filters["active"]],
                                   cursor=request.args.get("cursor") or None, limit=USER_PAGE)
    except ValidationError:  # a cursor from another list
        return redirect(url_for("administration.users", **{k: v for k, v in filters.items() if v}))
    return render_template("admin_users.html", nav="admin", users=found.items, cursor=found.next_cursor,
                           filters=filters, query={name: value for name, value in filters.items() if value})


def _user_or_404(username: str) -> dict:
    found = queries.user_detail(web_session.deps(), username)
    if found is None:
        abort(404)
    return found


@bp.get("/users/<username>")
@admin_only
def user(username):
    """One user: who they are, whether they may sign in, and a password reset."""
    return render_template("admin_user.html", nav="admin", person=_user_or_404(username), errors={})


@bp.post("/users/<username>/<any(deactivate, activate):action>")
@admin_only
def set_active(username, action):
    """Deactivate a user (their tokens and sessions are revoked at once) or let them sign in again."""
    me, deps = web_session.current_user(), web_session.deps()
    _user_or_404(username)
    try:
        if action == "deactivate":
            state = accounts.deactivate_user(deps, me.id, username)
            flash(_("%(user)s is deactivated; %(count)s sign-ins were ended.", user=username,
                    count=state.tokens_revoked))
        else:
            accounts.activate_user(deps, me.id, username)
            flash(_("%(user)s may sign in again.", user=username))
    except ConflictError:
        flash(_("You cannot deactivate yourself; ask another administrator."), "error")
    return redirect(url_for("administration.user", username=username))


@bp.post("/users/<username>/password")
@admin_only
def reset_password(username):
    """Give a user a temporary password, typed by the admin or generated and shown once; they are signed out."""
    me, person = web_session.current_user(), _user_or_404(username)
    try:
        reset = accounts.reset_password(web_session.deps(), me.id, username, request.form.get("password", ""))
    except ValidationError as exc:
        texts = [_("Do not use the username as the password.") if "username" in text else messages.field_message(text)
                 for text in exc.errors.get("password", [])]
        return render_template("admin_user.html", nav="admin", person=person, errors={"password": texts}), 422
    except GridflowError:
        flash(_("Change your own password on your account page."), "error")
        return redirect(url_for("administration.user", username=username))
    return render_template("admin_user.html", nav="admin", person=person, errors={}, reset=reset)
