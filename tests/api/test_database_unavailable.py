"""A request the database cannot answer (PostgreSQL restarting or crashed) gets a 503 in the API's error format
with Retry-After, not a 500 with a traceback in the log. The real restart, under gunicorn, is
tests/integration/test_postgresql_restart.py; here the app's sessions are pointed at a port nothing listens on."""
import logging

from engine.store import db
from tests.api_client import assert_error, in_english


def test_a_request_while_the_database_is_unreachable_gets_a_503_with_retry_after(app, client, login, caplog):
    headers = login("worker")
    sessions = app.extensions["gridflow"].sessions
    kept, nowhere = sessions.kw["bind"], db.make_engine("postgresql://nobody@127.0.0.1:1/none")
    sessions.configure(bind=nowhere)  # refused at once, as while PostgreSQL is down
    try:
        chinese = client.post("/api/v1/cases", json={"type": "dispute", "title": "停机时", "severity": "low"},
                              headers={**headers, "Idempotency-Key": "k-1"})
        in_english(client)
        english = client.get("/api/v1/tasks", headers=headers)
    finally:
        sessions.configure(bind=kept)
        nowhere.dispose()
    assert_error(chinese, 503)
    assert chinese.json["message"] == "服务暂时不可用，请稍后再试。" and chinese.headers["Retry-After"] == "2"
    assert_error(english, 503)
    assert english.json["message"] == "the database is not available just now; try again in a moment"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # said in one warning line, no traceback
    assert client.post("/api/v1/cases", json={"type": "dispute", "title": "停机时", "severity": "low"},
                       headers={**headers, "Idempotency-Key": "k-1"}).status_code == 201  # the retry files it

