"""The sign-in page and the API's POST /auth/session start a browser session one way: through the engine's
start_session, with the same throttle, token lifetime and token name."""
from datetime import timedelta

from sqlalchemy import select

from engine.imports import demo
from engine.people import auth, throttle
from engine.store.model import ApiToken


def test_the_sign_in_page_and_the_api_start_sessions_through_one_engine_function(app, monkeypatch, clock):
    started = []
    original = auth.start_session

    def spy(*args, **kwargs):
        started.append(original(*args, **kwargs))
        return started[-1]
    monkeypatch.setattr(auth, "start_session", spy)
    page = app.test_client().post("/signin", data={"username": "worker", "password": demo.DEMO_PASSWORD})
    api = app.test_client().post("/api/v1/auth/session", json={"username": "leader", "password": demo.DEMO_PASSWORD})
    assert page.status_code == 302 and api.status_code == 201 and len(started) == 2
    assert api.json["csrf_token"] == started[1].csrf
    hours = app.config["GRIDFLOW_SETTINGS"].token_hours
    with app.extensions["gridflow"].uow() as uow:
        tokens = uow.session.execute(select(ApiToken.name, ApiToken.expires_at)).all()
    assert tokens == [(auth.SESSION_NAME, clock.now() + timedelta(hours=hours))] * 2


def test_both_ways_in_share_the_sign_in_throttle(app):
    page, api = app.test_client(), app.test_client()
    for _ in range(throttle.FREE_FAILURES):
        assert page.post("/signin", data={"username": "worker", "password": "wrong"}).status_code == 401
    refused = api.post("/api/v1/auth/session", json={"username": "worker", "password": demo.DEMO_PASSWORD})
    assert refused.status_code == 429  # the page's failure slows the API's next attempt from the same address
