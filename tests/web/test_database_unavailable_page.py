"""A page while the database is away: the same 503 and Retry-After as the API, as a page in both languages that
needs no database to be drawn (tests/api/test_database_unavailable.py has the API's answer)."""
from engine.store import db


def test_a_page_while_the_database_is_unreachable_says_so_in_both_languages(app, browser_as):
    browser = browser_as("worker")
    sessions = app.extensions["gridflow"].sessions
    kept, nowhere = sessions.kw["bind"], db.make_engine("postgresql://nobody@127.0.0.1:1/none")
    sessions.configure(bind=nowhere)  # refused at once, as while PostgreSQL is down
    try:
        page = browser.get("/inbox")
    finally:
        sessions.configure(bind=kept)
        nowhere.dispose()
    assert page.status_code == 503 and page.headers["Retry-After"] == "2" and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "服务暂时不可用" in text and "Not available just now" in text and 'href="/inbox"' in text
    assert browser.get("/inbox").status_code == 200  # back as soon as the database is
