"""Chinese first: Flask-Babel with zh_CN by default and English as the alternative; times in Asia/Shanghai.

The language is the signed-in user's setting (users.locale, chosen in the footer or on the account page), else
the choice made on this browser (a cookie: for someone not signed in, or a user without a setting), else the
browser's Accept-Language, else Chinese. The API's messages follow the same order; its user is the one its bearer
token or session names, known once api/context.py has authenticated the request (a failed sign-in or token is
answered by the rest).

Message catalogues live in web/translations (`make translations` extracts and
compiles them; the compiled .mo is committed, and a test checks it matches its .po)."""
from pathlib import Path

from babel import dates
from flask import g, request
from flask_babel import Babel, get_locale, get_timezone

from web import session

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE, TIMEZONE = "zh_CN", "Asia/Shanghai"
LANGUAGE_COOKIE = "gridflow_lang"
API_PREFIX = "/api/"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """The user's setting, else this browser's choice, else Accept-Language, else Chinese."""
    # the API sets g.user when it authenticates; looking the session up here would cost it a query
    user = g.get("user") if request.path.startswith(API_PREFIX) else session.current_user()
    if user is not None and user.locale in LOCALES:
        return user.locale
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LOCALES:
        return chosen
    best = request.accept_languages.best_match(("zh_CN", "zh", "en"), default="zh")
    return "en" if best == "en" else DEFAULT_LOCALE


def when(moment) -> str:
    """A time as people here read it: 2026年11月30日 09:00 (or Nov 30, 2026 9:00 AM), in Shanghai time."""
    if moment is None:
        return ""
    locale, zone = get_locale(), get_timezone()
    local = moment.astimezone(zone)
    return f"{dates.format_date(local, 'long', locale=locale)} {dates.format_time(local, 'short', locale=locale)}"


def day(moment) -> str:
    """The local calendar day of a time, in full: 2026年9月30日星期三 (or Wednesday, September 30, 2026)."""
    if moment is None:
        return ""
    return dates.format_date(moment.astimezone(get_timezone()), "full", locale=get_locale())


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
