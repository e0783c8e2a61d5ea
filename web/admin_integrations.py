"""管理 (administration), continued: partner keys for Open311 intake and webhook endpoints with their delivery
log. Routes on the admin blueprint of web/admin.py; they call the engine functions the admin API calls."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.cases import partners, webhooks
from engine.errors import ConflictError, NotFoundError, ValidationError
from web import session as web_session
from web.admin import admin_only, bp

FIELD_TEXTS = {
    "partner": _l("Give the partner's name, at most 100 characters."),
    "username": _l("Give an active grid worker, grid leader or admin: the reports are filed as them."),
    "grid_code": _l("Give an existing grid code (for a key: one in that user's area)."),
    "name": _l("Give a name, at most 100 characters."),
    "url": _l("Give an http or https address, at most 500 characters."),
    "events": _l("Choose at least one event."),
    "secret": _l("Give 16 to 128 characters, or leave it empty to have one generated."),
}


def _field_errors(exc: ValidationError) -> dict:
    """The engine's complaints as one clear message per field, in the reader's language."""
    return {name: [str(FIELD_TEXTS.get(name, _("This value is not valid.")))] for name in exc.errors}


@bp.route("/partner-keys", methods=["GET", "POST"])
@admin_only
def partner_keys():
    """The partners' keys; a new key is shown once, right after it is made."""
    me, deps = web_session.current_user(), web_session.deps()
    form, errors, created = {}, {}, None
    if request.method == "POST":
        form = {name: request.form.get(name, "").strip()[:200] for name in ("partner", "username", "grid_code")}
        try:
            created = partners.create_key(deps, me.id, form["partner"], form["username"], form["grid_code"])
            form = {}
        except ValidationError as exc:
            errors = _field_errors(exc)
    page = render_template("admin_partner_keys.html", nav="admin", keys=partners.list_keys(deps, me.id),
                           form=form, errors=errors, created=created)
    return page, 422 if errors else 200


@bp.post("/partner-keys/<int:key_id>/revoke")
@admin_only
def revoke_partner_key(key_id):
    try:
        row = partners.revoke_key(web_session.deps(), web_session.current_user().id, key_id)
        flash(_("The key of %(partner)s is revoked.", partner=row["partner"]))
    except NotFoundError:
        abort(404)
    except ConflictError:
        flash(_("That key was already revoked."), "error")
    return redirect(url_for("administration.partner_keys"))


@bp.route("/webhooks", methods=["GET", "POST"])
@admin_only
def webhook_endpoints():
    """The webhook endpoints; a new one's signing secret is shown once."""
    me, deps = web_session.current_user(), web_session.deps()
    form, errors, created = {"events": list(webhooks.EVENT_TYPES)}, {}, None
    if request.method == "POST":
        form = {name: request.form.get(name, "").strip()[:600] for name in ("name", "url", "grid_code", "secret")}
        form["events"] = [e for e in request.form.getlist("events") if e in webhooks.EVENT_TYPES]
        try:
            created = webhooks.create_endpoint(deps, me.id, form["name"], form["url"], form["events"],
                                               form["grid_code"] or None, form["secret"] or None)
            form = {"events": list(webhooks.EVENT_TYPES)}
        except ValidationError as exc:
            errors = _field_errors(exc)
    page = render_template("admin_webhooks.html", nav="admin", endpoints=webhooks.list_endpoints(deps, me.id),
                           event_types=webhooks.EVENT_TYPES, form=form, errors=errors, created=created)
    return page, 422 if errors else 200


@bp.get("/webhooks/<int:endpoint_id>")
@admin_only
def webhook_endpoint(endpoint_id):
    """One endpoint: its state, pause or resume, and its delivery log with redelivery by hand."""
    me, deps = web_session.current_user(), web_session.deps()
    status = request.args.get("status", "")
    status = status if status in webhooks.DELIVERY_STATUSES else ""
    try:
        endpoint = webhooks.get_endpoint(deps, me.id, endpoint_id)
        log = webhooks.deliveries(deps, me.id, endpoint_id, status or None, limit=100)
    except NotFoundError:
        abort(404)
    return render_template("admin_webhook.html", nav="admin", endpoint=endpoint, deliveries=log, status=status,
                           statuses=webhooks.DELIVERY_STATUSES)


@bp.post("/webhooks/<int:endpoint_id>/<any(pause, resume):action>")
@admin_only
def pause_webhook(endpoint_id, action):
    try:
        webhooks.set_paused(web_session.deps(), web_session.current_user().id, endpoint_id, action == "pause")
        flash(_("The endpoint is paused: its events wait.") if action == "pause"
              else _("The endpoint is active again: failed deliveries are sent first."))
    except NotFoundError:
        abort(404)
    except ConflictError:
        flash(_("The endpoint was already in that state."), "error")
    return redirect(url_for("administration.webhook_endpoint", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@admin_only
def redeliver_webhook(endpoint_id, delivery_id):
    try:
        webhooks.redeliver(web_session.deps(), web_session.current_user().id, delivery_id)
        flash(_("The delivery will be sent again."))
    except NotFoundError:
        abort(404)
    return redirect(url_for("administration.webhook_endpoint", endpoint_id=endpoint_id))
