"""Signing in with a password, and what a token allows."""
from engine import demo


def sign_in(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_a_demo_user_signs_in_and_the_token_opens_the_api(client):
    response = sign_in(client, "leader", demo.DEMO_PASSWORD)
    assert response.status_code == 201
    assert response.json["token_type"] == "Bearer" and response.json["expires_at"].endswith("+08:00")
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(client):
    wrong, unknown = sign_in(client, "leader", "nope"), sign_in(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_refused(client, clock):
    token = sign_in(client, "leader", demo.DEMO_PASSWORD).json["token"]
    clock.advance(days=31)
    response = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["code"] == 401


def test_sign_in_with_missing_fields_names_them(client):
    response = client.post("/api/v1/auth/token", json={"username": "leader"})
    assert response.status_code == 422 and "password" in response.json["errors"]
