"""Sign in, sign out, change my password, choose my language (kept with my account once signed in)."""
from flask import Blueprint, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import messages
from engine.errors import AuthenticationError, TooManyAttempts, ValidationError
from engine.people import accounts, auth
from web import i18n, session
from web.session import signed_in

bp = Blueprint("account", __name__)
YEAR = 365 * 24 * 3600


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    """The sign-in page; back to `next` (or my first page) once signed in."""
    target = session.safe_next(request.values.get("next"))
    if request.method == "GET":
        if session.current_user() is not None and not request.args.get("expired"):
            return redirect(target or session.home_url(session.current_user()))
        return render_template("sign_in.html", next=target, expired=bool(request.args.get("expired")))
    username = request.form.get("username", "").strip()
    try:
        session.sign_in(username, request.form.get("password", ""))
    except (AuthenticationError, TooManyAttempts) as exc:
        page = render_template("sign_in.html", next=target, username=username, error=messages.message(exc))
        return make_response(page, 429 if isinstance(exc, TooManyAttempts) else 401)
    return redirect(target or url_for("web.home"))


@bp.post("/signout")
def sign_out():
    """Sign out: the session's token is revoked (no CSRF check: the worst a forged one does is sign you out)."""
    session.sign_out()
    return redirect(url_for("account.sign_in"))


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account():
    """My account: change my password; choose the language of the pages."""
    user = session.current_user()
    if request.method == "GET":
        return render_template("account.html", user=user)
    errors = {}
    if request.form.get("new_password", "") != request.form.get("repeat_password", ""):
        errors["repeat_password"] = [_("The two new passwords differ.")]
    else:
        try:
            auth.change_password(session.deps(), user.id, request.form.get("old_password", ""),
                                 request.form.get("new_password", ""), request.remote_addr or "",
                                 keep_token_id=g.token_id)  # this browser stays signed in, the others not
        except ValidationError as exc:
            errors = messages.field_errors(exc)
    if errors:
        return make_response(render_template("account.html", user=user, errors=errors), 422)
    return render_template("account.html", user=user, changed=True)


@bp.post("/language")
def language():
    """Choose the pages' language: a signed-in user's setting (with the session's CSRF token), and this browser's;
    back to the page it was chosen on."""
    chosen = request.form.get("lang")
    response = redirect(session.safe_next(request.form.get("next")) or url_for("web.home"))
    if chosen in i18n.LOCALES:
        user = session.current_user()
        if user is not None and session.csrf_ok():
            accounts.set_locale(session.deps(), user.id, chosen, i18n.LOCALES)
        response.set_cookie(i18n.LANGUAGE_COOKIE, chosen, max_age=YEAR, samesite="Lax", httponly=True)
    return response
