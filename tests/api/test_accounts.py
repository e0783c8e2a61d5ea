"""A user changes their own password; an admin deactivates a user and every token of theirs in one step."""
import dataclasses
from datetime import datetime, timedelta

import pytest

from app import create_app
from engine.imports import demo
from tests.api.test_auth import bearer, sign_in
from tests.api_client import assert_error

NEW = "a-new-passphrase"


def change(client, token, current=demo.DEMO_PASSWORD, new=NEW):
    return client.post("/api/v1/auth/password", headers=bearer(token),
                       json={"old_password": current, "new_password": new})


def test_changing_my_password_needs_the_current_one_and_signs_out_my_other_tokens(client):
    phone, laptop = sign_in(client, "leader", name="phone").json, sign_in(client, "leader", name="laptop").json
    changed = change(client, laptop["token"])
    assert changed.status_code == 200 and changed.json == {"tokens_revoked": 1}
    assert client.get("/api/v1/auth/me", headers=bearer(phone["token"])).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(laptop["token"])).status_code == 200
    assert sign_in(client, "leader").status_code == 401
    assert sign_in(client, "leader", NEW).status_code == 201


def test_a_wrong_old_password_changes_nothing_and_counts_as_a_guess(client):
    token = sign_in(client, "leader").json["token"]
    assert_error(change(client, token, current="not it"), 422, "old_password")
    assert sign_in(client, "leader").status_code == 201
    for _ in range(2):
        change(client, token, current="not it")
    assert_error(change(client, token, current="still not it"), 422, "old_password")
    refused = change(client, token, current="again")
    assert refused.status_code == 429 and "Retry-After" in refused.headers


@pytest.mark.parametrize("new", ["short", demo.DEMO_PASSWORD, "Leader"])
def test_a_new_password_must_be_long_enough_new_and_not_the_username(client, new):
    token = sign_in(client, "leader").json["token"]
    assert_error(change(client, token, new=new), 422, "new_password")
    assert sign_in(client, "leader").status_code == 201


def test_the_browser_session_changing_the_password_stays_signed_in(client):
    other = sign_in(client, "worker").json["token"]
    session = client.post("/api/v1/auth/session", json={"username": "worker", "password": demo.DEMO_PASSWORD})
    response = client.post("/api/v1/auth/password", headers={"X-CSRF-Token": session.json["csrf_token"]},
                           json={"old_password": demo.DEMO_PASSWORD, "new_password": NEW})
    assert response.status_code == 200 and response.json == {"tokens_revoked": 1}
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 401


def test_an_admin_deactivates_a_user_and_all_their_tokens_at_once(client, login):
    tokens = [sign_in(client, "leader", name=name).json["token"] for name in ("phone", "laptop")]
    response = client.post("/api/v1/admin/users/leader/deactivate", headers=login("admin"))
    assert response.status_code == 200
    assert response.json == {"username": "leader", "active": False, "tokens_revoked": 2}
    assert all(client.get("/api/v1/tasks", headers=bearer(t)).status_code == 401 for t in tokens)
    assert sign_in(client, "leader").status_code == 401
    reactivated = client.post("/api/v1/admin/users/leader/activate", headers=login("admin"))
    assert reactivated.json == {"username": "leader", "active": True, "tokens_revoked": 0}
    assert all(client.get("/api/v1/tasks", headers=bearer(t)).status_code == 401 for t in tokens)
    assert sign_in(client, "leader").status_code == 201


def test_only_an_admin_deactivates_and_never_themselves(client, login):
    assert_error(client.post("/api/v1/admin/users/worker/deactivate", headers=login("supervisor")), 403)
    assert_error(client.post("/api/v1/admin/users/admin/deactivate", headers=login("admin")), 409)
    assert_error(client.post("/api/v1/admin/users/nobody/deactivate", headers=login("admin")), 404)
    assert sign_in(client, "worker").status_code == 201


def test_the_new_endpoints_are_in_the_api_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    password = paths["/api/v1/auth/password"]["post"]
    assert {"200", "401", "422", "429"} <= set(password["responses"])
    assert {"/api/v1/admin/users/{username}/deactivate", "/api/v1/admin/users/{username}/activate"} <= set(paths)


def test_the_token_lifetime_is_a_setting(app, settings, clock):
    short = create_app(dataclasses.replace(settings, token_hours=8), clock=clock).test_client()
    issued = sign_in(short, "leader").json
    assert datetime.fromisoformat(issued["expires_at"]) == clock.now() + timedelta(hours=8)
    clock.advance(hours=8, seconds=1)
    assert short.get("/api/v1/auth/me", headers=bearer(issued["token"])).status_code == 401
