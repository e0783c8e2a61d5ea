"""Signing in with a password, tokens, the browser session, and throttled guessing."""
from engine.imports import demo
from engine.people import auth


def sign_in(client, username, password=demo.DEMO_PASSWORD, address="127.0.0.1", headers=None, **extra):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_demo_user_signs_in_and_the_token_opens_the_api(client):
    response = sign_in(client, "leader", name="phone")
    assert response.status_code == 201
    assert response.json["token_type"] == "Bearer" and response.json["expires_at"].endswith("+08:00")
    me = client.get("/api/v1/auth/me", headers=bearer(response.json["token"]))
    assert me.status_code == 200
    assert (me.json["username"], me.json["role"], me.json["grid_code"]) == ("leader", "grid_leader", "350583106201-06")


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client):
    wrong, unknown = sign_in(client, "leader", "nope"), sign_in(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_refused(client, clock):
    token = sign_in(client, "leader").json["token"]
    clock.advance(days=31)
    response = client.get("/api/v1/tasks", headers=bearer(token))
    assert response.status_code == 401 and response.json["code"] == 401


def test_tokens_are_listed_without_their_secret_and_a_revoked_one_stops_working(client):
    phone = sign_in(client, "leader", name="phone").json
    laptop = sign_in(client, "leader", name="laptop").json
    listed = client.get("/api/v1/auth/tokens", headers=bearer(laptop["token"])).json
    assert [t["name"] for t in listed] == ["laptop", "phone"]
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/v1/auth/tokens/{phone['id']}", headers=bearer(laptop["token"])).status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer(phone["token"])).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(laptop["token"])).status_code == 200


def test_nobody_revokes_another_users_token(client):
    theirs = sign_in(client, "leader").json
    mine = sign_in(client, "worker").json["token"]
    assert client.delete(f"/api/v1/auth/tokens/{theirs['id']}", headers=bearer(mine)).status_code == 404
    assert client.get("/api/v1/tasks", headers=bearer(theirs["token"])).status_code == 200


def test_the_browser_session_needs_the_csrf_token_to_change_anything(client):
    response = client.post("/api/v1/auth/session", json={"username": "worker", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 201 and response.json["user"]["username"] == "worker"
    csrf = response.json["csrf_token"]
    assert client.get("/api/v1/tasks").status_code == 200
    case = {"type": "dispute", "title": "噪音"}
    assert client.post("/api/v1/cases", json=case).status_code == 401
    assert client.post("/api/v1/cases", json=case, headers={"X-CSRF-Token": "forged"}).status_code == 401
    assert client.post("/api/v1/cases", json=case, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert client.delete("/api/v1/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/tasks").status_code == 401
    assert not [t for t in auth.list_tokens(client.application.extensions["gridflow"],
                                            response.json["user"]["id"]) if t["name"] == "browser session"]


def test_sign_in_with_missing_fields_names_them(client):
    response = client.post("/api/v1/auth/token", json={"username": "leader"})
    assert response.status_code == 422 and "password" in response.json["errors"]


def test_signing_out_without_a_session_is_documented_as_needing_none(client):
    """schemathesis' ignored_auth check: an operation that answers 2xx without credentials must not ask for them."""
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/auth/session"]["delete"]
    assert operation["security"] == []
    assert client.delete("/api/v1/auth/session").status_code == 204
